//! One direction of a relay: read from one side into a buffer, write it
//! all to the other, and at the end of stream flush and half-close.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Reads one direction may do in a single poll before it yields, so a fast
/// direction cannot starve the other and the timers.
const READS_PER_POLL: usize = 32;

/// The first read of a quiet direction goes into this much stack space;
/// only data that arrives allocates the direction's buffer. So an idle
/// flow (a forwarder holds thousands) costs no copy buffers, and one that
/// goes quiet gives its buffer back.
const PROBE: usize = 4096;

/// A new buffer's size (unless the largest allowed is smaller). It doubles
/// after every read that fills it, up to the largest.
const INITIAL: usize = 64 * 1024;

/// Which end of the direction failed.
pub(super) enum Failure {
    /// Reading from the source.
    Read(io::Error),
    /// Writing (or flushing, or shutting down) the destination.
    Write(io::Error),
}

/// The state of one direction.
pub(super) struct Copy {
    /// Empty while the direction is quiet (see [`PROBE`]).
    buf: Box<[u8]>,
    /// The largest the buffer may grow to.
    max: usize,
    /// The last read filled the buffer: it doubles once written out.
    grow: bool,
    /// The last read filled at least half of the buffer: a bulk transfer,
    /// which keeps its buffer when the source has nothing for a moment.
    busy: bool,
    /// `buf[pos..cap]` is read and not yet written.
    pos: usize,
    cap: usize,
    /// The source reached its end of stream.
    eof: bool,
    /// Written since the last flush.
    need_flush: bool,
    /// Bytes written to the destination.
    pub(super) bytes: u64,
    /// The end of stream was forwarded: nothing left to do.
    pub(super) finished: bool,
}

impl Copy {
    pub(super) fn new(buffer_size: usize) -> Copy {
        Copy {
            buf: Box::default(),
            max: buffer_size.max(1),
            grow: false,
            busy: false,
            pos: 0,
            cap: 0,
            eof: false,
            need_flush: false,
            bytes: 0,
            finished: false,
        }
    }

    /// Moves what it can. `Ready(Ok)` once the source's end of stream has
    /// been forwarded, after all its data; sets `moved` when bytes moved
    /// (or the direction finished).
    pub(super) fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        src: &mut R,
        dst: &mut W,
        moved: &mut bool,
    ) -> Poll<Result<(), Failure>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut reads = READS_PER_POLL;
        loop {
            if self.pos < self.cap {
                let n = ready!(Pin::new(&mut *dst).poll_write(cx, &self.buf[self.pos..self.cap]))
                    .map_err(Failure::Write)?;
                if n == 0 {
                    return Poll::Ready(Err(Failure::Write(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the destination accepted no bytes",
                    ))));
                }
                self.pos += n;
                self.bytes += n as u64;
                self.need_flush = true;
                *moved = true;
                continue;
            }
            if self.eof {
                // Everything read is written: now the FIN may follow it.
                if self.need_flush {
                    ready!(Pin::new(&mut *dst).poll_flush(cx)).map_err(Failure::Write)?;
                    self.need_flush = false;
                }
                ready!(Pin::new(&mut *dst).poll_shutdown(cx)).map_err(Failure::Write)?;
                self.finished = true;
                *moved = true;
                return Poll::Ready(Ok(()));
            }
            if reads == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            reads -= 1;
            if self.grow {
                // Everything read is written: the buffer may be replaced.
                self.grow = false;
                let size = (self.buf.len() * 2).min(self.max);
                self.buf = vec![0; size].into_boxed_slice();
            }
            match self.poll_read(cx, src) {
                Poll::Ready(Ok(n)) => {
                    if n == 0 {
                        self.eof = true;
                    } else {
                        (self.pos, self.cap) = (0, n);
                        *moved = true;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Failure::Read(e))),
                Poll::Pending => {
                    // Quiet, with everything written: the buffer goes back
                    // until data comes again, unless the direction is in
                    // the middle of a bulk transfer (the relay gives it
                    // back if nothing moves for a while).
                    if !self.busy {
                        self.buf = Box::default();
                    }
                    // Nothing more to read for now: push out what a
                    // buffering writer holds before waiting.
                    if self.need_flush {
                        match Pin::new(&mut *dst).poll_flush(cx) {
                            Poll::Ready(Ok(())) => self.need_flush = false,
                            Poll::Ready(Err(e)) => return Poll::Ready(Err(Failure::Write(e))),
                            Poll::Pending => {}
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// One read from `src` into the buffer, or, while there is none, into
    /// a probe on the stack whose data then moves into a new buffer.
    fn poll_read<R>(&mut self, cx: &mut Context<'_>, src: &mut R) -> Poll<io::Result<usize>>
    where
        R: AsyncRead + Unpin + ?Sized,
    {
        if !self.buf.is_empty() {
            let mut rb = ReadBuf::new(&mut self.buf);
            ready!(Pin::new(&mut *src).poll_read(cx, &mut rb))?;
            let n = rb.filled().len();
            self.grow = n == self.buf.len() && n < self.max;
            self.busy = n >= self.buf.len() / 2 && n > 0;
            return Poll::Ready(Ok(n));
        }
        let mut probe = [0u8; PROBE];
        let len = probe.len().min(self.max);
        let mut rb = ReadBuf::new(&mut probe[..len]);
        ready!(Pin::new(&mut *src).poll_read(cx, &mut rb))?;
        let mut n = rb.filled().len();
        if n > 0 {
            let mut buf = vec![0; INITIAL.min(self.max)].into_boxed_slice();
            buf[..n].copy_from_slice(&probe[..n]);
            self.buf = buf;
            self.busy = false;
            if n == len {
                // The probe was filled: more may be waiting, and one large
                // write to the other side beats a small one and another.
                // An error here shows again at the next read.
                let mut rb = ReadBuf::new(&mut self.buf[n..]);
                if let Poll::Ready(Ok(())) = Pin::new(&mut *src).poll_read(cx, &mut rb) {
                    n += rb.filled().len();
                    self.grow = n == self.buf.len() && n < self.max;
                    self.busy = n >= self.buf.len() / 2;
                }
            }
        }
        Poll::Ready(Ok(n))
    }
}

impl Copy {
    /// Whether the direction holds a buffer (with nothing left to write:
    /// a held buffer is always written out before the next read).
    pub(super) fn holds_buffer(&self) -> bool {
        !self.buf.is_empty() && self.pos == self.cap
    }

    /// Gives the buffer back if nothing in it waits to be written.
    pub(super) fn release(&mut self) {
        if self.pos == self.cap {
            self.buf = Box::default();
            self.busy = false;
            self.grow = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An idle direction holds no buffer; data allocates one, which goes
    /// back once the direction is quiet again, and nothing is lost.
    #[tokio::test]
    async fn the_buffer_exists_only_while_data_flows() {
        let (mut feed, mut src) = tokio::io::duplex(1 << 16);
        let (mut dst, mut sink) = tokio::io::duplex(1 << 16);
        let mut c = Copy::new(64 * 1024);
        let mut moved = false;
        let poll = |c: &mut Copy,
                    src: &mut tokio::io::DuplexStream,
                    dst: &mut tokio::io::DuplexStream,
                    moved: &mut bool| {
            let waker = std::task::Waker::noop();
            let mut cx = Context::from_waker(waker);
            matches!(c.poll(&mut cx, src, dst, moved), Poll::Pending)
        };
        assert!(poll(&mut c, &mut src, &mut dst, &mut moved));
        assert!(c.buf.is_empty() && !moved, "idle: no buffer");
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        feed.write_all(&data).await.unwrap();
        assert!(poll(&mut c, &mut src, &mut dst, &mut moved));
        assert!(moved);
        assert!(c.buf.is_empty(), "quiet again once everything was written");
        let mut got = vec![0u8; data.len()];
        sink.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data);
        assert_eq!(c.bytes, data.len() as u64);
    }

    /// A bulk direction's buffer doubles while reads fill it, up to the
    /// largest allowed, and stays through a pause (the relay gives it back
    /// after a second without movement); a trickle's goes back at once.
    #[tokio::test]
    async fn a_bulk_direction_grows_its_buffer_and_keeps_it_through_a_pause() {
        let (mut feed, mut src) = tokio::io::duplex(1 << 22);
        let (mut dst, mut sink) = tokio::io::duplex(1 << 22);
        let max = 256 * 1024;
        let mut c = Copy::new(max);
        let mut moved = false;
        let mut poll = |c: &mut Copy| {
            let waker = std::task::Waker::noop();
            let mut cx = Context::from_waker(waker);
            matches!(
                c.poll(&mut cx, &mut src, &mut dst, &mut moved),
                Poll::Pending
            )
        };
        // Reads of 64, 128, 256 and 256 KiB: each fills the buffer.
        let data: Vec<u8> = (0..704 * 1024u32).map(|i| (i % 251) as u8).collect();
        feed.write_all(&data).await.unwrap();
        assert!(poll(&mut c));
        assert_eq!(c.buf.len(), max, "grown to the largest");
        assert!(c.holds_buffer(), "kept through the pause");
        c.release();
        assert!(!c.holds_buffer());
        let mut got = vec![0u8; data.len()];
        sink.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data);
        // A trickle: a few bytes, the buffer goes back when the source is
        // quiet.
        feed.write_all(b"hello").await.unwrap();
        assert!(poll(&mut c));
        assert!(!c.holds_buffer());
        let mut got = [0u8; 5];
        sink.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
    }
}
