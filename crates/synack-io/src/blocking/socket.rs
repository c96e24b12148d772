//! The blocking twin of [`net::TcpSocket`]: the same settings, then a
//! `connect` that waits on the calling thread.

use super::listener::TcpListener;
use super::park::Wait;
use super::stream::TcpStream;
use crate::{Stack, net};
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Duration;

/// A TCP socket of a [`Stack`] before `connect` or `listen`. Its setters
/// and getters are [`net::TcpSocket`]'s (through `Deref`); `connect` and
/// `listen` give blocking sockets.
#[derive(Debug)]
pub struct TcpSocket {
    inner: net::TcpSocket,
}

impl TcpSocket {
    /// An IPv4 socket.
    pub fn new_v4(stack: &Stack) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: net::TcpSocket::new_v4(stack)?,
        })
    }

    /// An IPv6 socket.
    pub fn new_v6(stack: &Stack) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: net::TcpSocket::new_v6(stack)?,
        })
    }

    /// Opens a connection to `addr` with these settings and waits for the
    /// handshake.
    pub fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::open(self.inner, addr, Wait::Forever)
    }

    /// [`connect`](Self::connect), giving up with `TimedOut` after
    /// `timeout`.
    pub fn connect_timeout(self, addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        TcpStream::open(self.inner, addr, Wait::For(timeout)).map_err(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                io::Error::new(io::ErrorKind::TimedOut, "connection timed out")
            } else {
                e
            }
        })
    }

    /// Listens with these settings (see [`net::TcpSocket::listen`]).
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        Ok(TcpListener::from_async(self.inner.listen(backlog)?))
    }
}

impl Deref for TcpSocket {
    type Target = net::TcpSocket;

    fn deref(&self) -> &net::TcpSocket {
        &self.inner
    }
}
