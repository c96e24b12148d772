//! A blocking listening socket.

use super::park::{Wait, block_on};
use super::stream::TcpStream;
use crate::addr::ToSocketAddrs;
use crate::{Stack, net};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

/// A listener of a [`Stack`], in the shape of `std::net::TcpListener`.
pub struct TcpListener {
    inner: net::TcpListener,
    nonblocking: AtomicBool,
}

impl TcpListener {
    /// Listens on `addr`, the first address that works (see
    /// [`net::TcpListener::bind`]; port 0 takes a free ephemeral port).
    pub fn bind(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Ok(TcpListener::from_async(net::TcpListener::bind_now(
            stack, addr,
        )?))
    }

    pub(crate) fn from_async(inner: net::TcpListener) -> TcpListener {
        TcpListener {
            inner,
            nonblocking: AtomicBool::new(false),
        }
    }

    /// Waits for the next established connection. Several threads may
    /// accept on one listener.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let wait = if self.nonblocking.load(Ordering::Relaxed) {
            Wait::Never
        } else {
            Wait::Forever
        };
        let (s, peer) = block_on(wait, |cx| self.inner.poll_accept(cx))?;
        Ok((TcpStream::from_async(s), peer))
    }

    /// An endless iterator of accepted connections.
    pub fn incoming(&self) -> impl Iterator<Item = io::Result<TcpStream>> + '_ {
        std::iter::repeat_with(|| self.accept().map(|(s, _)| s))
    }

    /// In non-blocking mode `accept` returns `WouldBlock` instead of
    /// waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(())
    }

    /// The address it listens on (with the port chosen, if bound to 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The TTL of the connections it accepts from now on, 1 to 255.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// The TTL accepted connections take.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Always `None`: a listener holds no pending error (for parity with
    /// `std::net::TcpListener`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}
