//! What each connection timer does when it fires, and which of them runs
//! while data is outstanding. Of the retransmission timer, RACK's
//! reordering timer and the tail-loss-probe timer exactly one runs at a
//! time (RFC 8985 8); the persist timer runs only when nothing is.

use super::loss::RecoveryState;
use super::{Ctx, Flags, Tcb, Timer};
use crate::event::{CloseReason, Event, OpenKind, SoftError};
use crate::state::State;
use crate::time::Instant;
use core::time::Duration;

/// Consecutive timeouts after which the RTT estimate is forgotten (RFC
/// 6298 section 5 leaves the number open; 4.4BSD forgets it after a
/// quarter of its retransmission limit, which is 3 of 12: here the fourth).
const CLEAR_SAMPLES_AFTER: u32 = 4;

/// The shortest probe timeout, in microseconds. RFC 8985 sets none
/// (PTO = 2 SRTT); timers here are only as fine as the I/O loop's, and
/// below a millisecond a probe would mostly race ACKs still being
/// processed. A probe costs little (new data when there is any, and a
/// spurious one is shown so by D-SACK without a reduction), while on a
/// sub-millisecond path every lost flight-ending ACK (a receiver that
/// acknowledges a whole burst at once, as Linux does on read) stalls the
/// sender for the whole PTO: Linux's floor of 2 ticks plus 2 SRTT comes
/// to 8 ms at 250 Hz; this is 1 ms.
const MIN_PTO_US: u64 = 1_000;

impl Tcb {
    /// Chooses the send-side timer after data was sent or an ACK came
    /// (RFC 6298 5.1-5.3, RFC 8985 7.2, RFC 9293 3.8.6.1). `restart` is
    /// set by an ACK of new data, which restarts the retransmission timer
    /// (5.3); a duplicate ACK leaves a running one alone, so a stream of
    /// them cannot postpone a retransmission.
    pub(crate) fn rearm(&mut self, ctx: &Ctx<'_>, restart: bool) {
        self.rearm_with(ctx, restart, restart);
    }

    /// After a segment went: new data restarts the probe timer (RFC 8985
    /// 7.2: the PTO counts from the latest transmission, and a burst's
    /// first segment must not leave its one-segment allowance behind).
    pub(crate) fn rearm_sent(&mut self, ctx: &Ctx<'_>, new_data: bool) {
        self.rearm_with(ctx, false, new_data);
    }

    fn rearm_with(&mut self, ctx: &Ctx<'_>, restart: bool, restart_probe: bool) {
        if !self.state.is_synchronized() || self.state == State::TimeWait {
            return;
        }
        // Deadlines in microseconds; the RTO is worked out only when a
        // timer is set (this runs for every ACK and every segment sent).
        let now = ctx.now.micros();
        let at = |us: u64| Instant::from_micros(now.saturating_add(us));
        if self.snd_nxt == self.snd_una || self.probe_only() {
            self.timers.stop(Timer::Retransmit);
            self.timers.stop(Timer::LossProbe);
            self.timers.stop(Timer::Reorder);
            if self.needs_persist() || self.probe_only() {
                if restart || !self.timers.is_set(Timer::Persist) {
                    self.timers
                        .set(Timer::Persist, at(self.rtt.rto_us(&ctx.cfg.rtt)));
                }
            } else {
                self.timers.stop(Timer::Persist);
            }
            return;
        }
        self.timers.stop(Timer::Persist);
        if let Some(wait) = self.loss.as_ref().and_then(|l| l.reo_wait_us) {
            self.timers.set(Timer::Reorder, at(u64::from(wait).max(1)));
            self.timers.stop(Timer::LossProbe);
            self.timers.stop(Timer::Retransmit);
            return;
        }
        self.timers.stop(Timer::Reorder);
        if let Some(pto) = self.probe_timeout_us(ctx) {
            if restart_probe || !self.timers.is_set(Timer::LossProbe) {
                let rto = self.rtt.rto_us(&ctx.cfg.rtt);
                self.timers.set(Timer::LossProbe, at(pto.min(rto)));
            }
            self.timers.stop(Timer::Retransmit);
            return;
        }
        self.timers.stop(Timer::LossProbe);
        if restart || !self.timers.is_set(Timer::Retransmit) {
            self.timers
                .set(Timer::Retransmit, at(self.rtt.rto_us(&ctx.cfg.rtt)));
        }
    }

    /// The probe timeout in microseconds, if a tail loss probe may be
    /// armed (RFC 8985 7.2): SACK in use, no recovery under way, nothing
    /// SACKed, no probe outstanding. PTO = 2 SRTT, plus the peer's
    /// worst-case delayed ACK when a single segment is in flight; 1 s
    /// without an RTT sample.
    ///
    /// With `Config::recovery_tail_probe` a probe may also be armed in
    /// fast recovery once nothing marked lost is left to resend: see
    /// there for why this departs from 7.2.
    #[inline]
    fn probe_timeout_us(&self, ctx: &Ctx<'_>) -> Option<u64> {
        if !ctx.cfg.tail_loss_probe || !self.flags.has(Flags::SACK_OK) {
            return None;
        }
        let l = self.loss.as_ref()?;
        if l.tlp.end.is_some() {
            return None;
        }
        let in_recovery = match l.state {
            RecoveryState::Open if l.board.sacked == 0 => false,
            // Every lost segment has been resent and what is left in
            // flight is waiting for one ACK: the clock that fast recovery
            // needs may be gone.
            RecoveryState::Recovery
                if ctx.cfg.recovery_tail_probe && l.board.lost <= l.board.retrans =>
            {
                true
            }
            _ => return None,
        };
        let pto = match self.rtt.srtt_us() {
            None => 1_000_000,
            // A receiver acknowledges a segment that fills a hole at once
            // (RFC 5681 4.2), so in recovery no delayed ACK is waited for.
            Some(srtt) if !in_recovery && self.in_flight() <= u32::from(self.snd_mss) => {
                let delack =
                    u64::try_from(ctx.cfg.tlp_max_ack_delay.as_micros()).unwrap_or(u64::MAX);
                (2 * u64::from(srtt)).saturating_add(delack)
            }
            Some(srtt) => 2 * u64::from(srtt),
        };
        Some(pto.max(MIN_PTO_US))
    }

    /// Data waits, nothing is in flight and the peer's window is zero.
    pub(crate) fn needs_persist(&self) -> bool {
        self.snd_wnd == 0 && self.unsent() > 0 && self.flight() == 0
    }

    /// Runs every timer that is due.
    #[inline(never)]
    pub(crate) fn on_timeout(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(t) = self.timers.take_due(ctx.now) {
            match t {
                Timer::TimeWait => {
                    self.close(ctx, CloseReason::Normal);
                    return;
                }
                Timer::Retransmit => match self.state {
                    State::SynSent | State::SynReceived => self.syn_timeout(ctx),
                    _ => self.data_timeout(ctx),
                },
                Timer::LossProbe => self.probe_due(ctx),
                Timer::Reorder => self.reorder_due(ctx),
                Timer::Persist => self.persist_due(ctx),
                Timer::FinWait2 => self.fin_wait2_expired(ctx),
                Timer::Keepalive => self.keepalive_due(ctx),
                Timer::DelayedAck => self.delayed_ack_due(ctx),
            }
            if self.state == State::Closed {
                return;
            }
        }
    }

    /// SYN or SYN-ACK timed out: send it again with backoff (RFC 6298 5.5,
    /// RFC 9293 MUST-22), or give up.
    #[inline(never)]
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
        self.timers
            .set(Timer::Retransmit, ctx.now + self.rto(ctx.cfg));
    }

    /// The retransmission timer expired with data outstanding (RFC 6298
    /// 5.4-5.7): every segment not SACKed is lost and goes again under
    /// slow start from one segment.
    #[inline(never)]
    fn data_timeout(&mut self, ctx: &mut Ctx<'_>) {
        if self.flight() == 0 {
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
        self.report_r1(ctx);
        self.enter_loss(ctx);
        ctx.counters.timeouts += 1;
        // Saturating: with an infinite R2 the count may pass 255.
        self.retries = self.retries.saturating_add(1);
        self.blackhole_check(ctx);
        self.backoff();
        self.timers
            .set(Timer::Retransmit, self.retransmit_deadline(ctx));
    }

    /// The RTO doubles (RFC 6298 5.5); after a few doublings the estimate
    /// behind it is forgotten (RT-11).
    fn backoff(&mut self) {
        self.rtt.backoff();
        if self.rtt.backoffs() == CLEAR_SAMPLES_AFTER {
            // RFC 6298 section 5: after this many backoffs SRTT and RTTVAR
            // are likely bogus; the next sample starts them afresh.
            self.rtt.clear_samples();
        }
    }

    /// When the next retransmission is due: one (backed-off) RTO from now,
    /// or the user timeout itself if that comes first (rather than the
    /// first RTO after it, which can be a whole maximum RTO later).
    fn retransmit_deadline(&self, ctx: &Ctx<'_>) -> Instant {
        let next = ctx.now + self.rto(ctx.cfg);
        if self.user_timeout_ms == u32::MAX {
            return next;
        }
        let limit = Duration::from_millis(u64::from(self.user_timeout_ms));
        next.min(self.retransmitting_since + limit)
    }

    /// R1 (SHLD-9, SHLD-10): tell the application, once per episode.
    fn report_r1(&mut self, ctx: &mut Ctx<'_>) {
        if self.retries.saturating_add(1) >= ctx.cfg.soft_retransmits
            && !self.flags.has(Flags::SOFT_ERROR_REPORTED)
            && self.flags.has(Flags::VISIBLE)
            && !self.flags.has(Flags::REPORTS_OFF)
        {
            self.flags.set(Flags::SOFT_ERROR_REPORTED);
            ctx.events.push_back(Event::SoftError {
                conn: self.id,
                error: SoftError::ExcessiveRetransmissions,
            });
        }
    }

    /// The tail-loss-probe timer fired (RFC 8985 7.3): the output sends the
    /// probe; the retransmission timer takes over after it.
    #[inline(never)]
    fn probe_due(&mut self, ctx: &mut Ctx<'_>) {
        if self.flight() == 0 {
            return;
        }
        if self.probe_timeout_us(ctx).is_some() {
            self.flags.set(Flags::TLP_DUE);
        }
        self.timers
            .set(Timer::Retransmit, ctx.now + self.rto(ctx.cfg));
    }

    /// RACK's reordering timer fired (RFC 8985 6.3): segments that have now
    /// waited out the reordering window are lost.
    #[inline(never)]
    fn reorder_due(&mut self, ctx: &mut Ctx<'_>) {
        let prior = self.in_flight();
        self.detect_loss_by_time(ctx, prior);
        self.rearm(ctx, false);
    }

    /// The persist timer fired: probe the zero window (RFC 9293 3.8.6.1),
    /// backing off exponentially but never giving up while the peer
    /// answers (MUST-37); unanswered probes count towards R2.
    #[inline(never)]
    fn persist_due(&mut self, ctx: &mut Ctx<'_>) {
        if !(self.needs_persist() || self.probe_only()) {
            self.rearm(ctx, false);
            return;
        }
        if self.probe_only() {
            if self.retries == 0 {
                self.retransmitting_since = ctx.now - self.rto(ctx.cfg);
            }
            if self.r2_reached(ctx) {
                self.close(ctx, CloseReason::TimedOut);
                return;
            }
            self.retries = self.retries.saturating_add(1);
        }
        self.flags.set(Flags::FORCE_PROBE);
        self.rtt.backoff();
        self.timers.set(Timer::Persist, ctx.now + self.rto(ctx.cfg));
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
