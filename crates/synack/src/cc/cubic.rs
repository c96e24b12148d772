//! CUBIC (RFC 9438), the default algorithm: a window that grows as a cubic
//! function of the time since the last reduction, flat around the window
//! where the last loss happened (W_max) and steep away from it, so that it
//! scales to large bandwidth-delay products while staying at least as fast
//! as Reno on short paths (the Reno-friendly region).
//!
//! The cubic function works in segments and seconds, as the RFC writes it;
//! cwnd and ssthresh stay in bytes, like the trait's. The arithmetic is
//! f64, but only IEEE 754's correctly rounded operations (+, −, ×, ÷,
//! floor, and rounding to the f32 that some values are stored in), with a
//! cube root of our own: every platform computes the same windows, so the
//! simulator's runs replay exactly.
//!
//! Slow start is RFC 5681's with byte counting (at most one SMSS per ACK),
//! left early by HyStart++ (RFC 9406, [`HyStart`]) in the initial slow
//! start.

use super::{AckEvent, CongestionControl, CongestionEvent, HyStart};
use crate::time::Instant;
use core::time::Duration;

/// C (RFC 9438 4.1.1, 0.4 as section 5 recommends): how fast the window
/// leaves the plateau around W_max, in segments per second cubed.
const C: f64 = 0.4;

/// β_cubic (section 4.6, SHOULD be 0.7): the share of the window kept on
/// a reduction.
const BETA_CUBIC: f64 = 0.7;

/// α_cubic (section 4.3): 3(1 − β)/(1 + β) = 9/17, the additive increase
/// that gives CUBIC Reno's average window with β = 0.7 instead of 0.5.
const ALPHA_CUBIC: f64 = 3.0 * (1.0 - BETA_CUBIC) / (1.0 + BETA_CUBIC);

/// β_cubic applied to a window in bytes, in integers so that it is exact
/// (70 % of a flight of 100 segments is 70 segments, not a byte less).
fn beta_of(bytes: u32) -> u32 {
    (u64::from(bytes) * 7 / 10) as u32
}

/// Cube root of a non-negative number by Newton's method. libm's `cbrt`
/// may differ by an ulp between systems; this uses only correctly rounded
/// operations, so K is the same everywhere.
fn cbrt(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 0.0;
    }
    if x.is_infinite() {
        return x;
    }
    // First guess: a third of the exponent (dividing the bit pattern by
    // three, then restoring the bias), within a few percent for normal
    // numbers; Newton's iteration then doubles the correct digits each
    // step. The bound keeps it finite should it ever alternate between
    // two neighbouring values.
    let mut y = f64::from_bits(x.to_bits() / 3 + 0x2AA0_0000_0000_0000);
    for _ in 0..64 {
        let next = (2.0 * y + x / (y * y)) / 3.0;
        if next == y {
            break;
        }
        y = next;
    }
    y
}

/// A duration in seconds, the unit of the cubic function.
fn secs(d: Duration) -> f64 {
    d.as_micros() as f64 / 1e6
}

/// Where the congestion-avoidance stage is (RFC 9438 4.1.2). The variables
/// that start with a stage (`clock`, `k`, `w_est`) are fields of [`Cubic`]
/// itself: grouped in an `Option` of a struct, its tag and padding would
/// cost 8 bytes in every connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// No stage: slow start, recovery, and until the first avoidance ACK
    /// after either.
    #[default]
    None,
    /// Growing: `clock` is t_epoch.
    Growing,
    /// Not growing because the sender is application-limited, a time that
    /// t must not include (section 5.8). `clock` holds the time the curve
    /// had run when the pause began, d = since − t_epoch, in microseconds,
    /// two's complement: an undo may take more than that away (see
    /// `on_spurious`). Resuming starts the curve again d before then.
    Paused,
}

/// The state before the last reduction, for undo (section 4.9). Boxed in
/// [`Cubic`]: it is needed only after a reduction, which is rare next to
/// ACKs, so a connection that never had one pays a null pointer for it.
#[derive(Clone, Copy, Debug)]
struct Prior {
    at: Instant,
    clock: u64,
    w_est: f64,
    cwnd: u32,
    ssthresh: u32,
    w_max: f32,
    cwnd_prior: f32,
    k: f32,
    stage: Stage,
    after_timeout: bool,
}

/// RFC 9438 CUBIC with HyStart++ (RFC 9406).
///
/// Every connection holds its algorithm inline, so this is kept to 72
/// bytes, HyStart++'s 20 included. The segment quantities set once per
/// reduction or stage (W_max, cwnd_prior, K) and the sub-byte growth carry
/// are stored as f32 and widened to f64 for the arithmetic; W_est, which
/// accumulates tiny increments, stays f64 (see the field). Times are whole
/// microseconds, as [`Instant`] counts them, so nothing is lost there.
#[derive(Clone, Debug, Default)]
pub struct Cubic {
    cwnd: u32,
    ssthresh: u32,
    /// The sender MSS, in 16 bits: TCP's MSS is a 16-bit quantity (the
    /// option's field; the connection keeps it as a `u16`), so this holds
    /// any the engine passes. See [`set_mss`](Self::set_mss).
    mss: u16,
    /// W_max, in segments: the window at the last congestion event, or
    /// less after fast convergence (section 4.7).
    w_max: f32,
    /// cwnd_prior, in segments: cwnd when ssthresh was last set.
    cwnd_prior: f32,
    /// Whether there is an avoidance stage, and what `clock` means.
    stage: Stage,
    /// While growing, t_epoch in microseconds since the [`Instant`] epoch,
    /// moved forward past application-limited periods (section 5.8), so
    /// that t = now − t_epoch counts only time spent growing. While
    /// paused, see [`Stage::Paused`].
    clock: u64,
    /// K, in seconds: when W_cubic reaches W_max again.
    k: f32,
    /// W_est, the Reno-friendly estimate, in segments (section 4.3). The
    /// one segment quantity kept in f64: it grows by about α/cwnd per
    /// segment acknowledged, and an f32 W_est would round those steps by
    /// up to 6 % at 1000 segments and drop them altogether from 4096 on,
    /// where a step is below half an ulp of W_est.
    w_est: f64,
    /// The next avoidance stage is the first after a timeout (section
    /// 4.8).
    after_timeout: bool,
    /// Growth in bytes below one byte, kept for the next ACK. In f32 its
    /// rounding is below 10⁻⁷ byte per ACK.
    carry: f32,
    hystart: HyStart,
    prior: Option<Box<Prior>>,
}

impl Cubic {
    fn mss(&self) -> u32 {
        u32::from(self.mss)
    }

    /// Stores the MSS, at least one byte. An MSS above 65535 cannot come
    /// from TCP; should another caller pass one, it is taken as 65535.
    fn set_mss(&mut self, mss: u32) {
        self.mss = u16::try_from(mss.max(1)).unwrap_or(u16::MAX);
    }

    fn mss_f(&self) -> f64 {
        f64::from(self.mss().max(1))
    }

    /// cwnd in segments.
    fn cwnd_segs(&self) -> f64 {
        f64::from(self.cwnd.max(1)) / self.mss_f()
    }

    /// ssthresh = max(flight · β_cubic, 2 segments) (section 4.6, with
    /// RFC 5681 equation 4's floor).
    fn reduced(in_flight: u32, mss: u32) -> u32 {
        beta_of(in_flight).max(mss.saturating_mul(2))
    }

    fn save_prior(&mut self, now: Instant) {
        let p = Prior {
            at: now,
            clock: self.clock,
            w_est: self.w_est,
            cwnd: self.cwnd,
            ssthresh: self.ssthresh,
            w_max: self.w_max,
            cwnd_prior: self.cwnd_prior,
            k: self.k,
            stage: self.stage,
            after_timeout: self.after_timeout,
        };
        // A later reduction reuses the allocation of an earlier one that
        // was not undone.
        match &mut self.prior {
            Some(b) => **b = p,
            None => self.prior = Some(Box::new(p)),
        }
    }

    /// Sets cwnd outright (a reduction, a restart): the fraction of a byte
    /// carried for growth no longer applies.
    fn set_cwnd(&mut self, bytes: u32) {
        self.cwnd = bytes.max(self.mss().max(1));
        self.carry = 0.0;
    }

    /// Adds `segs` segments of growth to cwnd, keeping what falls below a
    /// byte for the next ACK (per-ACK increments are often a few bytes).
    fn grow(&mut self, segs: f64) {
        // Also refuses NaN, which no input should produce.
        if segs.is_nan() || segs <= 0.0 {
            return;
        }
        let bytes = segs * self.mss_f() + f64::from(self.carry);
        let whole = bytes.floor();
        // A fraction just under one may round to 1.0 in f32: the next ACK
        // then credits it as a whole byte, so nothing is lost.
        self.carry = (bytes - whole) as f32;
        // `as` saturates: a window past u32::MAX stays at u32::MAX.
        self.cwnd = self.cwnd.saturating_add(whole as u32);
    }

    /// W_cubic(t) = C·(t − K)³ + W_max (section 4.2, figure 1), in
    /// segments, t in seconds since t_epoch.
    fn w_cubic(&self, t: f64) -> f64 {
        let d = t - f64::from(self.k);
        C * d * d * d + f64::from(self.w_max)
    }

    /// The start of an avoidance stage (section 4.2): t_epoch is now,
    /// cwnd_epoch the current window, W_est starts from it (section 4.3),
    /// and K is the time the curve takes from cwnd_epoch back to W_max.
    fn start_epoch(&mut self, now: Instant) {
        let cwnd_epoch = self.cwnd_segs();
        // Compared at W_max's f32 precision. Rounding is monotonic, so a
        // window at or past W_max still is; and a W_max just set from this
        // same window (as HyStart++'s exit does) is not mistaken for a
        // plateau a rounding error ahead, which the cube root would turn
        // into a K of milliseconds.
        let k = if self.after_timeout || self.w_max <= cwnd_epoch as f32 {
            // After a timeout (section 4.8) and after HyStart++ leaves slow
            // start without a loss (section 4.10), the curve starts from
            // the current window: K = 0, W_max = cwnd_epoch. The same
            // holds whenever the window is already past W_max (after an
            // idle restart or an undo): there is no plateau left to
            // approach, only the convex region.
            self.w_max = cwnd_epoch as f32;
            0.0
        } else {
            // K = ∛((W_max − cwnd_epoch)/C) (section 4.2, figure 2).
            cbrt((f64::from(self.w_max) - cwnd_epoch) / C)
        };
        self.after_timeout = false;
        self.stage = Stage::Growing;
        self.clock = now.micros();
        self.k = k as f32;
        self.w_est = cwnd_epoch;
    }

    /// Slow start (RFC 5681 3.1 with byte counting, section 4.10), with
    /// HyStart++ during the initial one.
    fn slow_start(&mut self, ack: &AckEvent) {
        // HyStart++ runs in the initial slow start only, while ssthresh is
        // still "arbitrarily high" (RFC 9406 4.3, SHOULD). A later slow
        // start, after a loss or a timeout, ends at the ssthresh the
        // reduction chose, which already bounds the overshoot, so it is
        // plain RFC 5681 slow start. An idle restart before any reduction
        // is still the initial slow start and keeps HyStart++ (4.3 allows
        // it for the restart window).
        let hystart = self.ssthresh == u32::MAX;
        if !ack.app_limited {
            let inc = if hystart {
                self.hystart.increase(ack.delivered, self.mss())
            } else {
                ack.delivered.min(self.mss())
            };
            // Capped at ssthresh, where avoidance takes over.
            self.cwnd = self.cwnd.saturating_add(inc).min(self.ssthresh);
        }
        // RTTs measured over application-limited data are still RTTs: the
        // rounds go on.
        if hystart && self.hystart.on_ack(ack) {
            // Conservative Slow Start ran its rounds without a loss: enter
            // congestion avoidance at the current window (RFC 9406 4.2),
            // with cwnd_prior = W_max = cwnd and K = 0 (RFC 9438 4.10;
            // K = 0 follows at the epoch start from W_max = cwnd_epoch).
            self.ssthresh = self.cwnd.max(self.mss().saturating_mul(2));
            self.cwnd_prior = self.cwnd_segs() as f32;
            self.w_max = self.cwnd_prior;
            self.stage = Stage::None;
        }
    }

    /// Congestion avoidance (sections 4.2 to 4.5).
    fn congestion_avoidance(&mut self, ack: &AckEvent) {
        let now = ack.now;
        match (self.stage, ack.app_limited) {
            // A stage starts on its first ACK that may grow cwnd.
            (Stage::None, true) => return,
            (Stage::None, false) => self.start_epoch(now),
            (Stage::Growing, false) => {}
            (Stage::Growing, true) => {
                // No growth while the application, not cwnd, limits the
                // sender, and the time does not count (section 5.8: t MUST
                // NOT include application-limited periods). Keep the time
                // the curve has run: d = now − t_epoch.
                self.clock = now.micros().wrapping_sub(self.clock);
                self.stage = Stage::Paused;
                return;
            }
            (Stage::Paused, true) => return,
            (Stage::Paused, false) => {
                // Resume the curve where it stopped: t_epoch = now − d.
                self.clock = now.micros().wrapping_sub(self.clock);
                self.stage = Stage::Growing;
            }
        }

        let cwnd = self.cwnd_segs();
        let segments_acked = f64::from(ack.delivered) / self.mss_f();
        let t = secs(now.saturating_since(Instant::from_micros(self.clock)));

        // Section 4.3: W_est grows like Reno with α_cubic, then α = 1 once
        // it has reached the window of the last reduction (SHOULD). At
        // cwnd_prior's f32 precision, so that a W_est starting from that
        // very window (after HyStart++) has reached it.
        let alpha = if self.w_est as f32 >= self.cwnd_prior {
            1.0
        } else {
            ALPHA_CUBIC
        };
        self.w_est += alpha * segments_acked / cwnd;

        let increase = if self.w_cubic(t) < self.w_est {
            // Reno-friendly region: cwnd follows W_est (never backwards:
            // cwnd may already be ahead, having aimed one RTT further
            // along the curve).
            self.w_est - cwnd
        } else {
            // Concave (cwnd < W_max, section 4.4) or convex (section 4.5)
            // region: aim at where the curve will be one RTT from now,
            // clamped so that growth is neither negative nor faster than
            // slow start's (section 4.2), and close the gap over one
            // window: (target − cwnd)/cwnd per segment acknowledged
            // (RFC 9438 writes it per ACK of one segment; counting
            // segments keeps delayed ACKs from halving the growth).
            let rtt = ack.srtt.or(ack.rtt).unwrap_or(Duration::ZERO);
            let target = self.w_cubic(t + secs(rtt)).min(1.5 * cwnd).max(cwnd);
            (target - cwnd) / cwnd * segments_acked
        };
        self.grow(increase);
    }
}

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "cubic"
    }

    fn init(&mut self, _now: Instant, mss: u32, initial_window: u32) {
        *self = Cubic {
            // "Arbitrarily high" (RFC 5681 3.1).
            ssthresh: u32::MAX,
            ..Cubic::default()
        };
        self.set_mss(mss);
        self.set_cwnd(initial_window);
    }

    fn on_ack(&mut self, ack: &AckEvent) {
        self.set_mss(ack.mss);
        // No growth in recovery: the connection's PRR paces the sender
        // towards ssthresh, and on_recovery_end sets cwnd.
        if ack.in_recovery || ack.delivered == 0 {
            return;
        }
        if self.cwnd < self.ssthresh {
            self.slow_start(ack);
        } else {
            self.congestion_avoidance(ack);
        }
    }

    fn on_congestion(&mut self, ev: &CongestionEvent) {
        self.set_mss(ev.mss);
        self.save_prior(ev.now);
        let cwnd = self.cwnd_segs();
        // Fast convergence (section 4.7): a window that shrank since the
        // last event means a new flow is taking bandwidth; release some
        // by remembering a lower plateau. Compared at W_max's precision,
        // so that a window equal to it does not count as shrunk.
        self.w_max = if (cwnd as f32) < self.w_max {
            (cwnd * (1.0 + BETA_CUBIC) / 2.0) as f32
        } else {
            cwnd as f32
        };
        // Multiplicative decrease (section 4.6), from the flight rather
        // than cwnd, so that an application-limited window is not
        // remembered. ECN reduces alike (the connection gives one episode
        // per window either way). cwnd itself follows at recovery end.
        self.cwnd_prior = cwnd as f32;
        self.ssthresh = Self::reduced(ev.in_flight, self.mss());
        // The next stage starts on the first ACK after recovery.
        self.stage = Stage::None;
        // A loss before the first stage after a timeout: the curve is this
        // reduction's, with the W_max just set.
        self.after_timeout = false;
        // HyStart++ ends at the first congestion signal (RFC 9406 4.2).
        self.hystart.reset();
    }

    fn on_recovery_end(&mut self, _now: Instant) {
        // cwnd = max(ssthresh, 2) (section 4.6); ssthresh is already at
        // least two segments.
        self.set_cwnd(self.ssthresh);
    }

    fn on_timeout(&mut self, now: Instant, in_flight: u32, mss: u32, first: bool) {
        self.set_mss(mss);
        if first {
            // Section 4.8: ssthresh by β_cubic as for any reduction; the
            // next avoidance stage starts its own curve (K = 0, W_max =
            // cwnd_epoch), so W_max is left for undo.
            self.save_prior(now);
            self.cwnd_prior = self.cwnd_segs() as f32;
            self.ssthresh = Self::reduced(in_flight, self.mss());
        }
        // Reno's loss window, one segment (RFC 5681 3.1), then slow start
        // up to ssthresh.
        self.set_cwnd(self.mss());
        self.stage = Stage::None;
        self.after_timeout = true;
        self.hystart.reset();
    }

    fn on_spurious(&mut self, now: Instant) {
        // Section 4.9: undo the reduction, restoring the window and the
        // curve it was on. Taking the record frees it.
        let Some(p) = self.prior.take() else {
            return;
        };
        self.ssthresh = self.ssthresh.max(p.ssthresh);
        self.w_max = p.w_max;
        self.cwnd_prior = p.cwnd_prior;
        self.after_timeout = p.after_timeout;
        self.stage = p.stage;
        self.k = p.k;
        self.w_est = p.w_est;
        // The curve resumes where it was interrupted: the time since the
        // reduction is not counted, as for an application-limited period,
        // by moving t_epoch forward. A paused stage keeps the pause's
        // start, so its d shrinks by as much, and may go below zero: the
        // curve then stays at t = 0 until that time has passed.
        let gap = now.micros().saturating_sub(p.at.micros());
        self.clock = match p.stage {
            Stage::Growing => p.clock.saturating_add(gap),
            Stage::Paused => p.clock.wrapping_sub(gap),
            Stage::None => p.clock,
        };
        self.set_cwnd(self.cwnd.max(p.cwnd));
    }

    fn on_idle_restart(&mut self, _now: Instant, restart_window: u32) {
        // RFC 5681 4.1. The old curve's clock ran while nothing was sent:
        // a new stage starts from the restarted window (keeping W_max).
        self.set_cwnd(self.cwnd.min(restart_window.max(self.mss())));
        self.stage = Stage::None;
        if self.ssthresh == u32::MAX {
            // Still the initial slow start: HyStart++ measures afresh.
            self.hystart.reset();
        }
    }

    fn on_mss_change(&mut self, old: u32, new: u32) {
        if old == 0 || new == 0 {
            return;
        }
        // The curve's state is in segments and needs no change: scaling
        // the byte windows by new/old keeps them the same in segments.
        let scale = |w: u32| {
            (u64::from(w) * u64::from(new) / u64::from(old)).min(u64::from(u32::MAX)) as u32
        };
        self.set_mss(new);
        self.set_cwnd(scale(self.cwnd).max(new));
        if self.ssthresh != u32::MAX {
            self.ssthresh = scale(self.ssthresh).max(new.saturating_mul(2));
        }
        if let Some(p) = &mut self.prior {
            p.cwnd = scale(p.cwnd);
            if p.ssthresh != u32::MAX {
                p.ssthresh = scale(p.ssthresh);
            }
        }
    }

    fn cwnd(&self) -> u32 {
        self.cwnd
    }

    fn ssthresh(&self) -> u32 {
        self.ssthresh
    }
}

/// An ACK clock for the tests of this module and of HyStart++.
#[cfg(test)]
pub(super) mod sim {
    use crate::cc::{AckEvent, CongestionControl, CongestionEvent, Signal};
    use crate::time::Instant;
    use core::time::Duration;
    use std::collections::VecDeque;

    /// Every segment is this long.
    pub(crate) const MSS: u32 = 1000;

    /// A sender with unlimited data on a path of a given RTT: each segment
    /// is acknowledged (one ACK per segment) one RTT after it was sent,
    /// and each ACK lets the sender fill cwnd again. A window sent
    /// together comes back together, so time advances by one RTT per
    /// window. The RTT applies to segments sent after it is set.
    pub(crate) struct Sim {
        pub(crate) now: Instant,
        pub(crate) rtt: Duration,
        /// Marks the ACKs application-limited.
        pub(crate) app_limited: bool,
        in_recovery: bool,
        snd_una: u32,
        snd_nxt: u32,
        /// Send time and RTT of each segment in flight, oldest first.
        flight: VecDeque<(Instant, Duration)>,
        min_rtt: Option<Duration>,
    }

    impl Sim {
        pub(crate) fn new(rtt: Duration) -> Sim {
            Sim {
                now: Instant::from_secs(1),
                rtt,
                app_limited: false,
                in_recovery: false,
                // Close to the wrap, so that sequence comparisons are
                // tested across it.
                snd_una: u32::MAX - 50 * MSS,
                snd_nxt: u32::MAX - 50 * MSS,
                flight: VecDeque::new(),
                min_rtt: None,
            }
        }

        pub(crate) fn snd_una(&self) -> u32 {
            self.snd_una
        }

        pub(crate) fn snd_nxt(&self) -> u32 {
            self.snd_nxt
        }

        pub(crate) fn in_flight(&self) -> u32 {
            self.snd_nxt.wrapping_sub(self.snd_una)
        }

        /// Sends whole segments while cwnd allows (nothing in recovery:
        /// the test stands in for PRR by letting the flight drain).
        pub(crate) fn send(&mut self, c: &dyn CongestionControl) {
            while !self.in_recovery && self.in_flight() + MSS <= c.cwnd() {
                self.flight.push_back((self.now, self.rtt));
                self.snd_nxt = self.snd_nxt.wrapping_add(MSS);
            }
        }

        /// The ACK of the oldest segment in flight.
        pub(crate) fn ack(&mut self, c: &mut dyn CongestionControl) {
            let (sent, rtt) = self.flight.pop_front().expect("nothing in flight");
            self.now = self.now.max(sent + rtt);
            let sample = self.now.saturating_since(sent);
            self.min_rtt = Some(self.min_rtt.map_or(sample, |m| m.min(sample)));
            let prior_in_flight = self.in_flight();
            self.snd_una = self.snd_una.wrapping_add(MSS);
            c.on_ack(&AckEvent {
                now: self.now,
                acked: MSS,
                delivered: MSS,
                prior_in_flight,
                in_flight: self.in_flight(),
                rtt: Some(sample),
                min_rtt: self.min_rtt,
                srtt: Some(sample),
                app_limited: self.app_limited,
                in_recovery: self.in_recovery,
                mss: MSS,
                snd_nxt: self.snd_nxt,
                snd_una: self.snd_una,
            });
            self.send(c);
        }

        /// Acknowledges everything in flight now (one window).
        pub(crate) fn round(&mut self, c: &mut dyn CongestionControl) {
            let end = self.snd_nxt;
            while self.snd_una != end {
                self.ack(c);
            }
        }

        /// Runs the ACK clock up to `t`.
        pub(crate) fn run_until(&mut self, c: &mut dyn CongestionControl, t: Instant) {
            while let Some(&(sent, rtt)) = self.flight.front() {
                if self.now.max(sent + rtt) > t {
                    break;
                }
                self.ack(c);
            }
            self.now = self.now.max(t);
        }

        /// A congestion event now, then one round of recovery (no growth,
        /// nothing sent), then the window the algorithm chose.
        pub(crate) fn congestion(&mut self, c: &mut dyn CongestionControl, signal: Signal) {
            c.on_congestion(&CongestionEvent {
                now: self.now,
                signal,
                in_flight: self.in_flight(),
                mss: MSS,
            });
            self.in_recovery = true;
            self.round(c);
            self.in_recovery = false;
            c.on_recovery_end(self.now);
            self.send(c);
        }

        /// A retransmission timeout now: everything in flight is lost and
        /// sent again from SND.UNA as the window allows.
        pub(crate) fn timeout(&mut self, c: &mut dyn CongestionControl) {
            c.on_timeout(self.now, self.in_flight(), MSS, true);
            self.flight.clear();
            self.snd_nxt = self.snd_una;
            self.send(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sim::{MSS, Sim};
    use super::*;
    use crate::cc::Signal;

    const MS: Duration = Duration::from_millis(1);

    /// The avoidance stage as the tests look at it: t_epoch as an instant
    /// (`NEVER` while paused, when `clock` holds something else), K
    /// widened to f64.
    #[derive(Clone, Copy, Debug)]
    struct Epoch {
        t_epoch: Instant,
        k: f64,
        w_est: f64,
    }

    impl Cubic {
        fn epoch(&self) -> Option<Epoch> {
            let t_epoch = match self.stage {
                Stage::None => return None,
                Stage::Growing => Instant::from_micros(self.clock),
                Stage::Paused => Instant::NEVER,
            };
            Some(Epoch {
                t_epoch,
                k: f64::from(self.k),
                w_est: self.w_est,
            })
        }
    }

    /// Every connection holds its Cubic inline, with a budget of 512 bytes
    /// per idle connection: at most 80 bytes here, HyStart++ included
    /// (72 on 64-bit targets today); the undo record is boxed, so an idle
    /// connection pays only its pointer.
    #[test]
    fn fits_in_every_connection() {
        assert!(size_of::<Cubic>() <= 80, "{}", size_of::<Cubic>());
        // Today's layout, so that growing it is a decision, not an accident.
        assert!(size_of::<Cubic>() <= 72, "{}", size_of::<Cubic>());
        assert_eq!(size_of::<Option<Box<Prior>>>(), size_of::<usize>());
    }

    fn segs(c: &Cubic) -> f64 {
        f64::from(c.cwnd()) / f64::from(MSS)
    }

    /// Slow start from 10 segments on a path of `rtt` until cwnd is 100
    /// segments (a full flight), then a loss and its recovery.
    fn after_loss_at_100(rtt: Duration) -> (Cubic, Sim) {
        let mut c = Cubic::default();
        c.init(Instant::ZERO, MSS, 10 * MSS);
        let mut sim = Sim::new(rtt);
        sim.send(&c);
        while c.cwnd() < 100 * MSS {
            sim.ack(&mut c);
        }
        assert_eq!(sim.in_flight(), 100 * MSS);
        sim.congestion(&mut c, Signal::Loss);
        (c, sim)
    }

    /// The first ACK of the avoidance stage after `after_loss_at_100`.
    fn epoch_start(c: &mut Cubic, sim: &mut Sim) -> Epoch {
        assert!(c.epoch().is_none());
        sim.ack(c);
        c.epoch().expect("an avoidance ACK starts the stage")
    }

    #[test]
    fn constants_and_cube_root() {
        assert_eq!(Cubic::default().name(), "cubic");
        assert!((ALPHA_CUBIC - 9.0 / 17.0).abs() < 1e-15);
        for x in [1e-9, 0.001, 1.0, 2.0, 8.0, 75.0, 1e6, 1e18] {
            let y = cbrt(x);
            assert!((y * y * y - x).abs() <= x * 1e-14, "cbrt({x}) = {y}");
        }
        assert_eq!(cbrt(27.0), 3.0);
        assert_eq!(cbrt(0.0), 0.0);
        assert_eq!(cbrt(-1.0), 0.0);
    }

    /// CC-12 (RFC 9438 4.6, 4.7): a loss at 100 segments leaves 70
    /// (β = 0.7), saving cwnd_prior = W_max = 100; the next loss at 90,
    /// below that W_max, sets W_max = 90 · (1 + β)/2 = 76.5 (fast
    /// convergence) and ssthresh = 0.7 · 90 = 63.
    #[test]
    fn cc_12_beta_decrease_and_fast_convergence() {
        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        assert_eq!(c.ssthresh(), 70 * MSS);
        assert_eq!(c.cwnd(), 70 * MSS);
        assert_eq!((c.w_max, c.cwnd_prior), (100.0, 100.0));
        while c.cwnd() < 90 * MSS {
            sim.ack(&mut c);
        }
        let at = segs(&c);
        assert!(at < 90.5, "{at}");
        assert_eq!(sim.in_flight(), 90 * MSS);
        sim.congestion(&mut c, Signal::Loss);
        // W_max is stored as f32: within half an ulp (3.8e-6 at 76.5).
        assert!((f64::from(c.w_max) - 0.85 * at).abs() < 1e-5, "{}", c.w_max);
        assert!((c.w_max - 76.5).abs() < 0.5, "{}", c.w_max);
        assert_eq!(c.cwnd_prior, at as f32);
        assert_eq!(c.ssthresh(), 63 * MSS);
        assert_eq!(c.cwnd(), 63 * MSS);
        // A window above the last W_max sets W_max to itself.
        let mut c2 = c.clone();
        c2.w_max = 50.0;
        c2.on_congestion(&CongestionEvent {
            now: sim.now,
            signal: Signal::Loss,
            in_flight: 63 * MSS,
            mss: MSS,
        });
        assert_eq!(c2.w_max, 63.0);
    }

    /// CC-12: ECN-Echo reduces like a loss; ssthresh never goes below two
    /// segments.
    #[test]
    fn cc_12_ecn_and_floor() {
        let (loss, _) = after_loss_at_100(100 * MS);
        let mut c = Cubic::default();
        c.init(Instant::ZERO, MSS, 10 * MSS);
        let mut sim = Sim::new(100 * MS);
        sim.send(&c);
        while c.cwnd() < 100 * MSS {
            sim.ack(&mut c);
        }
        sim.congestion(&mut c, Signal::Ecn);
        assert_eq!((c.cwnd(), c.ssthresh()), (loss.cwnd(), loss.ssthresh()));
        assert_eq!((c.w_max, c.cwnd_prior), (loss.w_max, loss.cwnd_prior));
        c.on_congestion(&CongestionEvent {
            now: sim.now,
            signal: Signal::Loss,
            in_flight: 2 * MSS,
            mss: MSS,
        });
        assert_eq!(c.ssthresh(), 2 * MSS);
    }

    /// CC-13 (RFC 9438 4.2, 4.4, 4.5): after a loss at W_max = 100
    /// segments, K = ∛(30/0.4) ≈ 4.22 s and, with one ACK per segment at a
    /// 100 ms RTT, cwnd follows W_cubic(t) = 0.4(t − K)³ + 100: concave up
    /// to about 100 at t = K, flat there, convex after. From about 5.7 s
    /// the Reno-friendly estimate (section 4.3) is ahead and cwnd follows
    /// it instead: 9/17 segment per RTT from 70 up to cwnd_prior = 100,
    /// then one per RTT.
    #[test]
    fn cc_13_cubic_growth_returns_to_w_max_at_k() {
        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        assert_eq!(c.cwnd(), 70 * MSS);
        let e = epoch_start(&mut c, &mut sim);
        // K is stored as f32: within half an ulp (2.4e-7 at 4.2 s), so K³
        // is within 3K² times that (1.3e-5) of 75.
        assert!((e.k * e.k * e.k - 75.0).abs() < 2e-5, "K = {}", e.k);
        assert!((e.k - 4.2172).abs() < 1e-4);
        let w_cubic = |t: f64| 0.4 * (t - e.k).powi(3) + 100.0;
        let w_est = |t: f64| {
            let rtts = t / 0.1;
            let to_prior = 30.0 * 17.0 / 9.0;
            if rtts < to_prior {
                70.0 + rtts * 9.0 / 17.0
            } else {
                100.0 + rtts - to_prior
            }
        };
        let mut last = segs(&c);
        for t in [0.5, 1.0, 2.0, 3.0, 4.0, e.k, 5.0, 6.0, 7.0, 8.0] {
            sim.run_until(&mut c, e.t_epoch + Duration::from_secs_f64(t));
            let cwnd = segs(&c);
            if t <= 5.0 {
                assert!(w_cubic(t) > w_est(t) + 1.0, "t = {t}: the cubic region");
            }
            // cwnd aims one RTT ahead on the curve and closes most of the
            // gap each window: within a segment and a half.
            let expected = w_cubic(t).max(w_est(t));
            assert!(
                (cwnd - expected).abs() < 1.5,
                "t = {t}: cwnd {cwnd}, expected {expected}"
            );
            assert!(cwnd >= last);
            last = cwnd;
        }
        assert!((segs(&c) - w_est(8.0)).abs() < 1.5);
    }

    /// CC-13 (RFC 9438 5.8): an application-limited pause neither grows
    /// cwnd nor counts as time on the curve; afterwards cwnd goes on from
    /// where it stopped, as in the same flow without the pause, instead of
    /// jumping towards W_max.
    #[test]
    fn cc_13_app_limited_pause_does_not_jump() {
        let (mut steady, mut s1) = after_loss_at_100(100 * MS);
        let e1 = epoch_start(&mut steady, &mut s1);
        s1.run_until(&mut steady, e1.t_epoch + Duration::from_millis(1000));
        let expected = segs(&steady);

        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        let e = epoch_start(&mut c, &mut sim);
        sim.run_until(&mut c, e.t_epoch + Duration::from_millis(500));
        let before = c.cwnd();
        sim.app_limited = true;
        sim.run_until(&mut c, e.t_epoch + Duration::from_millis(4500));
        assert_eq!(c.cwnd(), before, "no growth while application-limited");
        sim.app_limited = false;
        sim.run_until(&mut c, e.t_epoch + Duration::from_millis(5000));
        let cwnd = segs(&c);
        assert!(
            (cwnd - expected).abs() < 1.5,
            "after the pause {cwnd}, without it {expected}"
        );
        assert!(cwnd < 90.0, "{cwnd}");
    }

    /// CC-14 (RFC 9438 4.3): at a 1 ms RTT the cubic curve hardly moves in
    /// a tenth of a second, and cwnd follows the Reno-friendly W_est:
    /// 9/17 segment per RTT from 70 until it reaches cwnd_prior = 100,
    /// then one segment per RTT.
    #[test]
    fn cc_14_reno_friendly_at_short_rtt() {
        let (mut c, mut sim) = after_loss_at_100(MS);
        let mut w_est = 70.0;
        for round in 1..=100 {
            sim.round(&mut c);
            w_est += if w_est >= 100.0 { 1.0 } else { 9.0 / 17.0 };
            let e = c.epoch().unwrap();
            let t = secs(sim.now.saturating_since(e.t_epoch));
            assert!(
                c.w_cubic(t) < e.w_est,
                "round {round}: Reno-friendly region"
            );
            let cwnd = segs(&c);
            assert!(
                (cwnd - w_est).abs() < 1.0,
                "round {round}: cwnd {cwnd}, W_est {w_est}"
            );
        }
        // 57 rounds at 9/17, then 43 at 1.
        assert!((segs(&c) - 143.0).abs() < 1.0, "{}", segs(&c));
    }

    /// CC-14 (RFC 9438 4.8): a timeout takes cwnd to one segment and
    /// ssthresh to 0.7 of the flight; slow start (without HyStart++) climbs
    /// back to it; the first avoidance stage then has K = 0 and W_max =
    /// cwnd_epoch, so growth is convex from there (or Reno-friendly, when
    /// W_est is ahead), not concave towards the old W_max of 100.
    #[test]
    fn cc_14_timeout_then_convex_epoch() {
        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        sim.round(&mut c);
        let flight = sim.in_flight();
        let prior = segs(&c);
        sim.timeout(&mut c);
        assert_eq!(c.cwnd(), MSS);
        assert_eq!(c.ssthresh(), beta_of(flight));
        assert_eq!(c.cwnd_prior, prior as f32);
        // A repeated timeout keeps ssthresh.
        c.on_timeout(sim.now, MSS, MSS, false);
        assert_eq!((c.cwnd(), c.ssthresh()), (MSS, beta_of(flight)));
        while c.cwnd() < c.ssthresh() {
            sim.ack(&mut c);
            assert!(c.epoch().is_none());
        }
        assert_eq!(c.cwnd(), beta_of(flight));
        let w0 = segs(&c);
        sim.ack(&mut c);
        let e = c.epoch().unwrap();
        assert_eq!(e.k, 0.0);
        assert_eq!(c.w_max, w0 as f32);
        // W_est started from cwnd_epoch and has had one ACK.
        assert!((e.w_est - w0 - 9.0 / 17.0 / w0).abs() < 1e-9);

        let convex = |t: f64| w0 + 0.4 * t * t * t;
        let w_est = |t: f64| {
            let rtts = t / 0.1;
            let to_prior = (prior - w0) * 17.0 / 9.0;
            if rtts < to_prior {
                w0 + rtts * 9.0 / 17.0
            } else {
                prior + rtts - to_prior
            }
        };
        // What the curve from the old W_max would give.
        let old_k = cbrt((100.0 - w0) / 0.4);
        let concave = |t: f64| 100.0 + 0.4 * (t - old_k).powi(3);
        for t in [1.0, 2.0, 3.0, 4.0, 5.0] {
            sim.run_until(&mut c, e.t_epoch + Duration::from_secs_f64(t));
            let cwnd = segs(&c);
            let expected = convex(t).max(w_est(t));
            assert!(
                (cwnd - expected).abs() < 1.5,
                "t = {t}: cwnd {cwnd}, expected {expected}"
            );
            if t < 5.0 {
                assert!(concave(t) - cwnd > 5.0, "t = {t}: {}", concave(t));
            }
        }
    }

    /// RFC 9438 4.2: the target is W_cubic(t + RTT) clamped to [cwnd,
    /// 1.5 · cwnd], so that growth is never faster than slow start's and
    /// never negative.
    #[test]
    fn target_is_clamped() {
        let now = Instant::from_secs(100);
        let ack = AckEvent {
            now,
            acked: MSS,
            delivered: MSS,
            prior_in_flight: 0,
            in_flight: 0,
            rtt: Some(100 * MS),
            min_rtt: None,
            srtt: Some(100 * MS),
            app_limited: false,
            in_recovery: false,
            mss: MSS,
            snd_nxt: 0,
            snd_una: 0,
        };
        let in_avoidance = |cwnd: u32, w_max: f64, t: u64, k: f64, w_est: f64| {
            let mut c = Cubic::default();
            c.init(Instant::ZERO, MSS, cwnd);
            c.ssthresh = cwnd;
            c.w_max = w_max as f32;
            c.cwnd_prior = w_max as f32;
            c.stage = Stage::Growing;
            c.clock = (now - Duration::from_secs(t)).micros();
            c.k = k as f32;
            c.w_est = w_est;
            c
        };
        // Ten seconds into a convex curve from 10 segments, W_cubic(t +
        // RTT) is over 400 segments: the target is 15, and one segment
        // acked closes a tenth of the gap.
        let mut c = in_avoidance(10 * MSS, 10.0, 10, 0.0, 10.0);
        c.on_ack(&ack);
        assert_eq!(c.cwnd(), 10 * MSS + 500);
        // At the start of a curve from 70 towards 100, a window of 90 is
        // above W_cubic(t + RTT) (about 72): no growth, no decrease.
        let mut c = in_avoidance(90 * MSS, 100.0, 0, cbrt(75.0), 50.0);
        c.on_ack(&ack);
        assert_eq!(c.cwnd(), 90 * MSS);
    }

    /// RFC 9438 4.10: when HyStart++ ends slow start without a loss,
    /// cwnd_prior = W_max = cwnd and the first stage has K = 0.
    #[test]
    fn hystart_exit_starts_convex_epoch() {
        let mut c = Cubic::default();
        c.init(Instant::ZERO, MSS, 10 * MSS);
        let mut sim = Sim::new(100 * MS);
        sim.send(&c);
        for _ in 0..3 {
            sim.round(&mut c);
        }
        sim.rtt = 120 * MS;
        while c.ssthresh() == u32::MAX {
            sim.ack(&mut c);
        }
        let w = segs(&c);
        assert_eq!(c.ssthresh(), c.cwnd());
        assert_eq!((c.w_max, c.cwnd_prior), (w as f32, w as f32));
        sim.ack(&mut c);
        let e = c.epoch().unwrap();
        assert_eq!(e.k, 0.0);
        assert_eq!(c.w_max, w as f32);
    }

    /// RFC 9438 4.9: undoing a spurious reduction restores cwnd, ssthresh,
    /// W_max and cwnd_prior, and the curve.
    #[test]
    fn spurious_reduction_is_undone() {
        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        sim.run_until(&mut c, sim.now + Duration::from_secs(1));
        let before = (c.cwnd(), c.ssthresh(), c.w_max, c.cwnd_prior);
        let k = c.epoch().unwrap().k;
        sim.congestion(&mut c, Signal::Loss);
        assert!(c.cwnd() < before.0);
        c.on_spurious(sim.now);
        assert_eq!((c.cwnd(), c.ssthresh(), c.w_max, c.cwnd_prior), before);
        assert_eq!(c.epoch().unwrap().k, k);
        // Nothing more to undo.
        c.on_spurious(sim.now);
        assert_eq!(c.cwnd(), before.0);

        // A timeout too, including the first loss's ssthresh.
        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        sim.round(&mut c);
        let before = (c.cwnd(), c.ssthresh(), c.w_max, c.cwnd_prior);
        sim.timeout(&mut c);
        c.on_spurious(sim.now);
        assert_eq!((c.cwnd(), c.ssthresh(), c.w_max, c.cwnd_prior), before);
        assert!(!c.after_timeout);
    }

    /// Slow start counts bytes (at most one MSS per ACK); nothing grows in
    /// recovery or from application-limited data; the idle restart resets
    /// the stage; an MSS change scales the byte windows.
    #[test]
    fn slow_start_recovery_idle_and_mss() {
        let mut c = Cubic::default();
        c.init(Instant::ZERO, MSS, 4 * MSS);
        let mut a = AckEvent {
            now: Instant::ZERO,
            acked: 100,
            delivered: 100,
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
        };
        c.on_ack(&a);
        assert_eq!(c.cwnd(), 4 * MSS + 100);
        a.delivered = 5000;
        c.on_ack(&a);
        assert_eq!(c.cwnd(), 4 * MSS + 1100);
        a.in_recovery = true;
        c.on_ack(&a);
        a.in_recovery = false;
        a.app_limited = true;
        c.on_ack(&a);
        assert_eq!(c.cwnd(), 4 * MSS + 1100);

        let (mut c, mut sim) = after_loss_at_100(100 * MS);
        sim.run_until(&mut c, sim.now + Duration::from_secs(1));
        assert!(c.epoch().is_some());
        c.on_idle_restart(sim.now, 10 * MSS);
        assert_eq!(c.cwnd(), 10 * MSS);
        assert!(c.epoch().is_none());
        let (ssthresh, w_max) = (c.ssthresh(), c.w_max);
        c.on_mss_change(MSS, MSS / 2);
        assert_eq!((c.cwnd(), c.ssthresh()), (5 * MSS, ssthresh / 2));
        assert_eq!(c.w_max, w_max, "W_max is in segments");
    }
}
