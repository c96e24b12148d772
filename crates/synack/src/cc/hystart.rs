//! HyStart++ (RFC 9406): leaving slow start when the round-trip time starts
//! to rise, before the queue overflows, instead of at the first loss.
//!
//! Slow start is measured in rounds (section 4.2): a round ends when the
//! cumulative ACK passes `windowEnd`, the SND.NXT recorded when the round
//! began. Each round keeps the smallest RTT sample it saw. Once a round has
//! N_RTT_SAMPLE samples and its minimum exceeds the previous round's by
//! RttThresh, slow start ends and Conservative Slow Start (CSS) begins:
//! growth at a quarter of the slow-start rate for at most CSS_ROUNDS rounds.
//! If the RTT falls back below the value that triggered CSS, the exit was
//! spurious (jitter) and slow start resumes; if CSS runs its rounds, the
//! algorithm enters congestion avoidance with ssthresh = cwnd.
//!
//! The congestion-control algorithm owns the window; this struct only keeps
//! the round and RTT bookkeeping and says how fast to grow and when to stop.
//! [`Cubic`](super::Cubic) consults it during the initial slow start only
//! (section 4.3: the later slow starts, after a loss or a timeout, are
//! bounded by the ssthresh the reduction chose).

use super::AckEvent;
use crate::seq::SeqNum;
use core::time::Duration;

/// HyStart++ slow-start exit (RFC 9406): the per-round RTT state and the
/// Conservative Slow Start phase.
///
/// Every connection holds one inline (inside [`Cubic`](super::Cubic)), so
/// it is kept to 20 bytes: RTTs as whole microseconds in a `u32`, with
/// `u32::MAX` standing for the RFC's infinity, and the counters, which
/// never pass a few units, in bytes. A `u32` of microseconds holds RTTs up
/// to 71 minutes; a longer sample is taken as the largest finite value.
/// Below a microsecond nothing is lost: the engine's clock counts whole
/// microseconds, so its RTT samples do too.
#[derive(Clone, Debug)]
pub struct HyStart {
    /// `windowEnd`: the SND.NXT recorded when the current round began; the
    /// round ends when SND.UNA passes it. Meaningful once `in_round`.
    window_end: u32,
    /// `lastRoundMinRTT`, in microseconds ([`INFINITY`] until a round has
    /// ended with a sample).
    last_round_min_rtt: u32,
    /// `currentRoundMinRTT`, in microseconds ([`INFINITY`] before the
    /// round's first sample).
    current_round_min_rtt: u32,
    /// `cssBaselineMinRtt`, in microseconds: the round minimum that ended
    /// slow start while in CSS, [`INFINITY`] otherwise (as the RFC resets
    /// it).
    css_baseline_min_rtt: u32,
    /// `rttSampleCount`: RTT samples taken in the current round. Only
    /// compared with N_RTT_SAMPLE, so saturating at 255 changes nothing.
    rtt_sample_count: u8,
    /// Rounds that ended while in CSS (the round CSS began in counts); at
    /// most CSS_ROUNDS.
    css_rounds: u8,
    /// Bytes of CSS growth not yet credited to cwnd: the divided increase
    /// keeps its remainder (below CSS_GROWTH_DIVISOR) instead of rounding
    /// it away.
    css_carry: u8,
    /// A round is in progress: false until the first ACK, which starts
    /// one (`windowEnd` has no value to compare with before it).
    in_round: bool,
}

/// The RFC's infinity for the RTT fields: no sample yet. Being the largest
/// value, it needs no special case in a minimum.
const INFINITY: u32 = u32::MAX;

/// An RTT sample in whole microseconds, never [`INFINITY`].
fn micros(rtt: Duration) -> u32 {
    u32::try_from(rtt.as_micros()).map_or(INFINITY - 1, |us| us.min(INFINITY - 1))
}

/// Microseconds back to a duration, for RttThresh's arithmetic.
fn duration(us: u32) -> Duration {
    Duration::from_micros(u64::from(us))
}

impl Default for HyStart {
    /// Section 4.2's initialisation: every minimum at infinity, no round
    /// begun, not in CSS.
    fn default() -> HyStart {
        HyStart {
            window_end: 0,
            last_round_min_rtt: INFINITY,
            current_round_min_rtt: INFINITY,
            css_baseline_min_rtt: INFINITY,
            rtt_sample_count: 0,
            css_rounds: 0,
            css_carry: 0,
            in_round: false,
        }
    }
}

impl HyStart {
    /// `L` (section 4.2): the most one ACK may grow cwnd, in segments.
    ///
    /// RFC 9406 4.3 recommends L = 8 for unpaced senders (infinity when
    /// paced); this engine keeps RFC 5681's slow start of at most one SMSS
    /// per ACK (equation 2, as [`NewReno`](super::NewReno) does), so that a
    /// stretch ACK releases no burst larger than with the other algorithms.
    pub const L: u32 = 1;
    /// `MIN_RTT_THRESH` (section 4.3): the smallest RTT rise that counts.
    pub const MIN_RTT_THRESH: Duration = Duration::from_millis(4);
    /// `MAX_RTT_THRESH` (section 4.3): the largest RTT rise required.
    pub const MAX_RTT_THRESH: Duration = Duration::from_millis(16);
    /// `MIN_RTT_DIVISOR` (section 4.3): RttThresh is an eighth of the RTT.
    pub const MIN_RTT_DIVISOR: u32 = 8;
    /// `N_RTT_SAMPLE` (section 4.3): samples a round needs before its
    /// minimum is trusted.
    pub const N_RTT_SAMPLE: u32 = 8;
    /// `CSS_GROWTH_DIVISOR` (section 4.3): CSS grows at a quarter of slow
    /// start's rate.
    pub const CSS_GROWTH_DIVISOR: u32 = 4;
    /// `CSS_ROUNDS` (section 4.3): the longest CSS lasts.
    pub const CSS_ROUNDS: u32 = 5;

    /// A fresh state, as at the start of a connection (section 4.2's
    /// initialisation: every minimum at infinity, no round begun).
    pub fn new() -> HyStart {
        HyStart::default()
    }

    /// Forget everything, as for a new slow start: HyStart++ ends at the
    /// first loss or ECN mark (section 4.2), and starts afresh if it is
    /// used again.
    pub fn reset(&mut self) {
        *self = HyStart::default();
    }

    /// Whether the sender is in Conservative Slow Start.
    pub fn in_css(&self) -> bool {
        self.css_baseline_min_rtt != INFINITY
    }

    /// The slow-start increase, in bytes, for an ACK that delivered
    /// `delivered` bytes (section 4.2): min(N, L·SMSS), divided by
    /// CSS_GROWTH_DIVISOR in CSS. The caller adds it to cwnd.
    pub fn increase(&mut self, delivered: u32, mss: u32) -> u32 {
        let n = delivered.min(Self::L.saturating_mul(mss));
        if !self.in_css() {
            return n;
        }
        let total = u32::from(self.css_carry).saturating_add(n);
        // The remainder is below the divisor (4), so it fits the byte.
        self.css_carry = (total % Self::CSS_GROWTH_DIVISOR) as u8;
        total / Self::CSS_GROWTH_DIVISOR
    }

    /// RttThresh (section 4.2): an eighth of the last round's minimum,
    /// clamped to [MIN_RTT_THRESH, MAX_RTT_THRESH], so that short paths
    /// are not fooled by jitter and long ones do not wait for a large
    /// queue.
    fn rtt_thresh(last_round_min_rtt: Duration) -> Duration {
        (last_round_min_rtt / Self::MIN_RTT_DIVISOR)
            .clamp(Self::MIN_RTT_THRESH, Self::MAX_RTT_THRESH)
    }

    /// Feed one ACK received during slow start or CSS, after the caller
    /// applied [`increase`](Self::increase). Returns true when CSS has run
    /// CSS_ROUNDS rounds: the caller then enters congestion avoidance with
    /// ssthresh = cwnd (section 4.2; RFC 9438 4.10 for CUBIC).
    pub fn on_ack(&mut self, ack: &AckEvent) -> bool {
        // Rounds (section 4.2). The ACK that passes windowEnd acknowledges
        // data sent after the round began, so the new round starts before
        // its RTT sample is taken: a round's minimum is over the data sent
        // in it.
        if !self.in_round {
            self.in_round = true;
            self.window_end = ack.snd_nxt;
        } else if SeqNum(ack.snd_una).gt(SeqNum(self.window_end)) {
            if self.in_css() {
                // The round CSS began in counts as one of its rounds,
                // partial as it was.
                self.css_rounds += 1;
                if u32::from(self.css_rounds) >= Self::CSS_ROUNDS {
                    self.reset();
                    return true;
                }
            }
            self.last_round_min_rtt = self.current_round_min_rtt;
            self.current_round_min_rtt = INFINITY;
            self.rtt_sample_count = 0;
            self.window_end = ack.snd_nxt;
        }

        let Some(rtt) = ack.rtt else {
            return false;
        };
        // Finite from here on: this round has a sample.
        let current = self.current_round_min_rtt.min(micros(rtt));
        self.current_round_min_rtt = current;
        self.rtt_sample_count = self.rtt_sample_count.saturating_add(1);
        if u32::from(self.rtt_sample_count) < Self::N_RTT_SAMPLE {
            return false;
        }
        if !self.in_css() {
            // Delay increase: the queue is building, leave slow start. The
            // comparison is in Durations, as RttThresh may have a fraction
            // of a microsecond (an eighth of the minimum).
            let last = self.last_round_min_rtt;
            if last != INFINITY
                && duration(current) >= duration(last) + Self::rtt_thresh(duration(last))
            {
                self.css_baseline_min_rtt = current;
                self.css_rounds = 0;
                self.css_carry = 0;
            }
        } else if current < self.css_baseline_min_rtt {
            // The RTT came back down: the rise was jitter, not a queue,
            // and the exit was spurious. Resume slow start (with HyStart++
            // still watching).
            self.css_baseline_min_rtt = INFINITY;
            self.css_rounds = 0;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cc::cubic::sim::{MSS, Sim};
    use crate::cc::{CongestionControl, Cubic};
    use crate::time::Instant;

    fn ack(snd_una: u32, snd_nxt: u32, rtt: Duration) -> AckEvent {
        AckEvent {
            now: Instant::ZERO,
            acked: MSS,
            delivered: MSS,
            prior_in_flight: 0,
            in_flight: 0,
            rtt: Some(rtt),
            min_rtt: None,
            srtt: None,
            app_limited: false,
            in_recovery: false,
            mss: MSS,
            snd_nxt,
            snd_una,
        }
    }

    /// Feeds HyStart one round of `n` ACKs with the given RTT, the first of
    /// which passes the previous round's windowEnd. Returns the sequence
    /// position for the next round.
    fn round(h: &mut HyStart, mut una: u32, n: u32, rtt: Duration) -> u32 {
        let nxt = una + 100 * MSS;
        for _ in 0..n {
            una += MSS;
            h.on_ack(&ack(una, nxt, rtt));
        }
        nxt
    }

    /// Every connection holds a HyStart (inside its Cubic): four u32 and
    /// four bytes, down from 72 bytes with Option<Duration> fields.
    #[test]
    fn fits_in_twenty_bytes() {
        assert!(size_of::<HyStart>() <= 20, "{}", size_of::<HyStart>());
    }

    /// Section 4.2: RttThresh = clamp(lastRoundMinRTT / 8, 4 ms, 16 ms).
    #[test]
    fn rtt_thresh_clamps() {
        let ms = Duration::from_millis;
        assert_eq!(HyStart::rtt_thresh(ms(10)), ms(4));
        assert_eq!(HyStart::rtt_thresh(ms(100)), Duration::from_micros(12_500));
        assert_eq!(HyStart::rtt_thresh(ms(400)), ms(16));
    }

    /// The exit needs a rise of at least RttThresh over the last round's
    /// minimum, judged on N_RTT_SAMPLE samples, and the previous round's
    /// minimum to compare with; each bound of the clamp is exercised.
    #[test]
    fn exit_threshold_by_rtt() {
        let ms = Duration::from_millis;
        let us = Duration::from_micros;
        for (base, below, at) in [
            (ms(10), us(13_999), ms(14)),        // 4 ms floor
            (ms(100), us(112_499), us(112_500)), // 100 / 8
            (ms(400), us(415_999), ms(416)),     // 16 ms ceiling
        ] {
            let mut h = HyStart::new();
            let una = round(&mut h, 0, 10, base);
            round(&mut h, una, 10, below);
            assert!(
                !h.in_css(),
                "{base:?}: a rise to {below:?} is under the threshold"
            );
            let mut h = HyStart::new();
            let una = round(&mut h, 0, 10, base);
            round(&mut h, una, 10, at);
            assert!(
                h.in_css(),
                "{base:?}: a rise to {at:?} reaches the threshold"
            );
        }
        // The first round has nothing to compare with, however high.
        let mut h = HyStart::new();
        round(&mut h, 0, 20, ms(500));
        assert!(!h.in_css());
        // Seven samples are not enough.
        let mut h = HyStart::new();
        let una = round(&mut h, 0, 10, ms(100));
        round(&mut h, una, 7, ms(200));
        assert!(!h.in_css());
    }

    /// Section 4.2 through CUBIC, on an ACK clock: a slow start whose RTT
    /// rises by more than RttThresh exits to CSS on the eighth sample of
    /// the round, grows a quarter MSS per ACK in CSS, and after CSS_ROUNDS
    /// rounds (the partial one it began in and four more) enters avoidance
    /// with ssthresh = cwnd.
    #[test]
    fn delay_rise_exits_to_css_then_avoidance() {
        let mut c = Cubic::default();
        c.init(Instant::ZERO, MSS, 10 * MSS);
        let mut sim = Sim::new(Duration::from_millis(100));
        sim.send(&c);
        // Three rounds at a steady 100 ms: plain slow start.
        for _ in 0..3 {
            sim.round(&mut c);
        }
        assert_eq!(c.cwnd(), 80 * MSS);
        assert_eq!(c.ssthresh(), u32::MAX);
        // What is sent now comes back 15 ms later: more than 100 / 8.
        sim.rtt = Duration::from_millis(115);
        sim.round(&mut c);
        assert_eq!(c.cwnd(), 160 * MSS, "the delayed data is not acked yet");
        // The first seven samples of the slow round: still slow start.
        let end = sim.snd_nxt();
        for _ in 0..7 {
            let before = c.cwnd();
            sim.ack(&mut c);
            assert_eq!(c.cwnd() - before, MSS);
        }
        // The eighth grows as slow start, then ends it.
        let before = c.cwnd();
        sim.ack(&mut c);
        assert_eq!(c.cwnd() - before, MSS);
        // The rest of that round, and four more, grow by MSS / 4 per ACK.
        while sim.snd_una() != end {
            let before = c.cwnd();
            sim.ack(&mut c);
            assert_eq!(c.cwnd() - before, MSS / HyStart::CSS_GROWTH_DIVISOR);
        }
        for _ in 0..4 {
            let end = sim.snd_nxt();
            while sim.snd_una() != end {
                let before = c.cwnd();
                sim.ack(&mut c);
                assert_eq!(c.cwnd() - before, MSS / 4);
                assert_eq!(c.ssthresh(), u32::MAX, "CSS has not run its rounds");
            }
        }
        // The first ACK of the next round completes the fifth CSS round.
        sim.ack(&mut c);
        assert_eq!(c.ssthresh(), c.cwnd(), "CSS done: ssthresh = cwnd");
        // From here it is congestion avoidance: well under a segment per
        // ACK.
        let before = c.cwnd();
        for _ in 0..10 {
            sim.ack(&mut c);
        }
        assert!(c.cwnd() - before < MSS, "{}", c.cwnd() - before);
    }

    /// Section 4.2: in CSS, a round whose minimum RTT falls back below the
    /// baseline that ended slow start shows the rise was jitter: slow
    /// start resumes at full rate.
    #[test]
    fn rtt_falling_back_resumes_slow_start() {
        let mut c = Cubic::default();
        c.init(Instant::ZERO, MSS, 10 * MSS);
        let mut sim = Sim::new(Duration::from_millis(100));
        sim.send(&c);
        for _ in 0..3 {
            sim.round(&mut c);
        }
        sim.rtt = Duration::from_millis(115);
        sim.round(&mut c);
        // Back to 100 ms for what is sent from now on, one round later.
        sim.rtt = Duration::from_millis(100);
        let end = sim.snd_nxt();
        for _ in 0..8 {
            sim.ack(&mut c);
        }
        let before = c.cwnd();
        sim.ack(&mut c);
        assert_eq!(c.cwnd() - before, MSS / 4, "in CSS");
        while sim.snd_una() != end {
            sim.ack(&mut c);
        }
        // The next round comes back at 100 ms: seven samples leave CSS
        // alone; the eighth ends it.
        for _ in 0..8 {
            let before = c.cwnd();
            sim.ack(&mut c);
            assert_eq!(c.cwnd() - before, MSS / 4);
        }
        for _ in 0..20 {
            let before = c.cwnd();
            sim.ack(&mut c);
            assert_eq!(c.cwnd() - before, MSS, "slow start again");
        }
        assert_eq!(c.ssthresh(), u32::MAX);
    }

    /// CSS growth keeps the remainder of the division: four ACKs of an MSS
    /// that is not a multiple of four add exactly one MSS.
    #[test]
    fn css_growth_keeps_remainder() {
        let mut h = HyStart::new();
        h.css_baseline_min_rtt = 100_000;
        let total: u32 = (0..4).map(|_| h.increase(1447, 1447)).sum();
        assert_eq!(total, 1447);
        // L = 1: a stretch ACK grows slow start by one MSS.
        let mut h = HyStart::new();
        assert_eq!(h.increase(5000, 1000), 1000);
    }
}
