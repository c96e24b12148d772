//! The timer queue: one entry per armed connection timer, earliest first.
//! Lazy: an entry is never removed when its timer is stopped or moved
//! later; it fires, finds nothing due, and is dropped or re-armed (each TCB
//! remembers its earliest entry, so moving a timer earlier is the only
//! thing that pushes).
//!
//! A radix heap rather than a binary heap. Timers are monotone: nothing is
//! ever armed earlier than the last deadline taken out (that deadline has
//! passed, and a new deadline lies at or after the present). A radix heap
//! relies on that: entries sit in buckets by the highest bit in which their
//! deadline differs from the last one taken out, so a push is a vector
//! push, and taking out the earliest costs a pass over one bucket that
//! moves its entries to lower buckets, each entry moving at most 64 times
//! in its life and usually once or twice. A binary heap paid a full
//! sift-down per entry, and most entries are stale ones that only get
//! dropped (the SYN timer of a connection that has long closed).
//!
//! Entries with the same deadline come out in no particular order, but
//! always the same order for the same sequence of calls.

use crate::event::ConnId;
use crate::tcb::Tcb;
use crate::time::Instant;

/// Entries an emptied bucket keeps room for. A burst of connections fills
/// buckets with hundreds of thousands of entries; once it has passed, their
/// storage goes back (a steady load stays far below this, so no allocation
/// is repeated per connection).
const RETAINED: usize = 1024;

/// Bucket 0 holds deadlines equal to `last`; bucket `i` (1..=63) those
/// whose highest bit differing from `last` is bit `i - 1`. Deadlines are
/// filed at most at [`LATEST`], so bit 63 never differs and 64 buckets
/// do: the occupancy mask is one machine word.
const BUCKETS: usize = 64;

/// The latest deadline filed (2^63 - 1 µs, some 292,000 years): anything
/// later is as good as never and is filed here (see [`TimerHeap::push`]).
const LATEST: u64 = (1 << 63) - 1;

pub(super) struct TimerHeap {
    /// The last deadline taken out (microseconds): every entry is at or
    /// after it.
    last: u64,
    buckets: [Vec<(u64, ConnId)>; BUCKETS],
    /// The earliest deadline in each non-empty bucket.
    mins: [u64; BUCKETS],
    /// Bit `i` set when bucket `i` is non-empty.
    nonempty: u64,
}

impl Default for TimerHeap {
    fn default() -> Self {
        TimerHeap {
            last: 0,
            buckets: core::array::from_fn(|_| Vec::new()),
            mins: [u64::MAX; BUCKETS],
            nonempty: 0,
        }
    }
}

impl TimerHeap {
    fn bucket(&self, deadline: u64) -> usize {
        (u64::BITS - (deadline ^ self.last).leading_zeros()) as usize
    }

    /// Adds an entry; returns the deadline it was filed under. A deadline
    /// before `last` (a caller whose clock went back) is due at once: it
    /// is filed at `last`, which keeps the heap's one invariant. One past
    /// [`LATEST`] is filed there; the TCB keeps its own deadline, so when
    /// the entry ever fires it is found not due and filed again.
    fn push(&mut self, deadline: Instant, id: ConnId) -> Instant {
        let d = deadline.micros().max(self.last).min(LATEST);
        let b = self.bucket(d);
        self.buckets[b].push((d, id));
        self.mins[b] = self.mins[b].min(d);
        self.nonempty |= 1 << b;
        Instant::from_micros(d)
    }

    /// Pushes an entry if the TCB's timer moved earlier than its earliest
    /// entry. Later moves need none: the old entry fires, finds nothing
    /// due, and re-arms.
    ///
    /// Runs after every input and every segment sent, and nearly always
    /// finds nothing to push: that test is inlined into the callers, the
    /// push is not (its register saves would otherwise be paid every time).
    #[inline(always)]
    pub(super) fn arm(&mut self, id: ConnId, tcb: &mut Tcb) {
        let timer = tcb.timers.earliest();
        if timer < tcb.armed {
            self.arm_at(timer, id, tcb);
        }
    }

    #[inline(never)]
    fn arm_at(&mut self, timer: Instant, id: ConnId, tcb: &mut Tcb) {
        // `armed` records the entry as filed, so that the handler
        // recognises it when it comes out.
        tcb.armed = self.push(timer, id);
    }

    /// Heap bytes held by the buckets.
    pub(super) fn heap_bytes(&self) -> usize {
        self.buckets
            .iter()
            .map(|b| b.capacity() * size_of::<(u64, ConnId)>())
            .sum()
    }

    /// Entries held (stale ones included).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }

    /// The earliest deadline, if any entry is left.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        if self.nonempty == 0 {
            return None;
        }
        let b = self.nonempty.trailing_zeros() as usize;
        Some(Instant::from_micros(self.mins[b]))
    }

    /// Takes out an entry whose deadline is at or before `now`, earliest
    /// first.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<(Instant, ConnId)> {
        if self.nonempty == 0 {
            return None;
        }
        let b = self.nonempty.trailing_zeros() as usize;
        let min = self.mins[b];
        if min > now.micros() {
            return None;
        }
        if b != 0 {
            // The bucket's earliest becomes `last`; its entries all move to
            // lower buckets (they now differ from `last` in lower bits).
            self.last = min;
            let mut moving = core::mem::take(&mut self.buckets[b]);
            self.mins[b] = u64::MAX;
            self.nonempty &= !(1 << b);
            for (d, id) in moving.drain(..) {
                let to = self.bucket(d);
                self.buckets[to].push((d, id));
                self.mins[to] = self.mins[to].min(d);
                self.nonempty |= 1 << to;
            }
            // Keep the storage for the bucket's next entries, within bounds.
            moving.shrink_to(RETAINED);
            self.buckets[b] = moving;
        }
        let (d, id) = self.buckets[0].pop()?;
        if self.buckets[0].is_empty() {
            self.mins[0] = u64::MAX;
            self.nonempty &= !1;
            self.buckets[0].shrink_to(RETAINED);
        }
        Some((Instant::from_micros(d), id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u32) -> ConnId {
        ConnId {
            index: i,
            generation: 0,
        }
    }

    /// Entries come out in deadline order, only when due, whatever order
    /// they went in, including pushes made between pops; the next deadline
    /// is always the earliest entry left.
    #[test]
    fn pops_in_deadline_order_when_due() {
        let mut h = TimerHeap::default();
        let mut rng = crate::sim::SimRng::new(7);
        let mut pending: Vec<u64> = Vec::new();
        let mut now = 0u64;
        let mut last = 0u64;
        let mut popped = 0;
        for round in 0..300 {
            for _ in 0..(round % 7) {
                // Deadlines at or after now, some equal to each other.
                let d = now + rng.below(5_000_000) / 1000 * 1000;
                h.push(Instant::from_micros(d), id(d as u32));
                pending.push(d);
            }
            now += rng.below(100_000);
            while let Some((t, c)) = h.pop_due(Instant::from_micros(now)) {
                let t = t.micros();
                assert!(t <= now && t >= last, "{t} popped at {now} after {last}");
                assert_eq!(u64::from(c.index), t & 0xFFFF_FFFF);
                let i = pending.iter().position(|&d| d == t).expect("pushed");
                pending.swap_remove(i);
                last = t;
                popped += 1;
            }
            assert!(pending.iter().all(|&d| d > now));
            let next = h.next_deadline().map(Instant::micros);
            assert_eq!(next, pending.iter().min().copied());
        }
        assert!(popped > 100, "only {popped} popped");
        while h.pop_due(Instant::NEVER).is_some() {
            pending.pop();
        }
        assert!(pending.is_empty());
        assert_eq!(h.next_deadline(), None);
    }

    /// A burst's storage goes back once it has passed: emptied buckets keep
    /// room for at most `RETAINED` entries.
    #[test]
    fn a_burst_leaves_bounded_storage() {
        let mut h = TimerHeap::default();
        for i in 0..200_000u64 {
            h.push(
                Instant::from_micros(1_000 + i * 7 % 5_000_000),
                id(i as u32),
            );
        }
        assert_eq!(h.len(), 200_000);
        assert!(h.heap_bytes() >= 200_000 * 16);
        while h.pop_due(Instant::NEVER).is_some() {}
        assert_eq!(h.len(), 0);
        assert!(
            h.heap_bytes() <= BUCKETS * RETAINED * 16,
            "{}",
            h.heap_bytes()
        );
    }

    /// A deadline past `LATEST` (a timeout of centuries) is filed there:
    /// it comes out after every nearer one and never before its time.
    #[test]
    fn far_deadline_is_filed_at_latest() {
        let mut h = TimerHeap::default();
        assert_eq!(
            h.push(Instant::from_micros(u64::MAX - 1), id(1)),
            Instant::from_micros(LATEST)
        );
        h.push(Instant::from_micros(5_000), id(2));
        assert_eq!(h.next_deadline(), Some(Instant::from_micros(5_000)));
        assert_eq!(
            h.pop_due(Instant::from_micros(1_000_000)),
            Some((Instant::from_micros(5_000), id(2)))
        );
        assert_eq!(h.pop_due(Instant::from_micros(LATEST - 1)), None);
        assert_eq!(
            h.pop_due(Instant::NEVER),
            Some((Instant::from_micros(LATEST), id(1)))
        );
    }

    /// A deadline already in the past comes out at once.
    #[test]
    fn past_deadline_is_due_now() {
        let mut h = TimerHeap::default();
        h.push(Instant::from_micros(1_000), id(1));
        assert_eq!(
            h.pop_due(Instant::from_micros(1_000)),
            Some((Instant::from_micros(1_000), id(1)))
        );
        h.push(Instant::from_micros(10), id(2));
        assert_eq!(h.next_deadline(), Some(Instant::from_micros(1_000)));
        assert_eq!(
            h.pop_due(Instant::from_micros(1_000)),
            Some((Instant::from_micros(1_000), id(2)))
        );
        assert_eq!(h.pop_due(Instant::NEVER), None);
    }
}
