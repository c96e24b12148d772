//! What the harness asserts after every operation: it drains every
//! datagram and event, checking each, then compares the endpoint's tables
//! with the Config's bounds and the model.

use crate::bounds::heap_bound;
use crate::coverage::{self, saw_state, saw_transition};
use crate::harness::Harness;
use crate::ops::log;
use crate::oracle::{app_salt, legal, stream_mismatch};
use crate::packet::{Emitted, check_emitted};
use synack::{ConnId, ConnInfo, Event, OpenKind, SeqNum, State, StateChange};

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// Events one operation may cause, at most: far beyond any real count, so
/// reaching it means the queue refills itself.
const MAX_EVENTS: usize = 100_000;

impl Harness<'_> {
    pub(crate) fn fail(&self, what: String) {
        panic!(
            "synack-fuzz invariant violated at {}: {what}\nconfig: {:?}",
            self.now, self.cfg
        );
    }

    pub(crate) fn check(&mut self) {
        self.drain_io();
        self.check_tables();
    }

    /// Every datagram and event, each checked, and what the heap bound
    /// needs to know, for a flood's steps between full checks: only the
    /// flood's connection (on peer `p`'s 4-tuple) changes during them.
    pub(crate) fn drain_peer(&mut self, p: usize) {
        self.drain_io();
        let (local, remote) = (self.peers[p].local, self.peers[p].remote);
        if let Some(conn) = self.live_tcb(local, remote) {
            self.observe_timers(&[conn]);
        }
    }

    pub(crate) fn drain_io(&mut self) {
        self.drain_transmit();
        self.drain_events();
        // The heap bound follows the most TCBs ever held, also between
        // full checks (CLOSED ones change only with the application's
        // calls, counted at the last full check).
        let count = self.ep.connection_count();
        self.peak_conns = self.peak_conns.max(count);
        self.peak_tcbs = self.peak_tcbs.max(count + self.kept_closed);
    }

    /// Counts the timer-heap entries the engine may have pushed: one each
    /// time a connection's earliest timer is seen earlier than before, twice
    /// over (it may have moved earlier more than once between looks), and a
    /// few per TCB for pushes that leave no trace in what `info` shows.
    fn observe_timers(&mut self, snapshot: &[(ConnId, ConnInfo)]) {
        for &(c, ref info) in snapshot {
            match info.timer {
                Some((_, d)) => {
                    if self.timer_seen.get(&c).is_none_or(|&p| d < p) {
                        self.timer_entries.push(d);
                    }
                    self.timer_seen.insert(c, d);
                }
                None => {
                    self.timer_seen.remove(&c);
                }
            }
        }
        let live = 2 * self.timer_entries.len() + 4 * snapshot.len() + 4;
        self.peak_timer_entries = self.peak_timer_entries.max(live);
    }

    /// Every datagram, until `poll_transmit` runs dry, which it must within
    /// what the queues can hold: each connection's send buffer in the
    /// smallest segments the engine makes (64-byte MSS), plus its control
    /// segments. (TCBs kept in CLOSED send nothing.)
    fn drain_transmit(&mut self) {
        let tcbs = self.ep.connection_count();
        let limit = 16 + 2 * self.cfg.max_control_queue + tcbs * (self.cfg.send_buffer / 32 + 16);
        let mut tx = core::mem::take(&mut self.tx);
        let mut count = 0;
        while let Some(n) = self.ep.poll_transmit(self.now, &mut tx) {
            count += 1;
            if count > limit {
                self.fail(format!(
                    "poll_transmit still has output after {limit} datagrams"
                ));
            }
            let d = &tx[..n];
            // The MSS is derived from the MTU (and ICMP only lowers it).
            if n > usize::from(self.cfg.mtu) {
                self.fail(format!(
                    "{n}-byte datagram, MTU {}: {:02x?}",
                    self.cfg.mtu,
                    &d[..60.min(n)]
                ));
            }
            let e = match check_emitted(d) {
                Ok(e) => e,
                Err(why) => return self.fail(format!("emitted a bad datagram ({why}): {d:02x?}")),
            };
            if let Err(why) = synack_wire::parse_ip_tcp(d) {
                self.fail(format!("synack-wire rejects an emitted datagram: {why:?}"));
            }
            let ttl = if d[0] >> 4 == 4 { d[8] } else { d[7] };
            if ttl != self.cfg.ttl {
                self.fail(format!("TTL {ttl}, configured {}", self.cfg.ttl));
            }
            log!(
                self,
                "  out {} -> {} flags {:#04x} seq {} ack {} win {} len {}",
                e.src,
                e.dst,
                e.flags,
                e.seq,
                e.ack,
                e.window,
                e.payload_len
            );
            self.on_emitted(&e, &d[e.payload_start..][..e.payload_len]);
        }
        self.tx = tx;
    }

    /// Remembers what the endpoint said to the peer (for aimed numbers),
    /// and checks that its data is the application's stream at the right
    /// offsets and its FIN comes right after the last byte sent.
    fn on_emitted(&mut self, e: &Emitted, payload: &[u8]) {
        let syn = e.flags & SYN != 0;
        let fin = e.flags & FIN != 0;
        let seg_len = payload.len() as u32 + u32::from(syn) + u32::from(fin);
        if let Some(p) = self.peer_index(e.src, e.dst) {
            let peer = &mut self.peers[p];
            let end = e.seq.wrapping_add(seg_len);
            peer.heard = true;
            peer.ep_seq = e.seq;
            peer.ep_end = end;
            if syn {
                peer.ep_iss = e.seq;
                peer.ep_max = end;
            } else if SeqNum(end).gt(SeqNum(peer.ep_max)) {
                peer.ep_max = end;
            }
            if e.flags & ACK != 0 {
                peer.ep_ack = e.ack;
            }
            peer.ep_win = e.window;
            if let Some(ts) = e.tsval {
                peer.ep_tsval = ts;
            }
        }
        if payload.is_empty() && !(fin && e.flags & RST == 0) {
            return;
        }
        let Some((c, info)) = self.live_tcb_scan(e.src, e.dst) else {
            return self.fail(format!(
                "data or FIN from {} to {} with no connection",
                e.src, e.dst
            ));
        };
        let rec = self.recs.get(&c).copied().unwrap_or_default();
        let start = e.seq.wrapping_add(u32::from(syn));
        let salt = app_salt(c);
        let with_fin = fin && e.flags & RST == 0;
        // Right: the stream at its offset, already sent by the application,
        // and a FIN only right after the last byte, once asked for.
        let offset = start.wrapping_sub(info.iss.0).wrapping_sub(1);
        let end = u64::from(offset) + payload.len() as u64;
        if end > rec.sent {
            return self.fail(format!(
                "{c:?} sent stream bytes {offset}..{end}, the application sent {}",
                rec.sent
            ));
        }
        if let Some(at) = stream_mismatch(salt, offset, payload) {
            return self.fail(format!(
                "{c:?} sent a wrong byte at stream offset {}",
                offset as usize + at
            ));
        }
        if with_fin && (!rec.fin_requested || end != rec.sent) {
            self.fail(format!(
                "{c:?} sent FIN after byte {end}: application sent {} and {} shut down",
                rec.sent,
                if rec.fin_requested { "did" } else { "did not" }
            ));
        }
    }

    fn drain_events(&mut self) {
        let mut count = 0;
        while let Some(ev) = self.ep.poll_event() {
            count += 1;
            if count > MAX_EVENTS {
                return self.fail("poll_event does not run dry".into());
            }
            log!(self, "  event {ev:?}");
            match ev {
                Event::StateChanged(sc) => self.on_state_change(&sc),
                Event::TimeWaitEnded(s) => {
                    // The entry may have ended before the full check that
                    // notes it (a flood lets time pass between its steps).
                    self.note_compacted();
                    if !self.time_wait.remove(&(s.local, s.remote)) {
                        self.fail(format!(
                            "TIME-WAIT ended for {} -> {}, which never entered it",
                            s.local, s.remote
                        ));
                    }
                    saw_transition(State::TimeWait, State::Closed);
                    if s.local.is_ipv6() {
                        coverage::saw_state_v6(State::Closed);
                    }
                }
                Event::Closed { conn, reason } => {
                    let s = self.states.get(&conn).copied();
                    if !matches!(s, Some(State::Closed | State::TimeWait)) {
                        self.fail(format!("Closed({reason:?}) for {conn:?} in {s:?}"));
                    }
                    if !self.closed_reported.insert(conn) {
                        self.fail(format!("Closed reported twice for {conn:?}"));
                    }
                }
                Event::Connected { conn, how } => {
                    let s = self.states.get(&conn).copied();
                    if s != Some(State::Established) {
                        self.fail(format!("Connected({how:?}) for {conn:?} in {s:?}"));
                    }
                }
                _ => {}
            }
        }
    }

    /// Every change must continue the connection's trace and be an edge of
    /// RFC 9293's diagram; a connection's first change must be its birth.
    fn on_state_change(&mut self, sc: &StateChange) {
        let c = sc.conn;
        match self.states.get(&c) {
            None => {
                let birth = match (sc.from, sc.to) {
                    (State::Closed, State::SynSent) => self.opened.contains(&c),
                    (State::Listen, State::SynReceived) => true,
                    _ => false,
                };
                if !birth {
                    return self.fail(format!(
                        "{c:?} first seen changing {:?} -> {:?}",
                        sc.from, sc.to
                    ));
                }
                // A new incarnation on a 4-tuple ends its TIME-WAIT (RFC
                // 6191 reopening), without an event.
                self.note_compacted();
                self.time_wait.remove(&(sc.local, sc.remote));
                self.sockets.insert(c, (sc.local, sc.remote));
                self.by_tuple.insert((sc.local, sc.remote), c);
                self.remember_handle(c);
            }
            Some(&s) if s != sc.from => {
                return self.fail(format!(
                    "{c:?} changed {:?} -> {:?}, but was in {s:?}",
                    sc.from, sc.to
                ));
            }
            Some(_) => {}
        }
        if !legal(sc.from, sc.to) {
            return self.fail(format!(
                "illegal transition {:?} -> {:?} of {c:?}",
                sc.from, sc.to
            ));
        }
        saw_transition(sc.from, sc.to);
        if sc.local.is_ipv6() {
            coverage::saw_state_v6(sc.from);
            coverage::saw_state_v6(sc.to);
        }
        self.states.insert(c, sc.to);
        if sc.to == State::TimeWait {
            self.in_time_wait.push(c);
        }
    }

    /// Moves the connections whose trace ended in TIME-WAIT and whose TCB
    /// was compacted into the TIME-WAIT table into the model's table.
    fn note_compacted(&mut self) {
        // TIME-WAIT TCBs that were compacted into the TIME-WAIT table: the
        // TCB is gone, or kept in CLOSED (unmapped) only for the data the
        // application has yet to read.
        let mut i = 0;
        while i < self.in_time_wait.len() {
            let c = self.in_time_wait[i];
            let state = self.ep.info(c).map(|i| i.state);
            let traced_tw = self.states.get(&c) == Some(&State::TimeWait);
            if traced_tw && state == Some(State::TimeWait) {
                i += 1;
                continue;
            }
            self.in_time_wait.swap_remove(i);
            if traced_tw
                && matches!(state, None | Some(State::Closed))
                && let Some(&t) = self.sockets.get(&c)
            {
                self.time_wait.insert(t);
            }
        }
    }

    /// The endpoint's tables against the Config and the model.
    fn check_tables(&mut self) {
        self.note_compacted();

        let deadline = self.ep.poll_timeout();
        let mut tcbs = 0;
        let mut mapped = 0;
        let mut children = 0;
        let mut snapshot = core::mem::take(&mut self.snapshot);
        snapshot.clear();
        snapshot.extend(self.ep.connections());
        self.observe_timers(&snapshot);
        for (c, info) in &snapshot {
            tcbs += 1;
            let traced = self.states.get(c).copied();
            // A TIME-WAIT connection's TCB, kept for unread data once the
            // TIME-WAIT table answers for its 4-tuple, is CLOSED.
            let remnant = traced == Some(State::TimeWait) && info.state == State::Closed;
            if traced != Some(info.state) && !remnant {
                self.fail(format!(
                    "{c:?} is {:?}, its trace says {traced:?}",
                    info.state
                ));
            }
            saw_state(info.state);
            if info.local.is_ipv6() {
                coverage::saw_state_v6(info.state);
            }
            if info.state == State::Closed {
                // A closed TCB is kept only while the application may still
                // read what it holds.
                let rec = self.recs.get(c).copied().unwrap_or_default();
                if info.recv_queue == 0 || !self.app_known.contains(c) || rec.closed {
                    self.fail(format!(
                        "{c:?} kept in CLOSED: {} bytes unread, handle {}, close() {}",
                        info.recv_queue,
                        if self.app_known.contains(c) {
                            "known"
                        } else {
                            "never given out"
                        },
                        if rec.closed { "called" } else { "not called" },
                    ));
                }
                continue;
            }
            mapped += 1;
            if info.state == State::SynReceived
                && matches!(info.how, OpenKind::Passive | OpenKind::Cookie)
            {
                children += 1;
            }
            // poll_timeout never lies beyond a timer that is armed.
            if let Some((timer, t)) = info.timer
                && deadline.is_none_or(|d| d > t)
            {
                self.fail(format!(
                    "{c:?} has its {timer:?} timer at {t}, poll_timeout() is {deadline:?}"
                ));
            }
            // A connection waiting to hear from its peer has a timer, or it
            // may wait forever.
            let waiting = match info.state {
                State::SynSent
                | State::SynReceived
                | State::FinWait1
                | State::Closing
                | State::LastAck
                | State::TimeWait => Some("its state"),
                _ if info.snd_nxt != info.snd_una => Some("data in flight"),
                _ if info.snd_wnd == 0 && info.send_queue > 0 => {
                    Some("data queued behind a closed window")
                }
                _ => None,
            };
            if let (Some(why), None) = (waiting, info.timer) {
                self.fail(format!(
                    "{c:?} waits for its peer ({why}) with no timer: {info:?}"
                ));
            }
        }
        self.snapshot = snapshot;
        self.check_counts(tcbs, mapped, children, deadline);
    }

    fn check_counts(
        &mut self,
        tcbs: usize,
        mapped: usize,
        children: usize,
        deadline: Option<synack::Instant>,
    ) {
        let cfg = &self.cfg;
        let count = self.ep.connection_count();
        if count != mapped {
            self.fail(format!("connection_count() {count}, live TCBs {mapped}"));
        }
        if count > cfg.max_connections {
            self.fail(format!(
                "connection_count() {count} beyond max_connections {}",
                cfg.max_connections
            ));
        }
        let tw = self.ep.time_wait_count();
        coverage::saw_time_wait_entries(tw);
        if tw > cfg.max_time_wait {
            self.fail(format!(
                "{tw} TIME-WAIT entries, max_time_wait {}",
                cfg.max_time_wait
            ));
        }
        if tw > self.time_wait.len() {
            self.fail(format!(
                "{tw} TIME-WAIT entries, but only {} connections entered TIME-WAIT",
                self.time_wait.len()
            ));
        }
        if tw > 0 && deadline.is_none() {
            self.fail(format!("{tw} TIME-WAIT entries and no deadline"));
        }
        let mut queued = 0;
        for &l in &crate::harness::decoys().listeners {
            let syn = self.ep.syn_queue_len(l).unwrap_or(0);
            let acc = self.ep.accept_queue_len(l).unwrap_or(0);
            if syn > cfg.max_syn_backlog || acc > cfg.max_accept_backlog {
                self.fail(format!(
                    "{l:?}: SYN queue {syn}, accept queue {acc}, beyond the backlog"
                ));
            }
            queued += syn;
        }
        if queued != children {
            self.fail(format!(
                "SYN queues count {queued}, half-open children are {children}"
            ));
        }
        self.kept_closed = tcbs - mapped;
        self.peak_tcbs = self.peak_tcbs.max(tcbs);
        self.peak_conns = self.peak_conns.max(count);
        let heap = self.ep.heap_bytes();
        let bound = heap_bound(cfg, &self.peaks());
        if heap > bound {
            self.fail(format!(
                "heap_bytes() {heap} beyond {bound} ({} TCBs at most, {} connections, {} timer entries)",
                self.peak_tcbs, self.peak_conns, self.peak_timer_entries
            ));
        }
    }
}
