//! The heap the engine may hold, derived from its `Config`: what
//! `Endpoint::heap_bytes` counts can never exceed this for a given number
//! of TCBs and connections. The figures follow the engine's storage: a
//! change there that makes them wrong should fail loudly here, and be
//! looked at.

use synack::Config;

/// One slab slot: a `Tcb` (at most 320 bytes, asserted by the engine's
/// `tcb_stays_small` test) with its generation and live flag, padded.
const SLOT_BYTES: usize = 336;
/// TCB slots per slab chunk.
const CHUNK: usize = 64;
/// The buffer pool keeps at most this much storage...
const MAX_POOLED_BYTES: usize = 256 * 1024;
/// ...in buffers of at most this capacity each.
const MAX_POOLED_CAPACITY: usize = 2048;

/// Bytes of one hash-table bucket holding `entry` bytes (plus its control
/// byte), times the buckets a table of at most `n` entries may have grown
/// to: hashbrown doubles when full, and may double once more when deleted
/// entries fill it while it is more than half full.
fn table(n: usize, entry: usize) -> usize {
    (4 * n + 16) * (entry + 1)
}

/// Upper bound of `Endpoint::heap_bytes` for an endpoint that has held at
/// most `tcbs` TCBs at once (the slab never shrinks), `conns` of them in its
/// 4-tuple table.
pub(crate) fn heap_bound(cfg: &Config, tcbs: usize, conns: usize) -> usize {
    let chunks = tcbs.div_ceil(CHUNK);
    let slab = chunks * CHUNK * SLOT_BYTES
        + size_of::<usize>() * (2 * chunks).max(4)
        + size_of::<u32>() * 2 * chunks * CHUNK;
    // A buffer holds at most its configured size (the receive side up to a
    // window-scale unit more: the advertised window is rounded up), grows
    // by doubling, and storage from the pool may be larger than asked.
    let scale_unit = 1usize << cfg.window_shift();
    let snd = (2 * cfg.send_buffer).max(MAX_POOLED_CAPACITY);
    let rcv = (2 * (cfg.recv_buffer + scale_unit)).max(MAX_POOLED_CAPACITY);
    let buffers = tcbs * (snd + rcv);
    // The pool only ever holds buffers that were all in use at once once,
    // two per TCB.
    let pooled = 2 * tcbs;
    let pool = MAX_POOLED_BYTES.min(pooled * MAX_POOLED_CAPACITY)
        + size_of::<Vec<u8>>() * (2 * pooled).max(4);
    // 4-tuple table: (key, ConnId) per family, 12- and 36-byte keys.
    let tuples = table(conns, 12 + 8) + table(conns, 36 + 8);
    // TIME-WAIT: (key, 20-byte entry) per family, and each family's FIFO of
    // keys, which holds no more keys than the table may.
    let tw = cfg.max_time_wait;
    let time_wait = table(tw, 12 + 20) + table(tw, 36 + 20) + (2 * tw + 8) * 12 + (2 * tw + 8) * 36;
    slab + buffers + pool + tuples + time_wait
}
