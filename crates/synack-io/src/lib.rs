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

mod addr;
pub mod blocking;
pub mod device;
pub mod icmp;
pub mod net;
mod runtime;

pub use addr::ToSocketAddrs;
pub use runtime::{IoCounters, Stack, StackConfig};
