//! What [`relay`](super::relay) needs from each side: a byte stream that
//! can half-close and abort.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection [`relay`](super::relay) can forward: a byte stream
/// (`AsyncRead`), whose `poll_shutdown` half-closes (a FIN, reading goes
/// on), and that can be aborted (a RST).
///
/// Implemented for synack's [`TcpStream`](crate::net::TcpStream) and for
/// `tokio::net::TcpStream`; wrap anything else in [`AbortByDrop`].
pub trait RelayStream: AsyncRead + AsyncWrite + Unpin {
    /// Ends the connection at once, discarding what is queued either way:
    /// a RST to the peer, whose next call fails with `ConnectionReset`.
    fn abort(self)
    where
        Self: Sized;
}

/// Synack's [`TcpStream::abort`](crate::net::TcpStream::abort): a RST, and
/// the connection is gone.
impl RelayStream for crate::net::TcpStream {
    fn abort(self) {
        crate::net::TcpStream::abort(self);
    }
}

/// `SO_LINGER` of zero, then close: the kernel sends a RST and discards the
/// queues. A zero linger never blocks the close.
impl RelayStream for tokio::net::TcpStream {
    fn abort(self) {
        // `set_linger` is deprecated because a non-zero linger blocks the
        // dropping thread; zero does not, and this call exists in every
        // tokio 1.x (unlike `set_zero_linger`). If it fails, the drop still
        // closes the socket, with a FIN instead of the RST.
        #[allow(deprecated)]
        let _ = self.set_linger(Some(Duration::ZERO));
        drop(self);
    }
}

/// Any `AsyncRead + AsyncWrite + Unpin` stream as a [`RelayStream`] that
/// cannot send a RST: half-close is its `poll_shutdown`, and "abort" only
/// drops it, so its peer sees whatever dropping does (for a TLS stream or
/// a `tokio::io::DuplexStream`, an end of stream, not an error).
#[derive(Debug, Default)]
pub struct AbortByDrop<T>(pub T);

impl<T> AbortByDrop<T> {
    /// The wrapped stream.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> RelayStream for AbortByDrop<T> {
    fn abort(self) {
        drop(self);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for AbortByDrop<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for AbortByDrop<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
