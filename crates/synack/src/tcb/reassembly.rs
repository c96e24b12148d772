//! Out-of-order segments, held until the gap before them fills (RFC 9293
//! 3.10.7.4 step 7 and SHLD-31: "segments with higher beginning sequence
//! numbers SHOULD be held for later processing"). Without this a single
//! loss costs the whole rest of the sender's flight.
//!
//! Blocks are kept sorted and disjoint; a new segment contributes only the
//! octets no block has yet. What is held always lies inside the window we
//! advertised, so it is bounded by the receive buffer, and the number of
//! blocks is capped so a peer cannot make every segment cost a long scan.

use crate::seq::SeqNum;

/// The most disjoint blocks held at once. A window of 1,024 segments with
/// every other one lost needs 512; the bound keeps a hostile peer from
/// making each insertion a long move of the block list.
const MAX_BLOCKS: usize = 1024;

#[derive(Debug)]
struct Block {
    seq: SeqNum,
    data: Vec<u8>,
}

impl Block {
    fn end(&self) -> SeqNum {
        self.seq.add(self.data.len() as u32)
    }
}

/// The out-of-order queue of one connection: one word in the TCB, and a
/// box of its own from the first segment held (most connections never
/// see one), so that every TCB is smaller and more of them stay in cache.
#[derive(Debug, Default)]
pub(crate) struct Reassembly(Option<Box<Queue>>);

impl Reassembly {
    /// Nothing held.
    pub(crate) fn is_empty(&self) -> bool {
        self.0
            .as_ref()
            .is_none_or(|h| h.blocks.is_empty() && h.fin.is_none())
    }

    /// Octets held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |h| h.blocks.iter().map(|b| b.data.len()).sum())
    }

    /// Holds `data` (starting at `seq`, beyond RCV.NXT) up to the window's
    /// right edge `right`, and the FIN after it if `fin`.
    pub(crate) fn insert(&mut self, seq: SeqNum, data: &[u8], fin: bool, right: SeqNum) -> Held {
        self.0
            .get_or_insert_with(Box::default)
            .insert(seq, data, fin, right)
    }

    /// Hands `sink` the octets now contiguous with `rcv_nxt`, in order, until
    /// it takes less than offered. Returns how far RCV.NXT moved and whether
    /// the held FIN is now next.
    pub(crate) fn drain(
        &mut self,
        rcv_nxt: SeqNum,
        sink: impl FnMut(&[u8]) -> usize,
    ) -> (u32, bool) {
        match &mut self.0 {
            Some(h) => h.drain(rcv_nxt, sink),
            None => (0, false),
        }
    }

    /// Forgets everything (reset, abort).
    pub(crate) fn clear(&mut self) {
        self.0 = None;
    }

    /// Writes the SACK blocks to report into `out`, at most `max`: each
    /// the whole contiguous run of held data around a recently arrived
    /// segment, the most recent first (RFC 2018 4). Returns how many.
    pub(crate) fn sack_runs(&self, out: &mut [(SeqNum, SeqNum)], max: usize) -> usize {
        self.0.as_ref().map_or(0, |q| q.sack_runs(out, max))
    }

    /// A duplicate [start, end) arrived: report it once in a D-SACK block
    /// (RFC 2883).
    pub(crate) fn note_duplicate(&mut self, start: SeqNum, end: SeqNum) {
        self.0.get_or_insert_with(Box::default).dsack = Some((start, end));
    }

    /// The D-SACK block owed, if any.
    pub(crate) fn dsack(&self) -> Option<(SeqNum, SeqNum)> {
        self.0.as_ref()?.dsack
    }

    /// The D-SACK block owed, taken (it is reported once).
    pub(crate) fn take_dsack(&mut self) -> Option<(SeqNum, SeqNum)> {
        self.0.as_mut()?.dsack.take()
    }

    /// Whether a SACK option is owed: data held out of order, or a
    /// duplicate to report.
    pub(crate) fn wants_sack(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|q| !q.blocks.is_empty() || q.dsack.is_some())
    }
}

/// What became of a segment offered to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    /// All of it is held (or was held already).
    All,
    /// Held up to the window's right edge; octets (or the FIN) past it
    /// were trimmed off.
    Trimmed,
    /// Not held: it would take more blocks than the queue keeps.
    Refused,
}

/// What is held: sorted, disjoint blocks, and the FIN if it came early.
#[derive(Debug, Default)]
struct Queue {
    blocks: Vec<Block>,
    /// Where the peer's FIN sits, if it arrived ahead of the data before it.
    fin: Option<SeqNum>,
    /// The first octets of the most recently arrived segments, newest
    /// first: the SACK blocks to report lead with their runs (RFC 2018 4).
    recent: [SeqNum; RECENT],
    recent_len: u8,
    /// A duplicate to report in the next ACK's first block (RFC 2883).
    dsack: Option<(SeqNum, SeqNum)>,
}

/// Recent arrivals remembered: as many blocks as a SACK option can carry.
const RECENT: usize = 4;

impl Queue {
    fn insert(&mut self, seq: SeqNum, data: &[u8], fin: bool, right: SeqNum) -> Held {
        let room = right.since(seq) as usize;
        let trimmed = data.len() > room || (fin && data.len() >= room);
        let data = &data[..data.len().min(room)];
        let end = seq.add(data.len() as u32);
        if fin && end.lt(right) {
            self.fin = Some(end);
        }
        // The pieces of [seq, end) that no block covers yet.
        let mut pieces: Vec<(SeqNum, &[u8])> = Vec::new();
        let mut cur = seq;
        // Blocks ending before `seq` cannot overlap: start the scan at the
        // first that might (binary search, the blocks are sorted).
        let first = self.blocks.partition_point(|b| b.end().le(seq));
        for b in &self.blocks[first..] {
            if b.end().le(cur) {
                continue;
            }
            if b.seq.ge(end) {
                break;
            }
            if b.seq.gt(cur) {
                let from = cur.since(seq) as usize;
                let to = b.seq.since(seq) as usize;
                pieces.push((cur, &data[from..to]));
            }
            cur = cur.max(b.end());
            if cur.ge(end) {
                break;
            }
        }
        if cur.lt(end) {
            pieces.push((cur, &data[cur.since(seq) as usize..]));
        }
        if self.blocks.len() + pieces.len() > MAX_BLOCKS {
            return Held::Refused;
        }
        if pieces.is_empty() && !data.is_empty() {
            // Every octet was held already: a duplicate (RFC 2883 4.1.2).
            self.dsack = Some((seq, end));
        }
        for (s, bytes) in pieces {
            let at = self.blocks.partition_point(|b| b.seq.lt(s));
            self.blocks.insert(
                at,
                Block {
                    seq: s,
                    data: bytes.to_vec(),
                },
            );
        }
        if !data.is_empty() {
            self.touch(seq);
        }
        if trimmed { Held::Trimmed } else { Held::All }
    }

    /// Puts `seq` first among the recent arrivals.
    /// Entries in the same run as `seq` go: each entry names a distinct
    /// run, so four entries report four blocks.
    fn touch(&mut self, seq: SeqNum) {
        let run = self.run_around(seq);
        let mut kept = [seq; RECENT];
        let mut k = 1;
        for &r in &self.recent[..usize::from(self.recent_len)] {
            let same = run.is_some_and(|(a, b)| !r.lt(a) && r.lt(b));
            if !same && k < RECENT {
                kept[k] = r;
                k += 1;
            }
        }
        self.recent = kept;
        self.recent_len = k as u8;
    }

    /// The contiguous run of held blocks around `seq`, if it is held.
    fn run_around(&self, seq: SeqNum) -> Option<(SeqNum, SeqNum)> {
        let i = self.blocks.partition_point(|b| b.seq.le(seq));
        let i = i.checked_sub(1)?;
        if !seq.lt(self.blocks[i].end()) {
            return None;
        }
        let mut first = i;
        while first > 0 && self.blocks[first - 1].end() == self.blocks[first].seq {
            first -= 1;
        }
        let mut last = i;
        while last + 1 < self.blocks.len() && self.blocks[last].end() == self.blocks[last + 1].seq {
            last += 1;
        }
        Some((self.blocks[first].seq, self.blocks[last].end()))
    }

    fn sack_runs(&self, out: &mut [(SeqNum, SeqNum)], max: usize) -> usize {
        let max = max.min(out.len());
        let mut n = 0;
        let recent = &self.recent[..usize::from(self.recent_len)];
        // The recent arrivals' runs first, then, if room is left, the
        // other runs from the lowest (RFC 2018 4: as many as fit).
        let others = self.blocks.iter().map(|b| b.seq);
        for seq in recent.iter().copied().chain(others) {
            if n == max {
                break;
            }
            if let Some(run) = self.run_around(seq)
                && !out[..n].contains(&run)
            {
                out[n] = run;
                n += 1;
            }
        }
        n
    }

    fn drain(&mut self, rcv_nxt: SeqNum, mut sink: impl FnMut(&[u8]) -> usize) -> (u32, bool) {
        let mut nxt = rcv_nxt;
        let mut dup: Option<(SeqNum, SeqNum)> = None;
        while let Some(first) = self.blocks.first_mut() {
            if first.seq.gt(nxt) {
                break;
            }
            let skip = nxt.since(first.seq) as usize;
            if skip > 0 {
                // The in-order data just taken covered octets held here:
                // the peer sent them twice. The first contiguous run of
                // them is reported (RFC 2883 4: one D-SACK block per ACK),
                // as a duplicate segment below RCV.NXT would be.
                let end = first.seq.add(skip.min(first.data.len()) as u32);
                dup = match dup {
                    None => Some((first.seq, end)),
                    Some((a, b)) if b == first.seq => Some((a, end)),
                    other => other,
                };
            }
            if skip >= first.data.len() {
                self.blocks.remove(0);
                continue;
            }
            let offered = first.data.len() - skip;
            let taken = sink(&first.data[skip..]);
            nxt = nxt.add(taken as u32);
            if taken < offered {
                break;
            }
            self.blocks.remove(0);
        }
        if self.dsack.is_none() {
            self.dsack = dup;
        }
        let fin = self.blocks.is_empty() && self.fin == Some(nxt);
        if fin {
            self.fin = None;
        }
        (nxt.since(rcv_nxt), fin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain_all(r: &mut Reassembly, nxt: SeqNum) -> (Vec<u8>, u32, bool) {
        let mut out = Vec::new();
        let (n, fin) = r.drain(nxt, |b| {
            out.extend_from_slice(b);
            b.len()
        });
        (out, n, fin)
    }

    /// SA-14, DT-01: held pieces come out in order once the gap fills;
    /// overlapping retransmissions add only new octets.
    #[test]
    fn holds_merges_and_delivers_in_order() {
        let base = SeqNum(u32::MAX - 10);
        let right = base.add(1000);
        let data: Vec<u8> = (0..100u8).collect();
        let mut r = Reassembly::default();
        assert_eq!(
            r.insert(base.add(50), &data[50..80], false, right),
            Held::All
        );
        assert_eq!(
            r.insert(base.add(20), &data[20..60], false, right),
            Held::All
        );
        assert_eq!(
            r.insert(base.add(70), &data[70..100], true, right),
            Held::All
        );
        assert_eq!(r.held(), 80);
        // Nothing is contiguous with RCV.NXT yet.
        assert_eq!(drain_all(&mut r, base).1, 0);
        // The first 20 octets arrive in order; the rest follows.
        let (out, n, fin) = drain_all(&mut r, base.add(20));
        assert_eq!(out, &data[20..]);
        assert_eq!(n, 80);
        assert!(fin);
        assert!(r.is_empty());
    }

    #[test]
    fn stops_where_the_sink_is_full_and_clips_to_the_window() {
        let base = SeqNum(0);
        let mut r = Reassembly::default();
        assert_eq!(
            r.insert(base.add(10), &[7u8; 100], true, base.add(60)),
            Held::Trimmed
        );
        // Clipped at the window edge, so the FIN beyond it is not held.
        assert_eq!(r.held(), 50);
        let (n, fin) = r.drain(base.add(10), |b| b.len().min(30));
        assert_eq!((n, fin), (30, false));
        assert_eq!(r.held(), 50);
        let (n, _) = r.drain(base.add(40), |b| b.len());
        assert_eq!(n, 20);
        assert!(r.is_empty());
    }

    /// WF-16, LR-07: runs are reported most recent first, merged across
    /// adjacent pieces, at most as many as asked; a segment held already
    /// is a duplicate to report once.
    #[test]
    fn wf_16_sack_runs_most_recent_first() {
        let right = SeqNum(100_000);
        let mut r = Reassembly::default();
        for k in [1u32, 3, 5, 7, 9] {
            assert_eq!(
                r.insert(SeqNum(k * 100), &[0; 100], false, right),
                Held::All
            );
        }
        // 600..700 joins 500..600 and 700..800 into one run.
        r.insert(SeqNum(600), &[0; 100], false, right);
        let mut out = [(SeqNum(0), SeqNum(0)); 4];
        assert_eq!(r.sack_runs(&mut out, 3), 3);
        assert_eq!(
            out[..3],
            [
                (SeqNum(500), SeqNum(800)),
                (SeqNum(900), SeqNum(1000)),
                (SeqNum(300), SeqNum(400))
            ]
        );
        assert_eq!(r.take_dsack(), None);
        r.insert(SeqNum(300), &[0; 100], false, right);
        assert_eq!(r.take_dsack(), Some((SeqNum(300), SeqNum(400))));
        assert_eq!(r.take_dsack(), None);
        assert_eq!(r.sack_runs(&mut out, 4), 4);
        assert_eq!(out[0], (SeqNum(300), SeqNum(400)));
        assert_eq!(out[3], (SeqNum(100), SeqNum(200)));
    }

    /// LR-07 (RFC 2883 4): an in-order segment that fills the hole and
    /// carries again octets held out of order reports the first duplicate
    /// run as the D-SACK, whole across the blocks it arrived in.
    #[test]
    fn hole_fill_with_duplicates_reports_the_first_duplicate_run() {
        let mut r = Reassembly::default();
        let right = SeqNum(100_000);
        for (seq, len) in [(1001, 1000), (2001, 1000), (4001, 1000), (7001, 1000)] {
            r.insert(SeqNum(seq), &vec![0; len], false, right);
        }
        // 1..6001 arrived in order: 1001..3001 and 4001..5001 were held.
        let (_, moved, _) = drain_all(&mut r, SeqNum(6001));
        assert_eq!(moved, 0);
        assert_eq!(r.take_dsack(), Some((SeqNum(1001), SeqNum(3001))));
        // 6001..7501 in order: the first half of 7001..8001 is a duplicate,
        // the rest delivered.
        let (out, moved, _) = drain_all(&mut r, SeqNum(7501));
        assert_eq!((out.len(), moved), (500, 500));
        assert_eq!(r.take_dsack(), Some((SeqNum(7001), SeqNum(7501))));
        // Draining with nothing skipped reports nothing.
        r.insert(SeqNum(9001), &[0; 10], false, right);
        drain_all(&mut r, SeqNum(9001));
        assert_eq!(r.take_dsack(), None);
    }

    #[test]
    fn block_count_is_bounded() {
        let mut r = Reassembly::default();
        let right = SeqNum(1_000_000);
        for i in 0..MAX_BLOCKS as u32 {
            assert_eq!(r.insert(SeqNum(10 + i * 10), &[1], false, right), Held::All);
        }
        assert_eq!(r.insert(SeqNum(500_000), &[1], false, right), Held::Refused);
        assert_eq!(r.held(), MAX_BLOCKS);
    }
}
