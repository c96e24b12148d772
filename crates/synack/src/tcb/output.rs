//! Segment generation: SYN and SYN-ACK; data chosen as RFC 6675's NextSeg
//! does (a lost segment first, then new data under the send and congestion
//! windows with Nagle and sender-side SWS avoidance, then the one rescue
//! retransmission of a recovery); tail loss probes and zero-window probes;
//! FIN; and ACKs, with SACK blocks while data is held out of order.

use super::loss::RecoveryState;
use super::scoreboard::{FIN, PROBE, SACKED};
use super::{Ctx, Flags, Tcb};
use crate::cc::{rfc5681_initial_window, rfc6928_initial_window};
use crate::config::InitialWindow;
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use synack_wire::{SackBlocks, TcpFlags, TcpHeader, TcpOptions, Timestamps};

/// A segment the TCB wants sent: its header, complete, so that it goes to
/// the wire as it is (no copy into another header), and its payload,
/// `data_len` bytes of the send buffer starting `data_offset` bytes after
/// SND.UNA.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutSegment {
    pub(crate) header: TcpHeader,
    pub(crate) data_offset: usize,
    pub(crate) data_len: usize,
    pub(crate) retransmission: bool,
    /// Sent ECT(0) (new data on an ECN connection, RFC 3168 6.1.2).
    pub(crate) ect: bool,
}

/// Bytes the timestamp option takes in every segment once negotiated.
const TS_LEN: u32 = 12;

impl Tcb {
    /// The next segment to send now, if any, with SND.NXT, the scoreboard
    /// and the timers already advanced as if it were sent.
    #[inline(always)]
    pub(crate) fn next_segment(&mut self, ctx: &mut Ctx<'_>) -> Option<OutSegment> {
        let seg = match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => self.syn_segment(ctx, false),
            State::SynReceived => {
                if self.snd_nxt == self.iss {
                    self.syn_segment(ctx, true)
                } else {
                    self.ack_segment(ctx)
                }
            }
            // The TIME-WAIT table answers for the 4-tuple (timewait.rs).
            State::TimeWait => None,
            _ => match self.data_segment(ctx) {
                Some(s) => {
                    self.rearm_sent(ctx, !s.retransmission);
                    Some(s)
                }
                None => self.ack_segment(ctx),
            },
        };
        if let Some(s) = &seg {
            self.flags.clear(Flags::ACK_NOW);
            self.ack_sent();
            self.uto_sent(&s.header.options, s.header.flags.syn());
            if !s.header.options.sack.is_empty() {
                self.dsack_sent(ctx);
            }
        }
        seg
    }

    /// Whether `next_segment` may have something now. Never false when it
    /// would send (that would stall the connection); may be true when Nagle
    /// or the windows then hold the data back. Asked twice for every
    /// segment sent, so inlined.
    #[inline(always)]
    pub(crate) fn wants_transmit(&self) -> bool {
        if self.flags.has(Flags::ACK_NOW) {
            return true;
        }
        match self.state {
            State::Closed | State::Listen | State::TimeWait => false,
            State::SynSent | State::SynReceived => self.snd_nxt == self.iss,
            _ => {
                if self.flags.has(Flags::TLP_DUE) || self.flags.has(Flags::FORCE_PROBE) {
                    return true;
                }
                let data_end = self.snd_una.add(self.snd_buf.len() as u32);
                if self.flags.has(Flags::FIN_QUEUED)
                    && !self.flags.has(Flags::FIN_ACKED)
                    && self.snd_nxt == data_end
                {
                    return true;
                }
                if let Some(l) = &self.loss
                    && (l.board.lost > l.board.retrans
                        || (l.state == RecoveryState::Recovery && l.rescue_allowed(self.snd_una)))
                {
                    return true;
                }
                data_end.gt(self.snd_nxt)
                    && self.snd_wnd > self.snd_nxt.since(self.snd_una)
                    && self.send_cwnd() > self.in_flight()
            }
        }
    }

    /// SYN (active) or SYN-ACK (passive or simultaneous) with our options.
    #[inline(always)]
    fn syn_segment(&mut self, ctx: &mut Ctx<'_>, with_ack: bool) -> Option<OutSegment> {
        if self.snd_nxt != self.iss {
            return None;
        }
        let cfg = ctx.cfg;
        let mut options = TcpOptions {
            mss: Some(self.our_mss(cfg)),
            ..TcpOptions::default()
        };
        let tsval = self.ts_now(ctx.now);
        if with_ack {
            // RFC 7323 and RFC 2018: answer only with options the SYN had.
            if self.flags.has(Flags::TS_OK) {
                options.timestamps = Some(Timestamps {
                    tsval,
                    tsecr: self.ts_recent,
                });
            }
            if self.flags.has(Flags::WS_OK) {
                options.window_scale = Some(self.rcv_shift);
            }
            options.sack_permitted = self.flags.has(Flags::SACK_OK);
        } else {
            if cfg.timestamps {
                options.timestamps = Some(Timestamps { tsval, tsecr: 0 });
            }
            if cfg.window_scaling {
                options.window_scale = Some(cfg.window_shift());
            }
            options.sack_permitted = cfg.sack;
        }
        options.user_timeout = self.uto_for_syn(ctx);
        // The window of a SYN is never scaled (RFC 7323 2.2).
        let window = self.recv_cap(cfg).min(65535) as u16;
        let retransmission = self.flags.has(Flags::SYN_RETRANSMITTED);
        self.snd_nxt = self.iss.add(1);
        if with_ack {
            self.rcv_adv = self.rcv_nxt.add(u32::from(window));
        }
        if !retransmission {
            self.rtt_start_us = ctx.now.micros() as u32;
        }
        if !self.timers.is_set(super::Timer::Retransmit) {
            self.timers
                .set(super::Timer::Retransmit, ctx.now + self.rto(ctx.cfg));
        }
        let flags = if with_ack {
            TcpFlags::SYN | TcpFlags::ACK
        } else {
            TcpFlags::SYN
        } | self.ecn_syn_flags(cfg.ecn, with_ack);
        let ack = if with_ack { self.rcv_nxt } else { SeqNum(0) };
        Some(OutSegment {
            header: self.header(self.iss, ack, flags, window, options),
            data_offset: 0,
            data_len: 0,
            retransmission,
            ect: false,
        })
    }

    /// The most payload a segment carrying `options` may hold: the send
    /// MSS counts the timestamp option already (RFC 6691), so any other
    /// option (SACK blocks) comes off it.
    fn payload_room(&self, options: &TcpOptions) -> u32 {
        let ts = if self.flags.has(Flags::TS_OK) {
            TS_LEN
        } else {
            0
        };
        (u32::from(self.snd_mss) + ts)
            .saturating_sub(options.wire_len() as u32)
            .max(1)
    }

    /// NextSeg (RFC 6675 4): what data to send now, if anything.
    #[inline(always)]
    fn data_segment(&mut self, ctx: &mut Ctx<'_>) -> Option<OutSegment> {
        let options = self.segment_options(ctx);
        let room = self.payload_room(&options);
        if self.flags.has(Flags::TLP_DUE) {
            return self.loss_probe(ctx, options, room);
        }
        if self.flags.has(Flags::FORCE_PROBE)
            && let Some(s) = self.window_probe(ctx, options)
        {
            return Some(s);
        }
        // F-RTO step 2 (RFC 5682 2.1): after an ACK that advanced SND.UNA
        // past the timed-out segment, new data goes first; what it draws
        // tells whether the timeout was spurious.
        let new_first = self
            .loss
            .as_ref()
            .is_some_and(|l| l.state == RecoveryState::Loss && l.frto.active && l.frto.new_data);
        // Only a scoreboard with lost bytes not yet resent has anything
        // for rule 1 (the common case skips the search).
        let lost_owed = self
            .loss
            .as_ref()
            .is_some_and(|l| l.board.lost > l.board.retrans);
        if lost_owed
            && !new_first
            && let Some(s) = self.retransmit_lost(ctx, options, room)
        {
            return Some(s);
        }
        if let Some(s) = self.new_data(ctx, options, room) {
            return Some(s);
        }
        if lost_owed
            && new_first
            && let Some(s) = self.retransmit_lost(ctx, options, room)
        {
            return Some(s);
        }
        if self.recovery_state() != RecoveryState::Recovery {
            return None;
        }
        self.rescue(ctx, options, room)
    }

    /// Whether the congestion window (or PRR) lets `len` more bytes out.
    fn cwnd_allows(&self, len: u32) -> bool {
        let in_flight = self.in_flight();
        in_flight == 0 || in_flight.saturating_add(len) <= self.send_cwnd()
    }

    /// The right edge of the peer's window, SND.UNA + SND.WND.
    fn window_edge(&self) -> SeqNum {
        self.snd_una.add(self.snd_wnd)
    }

    /// NextSeg rule 1: the lowest lost segment not yet retransmitted.
    #[inline(never)]
    fn retransmit_lost(
        &mut self,
        ctx: &mut Ctx<'_>,
        options: TcpOptions,
        room: u32,
    ) -> Option<OutSegment> {
        let edge = self.window_edge();
        let snd_una = self.snd_una;
        let loss = self.loss.as_deref_mut()?;
        let i = loss.board.next_lost()?;
        loss.board.merge_lost(i, room + 1);
        // A record that ends in our FIN may take one octet more than the
        // payload room (the FIN's); one cut shorter loses the FIN to its
        // tail, so the piece sent is then the payload room alone.
        let rec = loss.board.at(i);
        if rec.len > room + u32::from(rec.has(FIN)) {
            loss.board.limit(i, room);
        }
        let rec = loss.board.at(i);
        // Only what the peer's window takes (SHLD-16, DT-08); at SND.UNA
        // with the window shut, one octet, a probe of it (MUST-35).
        let cap = if rec.start.lt(edge) {
            edge.since(rec.start)
        } else if rec.start == snd_una {
            1
        } else {
            return None;
        };
        loss.board.limit(i, cap);
        let rec = loss.board.at(i);
        if !self.cwnd_allows(rec.len) {
            return None;
        }
        Some(self.resend(ctx, i, options, false))
    }

    /// Sends record `i` again; `probe` when it is a tail loss probe (which
    /// the episode's counts do not include).
    #[inline(never)]
    fn resend(
        &mut self,
        ctx: &mut Ctx<'_>,
        i: usize,
        options: TcpOptions,
        probe: bool,
    ) -> OutSegment {
        let now_us = Self::clock_us(ctx.now);
        let tsval = self.ts_now(ctx.now);
        let snd_una = self.snd_una;
        let data_end = snd_una.add(self.snd_buf.len() as u32);
        let loss = self.loss.as_deref_mut().expect("resend needs a scoreboard");
        let rec = loss.board.at(i);
        loss.board.retransmitted(i, now_us);
        let state = loss.state;
        if state == RecoveryState::Recovery {
            loss.prr.out = loss.prr.out.saturating_add(rec.len);
            ctx.counters.fast_retrans += 1;
            // RFC 6675 5 step 4.3: RescueRxt starts at the end of the
            // episode's first retransmission, so no rescue goes before it
            // is acknowledged.
            if loss.rescue_rxt.is_none() {
                loss.rescue_rxt = Some(rec.end());
            }
        }
        if !probe && matches!(state, RecoveryState::Recovery | RecoveryState::Loss) {
            loss.undo.retrans += 1;
        }
        if loss.retrans_stamp.is_none() {
            loss.retrans_stamp = Some(tsval);
        }
        self.retransmits_total += 1;
        let data_len = rec.data_len();
        let mut flags = TcpFlags::ACK;
        if rec.has(FIN) {
            flags |= TcpFlags::FIN;
        }
        // A probe is pushed, as a new-data probe is (loss_probe).
        if data_len > 0 && (rec.start.add(data_len) == data_end || probe) {
            flags |= TcpFlags::PSH;
        }
        let window = self.advertise_window(ctx);
        OutSegment {
            header: self.header(rec.start, self.rcv_nxt, flags, window, options),
            data_offset: rec.start.since(snd_una) as usize,
            data_len: data_len as usize,
            retransmission: true,
            ect: false,
        }
    }

    /// NextSeg rule 2: new data (or the FIN), if the windows, Nagle and
    /// SWS avoidance allow.
    fn new_data(
        &mut self,
        ctx: &mut Ctx<'_>,
        options: TcpOptions,
        room: u32,
    ) -> Option<OutSegment> {
        let offset = self.snd_nxt.since(self.snd_una) as usize;
        let buffered = self.snd_buf.len();
        let unsent = buffered.saturating_sub(offset);
        let fin_queued = self.flags.has(Flags::FIN_QUEUED) && !self.flags.has(Flags::FIN_ACKED);
        // Where the FIN sits: right after the last queued byte.
        let fin_seq = self.snd_una.add(buffered as u32);
        let fin_sent = fin_queued && self.snd_nxt.gt(fin_seq);
        if unsent == 0 && (!fin_queued || fin_sent) {
            return None;
        }
        let in_flight = self.in_flight();
        let wnd_room = if self.snd_nxt.lt(self.window_edge()) {
            self.window_edge().since(self.snd_nxt)
        } else {
            0
        };
        let cwnd_room = self.send_cwnd().saturating_sub(in_flight);
        let outstanding = self.snd_nxt != self.snd_una;
        let usable = wnd_room.min(if in_flight == 0 {
            // Nothing in flight: at least one segment goes, whatever the
            // window arithmetic of a recovery says.
            cwnd_room.max(room)
        } else {
            cwnd_room
        }) as usize;
        let mss = room as usize;
        let mut len = unsent.min(mss).min(usable);
        let send_data = if len == 0 {
            false
        } else if len == mss {
            true
        } else if len == unsent {
            // The last of the queued data: Nagle holds it while anything is
            // unacknowledged (RFC 9293 3.7.4), unless disabled or closing.
            self.flags.has(Flags::NODELAY) || !outstanding || fin_queued
        } else {
            // Window-limited: sender SWS avoidance (RFC 9293 3.8.6.2.1)
            // sends only if at least half the largest window fits. With
            // nothing in flight no ACK will come to clock us, so the window
            // is used as it is rather than stall (the role of the RFC's
            // override timer).
            !outstanding || (self.max_snd_wnd > 0 && len >= (self.max_snd_wnd as usize) / 2)
        };
        let seq = self.snd_nxt;
        let end = seq.add(if send_data { len as u32 } else { 0 });
        let with_fin = fin_queued && end == fin_seq && (send_data || unsent == 0);
        if !send_data && !with_fin {
            return None;
        }
        if !send_data {
            len = 0;
        }
        self.idle_restart(ctx, in_flight);
        let mut flags = TcpFlags::ACK;
        if len > 0 && len == unsent {
            // MUST-61: PSH on the segment that empties the queue.
            flags |= TcpFlags::PSH;
        }
        if ctx.cfg.psh_on_bursts && len > 0 && self.ends_gso_packet(len, unsent - len, usable) {
            flags |= TcpFlags::PSH;
        }
        if with_fin {
            flags |= TcpFlags::FIN;
        }
        if len > 0 {
            flags |= self.take_cwr();
        }
        let seq_len = len as u32 + u32::from(with_fin);
        self.sent_new(ctx, seq, seq_len, if with_fin { FIN } else { 0 });
        let window = self.advertise_window(ctx);
        self.note_app_limited();
        Some(OutSegment {
            header: self.header(seq, self.rcv_nxt, flags, window, options),
            data_offset: offset,
            data_len: len,
            retransmission: false,
            ect: len > 0 && self.ect(),
        })
    }

    /// Books `len` octets of new sequence space from `seq` as sent now.
    fn sent_new(&mut self, ctx: &mut Ctx<'_>, seq: SeqNum, len: u32, flags: u8) {
        let now_us = Self::clock_us(ctx.now);
        self.snd_nxt = seq.add(len);
        self.last_send = ctx.now;
        let l = self.loss_mut(ctx);
        l.board.push(seq, len, now_us, flags);
        match l.state {
            RecoveryState::Recovery | RecoveryState::Cwr => {
                l.prr.out = l.prr.out.saturating_add(len)
            }
            RecoveryState::Disorder => l.limited_out = l.limited_out.saturating_add(len),
            _ => {}
        }
    }

    /// RFC 5681 4.1: after more than an RTO with nothing sent, the window
    /// restarts from at most the initial window.
    fn idle_restart(&mut self, ctx: &Ctx<'_>, in_flight: u32) {
        if in_flight > 0 || self.last_send == Instant::NEVER || !ctx.cfg.slow_start_after_idle {
            return;
        }
        if ctx.now.saturating_since(self.last_send) > self.rto(ctx.cfg) {
            let iw = self.initial_window(ctx);
            let rw = iw.min(self.cc.cwnd());
            self.cc.on_idle_restart(ctx.now, rw);
        }
    }

    /// The initial window (RFC 6928, or RFC 5681 when configured), one
    /// segment if the handshake had to be retransmitted (RFC 5681 3.1;
    /// RFC 6928 2 waits for a second retransmission).
    pub(crate) fn initial_window(&self, ctx: &Ctx<'_>) -> u32 {
        let mss = u32::from(self.snd_mss);
        match ctx.cfg.initial_window {
            InitialWindow::Rfc6928 if self.syn_retries > 1 => mss,
            InitialWindow::Rfc5681 if self.syn_retries > 0 => mss,
            InitialWindow::Rfc6928 => rfc6928_initial_window(mss),
            InitialWindow::Rfc5681 => rfc5681_initial_window(mss),
        }
    }

    /// NextSeg rule 4 (RFC 6675): once per recovery, when nothing else may
    /// go, the highest outstanding segment not SACKed is sent again, so a
    /// lost tail cannot stall the episode until a timeout.
    #[cold]
    fn rescue(&mut self, ctx: &mut Ctx<'_>, options: TcpOptions, room: u32) -> Option<OutSegment> {
        if self.unsent() > 0 || !self.flags.has(Flags::SACK_OK) {
            return None;
        }
        let loss = self.loss.as_deref_mut()?;
        if loss.state != RecoveryState::Recovery || !loss.rescue_allowed(self.snd_una) {
            return None;
        }
        let recover = loss.recover;
        let i = (0..loss.board.len()).rev().find(|&i| {
            let s = loss.board.at(i);
            !s.has(super::scoreboard::SACKED) && s.end().le(recover)
        })?;
        // A segment whose retransmission is already in flight (or owed) is
        // no rescue: sending it again only duplicates it.
        let last = loss.board.at(i);
        if last.needs_retransmit() || last.has(super::scoreboard::RETRANS) {
            return None;
        }
        let len = loss.board.at(i).len;
        if !self.cwnd_allows(len.min(room)) {
            return None;
        }
        let loss = self.loss.as_deref_mut()?;
        // One rescue per episode: RescueRxt = RecoveryPoint.
        loss.rescue_rxt = Some(loss.recover);
        if len > room {
            // The last MSS of it.
            loss.board.limit(i, len - room);
            return Some(self.resend(ctx, i + 1, options, false));
        }
        Some(self.resend(ctx, i, options, false))
    }

    /// A tail loss probe is due (RFC 8985 7.3): one new segment if the
    /// peer's window takes one, else the highest unSACKed segment again.
    #[cold]
    fn loss_probe(
        &mut self,
        ctx: &mut Ctx<'_>,
        options: TcpOptions,
        room: u32,
    ) -> Option<OutSegment> {
        self.flags.clear(Flags::TLP_DUE);
        let unsent = self.unsent() as u32;
        let wnd_room = if self.snd_nxt.lt(self.window_edge()) {
            self.window_edge().since(self.snd_nxt)
        } else {
            0
        };
        ctx.counters.loss_probes += 1;
        let seg = if unsent > 0 && wnd_room > 0 {
            // New data, whatever cwnd says: one segment.
            let len = unsent.min(room).min(wnd_room);
            let seq = self.snd_nxt;
            let offset = seq.since(self.snd_una) as usize;
            // PSH: the probe exists to draw an ACK, and a receiver that
            // delays ACKs for in-order data (Linux does, up to 40 ms and
            // more) acknowledges pushed data as soon as its application
            // reads it.
            let flags = TcpFlags::ACK | TcpFlags::PSH | self.take_cwr();
            self.sent_new(ctx, seq, len, 0);
            let window = self.advertise_window(ctx);
            if let Some(l) = self.loss.as_deref_mut() {
                l.tlp.retrans = false;
            }
            OutSegment {
                header: self.header(seq, self.rcv_nxt, flags, window, options),
                data_offset: offset,
                data_len: len as usize,
                retransmission: false,
                ect: self.ect(),
            }
        } else {
            let loss = self.loss.as_deref_mut()?;
            // The highest segment the receiver has not SACKed (in fast
            // recovery some above it may have been; in the open state
            // none has, and this is the last segment sent).
            let last = (0..loss.board.len())
                .rev()
                .find(|&i| !loss.board.at(i).has(SACKED))?;
            let rec = loss.board.at(last);
            let fin = u32::from(rec.has(FIN));
            let i = if rec.len > room + fin {
                loss.board.limit(last, rec.len - room - fin);
                last + 1
            } else {
                last
            };
            loss.tlp.retrans = true;
            self.resend(ctx, i, options, true)
        };
        let snd_nxt = self.snd_nxt;
        if let Some(l) = self.loss.as_deref_mut() {
            l.tlp.end = Some(snd_nxt);
        }
        Some(seg)
    }

    /// A zero-window probe (RFC 9293 3.8.6.1): one octet past the closed
    /// window, or the same octet again.
    #[cold]
    fn window_probe(&mut self, ctx: &mut Ctx<'_>, options: TcpOptions) -> Option<OutSegment> {
        self.flags.clear(Flags::FORCE_PROBE);
        if self.probe_only() {
            let now_us = Self::clock_us(ctx.now);
            let loss = self.loss.as_deref_mut()?;
            loss.board.touch(0, now_us);
            ctx.counters.window_probes += 1;
            let window = self.advertise_window(ctx);
            return Some(OutSegment {
                header: self.header(self.snd_una, self.rcv_nxt, TcpFlags::ACK, window, options),
                data_offset: 0,
                data_len: 1,
                retransmission: true,
                ect: false,
            });
        }
        if self.unsent() == 0 || self.snd_nxt != self.snd_una {
            return None;
        }
        let seq = self.snd_nxt;
        self.sent_new(ctx, seq, 1, PROBE);
        ctx.counters.window_probes += 1;
        let window = self.advertise_window(ctx);
        Some(OutSegment {
            header: self.header(seq, self.rcv_nxt, TcpFlags::ACK, window, options),
            data_offset: 0,
            data_len: 1,
            retransmission: false,
            ect: false,
        })
    }

    /// Takes back a segment `next_segment` produced that could not be
    /// emitted: new sequence space is unsent again, a retransmission is
    /// owed again, and the ACK it carried is owed again, so the next call
    /// builds it anew and nothing is skipped.
    #[cold]
    pub(crate) fn unsend(&mut self, seg: &OutSegment) {
        let f = seg.header.flags;
        let seq = SeqNum(seg.header.seq);
        let end = seq.add(seg.data_len as u32 + u32::from(f.syn()) + u32::from(f.fin()));
        if f.syn() {
            if self.snd_nxt == end {
                self.snd_nxt = seq;
            }
        } else if !seg.retransmission && self.snd_nxt == end && seq != end {
            self.snd_nxt = seq;
            if let Some(l) = self.loss.as_deref_mut() {
                l.board.pop_last();
            }
        } else if seg.retransmission
            && let Some(l) = self.loss.as_deref_mut()
            && let Some(i) = (0..l.board.len()).find(|&i| l.board.at(i).start == seq)
        {
            l.board.mark_lost(i);
        }
        self.flags.set(Flags::ACK_NOW);
    }

    /// A bare ACK, if one is owed.
    #[inline(always)]
    fn ack_segment(&mut self, ctx: &mut Ctx<'_>) -> Option<OutSegment> {
        if !self.flags.has(Flags::ACK_NOW) {
            return None;
        }
        let header = self.ack_header(ctx);
        Some(OutSegment {
            header,
            data_offset: 0,
            data_len: 0,
            retransmission: false,
            ect: false,
        })
    }

    /// The header of a bare ACK: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`
    /// with the window, timestamps and SACK blocks of this moment.
    pub(crate) fn ack_header(&mut self, ctx: &Ctx<'_>) -> TcpHeader {
        let window = self.advertise_window(ctx);
        let options = self.segment_options(ctx);
        self.header(self.snd_nxt, self.rcv_nxt, TcpFlags::ACK, window, options)
    }

    /// Sends an ACK at once, ahead of anything else the connection has
    /// queued: a duplicate ACK for an out-of-order segment (RFC 5681 4.2,
    /// RFC 9293 MAY-13, LR-06), one per segment so that a sender counting
    /// them, or reading their SACK blocks, sees every one.
    pub(crate) fn ack_immediately(&mut self, ctx: &mut Ctx<'_>) {
        let h = self.ack_header(ctx);
        if !ctx
            .control
            .push_header(self.tuple, &h, self.ip, ctx.counters)
        {
            // No room: fall back to the ACK the next transmit builds.
            self.flags.set(Flags::ACK_NOW);
            return;
        }
        self.flags.clear(Flags::ACK_NOW);
        self.ack_sent();
        self.uto_sent(&h.options, false);
        if !h.options.sack.is_empty() {
            self.dsack_sent(ctx);
        }
    }

    /// A segment carrying the owed D-SACK (if any) went out: it is
    /// reported once (RFC 2883 4), and counted as Linux counts it, for
    /// old data (below RCV.NXT) or for data held out of order.
    fn dsack_sent(&mut self, ctx: &mut Ctx<'_>) {
        if let Some((_, right)) = self.ooo.take_dsack() {
            if right.le(self.rcv_nxt) {
                ctx.counters.dsack_old_sent += 1;
            } else {
                ctx.counters.dsack_ofo_sent += 1;
            }
        }
    }

    /// The header of a segment of this connection.
    fn header(
        &self,
        seq: SeqNum,
        ack: SeqNum,
        flags: TcpFlags,
        window: u16,
        options: TcpOptions,
    ) -> TcpHeader {
        let (mut flags, urgent_ptr) = super::urgent::with_urgent(flags, self.urgent_field(seq));
        if self.flags.has(Flags::ECE_PENDING) {
            // RFC 3168 6.1.3: every segment echoes until the peer's CWR.
            flags |= TcpFlags::ECE;
        }
        TcpHeader {
            src_port: self.tuple.local_port,
            dst_port: self.tuple.remote_port,
            seq: seq.0,
            ack: ack.0,
            flags,
            window,
            urgent_ptr,
            options,
        }
    }

    /// Options of a non-SYN segment: timestamps once negotiated (RFC 7323
    /// 3.2: in every segment), and SACK blocks while data is held out of
    /// order or a duplicate is to be reported (RFC 2018 4, RFC 2883): a
    /// D-SACK first, then the most recent runs, 3 beside timestamps, 4
    /// without.
    fn segment_options(&mut self, ctx: &Ctx<'_>) -> TcpOptions {
        let mut o = TcpOptions::default();
        if self.flags.has(Flags::TS_OK) {
            o.timestamps = Some(Timestamps {
                tsval: self.ts_now(ctx.now),
                tsecr: self.ts_recent,
            });
        }
        if self.flags.has(Flags::SACK_OK) && self.ooo.wants_sack() {
            let max = if o.timestamps.is_some() { 3 } else { 4 };
            o.sack = self.sack_blocks(max);
        }
        self.uto_for_segment(ctx, &mut o);
        o
    }

    /// Up to `max` SACK blocks to report now: the D-SACK first, if one is
    /// owed. It stays owed until a segment carrying it is handed out
    /// (`dsack_sent`): a data segment that was considered and not sent
    /// must not swallow it.
    fn sack_blocks(&mut self, max: usize) -> SackBlocks {
        let mut blocks = SackBlocks::new();
        if let Some((l, r)) = self.ooo.dsack() {
            blocks.push(l.0, r.0);
        }
        let mut runs = [(SeqNum(0), SeqNum(0)); 4];
        let n = self.ooo.sack_runs(&mut runs, max - blocks.len());
        for &(l, r) in &runs[..n] {
            blocks.push(l.0, r.0);
        }
        blocks
    }

    /// Initialises congestion control once the handshake is complete and
    /// the MSS is known.
    pub(crate) fn init_cc(&mut self, ctx: &Ctx<'_>) {
        let iw = self.initial_window(ctx);
        self.cc.init(ctx.now, u32::from(self.snd_mss), iw);
    }
}
