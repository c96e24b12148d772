//! The calls sockets make, in poll form so the async and the blocking
//! sockets share them. Each runs under the stack's lock through
//! [`Shared::with`], so checking for data and registering a waker are one
//! step that no event can slip between.

use super::Stack;
use super::errors::close_error;
use super::registry::park;
use super::shared::Inner;
use super::sockopts::ConnOptions;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use synack::{ConnId, ConnInfo, Error, ListenerId};

impl Stack {
    /// Passive open on `addr`; port 0 takes a free ephemeral port. Returns
    /// the listener and the address it listens on. `backlog` of `None` is
    /// the stack's.
    pub(crate) fn listen(
        &self,
        addr: SocketAddr,
        backlog: Option<usize>,
    ) -> io::Result<(ListenerId, SocketAddr)> {
        let ip = addr.ip();
        if !ip.is_unspecified() && !self.shared.addrs.contains(&ip) {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{ip} is not one of the stack's addresses"),
            ));
        }
        let backlog = backlog.unwrap_or(self.shared.backlog);
        let seed = self.shared.clock.now().micros();
        self.shared.with(|g| {
            let (id, addr) = if addr.port() == 0 {
                listen_any_port(&mut g.ep, ip, backlog, seed)?
            } else {
                (g.ep.listen(addr, backlog)?, addr)
            };
            g.reg.add_listener(id);
            Ok((id, addr))
        })
    }

    pub(crate) fn close_listener(&self, l: ListenerId) {
        self.shared.with(|g| {
            g.reg.remove_listener(l);
            let _ = g.ep.close_listener(l);
        });
    }

    /// The next accepted connection: (id, local, remote).
    /// `opts` are applied to the connection before anything else can
    /// happen to it.
    pub(crate) fn poll_accept(
        &self,
        l: ListenerId,
        opts: &ConnOptions,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(ConnId, SocketAddr, SocketAddr)>> {
        self.shared.with(|g| {
            while let Some(id) = g.ep.accept(l) {
                // A connection is queued established; one that ended in the
                // queue has no TCB left to describe and is skipped.
                if let Some(info) = g.ep.info(id) {
                    opts.apply(&mut g.ep, id);
                    g.reg.add_conn(id, true, info.local, info.remote);
                    return Poll::Ready(Ok((id, info.local, info.remote)));
                }
            }
            g.reg.park_acceptor(l, cx.waker());
            Poll::Pending
        })
    }

    /// Starts an active open to `remote` from `local` (its IP one of
    /// ours, port 0 for an ephemeral one) or, without it, from our address
    /// of `remote`'s family; `opts` apply before the SYN leaves.
    pub(crate) fn start_connect(
        &self,
        local: Option<SocketAddr>,
        remote: SocketAddr,
        opts: &ConnOptions,
    ) -> io::Result<(ConnId, SocketAddr)> {
        let local = match local {
            Some(l) if l.is_ipv4() != remote.is_ipv4() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the local and remote addresses are of different families",
                ));
            }
            Some(l) if !l.ip().is_unspecified() => l,
            _ => {
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
                SocketAddr::new(ip, local.map_or(0, |l| l.port()))
            }
        };
        let now = self.shared.clock.now();
        self.shared.with(|g| {
            let id = g.ep.connect(now, local, remote)?;
            opts.apply(&mut g.ep, id);
            let local = g.ep.info(id).map_or(local, |i| i.local);
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

/// Listens on a free ephemeral port (RFC 6335's 49152 to 65535) of `ip`:
/// one no connection of ours uses as its local port and no listener holds
/// (the engine refuses those), tried from a pseudo-random start so that
/// consecutive binds do not probe the same ports.
fn listen_any_port(
    ep: &mut synack::Endpoint,
    ip: std::net::IpAddr,
    backlog: usize,
    seed: u64,
) -> io::Result<(ListenerId, SocketAddr)> {
    const FIRST: u32 = 49152;
    const COUNT: u32 = 65536 - FIRST;
    let in_use: std::collections::HashSet<u16> = ep
        .connections()
        .filter(|(_, i)| ip.is_unspecified() || i.local.ip() == ip)
        .map(|(_, i)| i.local.port())
        .collect();
    let start = (seed % u64::from(COUNT)) as u32;
    for i in 0..COUNT {
        // 7919 is prime, so the walk visits every port of the range.
        let port = (FIRST + (start + i * 7919) % COUNT) as u16;
        if in_use.contains(&port) {
            continue;
        }
        let addr = SocketAddr::new(ip, port);
        match ep.listen(addr, backlog) {
            Ok(id) => return Ok((id, addr)),
            Err(Error::AddrInUse) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free ephemeral port",
    ))
}

/// An engine error, or the recorded close reason if the engine no longer
/// knows the connection.
pub(super) fn after_close(g: &Inner, c: ConnId, e: Error) -> io::Error {
    match (e, g.reg.conn(c).and_then(|s| s.closed)) {
        (Error::NotConnected | Error::InvalidHandle, Some(r)) => close_error(r),
        _ => e.into(),
    }
}
