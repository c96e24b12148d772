//! Blocking sockets in the shape of `std::net`: [`TcpListener`] and
//! [`TcpStream`] with `std::io::Read` and `Write`.
//!
//! They wait by parking the calling thread until the stack's event loop
//! wakes it, so that loop must run elsewhere: create the stack with
//! [`Stack::spawn_thread`](crate::Stack::spawn_thread) (or on a tokio
//! runtime whose threads are not the ones blocking). Calling them from a
//! task of the runtime that drives the same stack would deadlock.

mod listener;
mod park;
mod socket;
mod stream;

pub use listener::TcpListener;
pub use socket::TcpSocket;
pub use stream::TcpStream;
