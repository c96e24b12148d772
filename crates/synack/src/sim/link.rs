//! One direction of a simulated link: its impairments and its send queue.

use std::collections::VecDeque;
use std::time::Duration;

use super::rng::SimRng;
use crate::time::Instant;

/// Impairments of one direction of a link (from one node to another).
///
/// A packet handed to the link goes through, in this order: the MTU check,
/// the serialization queue (when `bandwidth_bps` is set), loss (the random
/// `loss` draw, then one step of the `burst` chain; either loses it),
/// corruption, then propagation (`delay`, plus up to `jitter`, plus
/// `reorder_delay` for packets chosen for reordering); a duplicate, if one
/// is made, is an uncorrupted copy with its own jitter and reordering draw.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per packet; packets sent
    /// closer together than the jitter can overtake each other.
    pub jitter: Duration,
    /// Serialization rate. With `Some`, each direction is a FIFO that sends
    /// one packet at a time taking `len * 8 / bandwidth` seconds; `None`
    /// sends instantly and never queues.
    pub bandwidth_bps: Option<u64>,
    /// Packets that may wait in (or be in the middle of leaving) the
    /// serialization FIFO; more are tail-dropped as [`Fate::QueueFull`].
    /// Meaningless without `bandwidth_bps`.
    ///
    /// [`Fate::QueueFull`]: super::Fate::QueueFull
    pub queue_limit: usize,
    /// Bytes that may wait in (or be in the middle of leaving) the FIFO,
    /// on top of `queue_limit`: a packet that would take the FIFO past
    /// this is tail-dropped as [`Fate::QueueFull`] (a byte FIFO, like
    /// Linux's `bfifo`). `None` limits packets only. Meaningless without
    /// `bandwidth_bps`; [`with_queue_bdp`](Self::with_queue_bdp) sizes it
    /// as one bandwidth-delay product.
    ///
    /// [`Fate::QueueFull`]: super::Fate::QueueFull
    pub queue_bytes: Option<usize>,
    /// Packets longer than this are dropped as [`Fate::TooBig`].
    ///
    /// [`Fate::TooBig`]: super::Fate::TooBig
    pub mtu: usize,
    /// Probability in `0..=1` that a packet is lost, independently of
    /// every other packet.
    pub loss: f64,
    /// Burst loss: a Gilbert–Elliott chain stepped once per packet that
    /// leaves the queue, in addition to `loss`. `None` for none.
    pub burst: Option<GilbertElliott>,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by an extra `reorder_delay`.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Probability that one random bit of the packet is flipped. The
    /// damaged packet is still delivered: catching it is the receiver's
    /// checksum's job.
    pub corrupt: f64,
    /// ECN marking (RFC 3168 5, as a RED or CoDel queue configured to
    /// mark does, reduced to a threshold): a packet that finds at least
    /// this many bytes waiting in the FIFO is marked Congestion
    /// Experienced if it is ECN-capable (ECT), instead of travelling
    /// unmarked. Tail drop when the FIFO is full still applies. `None`
    /// marks nothing. Meaningless without `bandwidth_bps`.
    pub ecn_mark_bytes: Option<usize>,
}

impl Default for LinkConfig {
    /// A clean 10 ms link: no jitter, infinite bandwidth, 1500-byte MTU.
    fn default() -> LinkConfig {
        let delay = Duration::from_millis(10);
        LinkConfig {
            delay,
            jitter: Duration::ZERO,
            bandwidth_bps: None,
            queue_limit: 1000,
            queue_bytes: None,
            mtu: 1500,
            loss: 0.0,
            burst: None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: delay,
            corrupt: 0.0,
            ecn_mark_bytes: None,
        }
    }
}

impl LinkConfig {
    /// The default link losing `percent` (0 to 100) of its packets.
    pub fn lossy(percent: f64) -> LinkConfig {
        LinkConfig::default().with_loss(percent / 100.0)
    }

    /// Sets the one-way delay. The reorder hold-back follows it when it
    /// still equals the old delay, keeping the "default = delay" rule.
    pub fn with_delay(mut self, delay: Duration) -> LinkConfig {
        if self.reorder_delay == self.delay {
            self.reorder_delay = delay;
        }
        self.delay = delay;
        self
    }

    /// Sets the jitter.
    pub fn with_jitter(mut self, jitter: Duration) -> LinkConfig {
        self.jitter = jitter;
        self
    }

    /// Sets the bandwidth in bits per second.
    pub fn with_bandwidth(mut self, bps: u64) -> LinkConfig {
        self.bandwidth_bps = Some(bps);
        self
    }

    /// Marks ECN-capable packets CE once `bytes` wait in the FIFO (see
    /// [`ecn_mark_bytes`](Self::ecn_mark_bytes)).
    pub fn with_ecn_marking(mut self, bytes: usize) -> LinkConfig {
        self.ecn_mark_bytes = Some(bytes);
        self
    }

    /// Sets the serialization queue limit in packets.
    pub fn with_queue_limit(mut self, packets: usize) -> LinkConfig {
        self.queue_limit = packets;
        self
    }

    /// Sets the serialization queue limit in bytes (see
    /// [`queue_bytes`](Self::queue_bytes)).
    pub fn with_queue_bytes(mut self, bytes: usize) -> LinkConfig {
        self.queue_bytes = Some(bytes);
        self
    }

    /// Limits the serialization queue to one bandwidth-delay product over
    /// the round trip `rtt` (the link knows only its own one-way delay, so
    /// the round trip is the caller's to say). Call it after
    /// [`with_bandwidth`](Self::with_bandwidth): without a bandwidth there
    /// is no queue, and nothing changes.
    pub fn with_queue_bdp(mut self, rtt: Duration) -> LinkConfig {
        if let Some(bytes) = self.bdp_bytes(rtt) {
            self.queue_bytes = Some(bytes);
        }
        self
    }

    /// The bytes that fill the link for `rtt`: bandwidth x round trip / 8,
    /// rounded down; `None` without a bandwidth.
    pub fn bdp_bytes(&self, rtt: Duration) -> Option<usize> {
        let bps = self.bandwidth_bps?;
        let bytes = u128::from(bps) * rtt.as_micros() / 8 / 1_000_000;
        Some(usize::try_from(bytes).unwrap_or(usize::MAX))
    }

    /// Sets the MTU in bytes.
    pub fn with_mtu(mut self, mtu: usize) -> LinkConfig {
        self.mtu = mtu;
        self
    }

    /// Sets the loss probability.
    pub fn with_loss(mut self, p: f64) -> LinkConfig {
        self.loss = p;
        self
    }

    /// Sets the burst-loss chain (see [`GilbertElliott`]).
    pub fn with_burst(mut self, chain: GilbertElliott) -> LinkConfig {
        self.burst = Some(chain);
        self
    }

    /// Sets the duplication probability.
    pub fn with_duplicate(mut self, p: f64) -> LinkConfig {
        self.duplicate = p;
        self
    }

    /// Sets the reordering probability and hold-back.
    pub fn with_reorder(mut self, p: f64, hold: Duration) -> LinkConfig {
        self.reorder = p;
        self.reorder_delay = hold;
        self
    }

    /// Sets the corruption probability.
    pub fn with_corrupt(mut self, p: f64) -> LinkConfig {
        self.corrupt = p;
        self
    }

    /// Time to clock `len` bytes onto the wire, rounded up to a whole
    /// microsecond (the clock's resolution) so back-to-back packets never
    /// share a departure instant; zero without a bandwidth limit.
    pub fn transmit_time(&self, len: usize) -> Duration {
        match self.bandwidth_bps {
            None => Duration::ZERO,
            Some(bps) => {
                let bits = len as u128 * 8 * 1_000_000;
                let us = bits.div_ceil(u128::from(bps));
                Duration::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
            }
        }
    }

    /// Refuses settings that have no meaning, at configuration time rather
    /// than in the middle of a run.
    pub(crate) fn validate(&self) -> Result<(), super::SimError> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ]
        .into_iter()
        .chain(self.burst.iter().flat_map(|b| {
            [
                ("burst.enter_bad", b.enter_bad),
                ("burst.leave_bad", b.leave_bad),
                ("burst.loss_good", b.loss_good),
                ("burst.loss_bad", b.loss_bad),
            ]
        })) {
            // A probability in 0..=1 (NaN fails this too).
            if !(0.0..=1.0).contains(&p) {
                return Err(super::SimError::BadLink(name, p));
            }
        }
        if self.bandwidth_bps == Some(0) {
            // None means unlimited; zero would never send.
            return Err(super::SimError::BadLink("bandwidth_bps", 0.0));
        }
        Ok(())
    }
}

/// Burst loss after Gilbert and Elliott: a two-state Markov chain, good and
/// bad, each with its own loss probability.
///
/// The chain starts good and is stepped once per packet leaving the
/// queue: the packet is lost with the current state's probability, then
/// the state changes with probability `enter_bad` (from good) or
/// `leave_bad` (from bad). In the long run a fraction
/// `enter_bad / (enter_bad + leave_bad)` of packets meets the bad state
/// ([`bad_fraction`](Self::bad_fraction)), the average loss is
/// [`mean_loss`](Self::mean_loss), and a stay in the bad state lasts
/// `1 / leave_bad` packets on average ([`mean_bad_run`](Self::mean_bad_run)),
/// which with Gilbert's simple model (`loss_good` 0, `loss_bad` 1, made by
/// [`bursts`](Self::bursts)) is the mean length of a run of losses.
///
/// Its draws come from the network's generator, so a seed reproduces the
/// losses; each direction of a link runs a chain of its own.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GilbertElliott {
    /// Probability, per packet sent in the good state, of moving to the
    /// bad state after it (often called p).
    pub enter_bad: f64,
    /// Probability, per packet sent in the bad state, of moving back to
    /// the good state after it (often called r).
    pub leave_bad: f64,
    /// Loss probability of a packet sent in the good state (1 - k).
    pub loss_good: f64,
    /// Loss probability of a packet sent in the bad state (1 - h).
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// The chain with these four probabilities (see the fields).
    pub fn new(enter_bad: f64, leave_bad: f64, loss_good: f64, loss_bad: f64) -> GilbertElliott {
        GilbertElliott {
            enter_bad,
            leave_bad,
            loss_good,
            loss_bad,
        }
    }

    /// Gilbert's simple model: every packet of a bad spell is lost and no
    /// other, runs of losses average `mean_burst` packets (at least 1) and
    /// the long-run loss is `mean_loss` (below 1). Arguments out of those
    /// ranges give probabilities that [`Network::set_link`] refuses.
    ///
    /// [`Network::set_link`]: super::Network::set_link
    pub fn bursts(mean_loss: f64, mean_burst: f64) -> GilbertElliott {
        let leave_bad = 1.0 / mean_burst;
        // Solves mean_loss = p / (p + r) for p.
        let enter_bad = leave_bad * mean_loss / (1.0 - mean_loss);
        GilbertElliott::new(enter_bad, leave_bad, 0.0, 1.0)
    }

    /// The long-run fraction of packets sent in the bad state, p / (p + r)
    /// (0 for a chain that never moves: it stays in the good state).
    pub fn bad_fraction(&self) -> f64 {
        let moves = self.enter_bad + self.leave_bad;
        if moves > 0.0 {
            self.enter_bad / moves
        } else {
            0.0
        }
    }

    /// The long-run loss probability per packet.
    pub fn mean_loss(&self) -> f64 {
        let bad = self.bad_fraction();
        (1.0 - bad) * self.loss_good + bad * self.loss_bad
    }

    /// The mean number of consecutive packets sent in the bad state, 1 / r.
    pub fn mean_bad_run(&self) -> f64 {
        1.0 / self.leave_bad
    }

    /// One packet through the chain in state `bad`: whether it is lost;
    /// `bad` moves on to the next packet's state.
    pub(crate) fn step(&self, bad: &mut bool, rng: &mut SimRng) -> bool {
        let (loss, flip) = if *bad {
            (self.loss_bad, self.leave_bad)
        } else {
            (self.loss_good, self.enter_bad)
        };
        let lost = rng.chance(loss);
        if rng.chance(flip) {
            *bad = !*bad;
        }
        lost
    }
}

/// The serialization FIFO of one link direction.
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkQueue {
    /// When each packet still in the FIFO finishes leaving, and its
    /// length, oldest first. The back is when the link next falls idle.
    leaving: VecDeque<(Instant, usize)>,
    /// The lengths in `leaving`, added up.
    bytes: usize,
}

impl LinkQueue {
    /// Bytes waiting in (or leaving) the FIFO at `now`.
    pub(crate) fn backlog(&mut self, now: Instant) -> usize {
        while let Some(&(t, n)) = self.leaving.front() {
            if t > now {
                break;
            }
            self.leaving.pop_front();
            self.bytes -= n;
        }
        self.bytes
    }

    /// Queues a `len`-byte packet offered at `now`; returns the instant its
    /// last bit is on the wire, or `None` when the FIFO is full.
    pub(crate) fn enqueue(
        &mut self,
        now: Instant,
        len: usize,
        cfg: &LinkConfig,
    ) -> Option<Instant> {
        if cfg.bandwidth_bps.is_none() {
            return Some(now);
        }
        while let Some(&(t, n)) = self.leaving.front() {
            if t > now {
                break;
            }
            self.leaving.pop_front();
            self.bytes -= n;
        }
        let over_bytes = cfg
            .queue_bytes
            .is_some_and(|limit| self.bytes.saturating_add(len) > limit);
        if self.leaving.len() >= cfg.queue_limit || over_bytes {
            return None;
        }
        let start = self.leaving.back().map_or(now, |&(t, _)| t.max(now));
        let done = start + cfg.transmit_time(len);
        self.leaving.push_back((done, len));
        self.bytes += len;
        Some(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_builders() {
        let d = LinkConfig::default();
        assert_eq!(d.delay, Duration::from_millis(10));
        assert_eq!(d.reorder_delay, d.delay);
        assert_eq!(d.mtu, 1500);
        assert_eq!(d.queue_limit, 1000);
        assert_eq!(d.bandwidth_bps, None);
        assert_eq!(LinkConfig::lossy(5.0).loss, 0.05);
        let c = LinkConfig::default().with_delay(Duration::from_millis(3));
        assert_eq!(c.reorder_delay, Duration::from_millis(3));
        let c = c
            .with_reorder(0.1, Duration::from_millis(1))
            .with_delay(Duration::from_millis(4));
        assert_eq!(c.reorder_delay, Duration::from_millis(1));
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn bad_probability_is_refused() {
        assert_eq!(
            LinkConfig::default().with_loss(1.5).validate(),
            Err(super::super::SimError::BadLink("loss", 1.5))
        );
        assert!(
            LinkConfig::default()
                .with_duplicate(f64::NAN)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn transmit_time_rounds_up() {
        let c = LinkConfig::default().with_bandwidth(8_000_000);
        assert_eq!(c.transmit_time(1000), Duration::from_micros(1000));
        let c = LinkConfig::default().with_bandwidth(3_000_000);
        assert_eq!(c.transmit_time(1), Duration::from_micros(3)); // 2.67 µs
        assert_eq!(LinkConfig::default().transmit_time(1500), Duration::ZERO);
    }

    #[test]
    fn fifo_spaces_and_drops() {
        let cfg = LinkConfig::default()
            .with_bandwidth(8_000_000)
            .with_queue_limit(2);
        let mut q = LinkQueue::default();
        let t0 = Instant::from_millis(1);
        assert_eq!(q.enqueue(t0, 1000, &cfg), Some(Instant::from_millis(2)));
        assert_eq!(q.enqueue(t0, 1000, &cfg), Some(Instant::from_millis(3)));
        assert_eq!(q.enqueue(t0, 1000, &cfg), None);
        // Once the first has left there is room again, behind the second.
        let t1 = Instant::from_millis(2);
        assert_eq!(q.enqueue(t1, 500, &cfg), Some(Instant::from_micros(3500)));
        // An idle link starts sending at once.
        let t2 = Instant::from_millis(10);
        assert_eq!(q.enqueue(t2, 1000, &cfg), Some(Instant::from_millis(11)));
    }

    #[test]
    fn byte_limit_and_bdp() {
        let cfg = LinkConfig::default()
            .with_bandwidth(8_000_000)
            .with_queue_bytes(2500);
        let mut q = LinkQueue::default();
        let t0 = Instant::from_millis(1);
        assert!(q.enqueue(t0, 1000, &cfg).is_some());
        assert!(q.enqueue(t0, 1000, &cfg).is_some());
        // 3000 bytes would not fit, 500 do: the limit is in bytes.
        assert_eq!(q.enqueue(t0, 1000, &cfg), None);
        assert_eq!(q.enqueue(t0, 500, &cfg), Some(Instant::from_micros(3500)));
        assert_eq!(q.enqueue(t0, 1, &cfg), None);
        // The first packet has left: its bytes are free again.
        let t1 = Instant::from_millis(2);
        assert!(q.enqueue(t1, 1000, &cfg).is_some());

        // 100 Mbit/s over 20 ms is 250,000 bytes.
        let c = LinkConfig::default().with_bandwidth(100_000_000);
        assert_eq!(c.bdp_bytes(Duration::from_millis(20)), Some(250_000));
        let c = c.with_queue_bdp(Duration::from_millis(20));
        assert_eq!(c.queue_bytes, Some(250_000));
        // No bandwidth, no queue: nothing to size.
        let d = LinkConfig::default().with_queue_bdp(Duration::from_millis(20));
        assert_eq!(d.queue_bytes, None);
        assert_eq!(d.bdp_bytes(Duration::from_millis(20)), None);
    }

    #[test]
    fn burst_formulas() {
        let g = GilbertElliott::bursts(0.01, 3.0);
        assert!((g.leave_bad - 1.0 / 3.0).abs() < 1e-12);
        assert!((g.mean_loss() - 0.01).abs() < 1e-12);
        assert!((g.mean_bad_run() - 3.0).abs() < 1e-12);
        assert_eq!((g.loss_good, g.loss_bad), (0.0, 1.0));
        // A chain that never moves stays good.
        assert_eq!(GilbertElliott::new(0.0, 0.0, 0.1, 1.0).mean_loss(), 0.1);
        // Out-of-range arguments are refused when the link is set.
        let bad = LinkConfig::default().with_burst(GilbertElliott::bursts(0.9, 1.0));
        assert!(matches!(
            bad.validate(),
            Err(super::super::SimError::BadLink("burst.enter_bad", p)) if p > 1.0
        ));
        assert!(
            LinkConfig::default()
                .with_burst(GilbertElliott::new(0.1, 0.1, f64::NAN, 1.0))
                .validate()
                .is_err()
        );
    }

    /// The general chain (some loss in both states) over many packets:
    /// its long-run loss and the mean length of its bad spells match the
    /// formulas.
    #[test]
    fn burst_chain_long_run() {
        let g = GilbertElliott::new(0.02, 0.2, 0.01, 0.5);
        let mut rng = SimRng::new(11);
        let mut bad = false;
        let n = 1_000_000;
        let (mut lost, mut bad_packets, mut spells) = (0u32, 0u32, 0u32);
        for _ in 0..n {
            let was_bad = bad;
            if was_bad {
                bad_packets += 1;
            }
            if g.step(&mut bad, &mut rng) {
                lost += 1;
            }
            if was_bad && !bad {
                spells += 1;
            }
        }
        let loss = f64::from(lost) / f64::from(n);
        let run = f64::from(bad_packets) / f64::from(spells);
        // 0.2/0.22 * 0.01 + 0.02/0.22 * 0.5 = 0.0545...; 1/0.2 = 5.
        assert!((loss / g.mean_loss() - 1.0).abs() < 0.05, "{loss}");
        assert!((run / g.mean_bad_run() - 1.0).abs() < 0.05, "{run}");
    }
}
