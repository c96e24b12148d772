//! NewReno's window arithmetic (RFC 5681 3.1, RFC 6582 3.2): slow start
//! with appropriate byte counting, congestion avoidance of one segment per
//! window, halving on loss. Loss detection and the recovery episode itself
//! (fast retransmit, partial ACKs, the `recover` point) are the
//! connection's; this is what the window does around them.

use super::{AckEvent, CongestionControl, CongestionEvent};
use crate::time::Instant;

/// RFC 5681 congestion control.
#[derive(Clone, Debug, Default)]
pub struct NewReno {
    cwnd: u32,
    ssthresh: u32,
    mss: u32,
    /// Bytes delivered since cwnd last grew in congestion avoidance
    /// (RFC 5681 3.1, byte counting).
    bytes_acked: u32,
    /// cwnd and ssthresh before the last reduction, for undo.
    prior: Option<(u32, u32)>,
}

impl NewReno {
    /// RFC 5681 equation 4: half the flight, at least two segments.
    fn reduced(in_flight: u32, mss: u32) -> u32 {
        (in_flight / 2).max(2 * mss)
    }
}

impl CongestionControl for NewReno {
    fn name(&self) -> &'static str {
        "newreno"
    }

    fn init(&mut self, _now: Instant, mss: u32, initial_window: u32) {
        self.mss = mss.max(1);
        self.cwnd = initial_window.max(self.mss);
        // "Arbitrarily high" (RFC 5681 3.1).
        self.ssthresh = u32::MAX;
        self.bytes_acked = 0;
        self.prior = None;
    }

    fn on_ack(&mut self, ack: &AckEvent) {
        self.mss = ack.mss.max(1);
        // No growth in recovery (PRR paces the sender) or from data sent
        // while the application, not the window, limited the sender.
        if ack.in_recovery || ack.app_limited || ack.delivered == 0 {
            return;
        }
        if self.cwnd < self.ssthresh {
            // Slow start, RFC 5681 equation 2 with L = 1 SMSS (RFC 3465).
            // Capped at ssthresh, where avoidance takes over.
            let inc = ack.delivered.min(self.mss);
            self.cwnd = self.cwnd.saturating_add(inc).min(self.ssthresh);
        } else {
            // Congestion avoidance: one SMSS per cwnd of bytes delivered
            // (RFC 5681 3.1, equation 3's byte-counting form).
            self.bytes_acked = self.bytes_acked.saturating_add(ack.delivered);
            if self.bytes_acked >= self.cwnd {
                self.bytes_acked -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.mss);
            }
        }
    }

    fn on_congestion(&mut self, ev: &CongestionEvent) {
        self.prior = Some((self.cwnd, self.ssthresh));
        self.ssthresh = Self::reduced(ev.in_flight, ev.mss);
        self.bytes_acked = 0;
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        // RFC 6582 3.2 step 3: deflate to ssthresh (the connection's PRR
        // already kept the flight near it, so no burst follows).
        self.cwnd = self.ssthresh.max(self.mss);
        self.bytes_acked = 0;
    }

    fn on_timeout(&mut self, _now: Instant, in_flight: u32, mss: u32, first: bool) {
        if first {
            self.prior = Some((self.cwnd, self.ssthresh));
            self.ssthresh = Self::reduced(in_flight, mss);
        }
        // The loss window: one segment (RFC 5681 3.1).
        self.cwnd = mss.max(1);
        self.bytes_acked = 0;
    }

    fn on_spurious(&mut self, _now: Instant) {
        if let Some((cwnd, ssthresh)) = self.prior.take() {
            self.cwnd = self.cwnd.max(cwnd);
            self.ssthresh = self.ssthresh.max(ssthresh);
        }
    }

    fn on_idle_restart(&mut self, _now: Instant, restart_window: u32) {
        self.cwnd = self.cwnd.min(restart_window.max(self.mss));
    }

    fn on_mss_change(&mut self, old: u32, new: u32) {
        if old == 0 || new == 0 {
            return;
        }
        let scale = |w: u32| (u64::from(w) * u64::from(new) / u64::from(old)) as u32;
        self.cwnd = scale(self.cwnd).max(new);
        if self.ssthresh != u32::MAX {
            self.ssthresh = scale(self.ssthresh).max(2 * new);
        }
        self.mss = new;
    }

    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::Signal;

    const MSS: u32 = 1000;

    fn ack(delivered: u32) -> AckEvent {
        AckEvent {
            now: Instant::ZERO,
            acked: delivered,
            delivered,
            prior_in_flight: 0,
            in_flight: 0,
            rtt: None,
            min_rtt: None,
            srtt: None,
            app_limited: false,
            in_recovery: false,
            mss: MSS,
            snd_nxt: 0,
            snd_una: 0,
        }
    }

    fn fresh(iw: u32) -> NewReno {
        let mut c = NewReno::default();
        c.init(Instant::ZERO, MSS, iw);
        c
    }

    /// CC-03: slow start grows by at most SMSS per ACK (byte counting):
    /// ACK division does not inflate it.
    #[test]
    fn cc_03_slow_start_counts_bytes() {
        let mut c = fresh(4 * MSS);
        c.on_ack(&ack(100));
        assert_eq!(c.cwnd(), 4 * MSS + 100);
        c.on_ack(&ack(5000));
        assert_eq!(c.cwnd(), 4 * MSS + 1100);
    }

    /// CC-04: in congestion avoidance cwnd grows by one SMSS per cwnd of
    /// bytes delivered, however they are split into ACKs.
    #[test]
    fn cc_04_avoidance_one_segment_per_window() {
        let mut c = fresh(10 * MSS);
        c.on_congestion(&CongestionEvent {
            now: Instant::ZERO,
            signal: Signal::Loss,
            in_flight: 20 * MSS,
            mss: MSS,
        });
        c.on_recovery_end(Instant::ZERO);
        assert_eq!((c.cwnd(), c.ssthresh()), (10 * MSS, 10 * MSS));
        for _ in 0..99 {
            c.on_ack(&ack(100));
        }
        assert_eq!(c.cwnd(), 10 * MSS);
        c.on_ack(&ack(100));
        assert_eq!(c.cwnd(), 11 * MSS);
    }

    /// CC-05: a timeout takes cwnd to one segment and ssthresh to half the
    /// flight (held on a repeated timeout); slow start then climbs back to
    /// ssthresh and avoidance takes over.
    #[test]
    fn cc_05_timeout_loss_window() {
        let mut c = fresh(10 * MSS);
        c.on_timeout(Instant::ZERO, 20 * MSS, MSS, true);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 10 * MSS));
        c.on_timeout(Instant::ZERO, MSS, MSS, false);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, 10 * MSS));
        while c.cwnd() < c.ssthresh() {
            c.on_ack(&ack(MSS));
        }
        assert_eq!(c.cwnd(), 10 * MSS);
        for _ in 0..10 {
            c.on_ack(&ack(MSS));
        }
        assert_eq!(c.cwnd(), 11 * MSS);
    }

    /// CC-09 / RFC 5681 eq. 4: ssthresh is half the flight, at least two
    /// segments; the reduction is undone if found spurious.
    #[test]
    fn reduction_floor_and_undo() {
        let mut c = fresh(10 * MSS);
        c.on_congestion(&CongestionEvent {
            now: Instant::ZERO,
            signal: Signal::Loss,
            in_flight: 3 * MSS,
            mss: MSS,
        });
        assert_eq!(c.ssthresh(), 2 * MSS);
        c.on_recovery_end(Instant::ZERO);
        assert_eq!(c.cwnd(), 2 * MSS);
        c.on_spurious(Instant::ZERO);
        assert_eq!((c.cwnd(), c.ssthresh()), (10 * MSS, u32::MAX));
    }

    /// No growth in recovery or from application-limited data; the idle
    /// restart and an MSS change scale the window.
    #[test]
    fn no_growth_when_not_window_limited() {
        let mut c = fresh(10 * MSS);
        let mut a = ack(MSS);
        a.in_recovery = true;
        c.on_ack(&a);
        let mut b = ack(MSS);
        b.app_limited = true;
        c.on_ack(&b);
        assert_eq!(c.cwnd(), 10 * MSS);
        c.on_idle_restart(Instant::ZERO, 4 * MSS);
        assert_eq!(c.cwnd(), 4 * MSS);
        c.on_mss_change(MSS, MSS / 2);
        assert_eq!(c.cwnd(), 2 * MSS);
    }
}
