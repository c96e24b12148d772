//! The sender's scoreboard (RFC 6675 section 3, RFC 2018 section 5): one
//! record per segment sent in [SND.UNA, SND.NXT), saying what the peer told
//! us of it (SACKed), what we concluded (lost), what we did about it
//! (retransmitted), and when it last left (RACK, RFC 8985 6.1).
//!
//! Records stay until the cumulative ACK covers them: a SACK never frees
//! data (RFC 2018 8: the receiver may renege). Bytes in flight follow from
//! three running totals, as RFC 6675's SetPipe() would count them octet by
//! octet: outstanding, less SACKed, less lost, plus lost octets whose
//! retransmission is in flight.

use crate::seq::SeqNum;
use std::collections::VecDeque;

/// The peer SACKed the record.
pub(crate) const SACKED: u8 = 1 << 0;
/// We concluded the record was lost (RACK, three duplicate ACKs, a
/// timeout); it stays lost until delivered.
pub(crate) const LOST: u8 = 1 << 1;
/// Lost, and retransmitted since: that retransmission is in flight.
pub(crate) const RETRANS: u8 = 1 << 2;
/// Retransmitted at least once (Karn's rule; spurious-retransmission
/// checks).
pub(crate) const EVER_RETRANS: u8 = 1 << 3;
/// The record's last sequence number is our FIN.
pub(crate) const FIN: u8 = 1 << 4;
/// A zero-window probe octet (RFC 9293 3.8.6.1).
pub(crate) const PROBE: u8 = 1 << 5;

/// One transmitted segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) start: SeqNum,
    /// Sequence space, the FIN included.
    pub(crate) len: u32,
    /// When it last left: a wrapping microsecond clock (see [`before`]).
    pub(crate) xmit: u32,
    pub(crate) flags: u8,
}

impl Sent {
    pub(crate) fn end(&self) -> SeqNum {
        self.start.add(self.len)
    }

    pub(crate) fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Payload octets (the FIN takes sequence space but carries none).
    pub(crate) fn data_len(&self) -> u32 {
        self.len - u32::from(self.has(FIN))
    }

    /// Needs sending again: lost, and not retransmitted since.
    pub(crate) fn needs_retransmit(&self) -> bool {
        self.flags & (LOST | RETRANS | SACKED) == LOST
    }
}

/// Whether wrapping microsecond clock reading `a` is before `b`. Records
/// live for seconds, far inside the 35 minutes this resolves.
pub(crate) fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// The records and their running totals.
#[derive(Debug, Default)]
pub(crate) struct Board {
    segs: VecDeque<Sent>,
    /// Bytes in SACKED records.
    pub(crate) sacked: u32,
    /// SACKED records (RACK's segs_sacked, RFC 8985 6.2 step 4).
    pub(crate) sacked_segs: u32,
    /// Bytes in LOST records not yet delivered.
    pub(crate) lost: u32,
    /// Bytes of lost records whose retransmission is in flight.
    pub(crate) retrans: u32,
    /// Records ever retransmitted.
    pub(crate) ever_retrans: u32,
    /// No record before this sequence number needs retransmitting: the
    /// search for the next one starts here.
    scan_from: SeqNum,
}

impl Board {
    pub(crate) fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.segs.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Sent> {
        self.segs.get(i)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Sent> {
        self.segs.iter()
    }

    /// Heap bytes held.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.segs.capacity() * size_of::<Sent>()
    }

    /// Forgets everything (the connection closed, or the board goes back
    /// to the pool), keeping the storage.
    pub(crate) fn clear(&mut self) {
        self.segs.clear();
        self.sacked = 0;
        self.sacked_segs = 0;
        self.lost = 0;
        self.retrans = 0;
        self.ever_retrans = 0;
    }

    /// A segment that just left for the first time.
    pub(crate) fn push(&mut self, start: SeqNum, len: u32, xmit: u32, flags: u8) {
        debug_assert!(self.segs.back().is_none_or(|s| s.end() == start));
        if self.segs.is_empty() {
            self.scan_from = start;
        }
        self.segs.push_back(Sent {
            start,
            len,
            xmit,
            flags,
        });
    }

    /// Removes the last record (a zero-window probe taken back).
    pub(crate) fn pop_last(&mut self) -> Option<Sent> {
        let s = self.segs.pop_back()?;
        self.forget(&s);
        Some(s)
    }

    /// Bytes in flight, RFC 6675's pipe, given the outstanding sequence
    /// space (SND.NXT - SND.UNA).
    pub(crate) fn in_flight(&self, outstanding: u32) -> u32 {
        outstanding.saturating_sub(self.sacked + self.lost) + self.retrans
    }

    /// Takes a record's bytes out of the totals.
    fn forget(&mut self, s: &Sent) {
        if s.has(SACKED) {
            self.sacked -= s.len;
            self.sacked_segs -= 1;
        }
        if s.has(LOST) {
            self.lost -= s.len;
        }
        if s.has(RETRANS) {
            self.retrans -= s.len;
        }
        if s.has(EVER_RETRANS) {
            self.ever_retrans -= 1;
        }
    }

    /// The index of the first record that ends after `seq`.
    fn first_ending_after(&self, seq: SeqNum) -> usize {
        let i = self.segs.partition_point(|s| s.start.le(seq));
        if i > 0 && self.segs[i - 1].end().gt(seq) {
            i - 1
        } else {
            i
        }
    }

    /// Cuts record `i` in two at `at` (inside it). Flags and the transmit
    /// time go to both halves, except FIN, which stays with the second;
    /// the totals do not change.
    fn split(&mut self, i: usize, at: SeqNum) {
        let s = self.segs[i];
        debug_assert!(s.start.lt(at) && at.lt(s.end()));
        let head = at.since(s.start);
        let first = Sent {
            len: head,
            flags: s.flags & !FIN,
            ..s
        };
        let second = Sent {
            start: at,
            len: s.len - head,
            ..s
        };
        self.segs[i] = first;
        self.segs.insert(i + 1, second);
        if s.has(SACKED) {
            self.sacked_segs += 1;
        }
        if s.has(EVER_RETRANS) {
            self.ever_retrans += 1;
        }
    }

    /// Makes record `i` no longer than `max` octets of sequence space
    /// (a retransmission after the MSS shrank).
    pub(crate) fn limit(&mut self, i: usize, max: u32) {
        let s = self.segs[i];
        if s.len > max && max > 0 {
            self.split(i, s.start.add(max));
        }
    }

    /// The cumulative ACK moved to `ack`: records below it are delivered
    /// and go. `each` sees every record delivered whole that no SACK had
    /// delivered before. Returns the bytes newly delivered.
    pub(crate) fn ack(&mut self, ack: SeqNum, mut each: impl FnMut(&Sent)) -> u32 {
        let mut delivered = 0;
        while let Some(&s) = self.segs.front() {
            if s.end().le(ack) {
                self.segs.pop_front();
                self.forget(&s);
                if !s.has(SACKED) {
                    delivered += s.len;
                    each(&s);
                }
                continue;
            }
            if s.start.lt(ack) {
                // Part of a segment: keep the rest as a record of its own.
                let cut = ack.since(s.start);
                self.split(0, ack);
                let head = self.segs.pop_front().unwrap_or(s);
                self.forget(&head);
                if !s.has(SACKED) {
                    delivered += cut;
                }
            }
            break;
        }
        if self.scan_from.lt(ack) {
            self.scan_from = ack;
        }
        delivered
    }

    /// The peer SACKed [left, right): the records inside it are delivered
    /// (records straddling an edge are cut there first). `each` sees every
    /// record newly SACKed. Returns the bytes newly delivered.
    pub(crate) fn sack(&mut self, left: SeqNum, right: SeqNum, mut each: impl FnMut(&Sent)) -> u32 {
        if !left.lt(right) {
            return 0;
        }
        let mut i = self.first_ending_after(left);
        if i < self.segs.len() && self.segs[i].start.lt(left) {
            self.split(i, left);
            i += 1;
        }
        let mut delivered = 0;
        while i < self.segs.len() && self.segs[i].start.lt(right) {
            if self.segs[i].end().gt(right) {
                self.split(i, right);
            }
            let s = self.segs[i];
            if !s.has(SACKED) {
                self.forget(&s);
                let marked = Sent {
                    flags: (s.flags | SACKED) & !(LOST | RETRANS),
                    ..s
                };
                self.segs[i] = marked;
                self.sacked += s.len;
                self.sacked_segs += 1;
                if s.has(EVER_RETRANS) {
                    self.ever_retrans += 1;
                }
                delivered += s.len;
                each(&s);
            }
            i += 1;
        }
        delivered
    }

    /// Marks record `i` lost. A record whose retransmission was in flight
    /// is lost again: it needs another.
    pub(crate) fn mark_lost(&mut self, i: usize) -> bool {
        let s = self.segs[i];
        if s.has(SACKED) || (s.has(LOST) && !s.has(RETRANS)) {
            return false;
        }
        let mut flags = s.flags | LOST;
        if s.has(RETRANS) {
            self.retrans -= s.len;
            flags &= !RETRANS;
        } else {
            self.lost += s.len;
        }
        self.segs[i].flags = flags;
        if s.start.lt(self.scan_from) {
            self.scan_from = s.start;
        }
        true
    }

    /// A retransmission timeout: every record not SACKed is lost (RFC 6675
    /// 5.1, RFC 8985 6.3), retransmissions in flight included.
    pub(crate) fn mark_all_lost(&mut self) {
        for i in 0..self.segs.len() {
            self.mark_lost(i);
        }
    }

    /// The first record that needs retransmitting (RFC 6675 NextSeg rule
    /// 1: the lowest lost octet not yet retransmitted).
    pub(crate) fn next_lost(&mut self) -> Option<usize> {
        if self.lost == self.retrans {
            return None;
        }
        let from = self.first_ending_after(self.scan_from);
        let found = (from..self.segs.len()).find(|&i| self.segs[i].needs_retransmit());
        match found {
            Some(i) => self.scan_from = self.segs[i].start,
            None => self.scan_from = self.segs.back().map_or(self.scan_from, Sent::end),
        }
        found
    }

    /// Joins to record `i` the lost records right after it, as long as the
    /// whole stays within `max` octets: what is resent is repacketized into
    /// full segments (RFC 9293 3.8.6 allows it), instead of going out in
    /// the pieces an MSS change or a partial ACK left.
    pub(crate) fn merge_lost(&mut self, i: usize, max: u32) {
        while let (Some(&a), Some(&b)) = (self.segs.get(i), self.segs.get(i + 1)) {
            let joinable = a.needs_retransmit()
                && b.needs_retransmit()
                && !a.has(FIN | PROBE)
                && !b.has(PROBE)
                && a.end() == b.start
                && a.len + b.len <= max;
            if !joinable {
                break;
            }
            self.segs[i] = Sent {
                len: a.len + b.len,
                xmit: b.xmit,
                flags: a.flags | b.flags,
                ..a
            };
            self.segs.remove(i + 1);
            if a.has(EVER_RETRANS) && b.has(EVER_RETRANS) {
                self.ever_retrans -= 1;
            }
        }
    }

    /// Record `i` was just sent again.
    pub(crate) fn retransmitted(&mut self, i: usize, xmit: u32) {
        let s = &mut self.segs[i];
        if s.has(LOST) && !s.has(RETRANS) {
            self.retrans += s.len;
            s.flags |= RETRANS;
        }
        if !s.has(EVER_RETRANS) {
            s.flags |= EVER_RETRANS;
            self.ever_retrans += 1;
        }
        s.xmit = xmit;
    }

    /// The peer reneged (RFC 2018 8): forget every SACK it gave.
    pub(crate) fn clear_sacks(&mut self) {
        for s in &mut self.segs {
            s.flags &= !SACKED;
        }
        self.sacked = 0;
        self.sacked_segs = 0;
    }

    /// Forgets every loss mark of records not retransmitted (the loss was
    /// spurious, so they are in flight after all); records already
    /// retransmitted keep theirs.
    pub(crate) fn unmark_lost(&mut self) {
        for s in &mut self.segs {
            if s.has(LOST) && !s.has(RETRANS) {
                s.flags &= !LOST;
                self.lost -= s.len;
            }
        }
    }

    /// Sets the transmit time of record `i` (a probe sent again).
    pub(crate) fn touch(&mut self, i: usize, xmit: u32) {
        self.segs[i].xmit = xmit;
    }

    /// Record `i`, to mark or inspect.
    pub(crate) fn at(&self, i: usize) -> Sent {
        self.segs[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(n: u32) -> Board {
        let mut b = Board::default();
        for k in 0..n {
            b.push(SeqNum(1000 + 100 * k), 100, k, 0);
        }
        b
    }

    #[test]
    fn sacks_cut_records_and_deliver_once() {
        let mut b = board(5); // [1000, 1500)
        let mut seen = Vec::new();
        assert_eq!(
            b.sack(SeqNum(1150), SeqNum(1300), |s| seen.push(s.start)),
            150
        );
        assert_eq!(seen, [SeqNum(1150), SeqNum(1200)]);
        assert_eq!(b.len(), 6);
        assert_eq!((b.sacked, b.sacked_segs), (150, 2));
        // The same block again delivers nothing.
        assert_eq!(b.sack(SeqNum(1150), SeqNum(1300), |_| {}), 0);
        assert_eq!(b.in_flight(500), 350);
        // The cumulative ACK past them delivers only what was not SACKed.
        assert_eq!(b.ack(SeqNum(1320), |_| {}), 150 + 20);
        assert_eq!((b.sacked, b.sacked_segs), (0, 0));
        assert_eq!(b.at(0).start, SeqNum(1320));
        assert_eq!(b.in_flight(180), 180);
    }

    #[test]
    fn lost_retransmitted_and_lost_again() {
        let mut b = board(4);
        b.sack(SeqNum(1300), SeqNum(1400), |_| {});
        assert!(b.mark_lost(0));
        assert!(b.mark_lost(1));
        assert!(!b.mark_lost(3), "a SACKed record is not lost");
        assert_eq!(b.in_flight(400), 100);
        assert_eq!(b.next_lost(), Some(0));
        b.retransmitted(0, 50);
        assert_eq!(b.in_flight(400), 200);
        assert_eq!(b.next_lost(), Some(1));
        b.retransmitted(1, 51);
        assert_eq!(b.next_lost(), None);
        // The first retransmission is lost too.
        assert!(b.mark_lost(0));
        assert_eq!(b.next_lost(), Some(0));
        assert_eq!(b.in_flight(400), 200);
        // A timeout: all but the SACKed record lost, nothing in flight.
        b.mark_all_lost();
        assert_eq!(b.in_flight(400), 0);
        b.unmark_lost();
        assert_eq!(b.lost, 0);
        assert_eq!(b.in_flight(400), 300);
    }

    #[test]
    fn lost_pieces_merge_into_one_segment() {
        let mut b = board(3);
        b.push(SeqNum(1300), 1, 9, FIN);
        b.mark_all_lost();
        b.merge_lost(0, 250);
        assert_eq!(b.len(), 3);
        assert_eq!(b.at(0).len, 200);
        b.merge_lost(1, 101);
        assert_eq!((b.at(1).len, b.at(1).has(FIN)), (101, true));
        assert_eq!(b.lost, 301);
    }

    #[test]
    fn reneging_clears_sacks_and_fin_stays_last() {
        let mut b = Board::default();
        b.push(SeqNum(0), 100, 0, 0);
        b.push(SeqNum(100), 51, 1, FIN);
        b.sack(SeqNum(120), SeqNum(151), |_| {});
        assert!(b.at(2).has(FIN) && !b.at(1).has(FIN));
        b.limit(0, 40);
        assert_eq!(b.at(0).len, 40);
        b.clear_sacks();
        assert_eq!((b.sacked, b.sacked_segs), (0, 0));
        assert_eq!(b.in_flight(151), 151);
        assert!(before(u32::MAX - 5, 3));
        assert!(!before(3, u32::MAX - 5));
    }
}
