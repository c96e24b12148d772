//! The application's calls (RFC 9293 3.9.1 and 3.10.1-3.10.6): OPEN as
//! `listen`/`connect`, SEND, RECEIVE, CLOSE (`shutdown` and `close`), ABORT
//! and STATUS (`info`).

use super::Endpoint;
use super::demux::unicast;
use crate::error::Error;
use crate::event::{ConnId, Event, ListenerId, OpenKind, StateChange};
use crate::info::ConnInfo;
use crate::listener::Listener;
use crate::state::State;
use crate::tcb::{Flags, Tcb};
use crate::time::Instant;
use crate::tuple::FourTuple;
use core::time::Duration;
use std::net::SocketAddr;

impl Endpoint {
    /// Passive OPEN on `addr` (an unspecified IP listens on every address).
    /// `backlog` bounds both the SYN queue and the accept queue, within the
    /// configured maxima.
    pub fn listen(&mut self, addr: SocketAddr, backlog: usize) -> Result<ListenerId, Error> {
        if addr.port() == 0 || addr.ip().is_multicast() {
            return Err(Error::InvalidAddress);
        }
        if self.listener_addrs.contains(addr) {
            return Err(Error::AddrInUse);
        }
        let backlog = backlog.max(1);
        let listener = Listener::new(
            addr,
            backlog.min(self.cfg.max_syn_backlog),
            backlog.min(self.cfg.max_accept_backlog),
        );
        let id = self.add_listener(listener);
        self.listener_addrs.insert(addr, id.0);
        Ok(id)
    }

    /// Closes a listener. Its children that the application never accepted
    /// are reset: the established ones always, the half-open ones unless
    /// `Config::reset_half_open_on_listener_close` is off (then they are
    /// dropped silently).
    pub fn close_listener(&mut self, l: ListenerId) -> Result<(), Error> {
        let li = self
            .listeners
            .get_mut(l.0 as usize)
            .and_then(Option::take)
            .ok_or(Error::InvalidHandle)?;
        if li.intercept.is_some() {
            self.interceptor_closed(l);
        } else {
            self.listener_addrs.remove(li.addr);
        }
        let reset_half_open = self.cfg.reset_half_open_on_listener_close;
        let children: Vec<(ConnId, bool)> = self
            .conns
            .iter()
            .filter(|t| t.listener == Some(l))
            .map(|t| (t.id, reset_half_open || t.state != State::SynReceived))
            .collect();
        for (id, reset) in children {
            if reset && let Some((tcb, mut ctx)) = self.split(id, self.now) {
                tcb.orphaned(&mut ctx);
            }
            self.remove_tcb(id);
        }
        Ok(())
    }

    /// Takes the next established connection from a listener's accept
    /// queue.
    #[must_use = "a connection taken from the accept queue and not kept is never closed"]
    pub fn accept(&mut self, l: ListenerId) -> Option<ConnId> {
        let id = self.listener_mut(l)?.accept_queue.pop_front()?;
        let now = self.now;
        let (tcb, mut ctx) = self.split(id, now)?;
        tcb.accepted(&mut ctx);
        Some(id)
    }

    /// Active OPEN from `local` to `remote` (RFC 9293 3.10.1). A zero local
    /// port picks an ephemeral one (RFC 6056). An unspecified local address
    /// takes the first of `Config::local_addrs` in the remote's family,
    /// before the first SYN (MUST-44); none of that family is
    /// `AddrNotAvailable`.
    pub fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<ConnId, Error> {
        self.now = self.now.max(now);
        let local = if local.ip().is_unspecified() && local.is_ipv4() == remote.is_ipv4() {
            let ip = self
                .cfg
                .local_addrs
                .iter()
                .find(|a| a.is_ipv4() == remote.is_ipv4() && unicast(**a))
                .ok_or(Error::AddrNotAvailable)?;
            SocketAddr::new(*ip, local.port())
        } else {
            local
        };
        // MUST-46: no OPEN to a broadcast or multicast address.
        if !unicast(remote.ip())
            || !unicast(local.ip())
            || remote.port() == 0
            || local.is_ipv4() != remote.is_ipv4()
        {
            return Err(Error::InvalidAddress);
        }
        if self.tuples.len() >= self.cfg.max_connections {
            return Err(Error::LimitReached);
        }
        let local = if local.port() == 0 {
            let tuples = &self.tuples;
            let time_wait = &self.time_wait;
            let port = self
                .ports
                .select(local.ip(), remote, |p| {
                    let t = FourTuple::new(SocketAddr::new(local.ip(), p), remote);
                    tuples.contains(&t) || time_wait.contains(&t)
                })
                .ok_or(Error::AddrNotAvailable)?;
            SocketAddr::new(local.ip(), port)
        } else {
            let t = FourTuple::new(local, remote);
            if self.tuples.contains(&t) || self.time_wait.contains(&t) {
                return Err(Error::AddrInUse);
            }
            local
        };
        let tuple = FourTuple::new(local, remote);
        let (iss, ts_offset) = self.isn.isn_and_ts_offset(now, local, remote);
        let id = self.insert_tcb(tuple, iss, ts_offset, OpenKind::Active, |t, _| {
            t.open_active();
        });
        self.counters.active_opens += 1;
        if self.cfg.trace_states {
            self.events
                .push_back(Event::StateChanged(Box::new(StateChange {
                    conn: id,
                    local,
                    remote,
                    from: State::Closed,
                    to: State::SynSent,
                })));
        }
        Ok(id)
    }

    /// SEND: queues as much of `data` as the send buffer takes and returns
    /// how much. `WouldBlock` when the buffer is full (a `Writable` event
    /// follows), `BrokenPipe` after `shutdown`.
    pub fn send(&mut self, c: ConnId, data: &[u8]) -> Result<usize, Error> {
        self.call(c, |tcb, ctx| tcb.send(ctx, data))
            .unwrap_or(Err(Error::NotConnected))
    }

    /// RECEIVE: copies out buffered data. `Ok(0)` is the end of the stream
    /// (the peer's FIN); `WouldBlock` when nothing is buffered yet.
    pub fn recv(&mut self, c: ConnId, out: &mut [u8]) -> Result<usize, Error> {
        self.call(c, |tcb, ctx| tcb.receive(ctx, out))
            .unwrap_or(Err(Error::NotConnected))
    }

    /// RECEIVE without a copy: `take` borrows the buffered bytes (one
    /// contiguous slice, never empty) and returns how many it used, which
    /// are then consumed, as `recv` consumes what it copies. At the end of
    /// the stream `take` is not called and the result is `Ok(0)` (as it is
    /// when `take` uses nothing: `is_eof` tells them apart); `WouldBlock`
    /// when nothing is buffered yet.
    pub fn recv_with(
        &mut self,
        c: ConnId,
        take: impl FnOnce(&[u8]) -> usize,
    ) -> Result<usize, Error> {
        self.call(c, |tcb, ctx| tcb.receive_with(ctx, take))
            .unwrap_or(Err(Error::NotConnected))
    }

    /// SEND written in place: `fill` gets up to `max` bytes of room at the
    /// end of the send buffer (zeroed) and returns how many it wrote, which
    /// are then queued as `send` queues what it copies. `WouldBlock` when
    /// the buffer is full.
    pub fn send_with(
        &mut self,
        c: ConnId,
        max: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<usize, Error> {
        self.call(c, |tcb, ctx| tcb.send_with(ctx, max, fill))
            .unwrap_or(Err(Error::NotConnected))
    }

    /// CLOSE of the sending half (RFC 9293 3.10.4): a FIN follows the queued
    /// data. Reading goes on until the peer's FIN. Calling it again is
    /// harmless and sends no second FIN (API-04).
    pub fn shutdown(&mut self, c: ConnId) -> Result<(), Error> {
        self.call(c, Tcb::shutdown).ok_or(Error::NotConnected)
    }

    /// Full CLOSE: like `shutdown`, and the application reads no more. If
    /// received data is still unread, or more arrives, the peer gets a RST
    /// instead, so it knows data was lost (RFC 9293 SHLD-3, SM-11).
    pub fn close(&mut self, c: ConnId) -> Result<(), Error> {
        self.call(c, Tcb::close_call).ok_or(Error::NotConnected)
    }

    /// ABORT (RFC 9293 3.10.5): RST where the peer knows the connection,
    /// then CLOSED.
    pub fn abort(&mut self, c: ConnId) {
        self.call(c, Tcb::abort);
    }

    /// Sets the connection's send buffer size (like `SO_SNDBUF`): what
    /// `send` may have queued, sent or not, at once. `None` goes back to
    /// `Config::send_buffer`. Data already queued beyond a smaller size
    /// stays; `send` waits until it falls below.
    pub fn set_send_buffer(&mut self, c: ConnId, bytes: Option<usize>) -> Result<(), Error> {
        if bytes == Some(0) {
            return Err(Error::InvalidArgument);
        }
        self.call(c, |tcb, ctx| {
            tcb.snd_buf.set_limit(bytes);
            tcb.send_space_grew(ctx);
        })
        .ok_or(Error::NotConnected)
    }

    /// Turns the Nagle algorithm off (`true`) or on (RFC 9293 MUST-17).
    pub fn set_nodelay(&mut self, c: ConnId, nodelay: bool) -> Result<(), Error> {
        self.call(c, |tcb, _| tcb.set_nodelay(nodelay))
            .ok_or(Error::NotConnected)
    }

    /// Sets the connection's user timeout (R2 as a time, RFC 9293 MUST-21):
    /// `None` never gives up while retransmitting.
    pub fn set_user_timeout(
        &mut self,
        c: ConnId,
        timeout: Option<core::time::Duration>,
    ) -> Result<(), Error> {
        self.call(c, |tcb, _| tcb.set_user_timeout(timeout))
            .ok_or(Error::NotConnected)
    }

    /// Caps the maximum segment size of this connection, like Linux's
    /// `TCP_MAXSEG`: set before the SYN leaves (right after `connect`), it
    /// lowers the MSS our SYN offers and the one we send with; later, it
    /// lowers the one we send with. `None` removes the cap (an MSS already
    /// lowered stays). `InvalidArgument` outside Linux's 88 to 32767.
    pub fn set_max_segment(&mut self, c: ConnId, mss: Option<u16>) -> Result<(), Error> {
        let mss = user_mss(mss)?;
        self.call(c, |tcb, _| tcb.set_user_mss(mss))
            .ok_or(Error::NotConnected)
    }

    /// `set_max_segment` for the connections a listener will accept
    /// (Linux's children inherit `TCP_MAXSEG`): their SYN-ACK offers at
    /// most `mss`.
    pub fn set_listener_max_segment(
        &mut self,
        l: ListenerId,
        mss: Option<u16>,
    ) -> Result<(), Error> {
        let mss = user_mss(mss)?;
        self.listener_mut(l)
            .ok_or(Error::InvalidHandle)?
            .child
            .user_mss = mss;
        Ok(())
    }

    /// This connection's receive buffer, like `SO_RCVBUF` (`None` goes
    /// back to `Config::recv_buffer`). The window offered follows it from
    /// now on (set before the SYN leaves, right after `connect`, the SYN's
    /// too), within the window scale chosen at the SYN from
    /// `Config::recv_buffer`; a smaller buffer never takes back window
    /// already offered (RFC 9293 SHLD-14). `InvalidArgument` for zero.
    pub fn set_recv_buffer(&mut self, c: ConnId, bytes: Option<usize>) -> Result<(), Error> {
        if bytes == Some(0) {
            return Err(Error::InvalidArgument);
        }
        self.call(c, |tcb, ctx| tcb.set_recv_buffer(ctx, bytes))
            .ok_or(Error::NotConnected)
    }

    /// `set_recv_buffer` for the connections a listener will accept.
    pub fn set_listener_recv_buffer(
        &mut self,
        l: ListenerId,
        bytes: Option<usize>,
    ) -> Result<(), Error> {
        if bytes == Some(0) {
            return Err(Error::InvalidArgument);
        }
        self.listener_mut(l)
            .ok_or(Error::InvalidHandle)?
            .child
            .recv_buffer = bytes;
        Ok(())
    }

    /// Turns keep-alive on for this connection with these settings, or off
    /// (`None`), like `SO_KEEPALIVE` with `TCP_KEEPIDLE`, `TCP_KEEPINTVL`
    /// and `TCP_KEEPCNT` (RFC 9293 MUST-24, API-09). The idle time starts
    /// now. New connections take `Config::keepalive`.
    pub fn set_keepalive(
        &mut self,
        c: ConnId,
        keepalive: Option<crate::Keepalive>,
    ) -> Result<(), Error> {
        self.call(c, |tcb, ctx| tcb.set_keepalive(ctx, keepalive))
            .ok_or(Error::NotConnected)
    }

    /// SEND with the URGENT flag (RFC 9293 3.9.1.2, DT-12): queues `data`
    /// like `send`, and marks everything queued up to its last accepted
    /// octet as urgent, so the segments before it carry URG and the
    /// urgent pointer. The data stays in the stream (the peer reads it
    /// inline). Like `send`, takes what fits and returns how much.
    pub fn send_urgent(&mut self, c: ConnId, data: &[u8]) -> Result<usize, Error> {
        self.call(c, |tcb, ctx| {
            let n = tcb.send(ctx, data)?;
            tcb.mark_urgent();
            Ok(n)
        })
        .ok_or(Error::NotConnected)?
    }

    /// How many of the octets this connection's application has yet to
    /// read are urgent: the next `n` reads' worth ends at the peer's
    /// urgent pointer (RFC 9293 MUST-33). `None` when no urgent data is
    /// pending.
    pub fn urgent_pending(&mut self, c: ConnId) -> Result<Option<usize>, Error> {
        self.call(c, |tcb, _| tcb.urgent_pending())
            .ok_or(Error::NotConnected)
    }

    /// FLUSH (RFC 9293 MAY-14; API-10): drops the data queued and not yet
    /// sent, keeps what is in flight, and returns how many bytes were
    /// dropped. Later sends continue the stream from what was sent.
    pub fn flush(&mut self, c: ConnId) -> Result<usize, Error> {
        self.call(c, |tcb, ctx| tcb.flush(ctx))
            .ok_or(Error::NotConnected)
    }

    /// Turns this connection's asynchronous error reports on (the
    /// default) or off (RFC 9293 MUST-47, SHLD-20; API-07): with them off
    /// no `Event::SoftError` is raised for ICMP soft errors or for
    /// excessive retransmission (R1). Hard errors still close the
    /// connection with their reason.
    pub fn set_error_reports(&mut self, c: ConnId, on: bool) -> Result<(), Error> {
        self.call(c, |tcb, _| {
            if on {
                tcb.flags.clear(Flags::REPORTS_OFF);
            } else {
                tcb.flags.set(Flags::REPORTS_OFF);
            }
        })
        .ok_or(Error::NotConnected)
    }

    /// The TTL (IPv4) or hop limit (IPv6) of this connection's segments
    /// (RFC 9293 MUST-49; API-08), 1 to 255; new connections use
    /// `Config::ttl`. Takes effect from the next segment.
    pub fn set_ttl(&mut self, c: ConnId, ttl: u8) -> Result<(), Error> {
        if ttl == 0 {
            return Err(Error::InvalidArgument);
        }
        self.call(c, |tcb, _| tcb.ip.ttl = ttl)
            .ok_or(Error::NotConnected)
    }

    /// The TTL or hop limit this connection sends with.
    pub fn ttl(&self, c: ConnId) -> Result<u8, Error> {
        self.conns
            .get(c)
            .map(|t| t.ip.ttl_or(self.cfg.ttl))
            .ok_or(Error::NotConnected)
    }

    /// The Diffserv code point (RFC 2474; 0 to 63, e.g. 46 for EF) of this
    /// connection's segments (RFC 9293 MUST-48, SHLD-21; API-08): set at
    /// any time, used from the next segment, in the upper six bits of the
    /// IPv4 TOS or IPv6 traffic class byte (ECN keeps the lower two).
    pub fn set_dscp(&mut self, c: ConnId, dscp: u8) -> Result<(), Error> {
        if dscp > 63 {
            return Err(Error::InvalidArgument);
        }
        self.call(c, |tcb, _| tcb.ip.dscp = dscp)
            .ok_or(Error::NotConnected)
    }

    /// The Diffserv code point this connection sends with.
    pub fn dscp(&self, c: ConnId) -> Result<u8, Error> {
        self.conns
            .get(c)
            .map(|t| t.ip.dscp)
            .ok_or(Error::NotConnected)
    }

    /// Acknowledges every data segment of this connection at once (`true`)
    /// or follows the delayed-ACK policy (`false`, the default; see
    /// `Config::delayed_ack`). Like Linux's `TCP_QUICKACK`, except that
    /// the choice lasts until changed. Turning it on sends an ACK still
    /// owed.
    pub fn set_quick_ack(&mut self, c: ConnId, on: bool) -> Result<(), Error> {
        self.call(c, |tcb, _| tcb.set_quick_ack(on))
            .ok_or(Error::NotConnected)
    }

    /// Whether `set_quick_ack(c, true)` is in effect.
    pub fn quick_ack(&self, c: ConnId) -> Result<bool, Error> {
        self.conns
            .get(c)
            .map(|t| t.quick_ack())
            .ok_or(Error::NotConnected)
    }

    /// Chooses the connection's congestion-control algorithm (like Linux's
    /// `TCP_CONGESTION`); new connections take `Config::congestion_control`.
    pub fn set_congestion_control(
        &mut self,
        c: ConnId,
        alg: &crate::cc::Algorithm,
    ) -> Result<(), Error> {
        self.call(c, |tcb, ctx| tcb.set_congestion_control(ctx, alg))
            .ok_or(Error::NotConnected)
    }

    /// An ICMP error that quotes one of our segments, as parsed by the
    /// device layer (RFC 9293 3.9.2.2, MUST-54: directed to the connection
    /// that caused it).
    pub fn handle_icmp_error(&mut self, now: Instant, err: crate::icmp::IcmpError) {
        self.now = self.now.max(now);
        let tuple = FourTuple::new(err.local, err.remote);
        let Some(&id) = self.tuples.get(&tuple.key()) else {
            self.counters.drop(crate::counters::DropReason::IcmpIgnored);
            return;
        };
        self.with_tcb(id, now, |tcb, ctx, _| tcb.on_icmp_error(ctx, &err));
    }

    /// STATUS: a snapshot of the connection.
    #[must_use]
    pub fn info(&self, c: ConnId) -> Option<ConnInfo> {
        self.tcb(c).map(|t| self.snapshot(t))
    }

    /// Snapshots of every live connection (not compact TIME-WAIT entries).
    pub fn connections(&self) -> impl Iterator<Item = (ConnId, ConnInfo)> + '_ {
        self.conns.iter().map(|t| (t.id, self.snapshot(t)))
    }

    /// Whether the peer has closed its side and everything was read.
    pub fn is_eof(&self, c: ConnId) -> bool {
        self.tcb(c)
            .is_some_and(|t| t.flags.has(Flags::FIN_RECEIVED) && t.rcv_buf.is_empty())
    }

    /// Bytes that `send` would accept now.
    pub fn send_capacity(&self, c: ConnId) -> usize {
        self.tcb(c).map_or(0, |t| {
            if t.state.can_send() && !t.flags.has(Flags::FIN_QUEUED) {
                t.snd_buf
                    .limit(self.cfg.send_buffer)
                    .saturating_sub(t.snd_buf.len())
            } else {
                0
            }
        })
    }

    fn snapshot(&self, t: &Tcb) -> ConnInfo {
        ConnInfo {
            state: t.state,
            local: t.tuple.local(),
            remote: t.tuple.remote(),
            how: t.open,
            iss: t.iss,
            irs: t.irs,
            snd_una: t.snd_una,
            snd_nxt: t.snd_nxt,
            snd_wnd: t.snd_wnd,
            rcv_nxt: t.rcv_nxt,
            rcv_wnd: t.rcv_wnd(),
            srtt: t.rtt.srtt(),
            rttvar: t.rtt.rttvar(),
            rto: t.rto(&self.cfg),
            cwnd: t.send_cwnd(),
            ssthresh: t.cc.ssthresh(),
            mss: t.snd_mss,
            advertised_mss: t.our_mss(&self.cfg),
            retransmits: t.retransmits_total,
            send_queue: t.snd_buf.len(),
            recv_queue: t.rcv_buf.len(),
            wscale: t
                .flags
                .has(Flags::WS_OK)
                .then_some((t.snd_shift, t.rcv_shift)),
            timestamps: t.flags.has(Flags::TS_OK),
            ts_recent: t.flags.has(Flags::TS_OK).then_some(t.ts_recent),
            ecn: t.flags.has(Flags::ECN_OK),
            user_timeout: (t.user_timeout_ms != u32::MAX)
                .then(|| core::time::Duration::from_millis(u64::from(t.user_timeout_ms))),
            sack: t.flags.has(Flags::SACK_OK),
            timer: t.timers.next(),
            recovery: t.recovery_state(),
            congestion_control: t.cc.name(),
            min_rtt: (t.min_rtt_us > 0).then(|| Duration::from_micros(u64::from(t.min_rtt_us))),
            delivery_rate: u64::from(t.delivery_rate),
            pacing_rate: t.cc.pacing_rate(),
            in_flight: t.in_flight(),
            sacked: t.loss.as_ref().map_or(0, |l| l.board.sacked_segs),
            lost: t.loss.as_ref().map_or(0, |l| {
                l.board.iter().filter(|s| s.has(crate::tcb::LOST)).count() as u32
            }),
            retrans_in_flight: t.loss.as_ref().map_or(0, |l| {
                l.board
                    .iter()
                    .filter(|s| s.has(crate::tcb::RETRANS))
                    .count() as u32
            }),
            reordering_seen: t.reo.seen,
            reorder_window_mult: t.reo.mult,
        }
    }
}

/// A user MSS as stored (0 for none), within Linux's bounds for
/// `TCP_MAXSEG` (`TCP_MIN_MSS` 88 to `MAX_TCP_WINDOW` 32767).
fn user_mss(mss: Option<u16>) -> Result<u16, Error> {
    match mss {
        None => Ok(0),
        Some(m) if (88..=32_767).contains(&m) => Ok(m),
        Some(_) => Err(Error::InvalidArgument),
    }
}
