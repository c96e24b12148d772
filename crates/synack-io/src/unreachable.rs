//! ICMP destination-unreachable messages about a client's SYN, for an
//! intercepted connection refused the way the real destination refused it
//! (RFC 792, RFC 4443 3.1): the client's TCP then reports the same error
//! it would have seen without synack in the path.

use std::net::{IpAddr, SocketAddr};
use synack::{SeqNum, SynRequest};
use synack_wire::{IpHeader, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, checksum};

/// Why a destination cannot be reached, as ICMP says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unreachable {
    /// No route to the network (IPv4 code 0; IPv6 code 0, no route).
    Network,
    /// The host did not answer (IPv4 code 1; IPv6 code 3, address
    /// unreachable).
    Host,
    /// Nothing listens on the port (IPv4 code 3; IPv6 code 4). TCP's own
    /// answer, a RST, is what a closed port usually gives.
    Port,
    /// Filtered by policy (IPv4 code 13; IPv6 code 1).
    Prohibited,
}

impl Unreachable {
    fn code(self, v6: bool) -> u8 {
        match (self, v6) {
            (Unreachable::Network, false) => 0,
            (Unreachable::Host, false) => 1,
            (Unreachable::Port, false) => 3,
            (Unreachable::Prohibited, false) => 13,
            (Unreachable::Network, true) => 0,
            (Unreachable::Prohibited, true) => 1,
            (Unreachable::Host, true) => 3,
            (Unreachable::Port, true) => 4,
        }
    }
}

/// Writes into `out` an ICMP destination unreachable from `from` to the
/// client of `req`, quoting the IP header and the first eight bytes of its
/// SYN (ports and sequence number, which is all a TCP checks). Returns
/// the datagram's length, or `None` if `out` is too small or `from` is of
/// the other family.
pub(crate) fn write(
    req: &SynRequest,
    why: Unreachable,
    from: IpAddr,
    ttl: u8,
    out: &mut [u8],
) -> Option<usize> {
    write_for(req.peer, req.original_dst, req.isn, why, from, ttl, out)
}

/// [`write`] for the SYN `client` sent to `dst` with sequence number
/// `isn`.
fn write_for(
    client: SocketAddr,
    dst: SocketAddr,
    isn: SeqNum,
    why: Unreachable,
    from: IpAddr,
    ttl: u8,
    out: &mut [u8],
) -> Option<usize> {
    if from.is_ipv4() != client.is_ipv4() {
        return None;
    }
    // The quoted SYN as the client sent it: an IP header and the start of
    // the TCP header.
    let syn_ip = tcp_ip_header(client, dst);
    let mut quote = vec![0u8; syn_ip.header_len()];
    syn_ip.emit(20, &mut quote).ok()?;
    quote.extend_from_slice(&client.port().to_be_bytes());
    quote.extend_from_slice(&dst.port().to_be_bytes());
    quote.extend_from_slice(&isn.0.to_be_bytes());
    write_quoting(&quote, client.ip(), why, from, ttl, out)
}

/// The IP header of a TCP segment from `client` to `dst`, as a client's
/// stack would send it.
fn tcp_ip_header(client: SocketAddr, dst: SocketAddr) -> IpHeader {
    IpHeader {
        src: client.ip(),
        dst: dst.ip(),
        protocol: PROTO_TCP,
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_fragment: true,
        flow_label: 0,
    }
}

/// The most of an offending datagram quoted: what keeps the message
/// within 576 bytes for IPv4 (RFC 1812 4.3.2.3) and within the minimum MTU
/// of 1,280 for IPv6 (RFC 4443 3.1).
const QUOTE_V4: usize = 576 - 20 - 8;
const QUOTE_V6: usize = 1280 - 40 - 8;

/// Writes into `out` an ICMP destination unreachable from `from` about
/// `datagram` (an IPv4 or IPv6 datagram we received and will not take),
/// to its source, quoting its start. `None` if `out` is too small, the
/// datagram has no whole IP header, or `from` is of the other family.
pub(crate) fn write_about(
    datagram: &[u8],
    why: Unreachable,
    from: IpAddr,
    ttl: u8,
    out: &mut [u8],
) -> Option<usize> {
    let (to, limit): (IpAddr, usize) = match datagram.first()? >> 4 {
        4 if datagram.len() >= 20 => {
            let src: [u8; 4] = datagram[12..16].try_into().ok()?;
            (src.into(), QUOTE_V4)
        }
        6 if datagram.len() >= 40 => {
            let src: [u8; 16] = datagram[8..24].try_into().ok()?;
            (src.into(), QUOTE_V6)
        }
        _ => return None,
    };
    if from.is_ipv4() != to.is_ipv4() {
        return None;
    }
    let quote = &datagram[..datagram.len().min(limit)];
    write_quoting(quote, to, why, from, ttl, out)
}

/// An ICMP destination unreachable from `from` to `to` carrying `quote`.
fn write_quoting(
    quote: &[u8],
    to: IpAddr,
    why: Unreachable,
    from: IpAddr,
    ttl: u8,
    out: &mut [u8],
) -> Option<usize> {
    let v6 = to.is_ipv6();
    let protocol = if v6 { PROTO_ICMPV6 } else { PROTO_ICMP };
    let header = IpHeader {
        src: from,
        dst: to,
        protocol,
        ttl,
        tos: 0,
        ident: 0,
        dont_fragment: false,
        flow_label: 0,
    };
    let hl = header.header_len();
    let len = 8 + quote.len();
    if out.len() < hl + len {
        return None;
    }
    header.emit(len, out).ok()?;
    let body = &mut out[hl..hl + len];
    body[0] = if v6 { 1 } else { 3 };
    body[1] = why.code(v6);
    body[2..8].fill(0);
    body[8..].copy_from_slice(quote);
    let initial = if v6 {
        checksum::pseudo_header(from, to, PROTO_ICMPV6, len as u32)
    } else {
        0
    };
    let sum = checksum::fold(checksum::sum(body, initial));
    body[2..4].copy_from_slice(&sum.to_be_bytes());
    Some(hl + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::icmp::{Icmp, handle};
    use synack::{IcmpError, IcmpErrorKind};
    use synack_wire::parse_ip;

    /// What the client's own stack makes of the message: an error about
    /// its SYN, of the kind asked for.
    fn seen_by_client(client: &str, dst: &str, from: &str, why: Unreachable) -> IcmpError {
        let (client, dst): (SocketAddr, SocketAddr) =
            (client.parse().unwrap(), dst.parse().unwrap());
        let mut out = [0u8; 128];
        let n = write_for(
            client,
            dst,
            SeqNum(777),
            why,
            from.parse().unwrap(),
            64,
            &mut out,
        )
        .expect("written");
        let ip = parse_ip(&out[..n]).expect("a datagram");
        let mut reply = [0u8; 128];
        match handle(&ip, &[client.ip()], 64, &mut reply) {
            Icmp::Error(e) => {
                assert_eq!((e.local, e.remote, e.seq), (client, dst, SeqNum(777)));
                e
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_client_reads_the_error_it_was_meant_to() {
        let v4 = ("198.18.0.1:40000", "198.19.7.7:443", "198.18.0.2");
        let e = seen_by_client(v4.0, v4.1, v4.2, Unreachable::Host);
        assert_eq!(e.kind, IcmpErrorKind::HostUnreachable);
        let e = seen_by_client(v4.0, v4.1, v4.2, Unreachable::Network);
        assert_eq!(e.kind, IcmpErrorKind::NetUnreachable);
        let e = seen_by_client(v4.0, v4.1, v4.2, Unreachable::Port);
        assert_eq!(e.kind, IcmpErrorKind::PortUnreachable);
        let v6 = ("[2001:db8::1]:40000", "[2001:db8:7::7]:443", "2001:db8::2");
        let e = seen_by_client(v6.0, v6.1, v6.2, Unreachable::Host);
        assert_eq!(e.kind, IcmpErrorKind::HostUnreachable);
        let e = seen_by_client(v6.0, v6.1, v6.2, Unreachable::Port);
        assert_eq!(e.kind, IcmpErrorKind::PortUnreachable);
    }

    #[test]
    fn no_message_across_families_or_into_a_small_buffer() {
        let c: SocketAddr = "198.18.0.1:1".parse().unwrap();
        let d: SocketAddr = "198.19.0.1:2".parse().unwrap();
        let mut out = [0u8; 128];
        let v6: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(write_for(c, d, SeqNum(1), Unreachable::Host, v6, 64, &mut out).is_none());
        let mut small = [0u8; 40];
        let v4: IpAddr = "198.18.0.2".parse().unwrap();
        assert!(write_for(c, d, SeqNum(1), Unreachable::Host, v4, 64, &mut small).is_none());
    }

    /// A message about a whole datagram quotes its start (at most what
    /// keeps it within 576 bytes for IPv4, 1,280 for IPv6), goes to its
    /// source, and the sender's stack finds its segment in it.
    #[test]
    fn a_message_about_a_datagram_quotes_it_for_its_sender() {
        for (client, dst, from, payload, max_quote) in [
            (
                "198.18.0.1:40000",
                "198.19.7.7:443",
                "198.18.0.2",
                2000,
                QUOTE_V4,
            ),
            (
                "[2001:db8::1]:40000",
                "[2001:db8:7::7]:443",
                "2001:db8::2",
                2000,
                QUOTE_V6,
            ),
            (
                "198.18.0.1:40000",
                "198.19.7.7:443",
                "198.18.0.2",
                10,
                QUOTE_V4,
            ),
        ] {
            let (client, dst): (SocketAddr, SocketAddr) =
                (client.parse().unwrap(), dst.parse().unwrap());
            let seg = synack_wire::TcpHeader {
                src_port: client.port(),
                dst_port: dst.port(),
                seq: 4242,
                ack: 1,
                flags: synack_wire::TcpFlags::ACK,
                window: 100,
                urgent_ptr: 0,
                options: Default::default(),
            };
            let ip = tcp_ip_header(client, dst);
            let mut datagram = vec![0u8; 100 + payload];
            let n =
                synack_wire::emit_ip_tcp(&ip, &seg, &vec![7u8; payload], &mut datagram).unwrap();
            let datagram = &datagram[..n];
            let mut out = [0u8; 1500];
            let from: IpAddr = from.parse().unwrap();
            let m = write_about(datagram, Unreachable::Port, from, 64, &mut out).unwrap();
            let reply = parse_ip(&out[..m]).unwrap();
            assert_eq!((reply.src, reply.dst), (from, client.ip()));
            assert_eq!(reply.payload.len() - 8, datagram.len().min(max_quote));
            assert_eq!(
                &reply.payload[8..],
                &datagram[..datagram.len().min(max_quote)]
            );
            let mut buf = [0u8; 128];
            match handle(&reply, &[client.ip()], 64, &mut buf) {
                Icmp::Error(e) => {
                    assert_eq!((e.local, e.remote, e.seq), (client, dst, SeqNum(4242)));
                    assert_eq!(e.kind, IcmpErrorKind::PortUnreachable);
                }
                other => panic!("{other:?}"),
            }
        }
        // Not IP, or the other family: nothing.
        let mut out = [0u8; 1500];
        let v4: IpAddr = "198.18.0.2".parse().unwrap();
        assert!(write_about(&[0u8; 40], Unreachable::Host, v4, 64, &mut out).is_none());
        let v6_datagram = [0x60u8; 60];
        assert!(write_about(&v6_datagram, Unreachable::Host, v4, 64, &mut out).is_none());
    }
}
