//! Send and receive buffers. Both start empty and unallocated, so an idle
//! connection costs only its TCB; they grow on demand up to the configured
//! size and are never reallocated per packet once warm. Their storage comes
//! from, and goes back to, an endpoint-wide [`BufferPool`], so short
//! connections do not pay an allocation and a free per buffer.

/// Storage recycled between connections. A connection that sends a few
/// bytes and closes would otherwise allocate and free each of its buffers
/// once; with the pool that costs a push and a pop. Bounded in the bytes it
/// keeps (`MAX_POOLED_BYTES`), so it holds at most a few hundred KiB
/// however many connections come and go.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    free: Vec<Vec<u8>>,
    /// Capacity of the storage in `free`.
    bytes: usize,
}

/// Storage the pool keeps at most, in bytes: a few thousand small
/// buffers, enough for a burst of short connections in flight at once.
const MAX_POOLED_BYTES: usize = 256 * 1024;
/// Larger buffers (bulk transfers) go back to the allocator: handing one
/// to the next small connection would waste it.
const MAX_POOLED_CAPACITY: usize = 2048;
/// The smallest allocation a buffer starts with.
const MIN_CAPACITY: usize = 64;

impl BufferPool {
    /// Empty storage with room for at least `want` bytes.
    fn take(&mut self, want: usize) -> Vec<u8> {
        match self.free.pop() {
            Some(mut v) => {
                self.bytes -= v.capacity();
                if v.capacity() < want {
                    v.reserve_exact(want);
                }
                v
            }
            None => Vec::with_capacity(want),
        }
    }

    /// Returns storage (emptied) to the pool, or to the allocator.
    fn give(&mut self, mut v: Vec<u8>) {
        let cap = v.capacity();
        if cap == 0 || cap > MAX_POOLED_CAPACITY || self.bytes + cap > MAX_POOLED_BYTES {
            return;
        }
        v.clear();
        self.bytes += cap;
        self.free.push(v);
    }

    /// Heap bytes held by pooled storage.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes + self.free.capacity() * size_of::<Vec<u8>>()
    }
}

/// Contiguous bytes consumed from the front: `data[head..]` is live. Kept
/// contiguous so a segment's payload is always one slice.
///
/// `head` and `limit` are 32-bit so that the per-connection limit costs no
/// TCB bytes (a buffer is far below 4 GiB: `Config` sizes are `usize` but
/// a window cannot exceed 2^30).
#[derive(Debug, Default)]
struct Bytes {
    data: Vec<u8>,
    head: u32,
    /// A per-connection size in place of `Config`'s, 0 for none.
    limit: u32,
}

impl Bytes {
    fn len(&self) -> usize {
        self.data.len() - self.head as usize
    }

    fn head(&self) -> usize {
        self.head as usize
    }

    /// Appends as much of `bytes` as fits under `cap`; returns how much.
    fn push(&mut self, bytes: &[u8], cap: usize, pool: &mut BufferPool) -> usize {
        let n = self.make_room(bytes.len(), cap, pool);
        self.data.extend_from_slice(&bytes[..n]);
        n
    }

    /// How much of `want` fits under `cap`, with storage made ready to
    /// append that much (taken from the pool, or consumed space reclaimed
    /// before growing).
    fn make_room(&mut self, want: usize, cap: usize, pool: &mut BufferPool) -> usize {
        let n = cap.saturating_sub(self.len()).min(want);
        if n == 0 {
            return 0;
        }
        if self.data.capacity() == 0 {
            self.data = pool.take(n.max(MIN_CAPACITY).min(cap));
        } else if self.head > 0 && self.data.len() + n > self.data.capacity() {
            self.data.drain(..self.head());
            self.head = 0;
        }
        n
    }

    /// Appends up to `max` bytes under `cap` written in place by `fill`,
    /// which gets the room (zeroed) and returns how much of it it used.
    fn push_with(
        &mut self,
        max: usize,
        cap: usize,
        pool: &mut BufferPool,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> usize {
        let room = self.make_room(max, cap, pool);
        if room == 0 {
            return 0;
        }
        let start = self.data.len();
        self.data.resize(start + room, 0);
        let used = fill(&mut self.data[start..]).min(room);
        self.data.truncate(start + used);
        used
    }

    /// Drops `n` bytes from the front.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        // head + n <= data.len(), which stays below 4 GiB (see the type).
        self.head += n as u32;
        if self.head() == self.data.len() {
            self.data.clear();
            self.head = 0;
        } else if self.head() >= self.data.capacity() / 2 {
            self.data.drain(..self.head());
            self.head = 0;
        }
    }

    /// The live bytes.
    fn as_slice(&self) -> &[u8] {
        &self.data[self.head()..]
    }

    /// A per-connection size in place of `Config`'s; `None` for none.
    fn set_limit(&mut self, bytes: Option<usize>) {
        self.limit = bytes.map_or(0, |b| u32::try_from(b.max(1)).unwrap_or(u32::MAX));
    }

    /// The size in force: the connection's own, else `default`.
    fn limit(&self, default: usize) -> usize {
        match self.limit {
            0 => default,
            l => l as usize,
        }
    }

    /// Gives the storage back to the pool (the connection ends: its
    /// limit goes too).
    fn free(&mut self, pool: &mut BufferPool) {
        pool.give(core::mem::take(&mut self.data));
        self.head = 0;
        self.limit = 0;
    }
}

/// Bytes the application queued for sending, from SND.UNA onward: the front
/// part is in flight (sent, unacknowledged), the rest is not yet sent.
#[derive(Debug, Default)]
pub(crate) struct SendBuffer(Bytes);

impl SendBuffer {
    /// Bytes held (in flight plus unsent).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Appends as much of `bytes` as fits under `cap`; returns how much.
    pub(crate) fn push(&mut self, bytes: &[u8], cap: usize, pool: &mut BufferPool) -> usize {
        self.0.push(bytes, cap, pool)
    }

    /// Appends up to `max` bytes under `cap`, written in place by `fill`;
    /// returns how many it wrote.
    pub(crate) fn push_with(
        &mut self,
        max: usize,
        cap: usize,
        pool: &mut BufferPool,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> usize {
        self.0.push_with(max, cap, pool, fill)
    }

    /// Drops `n` acknowledged bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        self.0.consume(n);
    }

    /// Keeps the first `keep` bytes and drops the rest (FLUSH).
    pub(crate) fn truncate(&mut self, keep: usize) {
        let head = self.0.head();
        self.0.data.truncate(head + keep);
    }

    /// The connection's own size (`SO_SNDBUF`), in place of `default`
    /// (`Config::send_buffer`); `None` goes back to the default.
    pub(crate) fn set_limit(&mut self, bytes: Option<usize>) {
        self.0.set_limit(bytes);
    }

    /// The size in force: the connection's own, else `default`.
    pub(crate) fn limit(&self, default: usize) -> usize {
        self.0.limit(default)
    }

    /// `len` bytes starting `offset` bytes after SND.UNA.
    pub(crate) fn slice(&self, offset: usize, len: usize) -> &[u8] {
        let live = self.0.as_slice();
        let start = offset.min(live.len());
        let end = (start + len).min(live.len());
        &live[start..end]
    }

    /// Heap bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.0.data.capacity()
    }

    /// Frees everything (FIN acknowledged, RST, abort).
    pub(crate) fn clear(&mut self, pool: &mut BufferPool) {
        self.0.free(pool);
    }
}

/// Bytes received in order and not yet read by the application.
#[derive(Debug, Default)]
pub(crate) struct RecvBuffer(Bytes);

impl RecvBuffer {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Appends as much of `bytes` as fits under `cap`; returns how much.
    pub(crate) fn push(&mut self, bytes: &[u8], cap: usize, pool: &mut BufferPool) -> usize {
        self.0.push(bytes, cap, pool)
    }

    /// The connection's own size (`SO_RCVBUF`), in place of `default`
    /// (`Config::recv_buffer`); `None` goes back to the default.
    pub(crate) fn set_limit(&mut self, bytes: Option<usize>) {
        self.0.set_limit(bytes);
    }

    /// The size in force: the connection's own, else `default`.
    pub(crate) fn limit(&self, default: usize) -> usize {
        self.0.limit(default)
    }

    /// Lends the buffered bytes (one slice: the buffer is contiguous) to
    /// `take`, and removes as many as it says it used.
    pub(crate) fn read_with(&mut self, take: impl FnOnce(&[u8]) -> usize) -> usize {
        let live = self.0.as_slice();
        let n = take(live).min(live.len());
        self.0.consume(n);
        n
    }

    pub(crate) fn capacity(&self) -> usize {
        self.0.data.capacity()
    }

    pub(crate) fn clear(&mut self, pool: &mut BufferPool) {
        self.0.free(pool);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_buffer_stays_contiguous_across_consumes() {
        let mut pool = BufferPool::default();
        let mut b = SendBuffer::default();
        assert_eq!(b.capacity(), 0);
        assert_eq!(b.push(b"hello world", 8, &mut pool), 8);
        assert_eq!(b.slice(0, 8), b"hello wo");
        b.consume(6);
        assert_eq!(b.len(), 2);
        assert_eq!(b.push(b"rld!", 8, &mut pool), 4);
        assert_eq!(b.slice(0, 10), b"world!");
        assert_eq!(b.slice(1, 2), b"or");
        b.consume(100);
        assert_eq!(b.len(), 0);
        assert_eq!(b.slice(0, 4), b"");
    }

    #[test]
    fn recv_buffer_respects_cap_and_reads_in_order() {
        let mut pool = BufferPool::default();
        let mut r = RecvBuffer::default();
        assert_eq!(r.push(b"abcdef", 4, &mut pool), 4);
        assert_eq!(r.push(b"x", 4, &mut pool), 0);
        // The reader sees everything buffered, and takes three.
        assert_eq!(
            r.read_with(|live| {
                assert_eq!(live, b"abcd");
                3
            }),
            3
        );
        assert_eq!(r.push(b"gh", 4, &mut pool), 2);
        // It cannot take more than there is.
        assert_eq!(
            r.read_with(|live| {
                assert_eq!(live, b"dgh");
                99
            }),
            3
        );
        assert!(r.is_empty());
    }

    #[test]
    fn send_buffer_filled_in_place_respects_cap() {
        let mut pool = BufferPool::default();
        let mut b = SendBuffer::default();
        assert_eq!(b.push(b"ab", 6, &mut pool), 2);
        // Room for 4 under the cap though 10 were asked; the filler uses 3.
        let n = b.push_with(10, 6, &mut pool, |room| {
            assert_eq!(room.len(), 4);
            room[..3].copy_from_slice(b"cde");
            3
        });
        assert_eq!(n, 3);
        assert_eq!(b.slice(0, 10), b"abcde");
        // A filler claiming more than its room is held to the room.
        assert_eq!(b.push_with(10, 6, &mut pool, |room| room.len() + 5), 1);
        assert_eq!(b.len(), 6);
        assert_eq!(b.push_with(10, 6, &mut pool, |_| unreachable!()), 0);
    }

    #[test]
    fn storage_is_recycled_within_bounds() {
        let mut pool = BufferPool::default();
        let mut a = SendBuffer::default();
        a.push(b"0123456789", 1000, &mut pool);
        let cap = a.capacity();
        a.clear(&mut pool);
        assert_eq!(a.capacity(), 0);
        assert_eq!(
            pool.heap_bytes(),
            cap + pool.free.capacity() * size_of::<Vec<u8>>()
        );
        // The next buffer reuses it, empty.
        let mut r = RecvBuffer::default();
        r.push(b"xy", 1000, &mut pool);
        assert_eq!(r.capacity(), cap);
        assert_eq!(r.len(), 2);
        assert!(pool.free.is_empty());
        // Big storage is not kept.
        let mut big = SendBuffer::default();
        big.push(&[0; 4096], 1 << 20, &mut pool);
        big.clear(&mut pool);
        assert!(pool.free.is_empty());
    }
}
