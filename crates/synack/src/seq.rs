//! Sequence-number arithmetic (RFC 9293 section 3.4).
//!
//! Sequence space is a circle of 2^32 numbers, so there is deliberately no
//! `Ord` here: "a is before b" only means something for numbers less than
//! 2^31 apart. All comparisons go through [`SeqNum::lt`] and friends, which
//! use wrapping subtraction interpreted as a signed distance.

use core::fmt;

/// A TCP sequence number. Arithmetic wraps modulo 2^32.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// Signed distance from `other` to `self` (`self - other`), valid when the
    /// two are within 2^31 of each other.
    #[inline]
    pub fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `self` comes strictly before `other`.
    #[inline]
    pub fn lt(self, other: SeqNum) -> bool {
        self.diff(other) < 0
    }

    /// `self` comes before or equals `other`.
    #[inline]
    pub fn le(self, other: SeqNum) -> bool {
        self.diff(other) <= 0
    }

    /// `self` comes strictly after `other`.
    #[inline]
    pub fn gt(self, other: SeqNum) -> bool {
        self.diff(other) > 0
    }

    /// `self` comes after or equals `other`.
    #[inline]
    pub fn ge(self, other: SeqNum) -> bool {
        self.diff(other) >= 0
    }

    /// `self` moved forward by `n` octets.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// `self` moved back by `n` octets.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }

    /// Octets from `earlier` up to `self`, assuming `earlier` is not after
    /// `self` (saturates to zero otherwise).
    #[inline]
    pub fn since(self, earlier: SeqNum) -> u32 {
        let d = self.diff(earlier);
        if d < 0 { 0 } else { d as u32 }
    }

    /// `low <= self < high`, on the circle.
    #[inline]
    pub fn in_range(self, low: SeqNum, high: SeqNum) -> bool {
        self.wrapping_offset(low) < high.wrapping_offset(low)
    }

    /// `low <= self <= high`, on the circle.
    #[inline]
    pub fn in_range_inclusive(self, low: SeqNum, high: SeqNum) -> bool {
        self.wrapping_offset(low) <= high.wrapping_offset(low)
    }

    #[inline]
    fn wrapping_offset(self, base: SeqNum) -> u32 {
        self.0.wrapping_sub(base.0)
    }

    /// The later of two sequence numbers.
    #[inline]
    pub fn max(self, other: SeqNum) -> SeqNum {
        if self.lt(other) { other } else { self }
    }

    /// The earlier of two sequence numbers.
    #[inline]
    pub fn min(self, other: SeqNum) -> SeqNum {
        if self.lt(other) { self } else { other }
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SeqNum({})", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap_around() {
        // DT-14: arithmetic is modulo 2^32.
        let a = SeqNum(u32::MAX - 10);
        let b = a.add(20);
        assert_eq!(b, SeqNum(9));
        assert!(a.lt(b));
        assert!(b.gt(a));
        assert_eq!(b.diff(a), 20);
        assert_eq!(b.since(a), 20);
        assert_eq!(a.since(b), 0);
        assert!(SeqNum(u32::MAX).in_range(a, b));
        assert!(SeqNum(3).in_range(a, b));
        assert!(!b.in_range(a, b));
        assert!(b.in_range_inclusive(a, b));
        assert!(!SeqNum(10).in_range_inclusive(a, b));
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }

    #[test]
    fn empty_range_contains_nothing() {
        let a = SeqNum(5);
        assert!(!a.in_range(a, a));
        assert!(a.in_range_inclusive(a, a));
    }
}
