//! A TCP connection with tokio's `AsyncRead` and `AsyncWrite`.

use super::conn::Conn;
use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::Stack;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use synack::ConnInfo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A TCP connection of a [`Stack`].
///
/// Dropping it closes the connection: a FIN after the queued data, or a RST
/// if received data was left unread (RFC 9293 SHLD-3).
///
/// `poll_flush` is ready as soon as the data is in the engine's send
/// buffer, as with `tokio::net::TcpStream`: the engine sends it on its own
/// and there is nothing more the caller could wait for short of the
/// peer's acknowledgment.
pub struct TcpStream {
    pub(crate) conn: Arc<Conn>,
}

impl TcpStream {
    /// Opens a connection to `addr` from the stack's address of the same
    /// family and an ephemeral port. Fails with `ConnectionRefused` if the
    /// peer answers with a RST (or ICMP port unreachable), `TimedOut` when
    /// the SYN retries run out.
    pub async fn connect(stack: &Stack, addr: SocketAddr) -> io::Result<TcpStream> {
        let (id, local) = stack.start_connect(addr)?;
        // Held across the wait, so a cancelled connect closes the attempt.
        let conn = Arc::new(Conn {
            stack: stack.clone(),
            id,
            local,
            peer: addr,
        });
        poll_fn(|cx| conn.stack.poll_connect(id, cx)).await?;
        Ok(TcpStream { conn })
    }

    pub(crate) fn from_conn(conn: Conn) -> TcpStream {
        TcpStream {
            conn: Arc::new(conn),
        }
    }

    /// Our socket address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.conn.local)
    }

    /// The peer's socket address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.conn.peer)
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.conn.set_nodelay(nodelay)
    }

    /// How long unacknowledged data may be retransmitted before the
    /// connection gives up with `TimedOut` (`None`: never).
    pub fn set_user_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.conn.stack.set_user_timeout(self.conn.id, timeout)
    }

    /// Sends `data` as urgent data (like `send` with `MSG_OOB`, though all
    /// of it is urgent and it stays in the stream: a peer reading with
    /// `SO_OOBINLINE` sees it in order). Takes what fits in the send
    /// buffer and returns how much; `WouldBlock` when nothing does.
    pub fn send_urgent(&self, data: &[u8]) -> io::Result<usize> {
        self.conn.stack.send_urgent(self.conn.id, data)
    }

    /// How many of the bytes not yet read are urgent data (they end at the
    /// peer's urgent pointer, like `SIOCATMARK` counted in bytes); `None`
    /// when the peer has sent none that is still unread.
    pub fn urgent_pending(&self) -> io::Result<Option<usize>> {
        self.conn.stack.urgent_pending(self.conn.id)
    }

    /// Acknowledges every segment at once (`true`, like a lasting
    /// `TCP_QUICKACK`) or delays ACKs as the stack's configuration says.
    pub fn set_quick_ack(&self, on: bool) -> io::Result<()> {
        self.conn.stack.set_quick_ack(self.conn.id, on)
    }

    /// A snapshot of the connection: state, sequence numbers, RTT, window.
    pub fn info(&self) -> io::Result<ConnInfo> {
        self.conn.info()
    }

    /// Resets the connection (RST) and drops it: the peer's next call fails
    /// with `ConnectionReset`.
    pub fn abort(self) {
        self.conn.stack.abort_conn(self.conn.id);
    }

    /// Splits into halves that can move to different tasks. Dropping the
    /// write half shuts down writing; dropping both closes the connection.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        (
            OwnedReadHalf::new(self.conn.clone()),
            OwnedWriteHalf::new(self.conn),
        )
    }
}

/// `AsyncRead` on top of the engine's `recv`.
pub(crate) fn poll_read_buf(
    conn: &Conn,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let dst = buf.initialize_unfilled();
    match conn.poll_read(cx, dst) {
        Poll::Ready(Ok(n)) => {
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_buf(&self.conn, cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.conn.poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Sends a FIN after the queued data (even with data still in flight);
    /// reading goes on until the peer's FIN.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.conn.shutdown_write())
    }
}

impl std::fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.conn.local)
            .field("peer", &self.conn.peer)
            .finish()
    }
}
