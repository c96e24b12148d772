//! TIME-WAIT (RFC 9293 3.6.1, 3.10.7.4), the one place it is handled: every
//! connection that reaches TIME-WAIT is turned into a compact entry here at
//! once, a few dozen bytes, so that a busy server's closed connections cost
//! almost nothing for their 2 x MSL; [`TimeWaitEntry::on_segment`] decides
//! what a segment does to one (RFC 5961 for RSTs, RFC 6191 for a new SYN,
//! SM-05, SM-06). IPv4 entries use a 12-byte key ([`Key`]).

use crate::counters::DropReason;
use crate::endpoint::TableHasher;
use crate::seq::SeqNum;
use crate::tuple::{FamilyKey, FourTuple, Key, KeyV4, KeyV6};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use synack_wire::TcpSegment;

/// What TIME-WAIT must remember about the old incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimeWaitEntry {
    pub(crate) snd_nxt: u32,
    pub(crate) rcv_nxt: u32,
    /// TS.Recent, for RFC 6191 and for our ACKs' TSecr.
    pub(crate) ts_recent: u32,
    /// Expiry, in milliseconds of the endpoint clock, modulo 2^32 (2 x MSL
    /// is far below the 24 days that wrap-safe comparison allows).
    pub(crate) expires_ms: u32,
    /// The window field our ACKs carry.
    pub(crate) window: u16,
    /// Our window-scale shift: RCV.WND is `window << rcv_shift`, which the
    /// RST check of RFC 5961 3.2 needs.
    pub(crate) rcv_shift: u8,
    /// Whether the old incarnation used timestamps.
    pub(crate) ts_ok: bool,
}

/// What a segment does to a TIME-WAIT entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TwAction {
    /// A RST at RCV.NXT: the wait ends (RFC 9293 3.10.7.4 step 2).
    Close,
    /// A SYN newer than the old incarnation (RFC 6191 2, RFC 9293 MAY-2):
    /// a listener may open a new connection, with an ISS beyond the old
    /// one's sequence space; without a listener it is answered as below.
    Reopen { iss_floor: SeqNum },
    /// Answer with an ACK of the old RCV.NXT; `restart` when it was the
    /// peer's FIN again (2 x MSL starts over); `dropped` names what of it
    /// was discarded, if anything.
    Ack {
        restart: bool,
        dropped: Option<DropReason>,
    },
    /// Nothing to say: dropped for this reason.
    Drop(DropReason),
}

impl TimeWaitEntry {
    /// RFC 9293 3.10.7.4 in TIME-WAIT, with RFC 5961's RST rule and RFC
    /// 6191's reopening: what `seg` does to this entry.
    pub(crate) fn on_segment(&self, seg: &TcpSegment<'_>) -> TwAction {
        let f = seg.flags;
        let seq = SeqNum(seg.seq);
        let rcv_nxt = SeqNum(self.rcv_nxt);
        let mut dropped = None;
        if f.rst() {
            if seq == rcv_nxt {
                return TwAction::Close;
            }
            // RFC 5961 3.2 holds in TIME-WAIT too: in the window but not
            // exact, a challenge ACK; outside, silence (SA-04).
            let wnd = u32::from(self.window) << self.rcv_shift;
            if !seq.in_range(rcv_nxt, rcv_nxt.add(wnd)) {
                return TwAction::Drop(DropReason::RstIgnored);
            }
            dropped = Some(DropReason::RstNotExact);
        } else if f.syn() && !f.ack() {
            // RFC 6191 2: newer by timestamp if the old incarnation used
            // them, else by sequence number.
            let newer = match (self.ts_ok, seg.options.timestamps) {
                (true, Some(ts)) => {
                    let d = ts.tsval.wrapping_sub(self.ts_recent) as i32;
                    d > 0 || (d == 0 && seq.gt(rcv_nxt))
                }
                (false, Some(_)) => true,
                (_, None) => seq.gt(rcv_nxt),
            };
            if newer {
                return TwAction::Reopen {
                    iss_floor: SeqNum(self.snd_nxt).add(65536),
                };
            }
        }
        // The peer's FIN again (and only that FIN, not a blind one): ACK it
        // and restart 2 x MSL (SM-05).
        let fin_end = seq.add(seg.payload.len() as u32).add(1);
        let restart = f.fin() && !f.rst() && fin_end == rcv_nxt;
        let needs_ack = f.syn() || f.fin() || !seg.payload.is_empty() || seq != rcv_nxt;
        if !needs_ack {
            return TwAction::Drop(DropReason::TimeWait);
        }
        if !seg.payload.is_empty() && !f.rst() {
            // Answered, but the text goes nowhere (SM-13).
            dropped = Some(DropReason::TextAfterFin);
        }
        TwAction::Ack { restart, dropped }
    }
}

/// One address family's table: the entries, and a FIFO of keys in the
/// order they entered. All entries last the same 2 x MSL, so the FIFO is
/// also the expiry order. An entry removed early (reopened, reset) leaves
/// a stale slot behind, and an entry whose timer was restarted stays at
/// its old place; once stale slots make up half the FIFO it is rebuilt
/// from the table in expiry order, so a peer that reopens a 4-tuple again
/// and again cannot grow it past twice the table.
struct Family<K> {
    map: HashMap<K, TimeWaitEntry, TableHasher>,
    fifo: VecDeque<K>,
}

impl<K: FamilyKey> Family<K> {
    fn new(hasher: TableHasher) -> Self {
        Family {
            map: HashMap::with_hasher(hasher),
            fifo: VecDeque::new(),
        }
    }

    fn insert(&mut self, k: K, e: TimeWaitEntry) {
        if self.map.insert(k, e).is_none() {
            self.fifo.push_back(k);
            if self.fifo.len() > 2 * self.map.len().max(MIN_COMPACT) {
                self.compact();
            }
        }
    }

    /// Rebuilds the FIFO from the table: one slot per entry, earliest
    /// expiry first (ties in the table's order, which is deterministic
    /// for a given hasher).
    fn compact(&mut self) {
        let mut live: Vec<(u32, K)> = self.map.iter().map(|(k, e)| (e.expires_ms, *k)).collect();
        // Expiries lie within 2 x MSL of each other, far less than half
        // the u32 range, so distances from the earliest order them
        // wrap-safely.
        let mut earliest = live.first().map_or(0, |(t, _)| *t);
        for (t, _) in &live {
            if (t.wrapping_sub(earliest) as i32) < 0 {
                earliest = *t;
            }
        }
        live.sort_by_key(|(t, _)| t.wrapping_sub(earliest));
        self.fifo.clear();
        self.fifo.extend(live.into_iter().map(|(_, k)| k));
        self.fifo.shrink_to(2 * self.map.len().max(MIN_COMPACT));
    }

    /// Removes and returns the tuple of the first expired entry.
    fn expire_one(&mut self, now_ms: u32) -> Option<Option<FourTuple>> {
        let k = *self.fifo.front()?;
        // One lookup, through the entry, whether the slot is stale, due or
        // not yet due.
        match self.map.entry(k) {
            Entry::Vacant(_) => {
                // Removed earlier (reopened or reset); forget the slot.
                self.fifo.pop_front();
                Some(None)
            }
            Entry::Occupied(e) if (now_ms.wrapping_sub(e.get().expires_ms) as i32) >= 0 => {
                e.remove();
                self.fifo.pop_front();
                Some(Some(k.tuple()))
            }
            Entry::Occupied(_) => None,
        }
    }

    fn next_expiry(&self) -> Option<u32> {
        let k = self.fifo.front()?;
        Some(self.map.get(k).map_or(0, |e| e.expires_ms))
    }

    /// Evicts the oldest entry (used when the table is full).
    fn evict_oldest(&mut self) -> bool {
        while let Some(k) = self.fifo.pop_front() {
            if self.map.remove(&k).is_some() {
                return true;
            }
        }
        false
    }
}

/// The FIFO is compacted once it holds more than twice this many slots or
/// twice the entries, whichever is more.
const MIN_COMPACT: usize = 32;

/// The TIME-WAIT table of one endpoint.
pub(crate) struct TimeWaitTable {
    v4: Family<KeyV4>,
    v6: Family<KeyV6>,
    cap: usize,
}

impl TimeWaitTable {
    pub(crate) fn new(cap: usize, hasher: TableHasher) -> Self {
        TimeWaitTable {
            v4: Family::new(hasher.clone()),
            v6: Family::new(hasher),
            cap,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.v4.map.len() + self.v6.map.len()
    }

    /// Adds an entry; when the table is full the oldest is recycled
    /// (returns whether one was).
    pub(crate) fn insert(&mut self, t: &FourTuple, e: TimeWaitEntry) -> bool {
        let mut evicted = false;
        if self.len() >= self.cap {
            evicted = self.v4.evict_oldest() || self.v6.evict_oldest();
        }
        match t.key() {
            Key::V4(k) => self.v4.insert(k, e),
            Key::V6(k) => self.v6.insert(k, e),
        }
        evicted
    }

    pub(crate) fn get(&self, t: &FourTuple) -> Option<&TimeWaitEntry> {
        match t.key() {
            Key::V4(k) => self.v4.map.get(&k),
            Key::V6(k) => self.v6.map.get(&k),
        }
    }

    pub(crate) fn get_mut(&mut self, t: &FourTuple) -> Option<&mut TimeWaitEntry> {
        match t.key() {
            Key::V4(k) => self.v4.map.get_mut(&k),
            Key::V6(k) => self.v6.map.get_mut(&k),
        }
    }

    pub(crate) fn contains(&self, t: &FourTuple) -> bool {
        match t.key() {
            Key::V4(k) => self.v4.map.contains_key(&k),
            Key::V6(k) => self.v6.map.contains_key(&k),
        }
    }

    pub(crate) fn remove(&mut self, t: &FourTuple) -> Option<TimeWaitEntry> {
        match t.key() {
            Key::V4(k) => self.v4.map.remove(&k),
            Key::V6(k) => self.v6.map.remove(&k),
        }
    }

    /// Removes one expired entry and returns its tuple (`Some(None)` when a
    /// stale slot was skipped); `None` when nothing is due.
    pub(crate) fn expire_one(&mut self, now_ms: u32) -> Option<Option<FourTuple>> {
        self.v4
            .expire_one(now_ms)
            .or_else(|| self.v6.expire_one(now_ms))
    }

    /// The earliest expiry in milliseconds, if any entry exists (a stale
    /// front slot reports 0, which just causes an early wake-up).
    pub(crate) fn next_expiry_ms(&self, now_ms: u32) -> Option<u32> {
        let a = self.v4.next_expiry();
        let b = self.v6.next_expiry();
        match (a, b) {
            (Some(x), Some(y)) => {
                // Pick the earlier one relative to now (wrap-safe).
                let dx = x.wrapping_sub(now_ms) as i32;
                let dy = y.wrapping_sub(now_ms) as i32;
                Some(if dx <= dy { x } else { y })
            }
            (x, y) => x.or(y),
        }
    }

    /// Heap bytes held, for the memory benchmark.
    pub(crate) fn heap_bytes(&self) -> usize {
        fn fam<K>(f: &Family<K>) -> usize {
            let entry = core::mem::size_of::<(K, TimeWaitEntry)>() + 1;
            f.map.capacity() * entry + f.fifo.capacity() * core::mem::size_of::<K>()
        }
        fam(&self.v4) + fam(&self.v6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn tuple(port: u16) -> FourTuple {
        FourTuple::new(
            SocketAddr::from(([198, 18, 0, 2], 80)),
            SocketAddr::from(([198, 18, 0, 1], port)),
        )
    }

    fn entry(expires_ms: u32) -> TimeWaitEntry {
        TimeWaitEntry {
            snd_nxt: 1,
            rcv_nxt: 2,
            ts_recent: 0,
            expires_ms,
            window: 100,
            rcv_shift: 0,
            ts_ok: false,
        }
    }

    #[test]
    fn entries_expire_in_order_and_restarts_are_honoured() {
        let mut t = TimeWaitTable::new(10, TableHasher::with_seeds(1, 2, 3, 4));
        t.insert(&tuple(1), entry(100));
        t.insert(&tuple(2), entry(200));
        assert_eq!(t.expire_one(50), None);
        // Restart the first one's timer.
        t.get_mut(&tuple(1)).unwrap().expires_ms = 300;
        assert_eq!(t.expire_one(150), None);
        assert_eq!(t.len(), 2);
        // The key-order FIFO still holds entry 1 first; it is not due, so
        // nothing expires until 300 even though entry 2 is due at 200 (an
        // entry may outlive 2 x MSL by at most one restart interval).
        assert_eq!(t.expire_one(300), Some(Some(tuple(1))));
        assert_eq!(t.expire_one(300), Some(Some(tuple(2))));
        assert_eq!(t.len(), 0);
    }

    /// A 4-tuple reopened (or reset) again and again leaves a stale FIFO
    /// slot each time; the FIFO stays within twice the table (fuzzer
    /// finding 4: it grew by one slot per reopening, for good).
    #[test]
    fn reopened_entries_do_not_grow_the_fifo() {
        let mut t = TimeWaitTable::new(10, TableHasher::with_seeds(1, 2, 3, 4));
        t.insert(&tuple(9), entry(1_000_000));
        for i in 0..10_000u32 {
            t.insert(&tuple(1), entry(2_000 + i));
            assert!(t.remove(&tuple(1)).is_some());
            assert!(
                t.v4.fifo.len() <= 2 * MIN_COMPACT + 1,
                "{} slots",
                t.v4.fifo.len()
            );
        }
        assert!(t.heap_bytes() < 4096, "{} bytes", t.heap_bytes());
        // What is left still expires, in order.
        t.insert(&tuple(2), entry(500));
        assert_eq!(t.len(), 2);
        let mut expired = Vec::new();
        while let Some(e) = t.expire_one(2_000_000) {
            expired.extend(e);
        }
        assert_eq!(expired, vec![tuple(9), tuple(2)]);
    }

    /// Compaction puts a restarted entry back in expiry order, wrap-safely.
    #[test]
    fn compaction_orders_by_expiry_across_the_wrap() {
        let mut t = TimeWaitTable::new(100, TableHasher::with_seeds(1, 2, 3, 4));
        t.insert(&tuple(1), entry(u32::MAX - 10));
        t.insert(&tuple(2), entry(5));
        t.get_mut(&tuple(1)).unwrap().expires_ms = 20;
        t.v4.compact();
        assert_eq!(t.expire_one(10), Some(Some(tuple(2))));
        assert_eq!(t.expire_one(10), None);
        assert_eq!(t.expire_one(20), Some(Some(tuple(1))));
    }

    #[test]
    fn full_table_recycles_the_oldest() {
        let mut t = TimeWaitTable::new(2, TableHasher::with_seeds(1, 2, 3, 4));
        assert!(!t.insert(&tuple(1), entry(100)));
        assert!(!t.insert(&tuple(2), entry(100)));
        assert!(t.insert(&tuple(3), entry(100)));
        assert!(!t.contains(&tuple(1)));
        assert!(t.contains(&tuple(3)));
        assert_eq!(t.len(), 2);
    }
}
