//! One direction of a simulated link: its impairments and its send queue.

use std::collections::VecDeque;
use std::time::Duration;

use crate::time::Instant;

/// Impairments of one direction of a link (from one node to another).
///
/// A packet handed to the link goes through, in this order: the MTU check,
/// the serialization queue (when `bandwidth_bps` is set), loss, corruption,
/// then propagation (`delay`, plus up to `jitter`, plus `reorder_delay` for
/// packets chosen for reordering); a duplicate, if one is made, is an
/// uncorrupted copy with its own jitter and reordering draw.
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
    /// Packets longer than this are dropped as [`Fate::TooBig`].
    ///
    /// [`Fate::TooBig`]: super::Fate::TooBig
    pub mtu: usize,
    /// Probability in `0..=1` that a packet is lost.
    pub loss: f64,
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
            mtu: 1500,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: delay,
            corrupt: 0.0,
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

    /// Sets the serialization queue limit in packets.
    pub fn with_queue_limit(mut self, packets: usize) -> LinkConfig {
        self.queue_limit = packets;
        self
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

    /// Panics on settings that have no meaning, at configuration time rather
    /// than in the middle of a run.
    pub(crate) fn validate(&self) -> Result<(), super::SimError> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ] {
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

/// The serialization FIFO of one link direction.
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkQueue {
    /// When each packet still in the FIFO finishes leaving, oldest first.
    /// The back is when the link next falls idle.
    leaving: VecDeque<Instant>,
}

impl LinkQueue {
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
        while self.leaving.front().is_some_and(|&t| t <= now) {
            self.leaving.pop_front();
        }
        if self.leaving.len() >= cfg.queue_limit {
            return None;
        }
        let start = self.leaving.back().map_or(now, |&t| t.max(now));
        let done = start + cfg.transmit_time(len);
        self.leaving.push_back(done);
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
}
