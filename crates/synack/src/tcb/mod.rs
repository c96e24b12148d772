//! The transmission control block: one connection's state (RFC 9293 section
//! 3.3.1). Segment arrival is in `input`, segment generation in `output`,
//! the timer table in `timers` and what each timer does in `timeout`; the
//! sender's scoreboard in `scoreboard`, RACK in `rack` and the recovery
//! episode (PRR, undo, probes) in `recovery`; the receiver's out-of-order
//! queue in `reassembly`.

mod buffers;
mod calls;
mod delayed_ack;
mod ecn;
pub(crate) use ecn::{CE, ECT0};
mod icmp;
mod input;
mod keepalive;
mod loss;
mod output;
mod paws;
mod push;
mod rack;
mod rcv_window;
mod reassembly;
mod recovery;
mod sack;
mod scoreboard;
mod timeout;
mod timers;
mod urgent;
mod uto;

use crate::cc::Cc;
use crate::config::Config;
use crate::control::{ControlQueue, ControlSegment};
use crate::counters::{Counters, DropReason};
use crate::event::{CloseReason, ConnId, Event, ListenerId, OpenKind, StateChange};
use crate::listener::ChildSettings;
use crate::rtt::RttEstimator;
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use crate::tuple::FourTuple;
pub(crate) use buffers::BufferPool;
use buffers::{RecvBuffer, SendBuffer};
use core::time::Duration;
pub use loss::RecoveryState;
pub(crate) use loss::{Loss, LossPool};
use rack::Reordering;
pub(crate) use scoreboard::{LOST, RETRANS};
use std::collections::VecDeque;
use synack_wire::{TcpFlags, TcpOptions, Timestamps};
pub use timers::Timer;
use timers::Timers;

/// What a TCB needs from the endpoint while it handles an input.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) cfg: &'a Config,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) counters: &'a mut Counters,
    pub(crate) control: &'a mut ControlQueue,
    pub(crate) pool: &'a mut BufferPool,
    pub(crate) loss_pool: &'a mut LossPool,
    /// The segment being taken is a super-segment the local kernel built
    /// from segments of this many payload bytes
    /// (`Endpoint::handle_packet_coalesced`); 0 for a plain one.
    pub(crate) rx_segment_size: u16,
}

/// Per-connection flags, one byte each. A word of bits would be 13 bytes
/// smaller, but the compiler narrows a constant OR or AND on it to a store
/// of the one byte that changes, and the next read of the whole word then
/// waits for that store to reach the cache (a store-forwarding stall),
/// which on the hot paths happened on nearly every segment. Bytes are read
/// and written whole, so a read always forwards from the store before it.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Flags([bool; Flags::COUNT]);

impl Flags {
    pub(crate) const ACK_NOW: u32 = 1 << 0;
    pub(crate) const FIN_QUEUED: u32 = 1 << 1;
    pub(crate) const FIN_ACKED: u32 = 1 << 2;
    pub(crate) const FIN_RECEIVED: u32 = 1 << 3;
    pub(crate) const TS_OK: u32 = 1 << 4;
    pub(crate) const SACK_OK: u32 = 1 << 5;
    pub(crate) const NODELAY: u32 = 1 << 6;
    pub(crate) const VISIBLE: u32 = 1 << 7;
    pub(crate) const READ_NOTIFIED: u32 = 1 << 8;
    pub(crate) const WRITE_BLOCKED: u32 = 1 << 9;
    pub(crate) const SYN_RETRANSMITTED: u32 = 1 << 10;
    pub(crate) const FORCE_PROBE: u32 = 1 << 11;
    pub(crate) const QUEUED_TX: u32 = 1 << 12;
    pub(crate) const SOFT_ERROR_REPORTED: u32 = 1 << 13;
    pub(crate) const WS_OK: u32 = 1 << 14;
    pub(crate) const APP_CLOSED: u32 = 1 << 15;
    /// The tail-loss-probe timer fired: the next transmit sends the probe.
    pub(crate) const TLP_DUE: u32 = 1 << 16;
    /// Urgent data is queued or unacknowledged: segments before SND.UP
    /// carry URG (`urgent.rs`).
    pub(crate) const URG_SEND: u32 = 1 << 17;
    /// The peer's urgent pointer is ahead of what the application has
    /// read, and the application was told.
    pub(crate) const URG_RECV: u32 = 1 << 18;
    /// ECN negotiated (RFC 3168; `ecn.rs`).
    pub(crate) const ECN_OK: u32 = 1 << 19;
    /// A CE mark arrived: ECE on every segment until the peer's CWR.
    pub(crate) const ECE_PENDING: u32 = 1 << 20;
    /// cwnd was reduced for an ECE: CWR on the next new data.
    pub(crate) const CWR_PENDING: u32 = 1 << 21;
    /// The application turned asynchronous error reports off (API-07).
    pub(crate) const REPORTS_OFF: u32 = 1 << 22;
    /// The User Timeout option went out in a non-SYN segment (`uto.rs`).
    pub(crate) const UTO_SENT: u32 = 1 << 23;
    const COUNT: usize = 24;

    /// The byte of flag `f` (one of the constants above, a single bit).
    #[inline(always)]
    fn index(f: u32) -> usize {
        debug_assert!(f.is_power_of_two() && (f.trailing_zeros() as usize) < Self::COUNT);
        f.trailing_zeros() as usize
    }

    #[inline]
    pub(crate) fn has(&self, f: u32) -> bool {
        self.0[Self::index(f)]
    }
    #[inline]
    pub(crate) fn set(&mut self, f: u32) {
        self.0[Self::index(f)] = true;
    }
    #[inline]
    pub(crate) fn clear(&mut self, f: u32) {
        self.0[Self::index(f)] = false;
    }
}

/// One connection.
pub(crate) struct Tcb {
    pub(crate) id: ConnId,
    pub(crate) tuple: FourTuple,
    pub(crate) state: State,
    pub(crate) open: OpenKind,
    pub(crate) listener: Option<ListenerId>,
    pub(crate) flags: Flags,

    // Send sequence space (RFC 9293 3.3.1, figure 4). SND.NXT never moves
    // back: what is resent is chosen from the scoreboard.
    pub(crate) iss: SeqNum,
    pub(crate) snd_una: SeqNum,
    pub(crate) snd_nxt: SeqNum,
    pub(crate) snd_wnd: u32,
    /// The largest window the peer ever offered (RFC 5961 MAX.SND.WND).
    pub(crate) max_snd_wnd: u32,
    pub(crate) snd_wl1: SeqNum,
    pub(crate) snd_wl2: SeqNum,

    // Receive sequence space (RFC 9293 3.3.1, figure 5). `rcv_adv` is the
    // right edge we last advertised, RCV.NXT + RCV.WND; it never moves left
    // (RFC 9293 SHLD-14).
    pub(crate) irs: SeqNum,
    pub(crate) rcv_nxt: SeqNum,
    pub(crate) rcv_adv: SeqNum,

    /// Effective send MSS: payload bytes per full segment, after options
    /// (RFC 9293 3.7.1, MUST-16).
    pub(crate) snd_mss: u16,
    /// Window-scale shifts (RFC 7323); zero when not negotiated.
    pub(crate) snd_shift: u8,
    pub(crate) rcv_shift: u8,
    /// Consecutive timeouts of the current segment.
    pub(crate) retries: u8,
    /// How often the SYN or SYN-ACK was retransmitted (the initial window
    /// depends on it).
    pub(crate) syn_retries: u8,
    pub(crate) challenge_count: u16,
    pub(crate) ts_recent: u32,
    /// When TS.Recent was last set, in whole seconds of the engine's clock
    /// (RFC 7323 5.5: it is invalid after 24 days).
    pub(crate) ts_recent_secs: u32,
    /// The acknowledgment number of the last segment we sent: TS.Recent
    /// is taken only from a segment that starts at or before it (RFC 7323
    /// 4.3). With delayed ACKs it lags RCV.NXT.
    pub(crate) last_ack_sent: SeqNum,
    /// SND.UP: the sequence number after the urgent data we send, while
    /// `URG_SEND` is set.
    pub(crate) snd_up: SeqNum,
    /// RCV.UP: the sequence number after the peer's urgent data, while
    /// `URG_RECV` is set.
    pub(crate) rcv_up: SeqNum,
    /// TTL / hop limit and Diffserv code point of this connection's
    /// segments (API-08).
    pub(crate) ip: crate::control::IpParams,
    pub(crate) ts_offset: u32,
    pub(crate) retransmits_total: u32,
    /// The last ICMP soft error seen while opening (0 none, 1 network
    /// unreachable, 2 host unreachable), reported if the open times out.
    pub(crate) soft_error: u8,
    /// With `Config::psh_on_bursts`: how many segments of the current
    /// run of new data, sent back to back, are already out.
    pub(crate) burst_sent: u8,
    /// A cap on the MSS, ours and the peer's (Linux's `TCP_MAXSEG`); 0
    /// for none.
    pub(crate) user_mss: u16,
    /// Per-connection user timeout in milliseconds; `u32::MAX` means none
    /// (R2 is then infinite, RFC 9293 MUST-21).
    pub(crate) user_timeout_ms: u32,

    pub(crate) rtt: RttEstimator,
    /// The smallest RTT sample, microseconds (0 before the first).
    pub(crate) min_rtt_us: u32,
    /// Delivery rate of the last whole round, bytes per second (saturating
    /// at 4 GB/s), kept past the loss state for `ConnInfo`, as `tcp_info`
    /// keeps it.
    pub(crate) delivery_rate: u32,
    /// When the SYN (or SYN-ACK) was first sent, to time the handshake: the
    /// engine clock's microseconds, modulo 2^32 (a handshake is timed
    /// only when it takes less than an hour).
    pub(crate) rtt_start_us: u32,
    pub(crate) cc: Cc,
    /// Reordering seen on this connection (RACK, RFC 8985 6.2).
    pub(crate) reo: Reordering,
    /// Loss recovery state, while data is in flight.
    pub(crate) loss: Option<Box<Loss>>,

    pub(crate) timers: Timers,
    /// Keep-alive settings and progress (`keepalive.rs`).
    pub(crate) keepalive: keepalive::KeepaliveSlot,
    /// What the receiver owes in ACKs (`delayed_ack.rs`).
    pub(crate) acks: delayed_ack::AckPolicy,
    /// The earliest entry this TCB has in the endpoint's timer heap.
    pub(crate) armed: Instant,
    /// When new data was last sent (RFC 5681 4.1's idle restart).
    pub(crate) last_send: Instant,
    /// When the current challenge-ACK interval began (RFC 5961 7): the
    /// engine clock's milliseconds, modulo 2^32.
    pub(crate) challenge_start_ms: u32,
    /// When the segment now being retransmitted first timed out.
    pub(crate) retransmitting_since: Instant,

    pub(crate) snd_buf: SendBuffer,
    pub(crate) rcv_buf: RecvBuffer,
    /// Segments that arrived ahead of RCV.NXT.
    pub(crate) ooo: reassembly::Reassembly,
}

impl Tcb {
    /// Makes this slab slot's TCB a new one in CLOSED with nothing
    /// negotiated yet; `open_active` or `open_passive` then makes it a
    /// connection. Written over the old TCB field by field: a TCB built
    /// elsewhere and moved into place would be copied whole. The fields are
    /// named exhaustively, so a field added to `Tcb` and forgotten here does
    /// not compile. The buffers were given back when the old TCB was freed.
    pub(crate) fn reset(
        &mut self,
        id: ConnId,
        tuple: FourTuple,
        iss: SeqNum,
        ts_offset: u32,
        cfg: &Config,
        open: OpenKind,
    ) {
        let default_mss = if tuple.is_ipv6() { 1220 } else { 536 };
        let Tcb {
            id: t_id,
            tuple: t_tuple,
            state,
            open: t_open,
            listener,
            flags,
            iss: t_iss,
            snd_una,
            snd_nxt,
            snd_wnd,
            max_snd_wnd,
            snd_wl1,
            snd_wl2,
            irs,
            rcv_nxt,
            rcv_adv,
            snd_mss,
            snd_shift,
            rcv_shift,
            retries,
            syn_retries,
            challenge_count,
            ts_recent,
            ts_recent_secs,
            last_ack_sent,
            snd_up,
            rcv_up,
            ip,
            ts_offset: t_ts_offset,
            retransmits_total,
            soft_error,
            burst_sent,
            user_mss,
            user_timeout_ms,
            rtt,
            min_rtt_us,
            delivery_rate,
            rtt_start_us,
            cc,
            reo,
            loss,
            timers,
            keepalive,
            acks,
            armed,
            last_send,
            challenge_start_ms,
            retransmitting_since,
            snd_buf,
            rcv_buf,
            ooo,
        } = self;
        *t_id = id;
        *t_tuple = tuple;
        *state = State::Closed;
        *t_open = open;
        *listener = None;
        *flags = Flags::default();
        *t_iss = iss;
        *snd_una = iss;
        *snd_nxt = iss;
        *snd_wnd = 0;
        *max_snd_wnd = 0;
        *snd_wl1 = SeqNum(0);
        *snd_wl2 = SeqNum(0);
        *irs = SeqNum(0);
        *rcv_nxt = SeqNum(0);
        *rcv_adv = SeqNum(0);
        *snd_mss = default_mss;
        *snd_shift = 0;
        *rcv_shift = 0;
        *retries = 0;
        *syn_retries = 0;
        *challenge_count = 0;
        *ts_recent = 0;
        *ts_recent_secs = 0;
        *last_ack_sent = SeqNum(0);
        *snd_up = SeqNum(0);
        *rcv_up = SeqNum(0);
        *ip = crate::control::IpParams::DEFAULT;
        *t_ts_offset = ts_offset;
        *retransmits_total = 0;
        *soft_error = 0;
        *burst_sent = 0;
        *user_mss = 0;
        // With the User Timeout option, ADV_UTO within its bounds (RFC 5482
        // 3) until the peer's arrives.
        let user_timeout = match cfg.user_timeout_option {
            Some(u) => Some(u.effective(None)),
            None => cfg.user_timeout,
        };
        *user_timeout_ms = user_timeout.map_or(u32::MAX, |d| {
            d.as_millis().min(u128::from(u32::MAX - 1)) as u32
        });
        *rtt = RttEstimator::new(&cfg.rtt);
        *min_rtt_us = 0;
        *delivery_rate = 0;
        *rtt_start_us = 0;
        // Initialised once the handshake has settled the MSS.
        *cc = Cc::new(&cfg.congestion_control);
        *reo = Reordering::default();
        debug_assert!(loss.is_none(), "the loss state goes back with the TCB");
        *timers = Timers::default();
        *keepalive = keepalive::KeepaliveSlot::new(cfg.keepalive);
        *acks = delayed_ack::AckPolicy::new();
        *armed = Instant::NEVER;
        *last_send = Instant::NEVER;
        *challenge_start_ms = 0;
        *retransmitting_since = Instant::NEVER;
        debug_assert!(snd_buf.capacity() == 0 && rcv_buf.capacity() == 0);
        // Emptied, with its storage kept for the slot's next connections.
        ooo.clear();
    }

    /// The TCB an empty slab slot holds until its first connection: a
    /// CLOSED one that no handle names.
    pub(crate) fn vacant() -> Tcb {
        let cfg = Config::default();
        let iss = SeqNum(0);
        let unspecified = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
        let id = ConnId {
            index: u32::MAX,
            generation: 0,
        };
        let tuple = FourTuple::new(unspecified, unspecified);
        // Placeholder values, then the one place that says what a new TCB
        // holds.
        let mut t = Tcb {
            id,
            tuple,
            state: State::Closed,
            open: OpenKind::Active,
            listener: None,
            flags: Flags::default(),
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: iss,
            snd_wl2: iss,
            irs: iss,
            rcv_nxt: iss,
            rcv_adv: iss,
            snd_mss: 0,
            snd_shift: 0,
            rcv_shift: 0,
            retries: 0,
            syn_retries: 0,
            challenge_count: 0,
            ts_recent: 0,
            ts_recent_secs: 0,
            last_ack_sent: SeqNum(0),
            snd_up: SeqNum(0),
            rcv_up: SeqNum(0),
            ip: crate::control::IpParams::DEFAULT,
            ts_offset: 0,
            retransmits_total: 0,
            soft_error: 0,
            burst_sent: 0,
            user_mss: 0,
            user_timeout_ms: 0,
            rtt: RttEstimator::new(&cfg.rtt),
            min_rtt_us: 0,
            delivery_rate: 0,
            rtt_start_us: 0,
            cc: Cc::new(&cfg.congestion_control),
            reo: Reordering::default(),
            loss: None,
            timers: Timers::default(),
            keepalive: keepalive::KeepaliveSlot::default(),
            acks: delayed_ack::AckPolicy::default(),
            armed: Instant::NEVER,
            last_send: Instant::NEVER,
            challenge_start_ms: 0,
            retransmitting_since: Instant::NEVER,
            snd_buf: SendBuffer::default(),
            rcv_buf: RecvBuffer::default(),
            ooo: reassembly::Reassembly::default(),
        };
        t.reset(id, tuple, iss, 0, &cfg, OpenKind::Active);
        t
    }

    /// An active OPEN (RFC 9293 3.10.1): SYN-SENT, SYN queued.
    pub(crate) fn open_active(&mut self) {
        self.state = State::SynSent;
        self.flags.set(Flags::VISIBLE);
    }

    /// A SYN that reached a listener (RFC 9293 3.10.7.2): SYN-RECEIVED,
    /// SYN-ACK queued, options negotiated from the SYN.
    pub(crate) fn open_passive(
        &mut self,
        cfg: &Config,
        listener: (ListenerId, ChildSettings),
        syn_seq: SeqNum,
        syn_window: u16,
        opts: &TcpOptions,
        now: Instant,
    ) {
        self.state = State::SynReceived;
        let (listener, child) = listener;
        self.listener = Some(listener);
        self.user_mss = child.user_mss;
        self.rcv_buf.set_limit(child.recv_buffer);
        self.irs = syn_seq;
        self.rcv_nxt = syn_seq.add(1);
        self.rcv_adv = self.rcv_nxt;
        self.negotiate(opts, cfg);
        if let Some(ts) = opts.timestamps {
            self.set_ts_recent(ts.tsval, now);
        }
        self.snd_wnd = u32::from(syn_window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = syn_seq;
        self.snd_wl2 = self.iss;
        self.rtt_start_us = now.micros() as u32;
    }

    /// A listener answered the SYN statelessly (a SYN cookie, RFC 4987
    /// 3.6): SND.NXT is past that SYN-ACK, and the window it offered is
    /// what the peer may fill.
    pub(crate) fn syn_ack_sent_statelessly(&mut self, cfg: &Config) {
        self.snd_nxt = self.iss.add(1);
        self.rcv_adv = self.rcv_nxt.add(self.recv_cap(cfg).min(65535) as u32);
    }

    /// Data that came on the SYN (CE-10): held, within the window the
    /// SYN-ACK offers, and delivered once the connection is established.
    pub(crate) fn syn_data(&mut self, ctx: &mut Ctx<'_>, payload: &[u8]) {
        self.rcv_adv = self.rcv_nxt.add(self.recv_cap(ctx.cfg).min(65535) as u32);
        self.process_text(ctx, self.irs.add(1), payload, false);
    }

    /// The MSS our SYN or SYN-ACK offers: what our link carries (MUST-16's
    /// MMS_R), or less where the application capped it.
    pub(crate) fn our_mss(&self, cfg: &Config) -> u16 {
        let link = cfg.advertised_mss(self.tuple.is_ipv6());
        if self.user_mss == 0 {
            link
        } else {
            link.min(self.user_mss)
        }
    }

    /// Caps the MSS (`Endpoint::set_max_segment`): before our SYN it
    /// lowers the MSS offered and, once negotiated, the one we send with.
    pub(crate) fn set_user_mss(&mut self, mss: u16) {
        self.user_mss = mss;
        if mss != 0 && self.state.is_synchronized() && mss < self.snd_mss {
            let old = self.snd_mss;
            self.snd_mss = mss;
            self.cc.on_mss_change(u32::from(old), u32::from(mss));
        }
    }

    /// Applies the peer's SYN options (RFC 9293 3.7.1; RFC 7323 2.2, 3.2;
    /// RFC 2018 2): an option is in force only if both sides sent it.
    pub(crate) fn negotiate(&mut self, opts: &TcpOptions, cfg: &Config) {
        let ipv6 = self.tuple.is_ipv6();
        let peer_mss = opts.mss.unwrap_or(if ipv6 { 1220 } else { 536 });
        // MUST-16: min(SendMSS + 20, MMS_S) - TCP header - IP options, where
        // MMS_S is what our link can carry.
        let ours = self.our_mss(cfg);
        let mut mss = peer_mss.min(ours).max(64);
        match (cfg.window_scaling, opts.window_scale) {
            (true, Some(shift)) => {
                // RFC 7323 2.3: a shift above 14 is treated as 14.
                self.snd_shift = shift.min(14);
                self.rcv_shift = cfg.window_shift();
                self.flags.set(Flags::WS_OK);
            }
            _ => {
                self.snd_shift = 0;
                self.rcv_shift = 0;
                self.flags.clear(Flags::WS_OK);
            }
        }
        if cfg.timestamps && opts.timestamps.is_some() {
            self.flags.set(Flags::TS_OK);
            // RFC 6691: the sender reduces its payload by the options it
            // actually carries in every segment.
            mss = mss.saturating_sub(12).max(64);
        } else {
            self.flags.clear(Flags::TS_OK);
        }
        if cfg.sack && opts.sack_permitted {
            self.flags.set(Flags::SACK_OK);
        }
        self.snd_mss = mss;
    }

    /// Moves to `to`, keeping CurrEstab and the optional trace event right.
    /// Inlined: a lifecycle makes eight transitions, and the call cost more
    /// than the work (the rare trace event stays out of line).
    #[inline]
    pub(crate) fn set_state(&mut self, ctx: &mut Ctx<'_>, to: State) {
        let from = self.state;
        if from == to {
            return;
        }
        let counted = |s: State| matches!(s, State::Established | State::CloseWait);
        if counted(from) && !counted(to) {
            ctx.counters.curr_estab = ctx.counters.curr_estab.saturating_sub(1);
        } else if !counted(from) && counted(to) {
            ctx.counters.curr_estab += 1;
        }
        self.state = to;
        if to == State::Established {
            self.keepalive_start(ctx.now);
        }
        if ctx.cfg.trace_states {
            self.trace_state(ctx, from, to);
        }
    }

    #[cold]
    fn trace_state(&self, ctx: &mut Ctx<'_>, from: State, to: State) {
        ctx.events
            .push_back(Event::StateChanged(Box::new(StateChange {
                conn: self.id,
                local: self.tuple.local(),
                remote: self.tuple.remote(),
                from,
                to,
            })));
    }

    /// Ends the connection: CLOSED, buffers freed, the application told (if
    /// it knows the connection).
    pub(crate) fn close(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        if matches!(self.state, State::SynSent | State::SynReceived) {
            ctx.counters.attempt_fails += 1;
        }
        self.set_state(ctx, State::Closed);
        self.snd_buf.clear(ctx.pool);
        // Data received in full (up to the peer's FIN) stays readable even
        // after a reset; an incomplete stream is flushed (RFC 9293 3.10.7.4).
        if reason != CloseReason::Normal && !self.flags.has(Flags::FIN_RECEIVED) {
            self.rcv_buf.clear(ctx.pool);
        }
        self.ooo.clear();
        self.drop_loss(ctx);
        self.timers.stop_all();
        if self.flags.has(Flags::VISIBLE) {
            ctx.events.push_back(Event::Closed {
                conn: self.id,
                reason,
            });
        }
    }

    /// CLOSE of the sending half (RFC 9293 3.10.4): the FIN is queued
    /// behind the data, or until the handshake completes; a connection
    /// that has said nothing and queued nothing is simply deleted.
    pub(crate) fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        match self.state {
            State::SynSent if self.snd_buf.len() == 0 => {
                self.close(ctx, CloseReason::Aborted);
            }
            State::SynSent | State::SynReceived => {
                // Queued until the handshake completes (RFC 9293 3.10.4).
                self.flags.set(Flags::FIN_QUEUED);
            }
            State::Established => {
                self.flags.set(Flags::FIN_QUEUED);
                self.set_state(ctx, State::FinWait1);
            }
            State::CloseWait => {
                self.flags.set(Flags::FIN_QUEUED);
                self.set_state(ctx, State::LastAck);
            }
            _ => {}
        }
    }

    /// An orphan in FIN-WAIT-2 (the application closed it, our FIN is
    /// acknowledged) waits for the peer's FIN for a bounded time only
    /// (`Config::fin_wait2_timeout`). Called on entering FIN-WAIT-2 and on
    /// `close`, whichever comes second; a running timer is left alone.
    pub(crate) fn arm_fin_wait2(&mut self, ctx: &Ctx<'_>) {
        if self.state != State::FinWait2
            || !self.flags.has(Flags::APP_CLOSED)
            || self.timers.is_set(Timer::FinWait2)
        {
            return;
        }
        if let Some(wait) = ctx.cfg.fin_wait2_timeout {
            self.timers.set(Timer::FinWait2, ctx.now + wait);
        }
    }

    /// The FIN-WAIT-2 wait ran out: a RST tells the peer (it is in
    /// CLOSE-WAIT, and would otherwise learn only on its next segment),
    /// and the connection closes.
    pub(crate) fn fin_wait2_expired(&mut self, ctx: &mut Ctx<'_>) {
        if self.state != State::FinWait2 {
            return;
        }
        self.send_rst(ctx);
        self.close(ctx, CloseReason::FinWait2Timeout);
    }

    /// Sends `<SEQ=SND.NXT><RST>` and closes (RFC 9293 3.10.5 ABORT).
    pub(crate) fn abort(&mut self, ctx: &mut Ctx<'_>) {
        let sends_rst = matches!(
            self.state,
            State::SynReceived
                | State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
        );
        if sends_rst {
            self.send_rst(ctx);
        }
        self.close(ctx, CloseReason::Aborted);
    }

    fn send_rst(&mut self, ctx: &mut Ctx<'_>) {
        // SND.NXT, the highest sequence number sent: a RST further left
        // could fall below the peer's RCV.NXT, where RFC 5961 makes it
        // drop it (SM-10).
        let seg = ControlSegment {
            tuple: self.tuple,
            seq: self.snd_nxt.max(self.snd_una),
            // RFC 9293 3.10.5 has no ACK; Linux sends RST+ACK
            // (`Config::rst_with_ack`).
            ack: ctx.cfg.rst_with_ack.then_some(self.rcv_nxt),
            flags: TcpFlags::RST,
        };
        // RFC 7323 3.2: once negotiated, TSopt SHOULD be sent in a RST too.
        let mut options = TcpOptions::default();
        if self.flags.has(Flags::TS_OK) {
            options.timestamps = Some(Timestamps {
                tsval: self.ts_now(ctx.now),
                tsecr: self.ts_recent,
            });
        }
        ctx.control
            .push_ip_options(seg, options, self.ip, ctx.counters);
    }

    /// The receive window still open to the peer: RCV.WND as last
    /// advertised, measured from RCV.NXT.
    pub(crate) fn rcv_wnd(&self) -> u32 {
        self.rcv_adv.since(self.rcv_nxt)
    }

    /// Sequence space sent and not acknowledged (SND.NXT - SND.UNA); see
    /// `in_flight` for what of it is still in the network.
    pub(crate) fn flight(&self) -> u32 {
        self.snd_nxt.since(self.snd_una)
    }

    /// Queued bytes not yet sent.
    pub(crate) fn unsent(&self) -> usize {
        let offset = self.snd_nxt.since(self.snd_una) as usize;
        self.snd_buf.len().saturating_sub(offset)
    }

    /// Our timestamp clock: milliseconds plus a per-4-tuple offset (RFC 7323
    /// 5.4; keyed per tuple so RFC 6191 keeps working across incarnations).
    pub(crate) fn ts_now(&self, now: Instant) -> u32 {
        crate::isn::ts_clock(now, self.ts_offset)
    }

    /// Sends an ACK unless the per-connection challenge-ACK budget is spent
    /// (RFC 5961 section 7; per connection, never global: CVE-2016-5696).
    pub(crate) fn challenge_ack(&mut self, ctx: &mut Ctx<'_>) {
        let interval =
            u32::try_from(ctx.cfg.challenge_ack_interval.as_millis()).unwrap_or(u32::MAX);
        let now_ms = ctx.now.millis() as u32;
        if now_ms.wrapping_sub(self.challenge_start_ms) >= interval {
            self.challenge_start_ms = now_ms;
            self.challenge_count = 0;
        }
        if self.challenge_count >= ctx.cfg.challenge_ack_limit {
            ctx.counters.drop(DropReason::ChallengeAckLimited);
            return;
        }
        self.challenge_count += 1;
        ctx.counters.challenge_acks += 1;
        self.flags.set(Flags::ACK_NOW);
    }

    /// Current retransmission timeout.
    pub(crate) fn rto(&self, cfg: &Config) -> Duration {
        self.rtt.rto(&cfg.rtt)
    }

    /// Gives the buffers' and the loss state's storage back to the pools
    /// (the TCB is being freed).
    #[inline]
    pub(crate) fn free_buffers(&mut self, pool: &mut BufferPool, loss_pool: &mut LossPool) {
        self.snd_buf.clear(pool);
        self.rcv_buf.clear(pool);
        if let Some(l) = self.loss.take() {
            loss_pool.give(l);
        }
    }

    /// Heap bytes held by the buffers and the loss state.
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.snd_buf.capacity()
            + self.rcv_buf.capacity()
            + self
                .loss
                .as_ref()
                .map_or(0, |l| size_of::<Loss>() + l.board.capacity_bytes())
    }

    /// The TIME-WAIT table took over the 4-tuple, and the application still
    /// has data to read: the TCB stays only for that, closed (the
    /// application was told when it was compacted).
    pub(crate) fn handed_to_time_wait(&mut self) {
        self.state = State::Closed;
        self.timers.stop_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TCB is most of what an idle connection costs (the memory target
    /// is 512 bytes per idle established connection, table entry included).
    #[test]
    fn tcb_stays_small() {
        let size = core::mem::size_of::<Tcb>();
        assert!(size <= 472, "Tcb grew to {size} bytes");
    }
}
