//! The heap the engine may hold, derived from its `Config`: what
//! `Endpoint::heap_bytes` counts can never exceed this for a given number
//! of TCBs, connections and live timer entries. The figures follow the
//! engine's storage; a change there that makes them wrong fails loudly
//! here, and should be looked at.

use std::sync::OnceLock;
use synack::{Config, Endpoint, Instant, Secret};

/// TCB slots per slab chunk.
const CHUNK: usize = 64;
/// The buffer pool keeps at most this much storage...
const MAX_POOLED_BYTES: usize = 256 * 1024;
/// ...in buffers of at most this capacity each.
const MAX_POOLED_CAPACITY: usize = 2048;
/// A pooled loss-recovery state: the `Loss` record (about 200 bytes) and a
/// scoreboard of at most 64 16-byte records (larger ones are not pooled).
const POOLED_LOSS_BYTES: usize = 320 + 64 * 16;
/// One timer-heap entry: a deadline and a `ConnId`.
const TIMER_ENTRY_BYTES: usize = 16;

/// What one slab chunk costs, measured on a fresh endpoint rather than
/// computed from a `Tcb` size this crate cannot see: the heap one
/// connection brings, which is the chunk plus a few small table
/// allocations (so a little more than the chunk alone).
fn chunk_bytes() -> usize {
    static C: OnceLock<usize> = OnceLock::new();
    *C.get_or_init(|| {
        let mut ep = Endpoint::new(
            Config::default(),
            Secret::from_bytes([3; 16]),
            Instant::ZERO,
        );
        let before = ep.heap_bytes();
        let local = "198.18.0.1:1".parse().expect("address");
        let remote = "198.18.0.2:2".parse().expect("address");
        let _ = ep.connect(Instant::ZERO, local, remote);
        ep.heap_bytes() - before
    })
}

/// Bytes of one hash-table bucket holding `entry` bytes (plus its control
/// byte), times the buckets a table of at most `n` entries may have grown
/// to: hashbrown doubles when full, and may double once more when deleted
/// entries fill it while it is more than half full.
fn table(n: usize, entry: usize) -> usize {
    (4 * n + 16) * (entry + 1)
}

/// What the harness knows that bounds the engine's heap.
pub(crate) struct Peaks {
    /// The most TCBs held at once (the slab never shrinks).
    pub(crate) tcbs: usize,
    /// The most connections in the 4-tuple table at once.
    pub(crate) conns: usize,
    /// The most timer-heap entries that may have been live at once.
    pub(crate) timer_entries: usize,
}

/// Upper bound of `Endpoint::heap_bytes`.
pub(crate) fn heap_bound(cfg: &Config, p: &Peaks) -> usize {
    let tcbs = p.tcbs;
    let chunks = tcbs.div_ceil(CHUNK);
    let slab = chunks * chunk_bytes() + size_of::<usize>() * (2 * chunks).max(4);
    // A buffer holds at most its configured size (the receive side up to a
    // window-scale unit more: the advertised window is rounded up), grows
    // by doubling, and storage from the pool may be larger than asked.
    let scale_unit = 1usize << cfg.window_shift();
    let snd = (2 * cfg.send_buffer).max(MAX_POOLED_CAPACITY);
    let rcv = (2 * (cfg.recv_buffer + scale_unit)).max(MAX_POOLED_CAPACITY);
    let buffers = tcbs * (snd + rcv);
    // The pools only ever hold what was once in use at once: two buffers
    // and one loss-recovery state per TCB.
    let pooled = 2 * tcbs;
    let pool = MAX_POOLED_BYTES.min(pooled * MAX_POOLED_CAPACITY)
        + size_of::<Vec<u8>>() * (2 * pooled).max(4);
    let loss_pool = tcbs * POOLED_LOSS_BYTES + size_of::<usize>() * (2 * tcbs).max(4);
    // 4-tuple table: (key, ConnId) per family, 12- and 36-byte keys.
    let tuples = table(p.conns, 12 + 8) + table(p.conns, 36 + 8);
    // TIME-WAIT: (key, 20-byte entry) per family, and each family's FIFO of
    // keys, which holds no more keys than the table may.
    let tw = cfg.max_time_wait;
    let time_wait = table(tw, 12 + 20) + table(tw, 36 + 20) + (2 * tw + 8) * 12 + (2 * tw + 8) * 36;
    // The timer heap is lazy: an entry stays until its deadline passes,
    // after its connection is gone too, so it holds up to what the last
    // few seconds armed, in vectors that may double (and keep their room).
    let timers = 2 * TIMER_ENTRY_BYTES * p.timer_entries;
    slab + buffers + pool + loss_pool + tuples + time_wait + timers
}
