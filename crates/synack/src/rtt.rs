//! Retransmission timeout computation (RFC 6298, required by RFC 9293
//! section 3.8.1, MUST-18).
//!
//! The estimator lives in every TCB, so it is kept to a handful of integers
//! (microseconds in `u32`, which covers RTTs up to about 71 minutes) and the
//! endpoint-wide [`RttConfig`] is passed in on each call rather than
//! copied into every connection.

use core::time::Duration;

/// Endpoint-wide RTO parameters.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct RttConfig {
    /// RTO before any RTT sample, RFC 6298 (2.1): 1 second.
    pub initial_rto: Duration,
    /// Lower bound on a computed RTO, RFC 6298 (2.4): 1 second. Lowering it
    /// is common in data centres but departs from the RFC's SHOULD.
    pub min_rto: Duration,
    /// Upper bound on the RTO, backoff included. RFC 6298 (2.5) allows a
    /// cap only if it is at least 60 seconds; the default is 120 seconds.
    pub max_rto: Duration,
    /// Clock granularity G of RFC 6298 section 2: the variance term is never
    /// allowed to drop below one tick. 1 ms by default.
    pub granularity: Duration,
}

impl Default for RttConfig {
    fn default() -> Self {
        RttConfig {
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(120),
            granularity: Duration::from_millis(1),
        }
    }
}

/// RFC 6298 (5.7): the RTO to use once data flows after a SYN timed out.
const SYN_TIMEOUT_RTO_US: u32 = 3_000_000;

const HAVE_SAMPLE: u8 = 1 << 0;
const SYN_TIMED_OUT: u8 = 1 << 1;

/// Per-connection RTT state: SRTT, RTTVAR and the RTO derived from them,
/// plus the backoff count.
#[derive(Clone, Copy, Debug)]
pub struct RttEstimator {
    /// Smoothed RTT in microseconds; meaningful only with `HAVE_SAMPLE`.
    srtt_us: u32,
    /// RTT variation in microseconds; meaningful only with `HAVE_SAMPLE`.
    rttvar_us: u32,
    /// The RTO before backoff, in microseconds: the initial RTO until the
    /// first sample, then the clamped result of (2.2)/(2.3). It survives
    /// [`RttEstimator::clear_samples`] so that forgetting a bogus SRTT does
    /// not shorten a timer that is being backed off.
    base_rto_us: u32,
    /// Number of consecutive expirations since the last sample (5.5).
    backoff: u8,
    flags: u8,
}

impl RttEstimator {
    /// A fresh estimator: no samples, RTO = `cfg.initial_rto` (2.1).
    pub fn new(cfg: &RttConfig) -> Self {
        RttEstimator {
            srtt_us: 0,
            rttvar_us: 0,
            base_rto_us: to_us(cfg.initial_rto),
            backoff: 0,
            flags: 0,
        }
    }

    /// Feeds one RTT measurement R. The caller is responsible for Karn's
    /// algorithm (RFC 6298 section 3): no samples from retransmitted
    /// segments.
    ///
    /// (2.2) first sample: SRTT = R, RTTVAR = R/2; (2.3) later samples:
    /// RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| (with the old SRTT), then
    /// SRTT = 7/8 SRTT + 1/8 R. RTO = SRTT + max(G, 4 RTTVAR), clamped to
    /// `[min_rto, max_rto]` (2.4, 2.5). A sample also ends any backoff: as
    /// RFC 6298 section 5 notes, a backed-off RTO collapses only once a new
    /// sample has been taken.
    pub fn sample(&mut self, rtt: Duration, cfg: &RttConfig) {
        let r = u64::from(to_us(rtt));
        let (srtt, rttvar) = if self.flags & HAVE_SAMPLE == 0 {
            (r, r / 2)
        } else {
            let srtt = u64::from(self.srtt_us);
            let var = u64::from(self.rttvar_us);
            // Integer forms of the (2.3) updates. SRTT rounds to nearest so
            // it does not drift low; RTTVAR truncates so that a steady RTT
            // drives it all the way to zero (rounding would leave it stuck
            // at 2 µs, since (3*2 + 2) / 4 = 2). Either way the error stays
            // within a few microseconds, far below any useful G.
            let rttvar = (3 * var + srtt.abs_diff(r)) / 4;
            let srtt = (7 * srtt + r + 4) / 8;
            (srtt, rttvar)
        };
        // Both are weighted means of u32 values, so they fit in u32.
        self.srtt_us = sat_u32(srtt);
        self.rttvar_us = sat_u32(rttvar);
        let g = u64::from(to_us(cfg.granularity));
        let rto = srtt.saturating_add(g.max(4 * rttvar));
        let rto = rto
            .max(u64::from(to_us(cfg.min_rto)))
            .min(u64::from(to_us(cfg.max_rto)));
        self.base_rto_us = sat_u32(rto);
        self.backoff = 0;
        self.flags = (self.flags | HAVE_SAMPLE) & !SYN_TIMED_OUT;
    }

    /// The current RTO: the base RTO (raised to 3 s after a SYN timeout,
    /// see [`syn_timed_out`](Self::syn_timed_out)) doubled once per
    /// backoff (5.5), and capped at `cfg.max_rto` (2.5).
    pub fn rto(&self, cfg: &RttConfig) -> Duration {
        Duration::from_micros(self.rto_us(cfg))
    }

    /// [`rto`](Self::rto) in microseconds (timers are armed in them).
    #[inline]
    pub fn rto_us(&self, cfg: &RttConfig) -> u64 {
        let mut base = self.base_rto_us;
        if self.flags & SYN_TIMED_OUT != 0 {
            base = base.max(SYN_TIMEOUT_RTO_US);
        }
        // base < 2^32 and the shift is at most 31, so this cannot overflow;
        // past 31 doublings any base is beyond every sensible cap anyway.
        let shift = u32::from(self.backoff.min(31));
        (u64::from(base) << shift).min(u64::from(to_us(cfg.max_rto)))
    }

    /// The smoothed RTT in microseconds, once measured.
    #[inline]
    pub(crate) fn srtt_us(&self) -> Option<u32> {
        self.have_sample().then_some(self.srtt_us)
    }

    /// (5.5): the retransmission timer expired, so double the RTO. The
    /// count saturates; [`rto`](Self::rto) applies the cap.
    pub fn backoff(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// Expirations since the last sample (or the last SYN-timeout reset).
    pub fn backoffs(&self) -> u32 {
        u32::from(self.backoff)
    }

    /// The smoothed RTT, if a sample has been taken since creation or the
    /// last [`clear_samples`](Self::clear_samples).
    pub fn srtt(&self) -> Option<Duration> {
        self.have_sample()
            .then(|| Duration::from_micros(u64::from(self.srtt_us)))
    }

    /// The RTT variation, under the same condition as [`srtt`](Self::srtt).
    pub fn rttvar(&self) -> Option<Duration> {
        self.have_sample()
            .then(|| Duration::from_micros(u64::from(self.rttvar_us)))
    }

    /// RFC 6298 (5.7): the SYN (or SYN-ACK) timed out and the handshake has
    /// now completed, so data transfer begins with an RTO of at least 3
    /// seconds. The RTO is re-initialised, so the handshake's backoff is
    /// dropped; SRTT and RTTVAR are left as they are (normally there are
    /// none, since Karn's algorithm forbids sampling the retransmitted SYN).
    /// The 3-second floor stays until the next sample replaces it.
    pub fn syn_timed_out(&mut self) {
        self.backoff = 0;
        self.flags |= SYN_TIMED_OUT;
    }

    /// RFC 6298 section 5, last paragraph (RT-11): after repeated backoffs
    /// SRTT and RTTVAR are likely bogus, so forget them; the next sample
    /// initialises them afresh per (2.2). The current RTO and backoff are
    /// kept, so the timer in progress is not shortened.
    pub fn clear_samples(&mut self) {
        self.srtt_us = 0;
        self.rttvar_us = 0;
        self.flags &= !HAVE_SAMPLE;
    }

    fn have_sample(&self) -> bool {
        self.flags & HAVE_SAMPLE != 0
    }
}

/// A duration in microseconds, saturating at `u32::MAX` (about 71 minutes).
fn to_us(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn sat_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// RT-01: before any sample the RTO is the initial 1 second (2.1).
    #[test]
    fn initial_rto() {
        let cfg = RttConfig::default();
        let e = RttEstimator::new(&cfg);
        assert_eq!(e.rto(&cfg), ms(1000));
        assert_eq!(e.srtt(), None);
        assert_eq!(e.rttvar(), None);
        assert_eq!(e.backoffs(), 0);
    }

    /// RT-02: first sample, SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR
    /// (2.2): 400 ms gives 400 + 4 * 200 = 1200 ms.
    #[test]
    fn first_sample() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        e.sample(ms(400), &cfg);
        assert_eq!(e.srtt(), Some(ms(400)));
        assert_eq!(e.rttvar(), Some(ms(200)));
        assert_eq!(e.rto(&cfg), ms(1200));
    }

    /// RT-03: subsequent samples follow (2.3), checked against a floating
    /// point evaluation of the same formulas (to within rounding).
    #[test]
    fn smoothing_matches_reference() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        let samples_ms = [
            400.0, 350.0, 900.0, 420.0, 410.0, 2500.0, 100.0, 101.0, 99.5, 300.25, 3000.0, 0.0,
            1.0, 800.0, 800.0, 800.0, 800.0, 800.0,
        ];
        let (mut srtt, mut var) = (0.0f64, 0.0f64);
        for (i, &r) in samples_ms.iter().enumerate() {
            if i == 0 {
                srtt = r;
                var = r / 2.0;
            } else {
                var = 0.75 * var + 0.25 * (srtt - r).abs();
                srtt = 0.875 * srtt + 0.125 * r;
            }
            let rto_ms = (srtt + (4.0 * var).max(1.0)).clamp(1000.0, 120_000.0);
            e.sample(Duration::from_secs_f64(r / 1000.0), &cfg);
            let got_srtt = e.srtt().unwrap().as_secs_f64() * 1000.0;
            let got_var = e.rttvar().unwrap().as_secs_f64() * 1000.0;
            let got_rto = e.rto(&cfg).as_secs_f64() * 1000.0;
            // Each step rounds or truncates to the microsecond; errors shrink
            // by the smoothing factors, so a few microseconds bounds them.
            assert!((got_srtt - srtt).abs() < 0.005, "srtt {got_srtt} vs {srtt}");
            assert!((got_var - var).abs() < 0.010, "rttvar {got_var} vs {var}");
            assert!(
                (got_rto - rto_ms).abs() < 0.050,
                "rto {got_rto} vs {rto_ms}"
            );
        }
        // After the run of identical samples the numbers are exact-ish and
        // RTO tracks SRTT + 4 RTTVAR above the floor.
        assert!(e.rto(&cfg) > ms(1000));
    }

    /// RT-03: one exact (2.3) step in integers: SRTT 400, RTTVAR 200, then
    /// R = 800 gives RTTVAR = 150 + 100 = 250 and SRTT = 350 + 100 = 450,
    /// RTO = 450 + 1000 = 1450 ms.
    #[test]
    fn second_sample_exact() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        e.sample(ms(400), &cfg);
        e.sample(ms(800), &cfg);
        assert_eq!(e.rttvar(), Some(ms(250)));
        assert_eq!(e.srtt(), Some(ms(450)));
        assert_eq!(e.rto(&cfg), ms(1450));
    }

    /// RT-04: a computed RTO below 1 second is rounded up to 1 second (2.4);
    /// the granularity term G applies when RTTVAR is tiny.
    #[test]
    fn floor_and_granularity() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        e.sample(ms(1), &cfg);
        assert_eq!(e.rto(&cfg), ms(1000));
        for _ in 0..100 {
            e.sample(ms(1), &cfg);
        }
        assert_eq!(e.rto(&cfg), ms(1000));
        // With the floor lowered, G shows: SRTT 1 ms, 4*RTTVAR ~ 0 -> 1 + G.
        let low = RttConfig {
            min_rto: Duration::ZERO,
            ..cfg
        };
        let mut e = RttEstimator::new(&low);
        e.sample(ms(10), &low);
        for _ in 0..200 {
            e.sample(ms(10), &low);
        }
        assert_eq!(e.rttvar(), Some(Duration::ZERO));
        assert_eq!(e.rto(&low), ms(11));
    }

    /// RT-04: the upper bound (2.5) applies to computed RTOs too.
    #[test]
    fn ceiling() {
        let cfg = RttConfig {
            max_rto: Duration::from_secs(60),
            ..RttConfig::default()
        };
        let mut e = RttEstimator::new(&cfg);
        e.sample(Duration::from_secs(50), &cfg);
        assert_eq!(e.rto(&cfg), Duration::from_secs(60));
        // Absurd samples saturate instead of overflowing.
        e.sample(Duration::MAX, &cfg);
        assert_eq!(e.rto(&cfg), Duration::from_secs(60));
    }

    /// RT-07: each expiry doubles the RTO (5.5) up to the cap; a new
    /// sample collapses it again.
    #[test]
    fn backoff_doubles_and_caps() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        let mut want = 1u64;
        for n in 0..300u32 {
            assert_eq!(e.backoffs(), n.min(255));
            assert_eq!(e.rto(&cfg), Duration::from_secs(want.min(120)));
            e.backoff();
            want = want.saturating_mul(2);
        }
        assert_eq!(e.backoffs(), 255);
        e.sample(ms(400), &cfg);
        assert_eq!(e.backoffs(), 0);
        assert_eq!(e.rto(&cfg), ms(1200));
    }

    /// RT-08: after a SYN timeout, data transfer starts with RTO = 3 s
    /// (5.7); the next sample replaces it.
    #[test]
    fn syn_timeout_sets_three_seconds() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        e.backoff();
        e.backoff();
        e.syn_timed_out();
        assert_eq!(e.backoffs(), 0);
        assert_eq!(e.srtt(), None);
        assert_eq!(e.rto(&cfg), ms(3000));
        // Backing off from there doubles the 3 s.
        e.backoff();
        assert_eq!(e.rto(&cfg), ms(6000));
        e.sample(ms(400), &cfg);
        assert_eq!(e.rto(&cfg), ms(1200));
        // An RTO already above 3 s is left alone.
        let mut slow = RttEstimator::new(&cfg);
        slow.sample(Duration::from_secs(2), &cfg);
        assert_eq!(slow.rto(&cfg), ms(6000));
        slow.syn_timed_out();
        assert_eq!(slow.rto(&cfg), ms(6000));
    }

    /// RT-11: clearing SRTT/RTTVAR after repeated backoffs makes the next
    /// sample initialise them per (2.2); the running timer is not shortened.
    #[test]
    fn clear_samples_reinitialises() {
        let cfg = RttConfig::default();
        let mut e = RttEstimator::new(&cfg);
        e.sample(Duration::from_secs(3), &cfg);
        e.sample(Duration::from_secs(3), &cfg);
        let before = e.rto(&cfg);
        for _ in 0..4 {
            e.backoff();
        }
        let backed_off = e.rto(&cfg);
        assert_eq!(backed_off, (before * 16).min(cfg.max_rto));
        e.clear_samples();
        assert_eq!(e.srtt(), None);
        assert_eq!(e.rttvar(), None);
        assert_eq!(e.rto(&cfg), backed_off);
        e.sample(ms(400), &cfg);
        assert_eq!(e.srtt(), Some(ms(400)));
        assert_eq!(e.rttvar(), Some(ms(200)));
        assert_eq!(e.rto(&cfg), ms(1200));
    }

    /// Misconfigured bounds (min above max) must not panic.
    #[test]
    fn inverted_bounds_do_not_panic() {
        let cfg = RttConfig {
            min_rto: Duration::from_secs(10),
            max_rto: Duration::from_secs(2),
            ..RttConfig::default()
        };
        let mut e = RttEstimator::new(&cfg);
        e.sample(ms(5), &cfg);
        assert_eq!(e.rto(&cfg), Duration::from_secs(2));
    }

    /// MUST-18 footprint: the estimator is a few words per TCB.
    #[test]
    fn small() {
        assert!(core::mem::size_of::<RttEstimator>() <= 16);
    }
}
