//! The handle every socket type holds for one connection. Dropping the
//! last one closes the connection.

use crate::Stack;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use synack::{ConnId, ConnInfo};

/// One connection of one stack, with the addresses it was opened with.
pub(crate) struct Conn {
    pub(crate) stack: Stack,
    pub(crate) id: ConnId,
    pub(crate) local: SocketAddr,
    pub(crate) peer: SocketAddr,
    /// What `set_nodelay` last set (the engine keeps it too, but has no
    /// getter for a single flag).
    nodelay: AtomicBool,
    /// `SO_LINGER`: what dropping the last handle does.
    linger: Mutex<Option<Duration>>,
}

impl Conn {
    pub(crate) fn new(stack: Stack, id: ConnId, local: SocketAddr, peer: SocketAddr) -> Conn {
        Conn {
            stack,
            id,
            local,
            peer,
            nodelay: AtomicBool::new(false),
            linger: Mutex::new(None),
        }
    }

    /// Takes the per-socket settings that live here rather than in the
    /// engine from the socket or listener that made the connection.
    pub(crate) fn with_settings(self, nodelay: bool, linger: Option<Duration>) -> Conn {
        self.nodelay.store(nodelay, Ordering::Relaxed);
        *self.linger.lock().unwrap_or_else(PoisonError::into_inner) = linger;
        self
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stack.poll_recv(self.id, cx, buf)
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.stack.poll_send(self.id, cx, data)
    }

    pub(crate) fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stack.poll_peek(self.id, cx, buf)
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.stack.try_recv(self.id, buf)
    }

    pub(crate) fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        self.stack.try_send(self.id, data)
    }

    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stack.poll_read_ready(self.id, cx)
    }

    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stack.poll_write_ready(self.id, cx)
    }

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.stack.shutdown_write(self.id)
    }

    pub(crate) fn info(&self) -> io::Result<ConnInfo> {
        self.stack.conn_info(self.id)
    }

    pub(crate) fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stack.set_nodelay(self.id, nodelay)?;
        self.nodelay.store(nodelay, Ordering::Relaxed);
        Ok(())
    }

    pub(crate) fn nodelay(&self) -> io::Result<bool> {
        Ok(self.nodelay.load(Ordering::Relaxed))
    }

    pub(crate) fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.stack.set_ttl(self.id, checked_ttl(ttl)?)
    }

    pub(crate) fn ttl(&self) -> io::Result<u32> {
        self.stack.ttl(self.id).map(u32::from)
    }

    pub(crate) fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        *self.linger.lock().unwrap_or_else(PoisonError::into_inner) = linger;
        Ok(())
    }

    pub(crate) fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(*self.linger.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.stack.take_error(self.id)
    }
}

/// A TTL as the socket calls take it (`u32`, as std and tokio do): 1 to
/// 255, as IP's field holds.
pub(crate) fn checked_ttl(ttl: u32) -> io::Result<u8> {
    match u8::try_from(ttl) {
        Ok(t) if t > 0 => Ok(t),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "TTL must be from 1 to 255",
        )),
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        match *self.linger.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(t) => self.stack.close_lingering(self.id, t),
            None => self.stack.close_conn(self.id),
        }
    }
}
