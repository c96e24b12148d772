//! A TCP connection with tokio's `AsyncRead` and `AsyncWrite`.

use super::conn::Conn;
use super::socket::TcpSocket;
use super::split::{OwnedReadHalf, OwnedWriteHalf};
use crate::Stack;
use crate::addr::ToSocketAddrs;
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
    /// Opens a connection to `addr` (each address in turn until one
    /// connects, as `tokio::net::TcpStream::connect`) from the stack's
    /// address of the same family and an ephemeral port. Fails with
    /// `ConnectionRefused` if the peer answers with a RST (or ICMP port
    /// unreachable), `TimedOut` when the SYN retries run out. Set options
    /// before the SYN with [`TcpSocket`](super::TcpSocket).
    pub async fn connect(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            let socket = if a.is_ipv6() {
                TcpSocket::new_v6(stack)?
            } else {
                TcpSocket::new_v4(stack)?
            };
            match socket.connect(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to connect to")
        }))
    }

    pub(crate) fn from_conn(conn: Conn) -> TcpStream {
        TcpStream {
            conn: Arc::new(conn),
        }
    }

    pub(crate) fn from_arc(conn: Arc<Conn>) -> TcpStream {
        TcpStream { conn }
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

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.conn.nodelay()
    }

    /// The TTL (IPv6: hop limit) of the connection's segments from the
    /// next one on, 1 to 255.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.conn.set_ttl(ttl)
    }

    /// The TTL the connection sends with.
    pub fn ttl(&self) -> io::Result<u32> {
        self.conn.ttl()
    }

    /// `SO_LINGER`: what dropping the stream does. `None` (the default):
    /// a graceful close that goes on in the background. `Some(0)`: an
    /// abort, RST to the peer and queued data discarded. `Some(t)`: a
    /// graceful close that gives up delivering what is still
    /// unacknowledged `t` after the drop. Unlike Linux, the drop never
    /// blocks: the stack lingers, not the caller.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.conn.set_linger(linger)
    }

    /// What `set_linger` set.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.conn.linger()
    }

    /// The error the connection ended with (reset, timed out, refused),
    /// reported once, like `SO_ERROR`; `None` otherwise.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.conn.take_error()
    }

    /// Reads without consuming: the next read returns the same bytes.
    /// Waits for data like `read`.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.conn.poll_peek(cx, buf)).await
    }

    /// [`peek`](Self::peek) in poll form.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        let dst = buf.initialize_unfilled();
        match self.conn.poll_peek(cx, dst) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }

    /// Reads what is there without waiting: `WouldBlock` when nothing is,
    /// `Ok(0)` at the end of the stream. Registers no wake-up; pair it
    /// with [`readable`](Self::readable).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.conn.try_read(buf)
    }

    /// Writes what fits without waiting: `WouldBlock` when the send
    /// buffer is full. Registers no wake-up; pair it with
    /// [`writable`](Self::writable).
    pub fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        self.conn.try_write(data)
    }

    /// Waits until a read would not wait (data, the end of the stream,
    /// or an error to report). A later `try_read` may still find nothing
    /// if another task read first.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.conn.poll_read_ready(cx)).await
    }

    /// [`readable`](Self::readable) in poll form.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.conn.poll_read_ready(cx)
    }

    /// Waits until a write would not wait (room in the send buffer, or an
    /// error to report).
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.conn.poll_write_ready(cx)).await
    }

    /// [`writable`](Self::writable) in poll form.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.conn.poll_write_ready(cx)
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
