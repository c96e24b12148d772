//! When the receiver acknowledges (RFC 9293 3.8.6.3, RFC 5681 4.2; TM-01
//! to TM-03): at once for what the sender needs to see now, otherwise for
//! every second full-sized segment, or when the delayed-ACK timer fires.
//!
//! The policy, and who it favours:
//!
//! - **At once**: out-of-order data and duplicates (one ACK each, so a
//!   sender counting duplicate ACKs or reading SACK blocks sees every one;
//!   `input.rs`), data that fills a hole, a FIN, a window update the peer
//!   needs (`calls.rs`), the handshake's ACK, and the first
//!   [`QUICK_ACKS`] data segments of a connection (quick-ACK mode, as
//!   Linux starts a connection: a sender in slow start grows by what is
//!   acknowledged, and a delayed first ACK would stall a sender whose
//!   first flight is one segment).
//! - **Every second full-sized segment** (SHLD-19): an ACK is owed once
//!   two segments' worth of bytes (of the largest payload the peer has
//!   sent, so timestamp-sized segments count as full) have arrived since
//!   the last segment we sent; every segment we send carries the ACK.
//! - **Otherwise** the delayed-ACK timer (`Config::delayed_ack`, 40 ms by
//!   default, never 500 ms or more: MUST-40) sends it, unless data we send
//!   first carries it (a reply to a request needs no ACK of its own).
//! - **A batch** (segments handled before the next transmit) draws one ACK
//!   for all of it (MUST-58, MUST-59), built at transmit time, until it
//!   covers `Config::max_ack_stretch` full-sized segments: then an ACK goes
//!   in the middle of the batch. One ACK per batch is what a sender that
//!   counts every byte acknowledged (Linux, CUBIC) handles well; a sender
//!   that grows by at most two segments per ACK (RFC 5681's byte counting
//!   with L = 2, RFC 3465) crawls behind unbounded stretch ACKs, and one
//!   lost stretch ACK hides a whole batch from any sender. The bound (16
//!   segments by default) keeps both within reach; 2 gives SHLD-19's
//!   every-second-segment even inside a batch.
//! - `Endpoint::set_quick_ack` (like `TCP_QUICKACK`, but lasting)
//!   acknowledges every data segment at once on one connection, and
//!   `Config::delayed_ack = None` does so for all.

use super::{Ctx, Flags, Tcb, Timer};
use crate::state::State;
use core::time::Duration;

/// Data segments acknowledged at once at the start of a connection
/// (Linux's `TCP_MAX_QUICKACKS`).
pub(crate) const QUICK_ACKS: u8 = 16;

/// The longest delay the engine uses whatever the configuration says:
/// RFC 9293 MUST-40 wants less than 0.5 s.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(499);

/// The receiver's ACK bookkeeping, 8 bytes in the TCB.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AckPolicy {
    /// In-order bytes received since the last segment we sent.
    unacked: u32,
    /// The largest payload the peer has sent: what "full-sized" means.
    rcv_mss: u16,
    /// Data segments still acknowledged at once (quick-ACK mode).
    quick: u8,
    /// Every data segment is acknowledged at once (`set_quick_ack`).
    always: bool,
}

impl AckPolicy {
    /// A new connection's: quick-ACK mode from the start.
    pub(crate) fn new() -> Self {
        AckPolicy {
            quick: QUICK_ACKS,
            ..AckPolicy::default()
        }
    }
}

impl Tcb {
    /// In-order data was taken into the receive buffer: owe an ACK now, at
    /// this batch's transmit, or when the timer fires. `urgent` is data the
    /// sender needs acknowledged at once (it filled a hole, or the buffer
    /// refused part of it).
    #[inline]
    pub(crate) fn data_received(&mut self, ctx: &mut Ctx<'_>, len: u32, urgent: bool) {
        let a = &mut self.acks;
        // A super-segment counts as the segments it was built from.
        let seg_len = match ctx.rx_segment_size {
            0 => len,
            size => len.min(u32::from(size)),
        };
        a.rcv_mss = a.rcv_mss.max(seg_len.min(u32::from(u16::MAX)) as u16);
        a.unacked = a.unacked.saturating_add(len);
        let delay = match ctx.cfg.delayed_ack {
            Some(d) if !(urgent || a.always || a.quick > 0) => d.min(MAX_DELAY),
            _ => {
                a.quick = a.quick.saturating_sub(1);
                self.ack_owed(ctx);
                return;
            }
        };
        let full = u32::from(a.rcv_mss.max(1));
        if a.unacked >= 2 * full {
            self.ack_owed(ctx);
        } else if !self.timers.is_set(Timer::DelayedAck) {
            self.timers.set(Timer::DelayedAck, ctx.now + delay);
        }
    }

    /// An ACK is owed at this batch's transmit; past the stretch bound it
    /// goes now, in the middle of the batch.
    #[inline]
    fn ack_owed(&mut self, ctx: &mut Ctx<'_>) {
        self.flags.set(Flags::ACK_NOW);
        let stretch = u32::from(ctx.cfg.max_ack_stretch.max(2));
        if self.acks.unacked >= stretch * u32::from(self.acks.rcv_mss.max(1)) {
            self.ack_immediately(ctx);
        }
    }

    /// A segment carrying our ACK went out: nothing is owed any more, and
    /// it is Last.ACK.sent (RFC 7323 4.3).
    #[inline]
    pub(crate) fn ack_sent(&mut self) {
        self.last_ack_sent = self.rcv_nxt;
        self.acks.unacked = 0;
        self.timers.stop(Timer::DelayedAck);
    }

    /// The peer's FIN was taken (with `len` bytes of data in its
    /// segment): acknowledge it at once, or, with `Config::delayed_fin_ack`
    /// (Linux's behaviour), when the delayed-ACK timer fires if the
    /// connection is ESTABLISHED (not closing on our side), has received
    /// data before, and what is unacknowledged, the FIN included, is no
    /// more than one full-sized segment (more is acknowledged at once).
    pub(crate) fn fin_received_ack(&mut self, ctx: &mut Ctx<'_>, len: usize) {
        let owed = u64::from(self.acks.unacked) + len as u64 + 1;
        let delay = match ctx.cfg.delayed_ack {
            Some(d)
                if ctx.cfg.delayed_fin_ack
                    && self.state == State::Established
                    && !self.acks.always
                    && self.acks.rcv_mss > 0
                    && owed <= u64::from(self.acks.rcv_mss) =>
            {
                d.min(MAX_DELAY)
            }
            _ => {
                self.flags.set(Flags::ACK_NOW);
                return;
            }
        };
        self.acks.unacked = self.acks.unacked.saturating_add(1);
        if !self.timers.is_set(Timer::DelayedAck) {
            self.timers.set(Timer::DelayedAck, ctx.now + delay);
        }
    }

    /// The delayed-ACK timer fired.
    pub(crate) fn delayed_ack_due(&mut self, ctx: &mut Ctx<'_>) {
        if self.acks.unacked > 0 {
            self.flags.set(Flags::ACK_NOW);
            ctx.counters.delayed_acks += 1;
        }
    }

    /// `TCP_QUICKACK`, lasting: every data segment acknowledged at once
    /// (`true`), or the delayed-ACK policy (`false`). Turning it on sends
    /// an ACK still owed.
    pub(crate) fn set_quick_ack(&mut self, on: bool) {
        self.acks.always = on;
        if on && self.acks.unacked > 0 {
            self.flags.set(Flags::ACK_NOW);
        }
    }

    /// Whether every data segment is acknowledged at once.
    pub(crate) fn quick_ack(&self) -> bool {
        self.acks.always
    }
}
