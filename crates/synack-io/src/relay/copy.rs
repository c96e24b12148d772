//! One direction of a relay: read from one side into a buffer, write it
//! all to the other, and at the end of stream flush and half-close.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Reads one direction may do in a single poll before it yields, so a fast
/// direction cannot starve the other and the timers.
const READS_PER_POLL: usize = 32;

/// Which end of the direction failed.
pub(super) enum Failure {
    /// Reading from the source.
    Read(io::Error),
    /// Writing (or flushing, or shutting down) the destination.
    Write(io::Error),
}

/// The state of one direction.
pub(super) struct Copy {
    buf: Box<[u8]>,
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
            buf: vec![0; buffer_size.max(1)].into_boxed_slice(),
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
            let mut rb = ReadBuf::new(&mut self.buf);
            match Pin::new(&mut *src).poll_read(cx, &mut rb) {
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        self.eof = true;
                    } else {
                        (self.pos, self.cap) = (0, n);
                        *moved = true;
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Failure::Read(e))),
                Poll::Pending => {
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
}
