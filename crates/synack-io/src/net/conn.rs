//! The handle every socket type holds for one connection. Dropping the
//! last one closes the connection.

use crate::Stack;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use synack::{ConnId, ConnInfo};

/// One connection of one stack, with the addresses it was opened with.
pub(crate) struct Conn {
    pub(crate) stack: Stack,
    pub(crate) id: ConnId,
    pub(crate) local: SocketAddr,
    pub(crate) peer: SocketAddr,
}

impl Conn {
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

    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        self.stack.shutdown_write(self.id)
    }

    pub(crate) fn info(&self) -> io::Result<ConnInfo> {
        self.stack.conn_info(self.id)
    }

    pub(crate) fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.stack.set_nodelay(self.id, nodelay)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.stack.close_conn(self.id);
    }
}
