//! The connection timer. One deadline serves retransmission (RFC 6298),
//! zero-window persist (RFC 9293 3.8.6.1) and TIME-WAIT (3.10.8), because a
//! connection never needs two of them at once.

use super::{Ctx, Flags, Tcb};
use crate::event::{CloseReason, Event, OpenKind, SoftError};
use crate::state::State;
use crate::time::Instant;
use core::time::Duration;

/// Consecutive timeouts after which the RTT estimate is forgotten (RFC
/// 6298 section 5 leaves the number open; 4.4BSD forgets it after a
/// quarter of its retransmission limit, which is 3 of 12: here the fourth).
const CLEAR_SAMPLES_AFTER: u32 = 4;

impl Tcb {
    /// RFC 6298 (5.1): start the timer when sequence space is sent, if it is
    /// not running.
    pub(crate) fn start_retransmit_timer(&mut self, ctx: &Ctx<'_>) {
        if self.timer == Instant::NEVER || self.snd_una == self.snd_max {
            self.timer = ctx.now + self.rto(ctx.cfg);
        }
    }

    /// RFC 6298 (5.2, 5.3): after an ACK, stop the timer when everything is
    /// acknowledged, else restart it. Arm the persist timer when the peer's
    /// window is closed and data waits.
    /// A duplicate ACK (`advanced` false) leaves a running timer alone, so
    /// a stream of them cannot postpone a retransmission.
    pub(crate) fn arm_after_ack(&mut self, ctx: &Ctx<'_>, advanced: bool) {
        if self.state == State::TimeWait {
            return;
        }
        if self.snd_una == self.snd_max {
            if self.needs_persist() {
                if advanced || self.timer == Instant::NEVER {
                    self.timer = ctx.now + self.rto(ctx.cfg);
                }
            } else {
                self.timer = Instant::NEVER;
            }
        } else if advanced || self.timer == Instant::NEVER {
            self.timer = ctx.now + self.rto(ctx.cfg);
        }
    }

    /// Data waits, nothing is in flight and the peer's window is zero.
    pub(crate) fn needs_persist(&self) -> bool {
        self.snd_wnd == 0 && self.unsent() > 0 && self.flight() == 0
    }

    /// Runs the timer if it is due.
    pub(crate) fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        if ctx.now < self.timer {
            return;
        }
        self.timer = Instant::NEVER;
        match self.state {
            State::Closed | State::Listen => {}
            State::TimeWait => self.close(ctx, CloseReason::Normal),
            State::SynSent | State::SynReceived => self.syn_timeout(ctx),
            _ => self.data_timeout(ctx),
        }
    }

    /// SYN or SYN-ACK timed out: send it again with backoff (RFC 6298 5.5,
    /// RFC 9293 MUST-22), or give up.
    fn syn_timeout(&mut self, ctx: &mut Ctx<'_>) {
        let limit = if self.state == State::SynSent {
            ctx.cfg.syn_retries
        } else {
            ctx.cfg.synack_retries
        };
        if self.retries >= limit {
            let reason = match (self.open, self.soft_error) {
                (OpenKind::Passive, _) => CloseReason::Aborted,
                (_, 1) => CloseReason::NetworkUnreachable,
                (_, 2) => CloseReason::HostUnreachable,
                _ => CloseReason::TimedOut,
            };
            self.close(ctx, reason);
            return;
        }
        self.retries += 1;
        self.retransmits_total += 1;
        self.flags.set(Flags::SYN_RETRANSMITTED);
        self.rtt.backoff();
        self.snd_nxt = self.iss;
        self.timer = ctx.now + self.rto(ctx.cfg);
    }

    /// Data, FIN or a window probe timed out.
    fn data_timeout(&mut self, ctx: &mut Ctx<'_>) {
        if self.flight() == 0 {
            if self.needs_persist() {
                // Persist: probe the zero window, backing off exponentially
                // but never giving up while the peer answers (MUST-37).
                self.flags.set(Flags::FORCE_PROBE);
                self.rtt.backoff();
                self.timer = ctx.now + self.rto(ctx.cfg);
            }
            return;
        }
        if self.retries == 0 {
            // The overdue data has waited one RTO already: the timer was
            // armed when it was sent (or when the last ACK of new data came).
            // The user timeout counts from then (RFC 9293 3.9.1.1, SM-14).
            self.retransmitting_since = ctx.now - self.rto(ctx.cfg);
        }
        if self.r2_reached(ctx) {
            // R2 (RFC 9293 3.8.3, MUST-20): close the connection.
            self.close(ctx, CloseReason::TimedOut);
            return;
        }
        if self.retries.saturating_add(1) >= ctx.cfg.soft_retransmits
            && !self.flags.has(Flags::SOFT_ERROR_REPORTED)
            && self.flags.has(Flags::VISIBLE)
        {
            // R1 (SHLD-9, SHLD-10): tell the application, once per episode.
            self.flags.set(Flags::SOFT_ERROR_REPORTED);
            ctx.events.push_back(Event::SoftError {
                conn: self.id,
                error: SoftError::ExcessiveRetransmissions,
            });
        }
        // RFC 5681 eq. 4, only for the first timeout of this segment.
        let flight = self.flight();
        self.cc
            .on_rto(flight, u32::from(self.snd_mss), self.retries == 0);
        // Saturating: with an infinite R2 the count may pass 255.
        self.retries = self.retries.saturating_add(1);
        self.retransmits_total += 1;
        // Karn: the timed segment is ambiguous now.
        self.flags.clear(Flags::RTT_TIMING);
        self.rtt.backoff();
        if self.rtt.backoffs() == CLEAR_SAMPLES_AFTER {
            // RFC 6298 section 5 (RT-11): after this many backoffs SRTT and
            // RTTVAR are likely bogus; the next sample starts them afresh.
            self.rtt.clear_samples();
        }
        // Go back to SND.UNA and send again from there (RFC 6298 5.4).
        self.snd_nxt = self.snd_una;
        if self.snd_wnd == 0 {
            self.flags.set(Flags::FORCE_PROBE);
        }
        self.timer = ctx.now + self.rto(ctx.cfg);
        if self.user_timeout_ms != u32::MAX {
            // Wake at the user timeout itself, not at the first RTO after it
            // (which can be a whole maximum RTO later).
            let limit = Duration::from_millis(u64::from(self.user_timeout_ms));
            self.timer = self.timer.min(self.retransmitting_since + limit);
        }
    }

    /// R2: the retry count is spent, or the user timeout has passed since
    /// the overdue data was sent. With no user timeout (infinite R2,
    /// MUST-21) neither applies.
    fn r2_reached(&self, ctx: &Ctx<'_>) -> bool {
        if self.user_timeout_ms == u32::MAX {
            return false;
        }
        let limit = Duration::from_millis(u64::from(self.user_timeout_ms));
        self.retries >= ctx.cfg.max_retransmits
            || ctx.now.saturating_since(self.retransmitting_since) >= limit
    }
}
