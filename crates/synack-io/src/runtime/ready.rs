//! Reading and writing in every mode a socket offers: waiting (`poll_*`,
//! which registers the task to be woken), trying (`try_*`, which never
//! registers anything, so a task waiting elsewhere keeps its wake-up), and
//! readiness alone (`readable`, `writable`) and peeking, which move no data.

use super::Stack;
use super::errors::{read_after, write_after};
use super::registry::park;
use std::io;
use std::task::{Context, Poll, Waker};
use synack::{ConnId, Endpoint, Error};

impl Stack {
    /// RECEIVE, waiting for data.
    pub(crate) fn poll_recv(
        &self,
        c: ConnId,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.recv_op(c, Some(cx.waker()), |ep| ep.recv(c, buf))
    }

    /// RECEIVE without waiting: `WouldBlock` when nothing is there.
    pub(crate) fn try_recv(&self, c: ConnId, buf: &mut [u8]) -> io::Result<usize> {
        pending_would_block(self.recv_op(c, None, |ep| ep.recv(c, buf)))
    }

    /// Copies what is buffered without consuming it, waiting for data.
    pub(crate) fn poll_peek(
        &self,
        c: ConnId,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.recv_op(c, Some(cx.waker()), |ep| {
            let mut copied = 0;
            ep.recv_with(c, |data| {
                copied = data.len().min(buf.len());
                buf[..copied].copy_from_slice(&data[..copied]);
                0
            })
            .map(|_| copied)
        })
    }

    /// Ready when a read would not wait: data, the end of the stream, or
    /// an error to report.
    pub(crate) fn poll_read_ready(&self, c: ConnId, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.recv_op(c, Some(cx.waker()), |ep| ep.recv_with(c, |_| 0))
            .map(|_| Ok(()))
    }

    /// SEND, waiting for room.
    pub(crate) fn poll_send(
        &self,
        c: ConnId,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.send_op(c, Some(cx.waker()), |ep| ep.send(c, data))
    }

    /// SEND without waiting: `WouldBlock` when the send buffer is full.
    pub(crate) fn try_send(&self, c: ConnId, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        pending_would_block(self.send_op(c, None, |ep| ep.send(c, data)))
    }

    /// Ready when a write would not wait: room in the send buffer, or an
    /// error to report.
    pub(crate) fn poll_write_ready(&self, c: ConnId, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.send_op(c, Some(cx.waker()), |ep| {
            if ep.send_capacity(c) > 0 {
                Ok(0)
            } else {
                // Full (or not sendable): a send that finds no room is
                // what arms the engine's `Writable` event; it queues
                // nothing, there being no room.
                ep.send(c, &[0])
            }
        })
        .map(|_| Ok(()))
    }

    /// The common part of every read: a shut-down read side reads 0, then
    /// as [`io_op`](Self::io_op).
    fn recv_op(
        &self,
        c: ConnId,
        waker: Option<&Waker>,
        op: impl FnOnce(&mut Endpoint) -> Result<usize, Error>,
    ) -> Poll<io::Result<usize>> {
        self.io_op(c, waker, Side::Read, op)
    }

    /// The common part of every write, as [`io_op`](Self::io_op).
    fn send_op(
        &self,
        c: ConnId,
        waker: Option<&Waker>,
        op: impl FnOnce(&mut Endpoint) -> Result<usize, Error>,
    ) -> Poll<io::Result<usize>> {
        self.io_op(c, waker, Side::Write, op)
    }

    /// Runs `op` under the lock: a finished connection answers from its
    /// close reason (a read after a normal close is the end of the stream,
    /// a write a broken pipe); `WouldBlock` parks `waker` (if any) as the
    /// reader or the writer.
    fn io_op(
        &self,
        c: ConnId,
        waker: Option<&Waker>,
        side: Side,
        op: impl FnOnce(&mut Endpoint) -> Result<usize, Error>,
    ) -> Poll<io::Result<usize>> {
        let after = |r| match side {
            Side::Read => read_after(r),
            Side::Write => Err(write_after(r)),
        };
        self.shared.with(|g| {
            let (closed, read_shut) = match g.reg.conn(c) {
                Some(s) => (s.closed, s.read_shut),
                None => (None, false),
            };
            if read_shut && side == Side::Read {
                return Poll::Ready(Ok(0));
            }
            match op(&mut g.ep) {
                Ok(n) => Poll::Ready(Ok(n)),
                Err(Error::WouldBlock) => match closed {
                    // Closed yet still blocking: no event will come.
                    Some(r) => Poll::Ready(after(r)),
                    None => {
                        if let (Some(s), Some(w)) = (g.reg.conn_mut(c), waker) {
                            let slot = match side {
                                Side::Read => &mut s.reader,
                                Side::Write => &mut s.writer,
                            };
                            park(slot, w);
                        }
                        Poll::Pending
                    }
                },
                Err(Error::NotConnected | Error::InvalidHandle) => match closed {
                    Some(r) => Poll::Ready(after(r)),
                    None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
                },
                Err(e) => Poll::Ready(Err(e.into())),
            }
        })
    }
}

/// Which half of a connection a call uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Read,
    Write,
}

/// A `try_` call's answer: what would have waited is `WouldBlock`.
fn pending_would_block<T>(p: Poll<io::Result<T>>) -> io::Result<T> {
    match p {
        Poll::Ready(r) => r,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}
