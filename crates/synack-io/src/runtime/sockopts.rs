//! Socket options beyond reading and writing, as the sockets' setters and
//! getters reach them: TTL, buffer sizes, keep-alive, the pending error,
//! and a close that lingers.

use super::Stack;
use super::errors::close_error;
use super::ops::after_close;
use std::io;
use std::time::Duration;
use synack::{CloseReason, ConnId, Error, Keepalive, ListenerId};

/// Options a connection takes from the socket that made it: a
/// [`TcpSocket`](crate::net::TcpSocket) before `connect`, or a listener for
/// what it accepts. Applied under the lock that opens or accepts the
/// connection, so that the SYN (or the first segment after the accept)
/// already follows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnOptions {
    pub ttl: Option<u8>,
    pub nodelay: bool,
    pub send_buffer: Option<usize>,
    pub recv_buffer: Option<usize>,
    pub keepalive: Option<Keepalive>,
}

impl ConnOptions {
    /// Applies what differs from the engine's defaults. The values were
    /// checked when set, so the engine has no reason to refuse them.
    pub(crate) fn apply(&self, ep: &mut synack::Endpoint, c: ConnId) {
        if let Some(ttl) = self.ttl {
            let _ = ep.set_ttl(c, ttl);
        }
        if self.nodelay {
            let _ = ep.set_nodelay(c, true);
        }
        if self.send_buffer.is_some() {
            let _ = ep.set_send_buffer(c, self.send_buffer);
        }
        if self.recv_buffer.is_some() {
            let _ = ep.set_recv_buffer(c, self.recv_buffer);
        }
        if self.keepalive.is_some() {
            let _ = ep.set_keepalive(c, self.keepalive);
        }
    }
}

impl Stack {
    pub(crate) fn set_ttl(&self, c: ConnId, ttl: u8) -> io::Result<()> {
        self.on_conn(c, |ep| ep.set_ttl(c, ttl))
    }

    pub(crate) fn ttl(&self, c: ConnId) -> io::Result<u8> {
        self.on_conn(c, |ep| ep.ttl(c))
    }

    pub(crate) fn set_listener_recv_buffer(
        &self,
        l: ListenerId,
        bytes: Option<usize>,
    ) -> io::Result<()> {
        self.shared
            .with(|g| g.ep.set_listener_recv_buffer(l, bytes))
            .map_err(io::Error::from)
    }

    /// The error the connection ended with, once (like `SO_ERROR`): a
    /// reset, a timeout, a refusal. `None` while it is healthy, after a
    /// normal close, and once reported.
    pub(crate) fn take_error(&self, c: ConnId) -> io::Result<Option<io::Error>> {
        Ok(self.shared.with(|g| {
            let s = g.reg.conn_mut(c)?;
            match s.closed {
                Some(r) if r != CloseReason::Normal && !s.error_taken => {
                    s.error_taken = true;
                    Some(close_error(r))
                }
                _ => None,
            }
        }))
    }

    /// The last handle is gone, with `SO_LINGER` set: zero aborts (RST,
    /// queued data discarded); a longer time closes gracefully but gives
    /// up delivering what is still unacknowledged that long after the
    /// close (the user timeout), instead of blocking the caller as a
    /// lingering `close` does on Linux.
    pub(crate) fn close_lingering(&self, c: ConnId, linger: Duration) {
        if linger.is_zero() {
            self.shared.with(|g| {
                g.reg.remove_conn(c);
                g.ep.abort(c);
            });
        } else {
            self.shared.with(|g| {
                g.reg.remove_conn(c);
                let _ = g.ep.set_user_timeout(c, Some(linger));
                let _ = g.ep.close(c);
            });
        }
    }

    /// Runs an engine call on a connection; a connection the engine no
    /// longer knows answers with its close reason.
    fn on_conn<T>(
        &self,
        c: ConnId,
        f: impl FnOnce(&mut synack::Endpoint) -> Result<T, Error>,
    ) -> io::Result<T> {
        self.shared
            .with(|g| f(&mut g.ep).map_err(|e| after_close(g, c, e)))
    }
}
