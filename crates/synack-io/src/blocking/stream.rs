//! A blocking TCP connection with `std::io::Read` and `Write`.

use super::park::{Wait, block_on};
use crate::Stack;
use crate::addr::{ToSocketAddrs, each_addr};
use crate::net::{self, Conn};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use synack::ConnInfo;

/// Per-socket options, shared by clones as they are by `dup`ed descriptors.
#[derive(Clone, Copy, Default)]
struct Options {
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    nonblocking: bool,
}

/// A TCP connection of a [`Stack`], in the shape of `std::net::TcpStream`.
/// Dropping the last clone closes the connection (a RST if received data
/// was left unread).
#[derive(Clone)]
pub struct TcpStream {
    conn: Arc<Conn>,
    opts: Arc<Mutex<Options>>,
}

impl TcpStream {
    /// Opens a connection to `addr`, each address in turn until one
    /// connects (see [`net::TcpStream::connect`]).
    pub fn connect(stack: &Stack, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |a| {
            TcpStream::open(socket_for(stack, a)?, a, Wait::Forever)
        })
    }

    /// [`TcpStream::connect`] to one address, giving up with `TimedOut`
    /// after `timeout` (a zero timeout is `InvalidInput`, as in `std`).
    pub fn connect_timeout(
        stack: &Stack,
        addr: &SocketAddr,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        check_timeout(Some(timeout))?;
        TcpStream::open(socket_for(stack, *addr)?, *addr, Wait::For(timeout)).map_err(|e| {
            if e.kind() == io::ErrorKind::WouldBlock {
                io::Error::new(io::ErrorKind::TimedOut, "connection timed out")
            } else {
                e
            }
        })
    }

    /// Connects `socket` (its settings applied before the SYN) and waits
    /// for the handshake.
    pub(crate) fn open(
        socket: net::TcpSocket,
        addr: SocketAddr,
        wait: Wait,
    ) -> io::Result<TcpStream> {
        let conn = socket.start_connect(addr)?;
        block_on(wait, |cx| conn.stack.poll_connect(conn.id, cx))?;
        Ok(TcpStream {
            conn,
            opts: Arc::default(),
        })
    }

    pub(crate) fn from_async(s: net::TcpStream) -> TcpStream {
        TcpStream {
            conn: s.conn.clone(),
            opts: Arc::default(),
        }
    }

    fn opts(&self) -> Options {
        *self.opts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_opts(&self, f: impl FnOnce(&mut Options)) {
        f(&mut self.opts.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn wait(&self, timeout: Option<Duration>) -> Wait {
        if self.opts().nonblocking {
            Wait::Never
        } else {
            Wait::from_timeout(timeout)
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

    /// `Write`: send a FIN after the queued data. `Read`: further reads
    /// return 0 (local only, as on Linux). `Both`: both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.conn.stack.shutdown_read(self.conn.id);
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.conn.shutdown_write()?;
        }
        Ok(())
    }

    /// Resets the connection (RST); every clone's next call fails.
    pub fn abort(&self) {
        self.conn.stack.abort_conn(self.conn.id);
    }

    /// Another handle to the same connection.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(self.clone())
    }

    /// Turns Nagle's algorithm off (`true`) or on.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.conn.set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.conn.nodelay()
    }

    /// The TTL (IPv6: hop limit) of the connection's segments, 1 to 255.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.conn.set_ttl(ttl)
    }

    /// The TTL the connection sends with.
    pub fn ttl(&self) -> io::Result<u32> {
        self.conn.ttl()
    }

    /// `SO_LINGER`, as [`net::TcpStream::set_linger`]: dropping the last
    /// clone never blocks.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.conn.set_linger(linger)
    }

    /// What `set_linger` set.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.conn.linger()
    }

    /// The error the connection ended with, reported once (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.conn.take_error()
    }

    /// Reads without consuming, waiting as `read` does (read timeout and
    /// non-blocking mode included).
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let wait = self.wait(self.opts().read_timeout);
        block_on(wait, |cx| self.conn.poll_peek(cx, buf))
    }

    /// A snapshot of the connection: state, sequence numbers, RTT, window.
    pub fn info(&self) -> io::Result<ConnInfo> {
        self.conn.info()
    }

    /// Limits how long `read` waits; then it fails with `WouldBlock`. A
    /// zero duration is `InvalidInput`, as in `std`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        check_timeout(t)?;
        self.set_opts(|o| o.read_timeout = t);
        Ok(())
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.opts().read_timeout)
    }

    /// Limits how long `write` waits for buffer space.
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        check_timeout(t)?;
        self.set_opts(|o| o.write_timeout = t);
        Ok(())
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.opts().write_timeout)
    }

    /// In non-blocking mode reads and writes return `WouldBlock` instead of
    /// waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.set_opts(|o| o.nonblocking = nonblocking);
        Ok(())
    }

    fn read_impl(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let wait = self.wait(self.opts().read_timeout);
        block_on(wait, |cx| self.conn.poll_read(cx, buf))
    }

    fn write_impl(&self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let wait = self.wait(self.opts().write_timeout);
        block_on(wait, |cx| self.conn.poll_write(cx, data))
    }
}

/// A socket of `addr`'s family.
fn socket_for(stack: &Stack, addr: SocketAddr) -> io::Result<net::TcpSocket> {
    if addr.is_ipv6() {
        net::TcpSocket::new_v6(stack)
    } else {
        net::TcpSocket::new_v4(stack)
    }
}

fn check_timeout(t: Option<Duration>) -> io::Result<()> {
    if t == Some(Duration::ZERO) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot set a 0 duration timeout",
        ));
    }
    Ok(())
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_impl(buf)
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_impl(buf)
    }
}

/// `flush` returns at once: written data is in the engine's send buffer,
/// which sends it on its own.
impl Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_impl(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for &TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_impl(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
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
