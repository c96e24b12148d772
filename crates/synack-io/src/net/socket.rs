//! A socket not yet connected or listening, in the shape of
//! `tokio::net::TcpSocket`: set buffer sizes, keep-alive, Nagle, linger,
//! TTL and the local address first, then `connect` or `listen`.

use super::conn::{Conn, checked_ttl};
use super::listener::TcpListener;
use super::stream::TcpStream;
use crate::Stack;
use crate::runtime::ConnOptions;
use std::future::poll_fn;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use synack::Keepalive;

/// What a [`TcpSocket`] collects before it connects or listens.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub local: Option<SocketAddr>,
    pub opts: ConnOptions,
    pub linger: Option<Duration>,
    pub reuseaddr: bool,
}

impl Settings {
    /// The TTL connections take: as set, or the stack's default.
    pub(crate) fn ttl(&self, stack: &Stack) -> u32 {
        u32::from(
            self.opts
                .ttl
                .unwrap_or_else(|| stack.inspect(|ep| ep.config().ttl)),
        )
    }
}

/// A TCP socket of a [`Stack`] before `connect` or `listen`, as
/// `tokio::net::TcpSocket`.
///
/// ```no_run
/// # async fn f(stack: synack_io::Stack) -> std::io::Result<()> {
/// use synack_io::net::TcpSocket;
/// let s = TcpSocket::new_v4(&stack)?;
/// s.set_recv_buffer_size(1 << 20)?;
/// s.set_keepalive(true)?;
/// s.set_nodelay(true)?;
/// let stream = s.connect("198.18.0.1:80".parse().unwrap()).await?;
/// # Ok(()) }
/// ```
///
/// Differences from tokio: `set_reuseaddr` is accepted and reported but
/// changes nothing (the engine lets a listener and connections share a
/// port, and TIME-WAIT never blocks a new listener); there is no
/// `SO_REUSEPORT`, since one engine serves every socket.
pub struct TcpSocket {
    stack: Stack,
    v6: bool,
    s: Mutex<Settings>,
}

impl TcpSocket {
    /// An IPv4 socket.
    pub fn new_v4(stack: &Stack) -> io::Result<TcpSocket> {
        Ok(TcpSocket::new(stack, false))
    }

    /// An IPv6 socket.
    pub fn new_v6(stack: &Stack) -> io::Result<TcpSocket> {
        Ok(TcpSocket::new(stack, true))
    }

    fn new(stack: &Stack, v6: bool) -> TcpSocket {
        TcpSocket {
            stack: stack.clone(),
            v6,
            s: Mutex::default(),
        }
    }

    fn settings(&self) -> MutexGuard<'_, Settings> {
        self.s.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Binds the local address: one of the stack's addresses of the
    /// socket's family, or the unspecified address; port 0 for an
    /// ephemeral port (chosen at `connect` or `listen`).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        if addr.is_ipv6() != self.v6 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address is not of the socket's family",
            ));
        }
        if !addr.ip().is_unspecified() && !self.stack.local_ips().contains(&addr.ip()) {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{} is not one of the stack's addresses", addr.ip()),
            ));
        }
        self.settings().local = Some(addr);
        Ok(())
    }

    /// The bound address (the unspecified address and port 0 before
    /// `bind`).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let unspecified: IpAddr = if self.v6 {
            Ipv6Addr::UNSPECIFIED.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        };
        Ok(self
            .settings()
            .local
            .unwrap_or(SocketAddr::new(unspecified, 0)))
    }

    /// `SO_REUSEADDR`: recorded, with no effect (see the type's notes).
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.settings().reuseaddr = reuseaddr;
        Ok(())
    }

    /// What `set_reuseaddr` recorded.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        Ok(self.settings().reuseaddr)
    }

    /// The send buffer, in bytes (`SO_SNDBUF`): how much written data,
    /// sent or not, the connection holds at once.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.settings().opts.send_buffer = Some(buffer_size(size)?);
        Ok(())
    }

    /// The send buffer size: as set, or the stack's default.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        let set = self.settings().opts.send_buffer;
        let size = set.unwrap_or_else(|| self.stack.inspect(|ep| ep.config().send_buffer));
        Ok(u32::try_from(size).unwrap_or(u32::MAX))
    }

    /// The receive buffer, in bytes (`SO_RCVBUF`): the window the
    /// connection offers follows it, from the SYN on.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.settings().opts.recv_buffer = Some(buffer_size(size)?);
        Ok(())
    }

    /// The receive buffer size: as set, or the stack's default.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        let set = self.settings().opts.recv_buffer;
        let size = set.unwrap_or_else(|| self.stack.inspect(|ep| ep.config().recv_buffer));
        Ok(u32::try_from(size).unwrap_or(u32::MAX))
    }

    /// `SO_KEEPALIVE` with RFC 9293's timing ([`Keepalive::RFC`]: two
    /// hours idle, then 9 probes 75 s apart); see
    /// [`set_keepalive_params`](Self::set_keepalive_params) for other
    /// timings.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.settings().opts.keepalive = keepalive.then_some(Keepalive::RFC);
        Ok(())
    }

    /// Keep-alive with these settings (`TCP_KEEPIDLE`, `TCP_KEEPINTVL`,
    /// `TCP_KEEPCNT`), or off.
    pub fn set_keepalive_params(&self, keepalive: Option<Keepalive>) -> io::Result<()> {
        self.settings().opts.keepalive = keepalive;
        Ok(())
    }

    /// Whether keep-alive is on.
    pub fn keepalive(&self) -> io::Result<bool> {
        Ok(self.settings().opts.keepalive.is_some())
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.settings().opts.nodelay = nodelay;
        Ok(())
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.settings().opts.nodelay)
    }

    /// `SO_LINGER`, for the connection this socket becomes (see
    /// [`TcpStream::set_linger`]).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.settings().linger = linger;
        Ok(())
    }

    /// What `set_linger` set.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(self.settings().linger)
    }

    /// The TTL (hop limit for IPv6) of the connection's segments, 1 to
    /// 255.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.settings().opts.ttl = Some(checked_ttl(ttl)?);
        Ok(())
    }

    /// The TTL: as set, or the stack's default.
    pub fn ttl(&self) -> io::Result<u32> {
        Ok(self.settings().ttl(&self.stack))
    }

    /// Opens a connection to `addr` with these settings (see
    /// [`TcpStream::connect`]).
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let conn = self.start_connect(addr)?;
        poll_fn(|cx| conn.stack.poll_connect(conn.id, cx)).await?;
        Ok(TcpStream::from_arc(conn))
    }

    /// Sends the SYN; the caller waits for the handshake its own way.
    pub(crate) fn start_connect(self, addr: SocketAddr) -> io::Result<std::sync::Arc<Conn>> {
        if addr.is_ipv6() != self.v6 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address is not of the socket's family",
            ));
        }
        let s = self.s.into_inner().unwrap_or_else(PoisonError::into_inner);
        let (id, local) = self.stack.start_connect(s.local, addr, &s.opts)?;
        // Held across the wait, so a cancelled connect closes the attempt.
        let conn = Conn::new(self.stack, id, local, addr).with_settings(s.opts.nodelay, s.linger);
        Ok(std::sync::Arc::new(conn))
    }

    /// Listens on the bound address (every address of the family, port
    /// chosen, if not bound) with a queue of `backlog`; accepted
    /// connections take these settings.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let s = self.s.into_inner().unwrap_or_else(PoisonError::into_inner);
        let addr = s.local.unwrap_or_else(|| {
            let ip: IpAddr = if self.v6 {
                Ipv6Addr::UNSPECIFIED.into()
            } else {
                Ipv4Addr::UNSPECIFIED.into()
            };
            SocketAddr::new(ip, 0)
        });
        TcpListener::open(&self.stack, addr, Some(backlog.max(1) as usize), s)
    }
}

/// A buffer size as the socket calls take it: at least one byte.
fn buffer_size(size: u32) -> io::Result<usize> {
    if size == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a buffer size must be at least 1 byte",
        ));
    }
    Ok(size as usize)
}

impl std::fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpSocket")
            .field("v6", &self.v6)
            .field("settings", &*self.settings())
            .finish()
    }
}
