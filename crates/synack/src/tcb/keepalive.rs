//! Keep-alive probing of an idle connection (RFC 9293 3.8.4, TM-04 to
//! TM-06), as Linux does it: one timer, armed for the idle time once the
//! connection is established and only re-armed when it fires, so the
//! segments that arrive meanwhile cost a store each and no timer work.

use super::{Ctx, Flags, Tcb, Timer};
use crate::event::CloseReason;
use crate::keepalive::Keepalive;
use crate::state::State;
use crate::time::Instant;
use core::time::Duration;
use synack_wire::SackBlocks;

/// A connection's keep-alive settings and progress, 12 bytes in the TCB
/// (an `Option<Keepalive>` would take 8 for the settings alone, so "off"
/// is a zero idle time instead).
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeepaliveSlot {
    /// The settings; `Keepalive::OFF` when keep-alive is off.
    cfg: Keepalive,
    /// Probes sent since the peer was last heard.
    sent: u8,
    /// When the peer was last heard, in the engine's milliseconds (kept
    /// modulo 2^32: the idle time is at most 32,767 s).
    heard_ms: u32,
}

impl KeepaliveSlot {
    pub(crate) fn new(cfg: Option<Keepalive>) -> Self {
        KeepaliveSlot {
            cfg: cfg.unwrap_or(Keepalive::OFF),
            sent: 0,
            heard_ms: 0,
        }
    }

    fn get(&self) -> Option<Keepalive> {
        (self.cfg != Keepalive::OFF).then_some(self.cfg)
    }
}

impl Default for KeepaliveSlot {
    fn default() -> Self {
        KeepaliveSlot::new(None)
    }
}

fn ms(t: Instant) -> u32 {
    t.millis() as u32
}

impl Tcb {
    /// The peer was heard from (an acceptable segment): the idle time
    /// starts again.
    #[inline]
    pub(crate) fn keepalive_heard(&mut self, now: Instant) {
        if self.keepalive.cfg != Keepalive::OFF {
            self.keepalive.heard_ms = ms(now);
            self.keepalive.sent = 0;
        }
    }

    /// Starts the idle time: on reaching ESTABLISHED, and when the
    /// application turns keep-alive on.
    pub(crate) fn keepalive_start(&mut self, now: Instant) {
        match self.keepalive.get() {
            Some(k) if self.state.is_synchronized() => {
                self.keepalive.heard_ms = ms(now);
                self.keepalive.sent = 0;
                self.timers.set(Timer::Keepalive, now + k.idle());
            }
            _ => self.timers.stop(Timer::Keepalive),
        }
    }

    /// SO_KEEPALIVE and its TCP_KEEP* settings, per connection (API-09).
    pub(crate) fn set_keepalive(&mut self, ctx: &Ctx<'_>, k: Option<Keepalive>) {
        self.keepalive.cfg = k.unwrap_or(Keepalive::OFF);
        self.keepalive_start(ctx.now);
    }

    /// The keep-alive timer fired: probe, wait longer, or give up.
    pub(crate) fn keepalive_due(&mut self, ctx: &mut Ctx<'_>) {
        let Some(k) = self.keepalive.get() else {
            return;
        };
        if !self.state.is_synchronized() || self.state == State::TimeWait {
            return;
        }
        // While our data or FIN is unacknowledged, the retransmission (or
        // persist) timer is already asking the peer: look again later.
        let now = ctx.now;
        let fin_owed = self.flags.has(Flags::FIN_QUEUED) && !self.flags.has(Flags::FIN_ACKED);
        if self.flight() > 0 || self.unsent() > 0 || fin_owed {
            self.timers.set(Timer::Keepalive, now + k.idle());
            return;
        }
        let silent = u64::from(ms(now).wrapping_sub(self.keepalive.heard_ms));
        let idle_ms = k.idle().as_millis() as u64;
        if silent < idle_ms {
            // Heard from since the timer was set: wait out the rest.
            let rest = Duration::from_millis(idle_ms - silent);
            self.timers.set(Timer::Keepalive, now + rest);
            return;
        }
        if self.keepalive.sent >= k.probes() {
            // TM-06: several unanswered probes, not one, end it (MUST-29:
            // a probe's lost ACK alone must not). The peer, if it is there
            // after all, learns by the RST.
            self.send_rst(ctx);
            self.close(ctx, CloseReason::KeepaliveTimeout);
            return;
        }
        self.send_keepalive_probe(ctx);
        self.keepalive.sent += 1;
        ctx.counters.keepalive_probes += 1;
        self.timers.set(Timer::Keepalive, now + k.interval());
    }

    /// `<SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>` with no data (RFC 9293
    /// 3.8.4, SHLD-12's "no data" form, as Linux sends it): the sequence
    /// number lies left of the peer's window, so a live peer answers with
    /// an ACK (3.10.7.4 first step) and changes nothing.
    fn send_keepalive_probe(&mut self, ctx: &mut Ctx<'_>) {
        let mut h = self.ack_header(ctx);
        h.seq = self.snd_nxt.0.wrapping_sub(1);
        // No SACK blocks: a D-SACK owed goes with the next real ACK.
        h.options.sack = SackBlocks::new();
        ctx.control
            .push_header(self.tuple, &h, self.ip, ctx.counters);
    }
}
