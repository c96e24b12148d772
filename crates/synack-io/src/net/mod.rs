//! Async sockets in the shape of `tokio::net`: [`TcpListener`] and
//! [`TcpStream`] (with tokio's `AsyncRead` and `AsyncWrite`), over a
//! [`Stack`](crate::Stack).

mod conn;
mod intercept;
mod listener;
mod socket;
mod split;
mod stream;

pub(crate) use conn::Conn;
pub use intercept::{Interceptor, Refusal, Request, Unreachable};
pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
