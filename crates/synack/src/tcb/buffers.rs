//! Send and receive buffers. Both start empty and unallocated, so an idle
//! connection costs only its TCB; they grow on demand up to the configured
//! size and are never reallocated per packet once warm.

use std::collections::VecDeque;

/// Bytes the application queued for sending, from SND.UNA onward: the front
/// part is in flight (sent, unacknowledged), the rest is not yet sent.
/// Kept contiguous so a segment's payload is always one slice.
#[derive(Debug, Default)]
pub(crate) struct SendBuffer {
    data: Vec<u8>,
    head: usize,
}

impl SendBuffer {
    /// Bytes held (in flight plus unsent).
    pub(crate) fn len(&self) -> usize {
        self.data.len() - self.head
    }

    /// Appends as much of `bytes` as fits under `cap`; returns how much.
    pub(crate) fn push(&mut self, bytes: &[u8], cap: usize) -> usize {
        let room = cap.saturating_sub(self.len());
        let n = room.min(bytes.len());
        if n == 0 {
            return 0;
        }
        if self.head > 0 && self.data.len() + n > self.data.capacity() {
            // Reclaim acknowledged space before growing.
            self.data.drain(..self.head);
            self.head = 0;
        }
        if self.data.capacity() == 0 {
            self.data.reserve_exact(n.max(64).min(cap));
        }
        self.data.extend_from_slice(&bytes[..n]);
        n
    }

    /// Drops `n` acknowledged bytes from the front.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        self.head += n;
        if self.head == self.data.len() {
            self.data.clear();
            self.head = 0;
        } else if self.head >= self.data.capacity() / 2 {
            self.data.drain(..self.head);
            self.head = 0;
        }
    }

    /// `len` bytes starting `offset` bytes after SND.UNA.
    pub(crate) fn slice(&self, offset: usize, len: usize) -> &[u8] {
        let start = (self.head + offset).min(self.data.len());
        let end = (start + len).min(self.data.len());
        &self.data[start..end]
    }

    /// Heap bytes held.
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Frees everything (RST, abort).
    pub(crate) fn clear(&mut self) {
        self.data = Vec::new();
        self.head = 0;
    }
}

/// Bytes received in order and not yet read by the application.
#[derive(Debug, Default)]
pub(crate) struct RecvBuffer {
    data: VecDeque<u8>,
}

impl RecvBuffer {
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Appends as much of `bytes` as fits under `cap`; returns how much.
    pub(crate) fn push(&mut self, bytes: &[u8], cap: usize) -> usize {
        let room = cap.saturating_sub(self.data.len());
        let n = room.min(bytes.len());
        if n > 0 {
            if self.data.capacity() == 0 {
                self.data.reserve_exact(n.max(64).min(cap));
            }
            self.data.extend(&bytes[..n]);
        }
        n
    }

    /// Copies out up to `out.len()` bytes and removes them.
    pub(crate) fn read(&mut self, out: &mut [u8]) -> usize {
        let (a, b) = self.data.as_slices();
        let n1 = a.len().min(out.len());
        out[..n1].copy_from_slice(&a[..n1]);
        let n2 = b.len().min(out.len() - n1);
        out[n1..n1 + n2].copy_from_slice(&b[..n2]);
        self.data.drain(..n1 + n2);
        n1 + n2
    }

    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }

    pub(crate) fn clear(&mut self) {
        self.data = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_buffer_stays_contiguous_across_consumes() {
        let mut b = SendBuffer::default();
        assert_eq!(b.capacity(), 0);
        assert_eq!(b.push(b"hello world", 8), 8);
        assert_eq!(b.slice(0, 8), b"hello wo");
        b.consume(6);
        assert_eq!(b.len(), 2);
        assert_eq!(b.push(b"rld!", 8), 4);
        assert_eq!(b.slice(0, 10), b"world!");
        assert_eq!(b.slice(1, 2), b"or");
        b.consume(100);
        assert_eq!(b.len(), 0);
        assert_eq!(b.slice(0, 4), b"");
    }

    #[test]
    fn recv_buffer_respects_cap_and_reads_in_order() {
        let mut r = RecvBuffer::default();
        assert_eq!(r.push(b"abcdef", 4), 4);
        assert_eq!(r.push(b"x", 4), 0);
        let mut out = [0u8; 3];
        assert_eq!(r.read(&mut out), 3);
        assert_eq!(&out, b"abc");
        assert_eq!(r.push(b"gh", 4), 2);
        let mut out = [0u8; 8];
        assert_eq!(r.read(&mut out), 3);
        assert_eq!(&out[..3], b"dgh");
        assert!(r.is_empty());
    }
}
