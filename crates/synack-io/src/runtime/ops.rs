//! The calls sockets make, in poll form so the async and the blocking
//! sockets share them. Each runs under the stack's lock through
//! [`Shared::with`], so checking for data and registering a waker are one
//! step that no event can slip between.

use super::Stack;
use super::errors::{close_error, read_after, write_after};
use super::registry::park;
use super::shared::Inner;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use synack::{ConnId, ConnInfo, Error, ListenerId};

impl Stack {
    pub(crate) fn listen(&self, addr: SocketAddr) -> io::Result<ListenerId> {
        let backlog = self.shared.backlog;
        self.shared.with(|g| {
            let id = g.ep.listen(addr, backlog)?;
            g.reg.add_listener(id);
            Ok(id)
        })
    }

    pub(crate) fn close_listener(&self, l: ListenerId) {
        self.shared.with(|g| {
            g.reg.remove_listener(l);
            let _ = g.ep.close_listener(l);
        });
    }

    /// The next accepted connection: (id, local, remote).
    pub(crate) fn poll_accept(
        &self,
        l: ListenerId,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(ConnId, SocketAddr, SocketAddr)>> {
        self.shared.with(|g| {
            while let Some(id) = g.ep.accept(l) {
                // A connection is queued established; one that ended in the
                // queue has no TCB left to describe and is skipped.
                if let Some(info) = g.ep.info(id) {
                    g.reg.add_conn(id, true, info.local, info.remote);
                    return Poll::Ready(Ok((id, info.local, info.remote)));
                }
            }
            g.reg.park_acceptor(l, cx.waker());
            Poll::Pending
        })
    }

    /// Starts an active open from our address of `remote`'s family.
    pub(crate) fn start_connect(&self, remote: SocketAddr) -> io::Result<(ConnId, SocketAddr)> {
        let ip = self
            .shared
            .addrs
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == remote.is_ipv4())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    "the stack has no address of the remote's family",
                )
            })?;
        let now = self.shared.clock.now();
        self.shared.with(|g| {
            let id = g.ep.connect(now, SocketAddr::new(ip, 0), remote)?;
            let local = g.ep.info(id).map_or(SocketAddr::new(ip, 0), |i| i.local);
            g.reg.add_conn(id, false, local, remote);
            Ok((id, local))
        })
    }

    pub(crate) fn poll_connect(&self, c: ConnId, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shared.with(|g| {
            let Some(slot) = g.reg.conn_mut(c) else {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            };
            if slot.connected {
                Poll::Ready(Ok(()))
            } else if let Some(r) = slot.closed {
                Poll::Ready(Err(close_error(r)))
            } else {
                park(&mut slot.connector, cx.waker());
                Poll::Pending
            }
        })
    }

    pub(crate) fn poll_recv(
        &self,
        c: ConnId,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.shared.with(|g| {
            let (closed, read_shut) = match g.reg.conn(c) {
                Some(s) => (s.closed, s.read_shut),
                None => (None, false),
            };
            if read_shut {
                return Poll::Ready(Ok(0));
            }
            match g.ep.recv(c, buf) {
                Ok(n) => Poll::Ready(Ok(n)),
                Err(Error::WouldBlock) => match closed {
                    // Closed yet still blocking: no event will come.
                    Some(r) => Poll::Ready(read_after(r)),
                    None => {
                        if let Some(s) = g.reg.conn_mut(c) {
                            park(&mut s.reader, cx.waker());
                        }
                        Poll::Pending
                    }
                },
                Err(Error::NotConnected | Error::InvalidHandle) => match closed {
                    Some(r) => Poll::Ready(read_after(r)),
                    None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
                },
                Err(e) => Poll::Ready(Err(e.into())),
            }
        })
    }

    pub(crate) fn poll_send(
        &self,
        c: ConnId,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.shared.with(|g| {
            let closed = g.reg.conn(c).and_then(|s| s.closed);
            match g.ep.send(c, data) {
                Ok(n) => Poll::Ready(Ok(n)),
                Err(Error::WouldBlock) => match closed {
                    Some(r) => Poll::Ready(Err(write_after(r))),
                    None => {
                        if let Some(s) = g.reg.conn_mut(c) {
                            park(&mut s.writer, cx.waker());
                        }
                        Poll::Pending
                    }
                },
                Err(Error::NotConnected | Error::InvalidHandle) => match closed {
                    Some(r) => Poll::Ready(Err(write_after(r))),
                    None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
                },
                Err(e) => Poll::Ready(Err(e.into())),
            }
        })
    }

    /// Sends our FIN after the queued data; reading goes on.
    pub(crate) fn shutdown_write(&self, c: ConnId) -> io::Result<()> {
        self.shared.with(|g| {
            let closed = g.reg.conn(c).and_then(|s| s.closed);
            match g.ep.shutdown(c) {
                Ok(()) => Ok(()),
                Err(Error::NotConnected | Error::InvalidHandle) => match closed {
                    // Both sides already said goodbye: nothing left to do.
                    Some(synack::CloseReason::Normal) => Ok(()),
                    Some(r) => Err(close_error(r)),
                    None => Err(io::ErrorKind::NotConnected.into()),
                },
                Err(e) => Err(e.into()),
            }
        })
    }

    /// Makes further reads return end of stream. TCP has no way to tell the
    /// peer, so data that still arrives is acknowledged and discarded when
    /// the handle closes (as on Linux, where `SHUT_RD` is local only).
    pub(crate) fn shutdown_read(&self, c: ConnId) {
        let reader = self.shared.with(|g| {
            let s = g.reg.conn_mut(c)?;
            s.read_shut = true;
            s.reader.take()
        });
        if let Some(w) = reader {
            w.wake();
        }
    }

    /// The user's last handle is gone: CLOSE, which resets the connection
    /// instead if received data was never read (RFC 9293 SHLD-3).
    pub(crate) fn close_conn(&self, c: ConnId) {
        self.shared.with(|g| {
            g.reg.remove_conn(c);
            let _ = g.ep.close(c);
        });
    }

    /// ABORT: RST to the peer, and the connection is gone.
    pub(crate) fn abort_conn(&self, c: ConnId) {
        self.shared.with(|g| g.ep.abort(c));
    }

    pub(crate) fn set_nodelay(&self, c: ConnId, nodelay: bool) -> io::Result<()> {
        self.shared.with(|g| {
            g.ep.set_nodelay(c, nodelay)
                .map_err(|e| after_close(g, c, e))
        })
    }

    pub(crate) fn set_user_timeout(
        &self,
        c: ConnId,
        timeout: Option<std::time::Duration>,
    ) -> io::Result<()> {
        self.shared.with(|g| {
            g.ep.set_user_timeout(c, timeout)
                .map_err(|e| after_close(g, c, e))
        })
    }

    /// Queues urgent data (MSG_OOB's sending side; the data stays in the
    /// stream). `WouldBlock` when the send buffer is full.
    pub(crate) fn send_urgent(&self, c: ConnId, data: &[u8]) -> io::Result<usize> {
        self.shared
            .with(|g| g.ep.send_urgent(c, data).map_err(|e| after_close(g, c, e)))
    }

    pub(crate) fn urgent_pending(&self, c: ConnId) -> io::Result<Option<usize>> {
        self.shared
            .with(|g| g.ep.urgent_pending(c).map_err(|e| after_close(g, c, e)))
    }

    pub(crate) fn set_quick_ack(&self, c: ConnId, on: bool) -> io::Result<()> {
        self.shared
            .with(|g| g.ep.set_quick_ack(c, on).map_err(|e| after_close(g, c, e)))
    }

    pub(crate) fn conn_info(&self, c: ConnId) -> io::Result<ConnInfo> {
        self.shared.with(|g| match g.ep.info(c) {
            Some(i) => Ok(i),
            None => Err(after_close(g, c, Error::NotConnected)),
        })
    }
}

/// An engine error, or the recorded close reason if the engine no longer
/// knows the connection.
fn after_close(g: &Inner, c: ConnId, e: Error) -> io::Error {
    match (e, g.reg.conn(c).and_then(|s| s.closed)) {
        (Error::NotConnected | Error::InvalidHandle, Some(r)) => close_error(r),
        _ => e.into(),
    }
}
