//! How `synack forward` reaches the real destination: a kernel socket
//! (with `SO_MARK` and `SO_BINDTODEVICE` if asked, so relayed traffic
//! cannot loop back into the TUN device), directly or through a SOCKS5
//! proxy; and what the client should see when that fails.

use socket2::{Domain, Protocol, Socket, Type};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use synack_io::net::{Refusal, Unreachable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How to dial: the settings every upstream connection shares.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dialer {
    /// `SO_MARK` on every kernel socket.
    pub mark: Option<u32>,
    /// `SO_BINDTODEVICE` on every kernel socket.
    pub bind_interface: Option<String>,
    /// Connect through this SOCKS5 proxy (RFC 1928, no authentication).
    pub socks5: Option<SocketAddr>,
    /// Give the dial up after this long.
    pub timeout: Duration,
}

/// Why a dial failed.
#[derive(Debug)]
pub enum DialError {
    /// The kernel's connect (to the destination, or to the proxy) failed.
    Io(io::Error),
    /// The SOCKS5 proxy answered CONNECT with this reply code.
    Socks(u8),
    /// No answer within the connect timeout.
    TimedOut,
    /// The kernel socket could not be made as asked (`--mark` without
    /// CAP_NET_ADMIN, no such `--bind-interface`): our failure, not the
    /// destination's answer.
    Setup(io::Error),
}

impl fmt::Display for DialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialError::Io(e) => write!(f, "{}", super::reason(e)),
            DialError::Socks(code) => {
                write!(f, "SOCKS5 reply {code:#04x} ({})", socks_words(*code))
            }
            DialError::TimedOut => f.write_str("connect timed out"),
            DialError::Setup(e) => write!(f, "cannot set the kernel socket up: {e}"),
        }
    }
}

impl DialError {
    /// What the client is told: the refusal that shows it what the
    /// destination showed us, or `None` to answer nothing (a black hole
    /// stays one; an error of our own is no answer of the destination's).
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            DialError::Io(e) => match e.kind() {
                io::ErrorKind::ConnectionRefused => Some(Refusal::Reset),
                io::ErrorKind::HostUnreachable => Some(Refusal::Unreachable(Unreachable::Host)),
                io::ErrorKind::NetworkUnreachable => {
                    Some(Refusal::Unreachable(Unreachable::Network))
                }
                io::ErrorKind::PermissionDenied => {
                    Some(Refusal::Unreachable(Unreachable::Prohibited))
                }
                _ => None,
            },
            DialError::Socks(code) => socks_refusal(*code),
            DialError::TimedOut | DialError::Setup(_) => None,
        }
    }
}

/// The refusal for a SOCKS5 reply code (RFC 1928 section 6).
fn socks_refusal(code: u8) -> Option<Refusal> {
    match code {
        0x05 => Some(Refusal::Reset),
        0x04 => Some(Refusal::Unreachable(Unreachable::Host)),
        0x03 => Some(Refusal::Unreachable(Unreachable::Network)),
        0x02 => Some(Refusal::Unreachable(Unreachable::Prohibited)),
        _ => None,
    }
}

fn socks_words(code: u8) -> &'static str {
    match code {
        0x01 => "general failure",
        0x02 => "not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unassigned",
    }
}

impl Dialer {
    /// Connects to `dst`, within the timeout.
    pub async fn dial(&self, dst: SocketAddr) -> Result<TcpStream, DialError> {
        match tokio::time::timeout(self.timeout, self.dial_untimed(dst)).await {
            Ok(r) => r,
            Err(_) => Err(DialError::TimedOut),
        }
    }

    async fn dial_untimed(&self, dst: SocketAddr) -> Result<TcpStream, DialError> {
        let Some(proxy) = self.socks5 else {
            return self.connect(dst).await;
        };
        let mut s = self.connect(proxy).await?;
        socks5_connect(&mut s, dst).await?;
        Ok(s)
    }

    /// A kernel connection to `to` from a socket with our options.
    async fn connect(&self, to: SocketAddr) -> Result<TcpStream, DialError> {
        let s = self.start_connect(to)?;
        // On a near network the destination has usually answered within
        // the connect call itself (the kernel ran its side of the
        // handshake on the way out): then the client's SYN-ACK need not
        // wait for the event loop's next look at the socket.
        if s.peer_addr().is_err() {
            s.writable().await.map_err(DialError::Io)?;
        }
        if let Some(e) = s.take_error().map_err(DialError::Io)? {
            return Err(DialError::Io(e));
        }
        s.peer_addr().map_err(DialError::Io)?;
        // The client's own stack already decided how to segment; do not
        // hold its small writes back a second time.
        let _ = s.set_nodelay(true);
        Ok(s)
    }

    /// A non-blocking socket with our options, its connect to `to` begun.
    fn start_connect(&self, to: SocketAddr) -> Result<TcpStream, DialError> {
        let domain = if to.is_ipv4() {
            Domain::IPV4
        } else {
            Domain::IPV6
        };
        let socket = Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))
            .map_err(DialError::Setup)?;
        if let Some(mark) = self.mark {
            // Needs CAP_NET_ADMIN.
            socket.set_mark(mark).map_err(DialError::Setup)?;
        }
        if let Some(dev) = &self.bind_interface {
            socket
                .bind_device(Some(dev.as_bytes()))
                .map_err(DialError::Setup)?;
        }
        match socket.connect(&to.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(DialError::Io(e)),
        }
        TcpStream::from_std(socket.into()).map_err(DialError::Io)
    }
}

/// RFC 1928: no authentication, then CONNECT to the address `dst`. A
/// reply other than success is `DialError::Socks`; a proxy that breaks the
/// protocol is an `Io` error of kind `InvalidData`.
async fn socks5_connect(s: &mut TcpStream, dst: SocketAddr) -> Result<(), DialError> {
    let io = DialError::Io;
    let bad =
        |what: &str| DialError::Io(io::Error::new(io::ErrorKind::InvalidData, what.to_string()));
    s.write_all(&[5, 1, 0]).await.map_err(io)?;
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).await.map_err(io)?;
    if choice != [5, 0] {
        return Err(bad("the SOCKS5 proxy wants authentication"));
    }
    let mut req = vec![5, 1, 0];
    match dst {
        SocketAddr::V4(a) => {
            req.push(1);
            req.extend_from_slice(&a.ip().octets());
        }
        SocketAddr::V6(a) => {
            req.push(4);
            req.extend_from_slice(&a.ip().octets());
        }
    }
    req.extend_from_slice(&dst.port().to_be_bytes());
    s.write_all(&req).await.map_err(io)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await.map_err(io)?;
    if head[0] != 5 {
        return Err(bad("not a SOCKS5 reply"));
    }
    if head[1] != 0 {
        return Err(DialError::Socks(head[1]));
    }
    // The bound address, which we do not need.
    let len = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut n = [0u8; 1];
            s.read_exact(&mut n).await.map_err(io)?;
            usize::from(n[0])
        }
        _ => return Err(bad("a SOCKS5 reply with an unknown address type")),
    };
    let mut rest = vec![0u8; len + 2];
    s.read_exact(&mut rest).await.map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_the_destination_said() {
        let kind = |k| DialError::Io(io::Error::from(k)).refusal();
        assert_eq!(kind(io::ErrorKind::ConnectionRefused), Some(Refusal::Reset));
        assert_eq!(
            kind(io::ErrorKind::HostUnreachable),
            Some(Refusal::Unreachable(Unreachable::Host))
        );
        assert_eq!(
            kind(io::ErrorKind::NetworkUnreachable),
            Some(Refusal::Unreachable(Unreachable::Network))
        );
        assert_eq!(
            kind(io::ErrorKind::PermissionDenied),
            Some(Refusal::Unreachable(Unreachable::Prohibited))
        );
        assert_eq!(kind(io::ErrorKind::OutOfMemory), None);
        assert_eq!(DialError::TimedOut.refusal(), None);
        let setup = DialError::Setup(io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(setup.refusal(), None);
        assert_eq!(DialError::Socks(5).refusal(), Some(Refusal::Reset));
        assert_eq!(
            DialError::Socks(2).refusal(),
            Some(Refusal::Unreachable(Unreachable::Prohibited))
        );
        assert_eq!(DialError::Socks(1).refusal(), None);
    }

    #[tokio::test]
    async fn socks5_connect_speaks_rfc_1928() {
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = proxy.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut replies = Vec::new();
            for code in [0u8, 5] {
                let (mut c, _) = proxy.accept().await.unwrap();
                let mut hello = [0u8; 3];
                c.read_exact(&mut hello).await.unwrap();
                assert_eq!(hello, [5, 1, 0]);
                c.write_all(&[5, 0]).await.unwrap();
                let mut req = [0u8; 10];
                c.read_exact(&mut req).await.unwrap();
                replies.push(req);
                c.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0])
                    .await
                    .unwrap();
            }
            replies
        });
        let d = Dialer {
            socks5: Some(addr),
            timeout: Duration::from_secs(5),
            ..Dialer::default()
        };
        let dst: SocketAddr = "198.18.30.1:5000".parse().unwrap();
        assert!(d.dial(dst).await.is_ok());
        match d.dial(dst).await {
            Err(DialError::Socks(5)) => {}
            other => panic!("{other:?}"),
        }
        let reqs = server.await.unwrap();
        assert_eq!(reqs[0], [5, 1, 0, 1, 198, 18, 30, 1, 0x13, 0x88]);
    }
}
