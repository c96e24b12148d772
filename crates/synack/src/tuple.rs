//! The 4-tuple that names a connection (RFC 9293 section 3.4: a connection
//! is fully specified by the pair of sockets at its ends).

use core::fmt;
use core::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// Local and remote address and port. Kept flat and small because it is the
/// key of the connection table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FourTuple {
    /// Our address.
    pub local_ip: IpAddr,
    /// The peer's address.
    pub remote_ip: IpAddr,
    /// Our port.
    pub local_port: u16,
    /// The peer's port.
    pub remote_port: u16,
}

impl FourTuple {
    /// Builds a tuple from two socket addresses.
    pub fn new(local: SocketAddr, remote: SocketAddr) -> FourTuple {
        FourTuple {
            local_ip: local.ip(),
            remote_ip: remote.ip(),
            local_port: local.port(),
            remote_port: remote.port(),
        }
    }

    /// Our socket.
    pub fn local(&self) -> SocketAddr {
        SocketAddr::new(self.local_ip, self.local_port)
    }

    /// The peer's socket.
    pub fn remote(&self) -> SocketAddr {
        SocketAddr::new(self.remote_ip, self.remote_port)
    }

    /// Whether the connection runs over IPv6.
    pub fn is_ipv6(&self) -> bool {
        self.local_ip.is_ipv6()
    }
}

impl Hash for FourTuple {
    /// One write of the packed tuple: the table hashes every packet, and a
    /// keyed hasher pays per call, so the fields go in together.
    fn hash<H: Hasher>(&self, state: &mut H) {
        match (self.local_ip, self.remote_ip) {
            (IpAddr::V4(l), IpAddr::V4(r)) => {
                let packed = (u128::from(l.to_bits()) << 64)
                    | (u128::from(r.to_bits()) << 32)
                    | (u128::from(self.local_port) << 16)
                    | u128::from(self.remote_port);
                state.write_u128(packed);
            }
            (l, r) => {
                let mut key = [0u8; 36];
                key[..16].copy_from_slice(&v6_octets(l));
                key[16..32].copy_from_slice(&v6_octets(r));
                key[32..34].copy_from_slice(&self.local_port.to_be_bytes());
                key[34..].copy_from_slice(&self.remote_port.to_be_bytes());
                state.write(&key);
            }
        }
    }
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl fmt::Debug for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} <-> {}", self.local(), self.remote())
    }
}

impl fmt::Display for FourTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
