//! The addresses socket calls take, in the shape of
//! `std::net::ToSocketAddrs`: a `SocketAddr`, an `(ip, port)` pair, a
//! string such as `"198.18.0.2:80"` or `"[2001:db8::2]:80"`, or a list.
//!
//! Unlike std's trait there are no name lookups: a host name would be
//! resolved through the host's own network and resolver, not through this
//! stack, so a string must hold an IP address. A name is `InvalidInput`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something that names one or more socket addresses without a lookup.
pub trait ToSocketAddrs {
    /// The addresses, in the order to try them.
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>>;
}

impl ToSocketAddrs for SocketAddr {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![*self])
    }
}

impl ToSocketAddrs for SocketAddrV4 {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::V4(*self)])
    }
}

impl ToSocketAddrs for SocketAddrV6 {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::V6(*self)])
    }
}

impl ToSocketAddrs for (IpAddr, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(self.0, self.1)])
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::new(self.0.into(), self.1)])
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        let ip: IpAddr = self.0.parse().map_err(|_| no_lookup(self.0))?;
        Ok(vec![SocketAddr::new(ip, self.1)])
    }
}

impl ToSocketAddrs for (String, u16) {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        (self.0.as_str(), self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for str {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        match self.parse() {
            Ok(a) => Ok(vec![a]),
            Err(_) if self.rsplit_once(':').is_some() => Err(no_lookup(self)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("'{self}' is not ADDRESS:PORT (IPv6: [ADDRESS]:PORT)"),
            )),
        }
    }
}

impl ToSocketAddrs for String {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        self.as_str().to_socket_addrs()
    }
}

impl ToSocketAddrs for [SocketAddr] {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(self.to_vec())
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok(self.clone())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_socket_addrs(&self) -> io::Result<Vec<SocketAddr>> {
        (**self).to_socket_addrs()
    }
}

fn no_lookup(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "'{what}': synack looks up no names (that would go through the host's network, \
             not this stack); give an IP address"
        ),
    )
}

/// Tries `f` on each address in turn: the first success, or the last
/// error (as std and tokio do). No address at all is `InvalidInput`.
pub(crate) fn each_addr<T>(
    addrs: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addrs.to_socket_addrs()? {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to try")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_forms() {
        let a: SocketAddr = "198.18.0.2:80".parse().unwrap();
        assert_eq!("198.18.0.2:80".to_socket_addrs().unwrap(), vec![a]);
        assert_eq!(
            String::from("198.18.0.2:80").to_socket_addrs().unwrap(),
            vec![a]
        );
        assert_eq!(("198.18.0.2", 80).to_socket_addrs().unwrap(), vec![a]);
        assert_eq!((a.ip(), 80).to_socket_addrs().unwrap(), vec![a]);
        assert_eq!(
            (Ipv4Addr::new(198, 18, 0, 2), 80)
                .to_socket_addrs()
                .unwrap(),
            vec![a]
        );
        assert_eq!(a.to_socket_addrs().unwrap(), vec![a]);
        let by_ref: &SocketAddr = &a;
        assert_eq!(ToSocketAddrs::to_socket_addrs(&by_ref).unwrap(), vec![a]);
        let v6: SocketAddr = "[2001:db8::2]:80".parse().unwrap();
        assert_eq!("[2001:db8::2]:80".to_socket_addrs().unwrap(), vec![v6]);
        assert_eq!([a, v6][..].to_socket_addrs().unwrap(), vec![a, v6]);
    }

    #[test]
    fn names_and_garbage_are_invalid_input() {
        for bad in ["example.com:80", "localhost:7", "198.18.0.2", "", ":80"] {
            let e = bad.to_socket_addrs().unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
        let e = ("example.com", 80).to_socket_addrs().unwrap_err();
        assert!(e.to_string().contains("looks up no names"), "{e}");
    }

    #[test]
    fn each_addr_returns_the_first_success_or_the_last_error() {
        let list = [
            "198.18.0.1:1".parse().unwrap(),
            "198.18.0.2:2".parse().unwrap(),
        ];
        let got = each_addr(&list[..], |a| {
            if a.port() == 2 {
                Ok(a)
            } else {
                Err(io::ErrorKind::ConnectionRefused.into())
            }
        });
        assert_eq!(got.unwrap().port(), 2);
        let e = each_addr(&list[..], |a| -> io::Result<()> {
            Err(io::Error::other(a.port().to_string()))
        });
        assert_eq!(e.unwrap_err().to_string(), "2");
        let none: &[SocketAddr] = &[];
        assert_eq!(
            each_addr(none, Ok).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
