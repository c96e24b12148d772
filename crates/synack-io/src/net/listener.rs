//! A listening socket.

use super::conn::{Conn, checked_ttl};
use super::socket::Settings;
use super::stream::TcpStream;
use crate::Stack;
use crate::addr::{ToSocketAddrs, each_addr};
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use synack::ListenerId;

/// A listener of a [`Stack`]. Dropping it resets the connections it queued
/// that were never accepted.
pub struct TcpListener {
    stack: Stack,
    id: ListenerId,
    local: SocketAddr,
    /// What accepted connections take: a `TcpSocket`'s settings, and the
    /// TTL set on the listener since.
    children: Mutex<Settings>,
}

impl TcpListener {
    /// Listens on `addr` (the first address that works, as
    /// `tokio::net::TcpListener::bind`); an unspecified IP listens on every
    /// address of the stack, port 0 takes a free ephemeral port (see
    /// [`local_addr`](Self::local_addr)). `AddrInUse` if something already
    /// listens there, `AddrNotAvailable` for an IP that is not the
    /// stack's.
    pub async fn bind(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::bind_now(stack, addr)
    }

    pub(crate) fn bind_now(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |a| {
            TcpListener::open(stack, a, None, Settings::default())
        })
    }

    pub(crate) fn open(
        stack: &Stack,
        addr: SocketAddr,
        backlog: Option<usize>,
        children: Settings,
    ) -> io::Result<TcpListener> {
        let (id, local) = stack.listen(addr, backlog)?;
        let listener = TcpListener {
            stack: stack.clone(),
            id,
            local,
            children: Mutex::new(children),
        };
        // Only the receive buffer reaches the SYN-ACK; the rest is set on
        // each connection as it is accepted.
        let recv_buffer = listener.settings().opts.recv_buffer;
        if recv_buffer.is_some() {
            stack.set_listener_recv_buffer(id, recv_buffer)?;
        }
        Ok(listener)
    }

    fn settings(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.children.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the next established connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Takes the next established connection, or registers the task to be
    /// woken when one arrives.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let s = self.settings().clone();
        self.stack
            .poll_accept(self.id, &s.opts, cx)
            .map_ok(|(id, local, peer)| {
                let conn = Conn::new(self.stack.clone(), id, local, peer)
                    .with_settings(s.opts.nodelay, s.linger);
                (TcpStream::from_conn(conn), peer)
            })
    }

    /// The address it listens on (with the port chosen, if bound to 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// The TTL of the connections it accepts from now on, 1 to 255.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.settings().opts.ttl = Some(checked_ttl(ttl)?);
        Ok(())
    }

    /// The TTL accepted connections take: as set, or the stack's default.
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(self.settings().ttl(&self.stack))
    }

    /// A listener holds no pending error: always `None` (the call exists
    /// for parity with `tokio::net::TcpListener`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }

    /// The stack it belongs to.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }
}

impl std::fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.stack.close_listener(self.id);
    }
}
