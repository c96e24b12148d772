//! A blocking listening socket.

use super::park::{Wait, block_on};
use super::stream::TcpStream;
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
    /// Listens on `addr` (see [`net::TcpListener::bind`]).
    pub fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener {
            inner: net::TcpListener::bind_now(stack, addr)?,
            nonblocking: AtomicBool::new(false),
        })
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

    /// The address it listens on, as bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}
