//! synack-io: the synack engine on real links, with a real clock.
//!
//! The engine ([`synack::Endpoint`]) is sans-IO; this crate supplies the
//! rest of a network stack around it:
//!
//! - [`device`]: links that carry IP datagrams — [`device::Tun`], a TAP
//!   link behind an Ethernet layer with ARP and neighbor discovery
//!   ([`device::Tap`]), an in-memory [`device::ChannelDevice`] pair for
//!   tests, and [`device::Pcap`], a capture wrapper for any of them.
//! - [`icmp`]: echo replies (so `ping` works) and ICMP errors that quote our
//!   segments, handed to the engine.
//! - [`Stack`]: one event loop per endpoint and device, on tokio or on a
//!   background thread.
//! - [`net`]: `TcpListener` and `TcpStream` in the shape of `tokio::net`;
//!   [`blocking`]: the same in the shape of `std::net`.
//! - [`relay`]: forwarding between two connections (a synack one and a
//!   kernel one, say), half-closing per direction, passing a reset on as a
//!   reset, with idle and half-close timeouts.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use synack_io::{Stack, StackConfig, device::Tun, net::TcpListener};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let stack = Stack::new(Tun::open("tun0")?, StackConfig::new("198.18.0.2".parse().unwrap()))?;
//! let listener = TcpListener::bind(&stack, "198.18.0.2:7").await?;
//! let (mut s, _peer) = listener.accept().await?;
//! let mut buf = [0u8; 1024];
//! let n = s.read(&mut buf).await?;
//! s.write_all(&buf[..n]).await?;
//! # Ok(()) }
//! ```
//!
//! # Parity with `tokio::net` and `std::net`
//!
//! The sockets take the calls their tokio and std namesakes take, so code
//! moves over by changing the imports and passing the [`Stack`]. Every
//! call of the list below compiles in this example, for both APIs:
//!
//! ```no_run
//! use std::time::Duration;
//! use synack_io::{Stack, blocking, net};
//!
//! async fn tokio_shaped(stack: &Stack) -> std::io::Result<()> {
//!     let listener = net::TcpListener::bind(stack, "0.0.0.0:0").await?; // port 0: ephemeral
//!     let port = listener.local_addr()?.port();
//!     listener.set_ttl(64)?;
//!     let _ = (listener.ttl()?, listener.take_error()?);
//!     let s = net::TcpStream::connect(stack, ("198.18.0.2", port)).await?;
//!     let (_peer, _local) = (s.peer_addr()?, s.local_addr()?);
//!     let mut buf = [0u8; 1024];
//!     s.readable().await?;
//!     let _ = s.try_read(&mut buf);
//!     let _ = s.peek(&mut buf).await?;
//!     s.writable().await?;
//!     let _ = s.try_write(b"hello");
//!     s.set_nodelay(true)?;
//!     let _ = s.nodelay()?;
//!     s.set_ttl(32)?;
//!     let _ = s.ttl()?;
//!     s.set_linger(Some(Duration::from_secs(5)))?;
//!     let _ = (s.linger()?, s.take_error()?);
//!     let socket = net::TcpSocket::new_v4(stack)?;
//!     socket.bind("198.18.0.2:0".parse().unwrap())?;
//!     socket.set_send_buffer_size(256 * 1024)?;
//!     socket.set_recv_buffer_size(256 * 1024)?;
//!     socket.set_keepalive(true)?;
//!     socket.set_nodelay(true)?;
//!     socket.set_reuseaddr(true)?;
//!     let _s = socket.connect("198.18.0.1:80".parse().unwrap()).await?;
//!     let _l = net::TcpSocket::new_v6(stack)?.listen(1024)?;
//!     Ok(())
//! }
//!
//! fn std_shaped(stack: &Stack) -> std::io::Result<()> {
//!     let listener = blocking::TcpListener::bind(stack, "198.18.0.2:0")?;
//!     listener.set_nonblocking(false)?;
//!     listener.set_ttl(64)?;
//!     let _ = (listener.ttl()?, listener.take_error()?, listener.local_addr()?);
//!     let port = listener.local_addr()?.port();
//!     let s = blocking::TcpStream::connect(stack, ("198.18.0.2", port))?;
//!     let _ = blocking::TcpStream::connect_timeout(stack, &s.peer_addr()?, Duration::from_secs(1));
//!     s.set_read_timeout(Some(Duration::from_secs(1)))?;
//!     s.set_write_timeout(Some(Duration::from_secs(1)))?;
//!     let _ = (s.read_timeout()?, s.write_timeout()?);
//!     s.set_nonblocking(true)?;
//!     let mut buf = [0u8; 1024];
//!     let _ = s.peek(&mut buf);
//!     s.set_nodelay(true)?;
//!     let _ = s.nodelay()?;
//!     s.set_ttl(32)?;
//!     let _ = s.ttl()?;
//!     s.set_linger(None)?;
//!     let _ = (s.linger()?, s.take_error()?, s.try_clone()?, s.local_addr()?);
//!     s.shutdown(std::net::Shutdown::Write)?;
//!     let socket = blocking::TcpSocket::new_v4(stack)?;
//!     socket.set_keepalive(true)?;
//!     let _s = socket.connect("198.18.0.1:80".parse().unwrap())?;
//!     Ok(())
//! }
//! ```
//!
//! Where synack differs, and why:
//!
//! - Addresses are literal ([`ToSocketAddrs`]): no host names, since a
//!   lookup would go through the host's resolver and network, not this
//!   stack.
//! - `set_linger(Some(t))` never blocks the dropping caller: the stack
//!   lingers, closing gracefully and giving up delivery `t` after the
//!   drop; `Some(0)` aborts with a RST, as everywhere.
//! - `set_reuseaddr` is recorded but changes nothing: the engine lets a
//!   listener bind over TIME-WAIT entries and shares ports between
//!   listeners and connections on its own. There is no `SO_REUSEPORT`
//!   (one engine serves every socket) and no `set_tos`/`set_quickack`
//!   spelled the tokio way: see `TcpStream::set_quick_ack` and the
//!   engine's `Endpoint::set_dscp`.
//! - A listener's `take_error` is always `None`; a stream's reports the
//!   error the connection ended with (reset, timed out, refused) once.
//! - There is no `from_std`/`into_std` or raw file descriptor: a synack
//!   socket is not a kernel socket.

#![warn(missing_docs)]

mod addr;
pub mod blocking;
pub mod device;
pub mod icmp;
pub mod net;
pub mod relay;
mod runtime;
mod unreachable;

pub use addr::ToSocketAddrs;
pub use runtime::{IoCounters, NOT_LOCAL_ICMP_PER_SECOND, Stack, StackConfig};
