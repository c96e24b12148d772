//! A listening socket.

use super::conn::Conn;
use super::stream::TcpStream;
use crate::Stack;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use synack::ListenerId;

/// A listener of a [`Stack`]. Dropping it resets the connections it queued
/// that were never accepted.
pub struct TcpListener {
    stack: Stack,
    id: ListenerId,
    local: SocketAddr,
}

impl TcpListener {
    /// Listens on `addr`; an unspecified IP listens on every address of the
    /// stack. Port 0 is not supported (`InvalidInput`). `AddrInUse` if
    /// something already listens there.
    pub async fn bind(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_now(stack, addr)
    }

    pub(crate) fn bind_now(stack: &Stack, addr: SocketAddr) -> io::Result<TcpListener> {
        let id = stack.listen(addr)?;
        Ok(TcpListener {
            stack: stack.clone(),
            id,
            local: addr,
        })
    }

    /// Waits for the next established connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Takes the next established connection, or registers the task to be
    /// woken when one arrives.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.stack
            .poll_accept(self.id, cx)
            .map_ok(|(id, local, peer)| {
                let conn = Conn {
                    stack: self.stack.clone(),
                    id,
                    local,
                    peer,
                };
                (TcpStream::from_conn(conn), peer)
            })
    }

    /// The address it listens on, as bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }

    /// The stack it belongs to.
    pub fn stack(&self) -> &Stack {
        &self.stack
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        self.stack.close_listener(self.id);
    }
}
