//! The 4-tuple that names a connection (RFC 9293 section 3.4: a connection
//! is fully specified by the pair of sockets at its ends).

use core::fmt;
use core::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Local and remote address and port. The engine's tables key on a packed
/// form of it.
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

    /// The packed form the tables key on.
    #[inline]
    pub(crate) fn key(&self) -> Key {
        Key::new(
            self.local_ip,
            self.remote_ip,
            self.local_port,
            self.remote_port,
        )
    }
}

/// A 4-tuple packed for use as a table key: an IPv4 tuple in 12 bytes,
/// any other in 36. Every table is hashed at least once per packet, so the
/// keys are small, compare in a couple of instructions and hash in one
/// write (a keyed hasher pays per call).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Key {
    V4(KeyV4),
    V6(KeyV6),
}

/// An IPv4 4-tuple: three words, the addresses as their bytes lie in
/// memory (no byte swapping) and the two ports together.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct KeyV4 {
    local: u32,
    remote: u32,
    ports: u32,
}

/// An IPv6 4-tuple (or a mixed one, IPv4 addresses mapped).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct KeyV6 {
    local: [u8; 16],
    remote: [u8; 16],
    local_port: u16,
    remote_port: u16,
}

impl Key {
    /// Always inlined: it runs for every packet, and as a call it returned
    /// the enum through memory for the caller to take apart again.
    #[inline(always)]
    pub(crate) fn new(
        local_ip: IpAddr,
        remote_ip: IpAddr,
        local_port: u16,
        remote_port: u16,
    ) -> Key {
        match (local_ip, remote_ip) {
            (IpAddr::V4(l), IpAddr::V4(r)) => Key::v4(l, r, local_port, remote_port),
            (l, r) => Key::v6(l, r, local_port, remote_port),
        }
    }

    /// An IPv4 4-tuple's key, from 4-byte addresses.
    #[inline(always)]
    pub(crate) fn v4(local: Ipv4Addr, remote: Ipv4Addr, local_port: u16, remote_port: u16) -> Key {
        Key::V4(KeyV4 {
            local: u32::from_ne_bytes(local.octets()),
            remote: u32::from_ne_bytes(remote.octets()),
            ports: (u32::from(local_port) << 16) | u32::from(remote_port),
        })
    }

    /// Out of line, so that the IPv4 path does not gather the 16-byte
    /// addresses on speculation.
    #[inline(never)]
    fn v6(local_ip: IpAddr, remote_ip: IpAddr, local_port: u16, remote_port: u16) -> Key {
        Key::V6(KeyV6 {
            local: v6_octets(local_ip),
            remote: v6_octets(remote_ip),
            local_port,
            remote_port,
        })
    }
}

/// A packed key of one family.
pub(crate) trait FamilyKey: Copy + Eq + Hash {
    /// The 4-tuple back.
    fn tuple(&self) -> FourTuple;
}

impl FamilyKey for KeyV4 {
    fn tuple(&self) -> FourTuple {
        FourTuple {
            local_ip: IpAddr::V4(Ipv4Addr::from(self.local.to_ne_bytes())),
            remote_ip: IpAddr::V4(Ipv4Addr::from(self.remote.to_ne_bytes())),
            local_port: (self.ports >> 16) as u16,
            remote_port: self.ports as u16,
        }
    }
}

impl FamilyKey for KeyV6 {
    fn tuple(&self) -> FourTuple {
        FourTuple {
            local_ip: IpAddr::V6(Ipv6Addr::from(self.local)),
            remote_ip: IpAddr::V6(Ipv6Addr::from(self.remote)),
            local_port: self.local_port,
            remote_port: self.remote_port,
        }
    }
}

impl Hash for KeyV4 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let packed = (u128::from(self.local) << 64)
            | (u128::from(self.remote) << 32)
            | u128::from(self.ports);
        state.write_u128(packed);
    }
}

impl Hash for KeyV6 {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut key = [0u8; 36];
        key[..16].copy_from_slice(&self.local);
        key[16..32].copy_from_slice(&self.remote);
        key[32..34].copy_from_slice(&self.local_port.to_be_bytes());
        key[34..].copy_from_slice(&self.remote_port.to_be_bytes());
        state.write(&key);
    }
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl Hash for FourTuple {
    /// One write of the packed tuple: a keyed hasher pays per call, so the
    /// fields go in together.
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.key() {
            Key::V4(k) => k.hash(state),
            Key::V6(k) => k.hash(state),
        }
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
