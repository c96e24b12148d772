//! ICMP and ICMPv6 for a host whose only transport is TCP: answer echo
//! requests to our addresses (so `ping` works), and turn errors that quote
//! our TCP segments into [`IcmpError`]s for the engine (RFC 1122 3.2.2,
//! RFC 4443, RFC 5927).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack::{IcmpError, IcmpErrorKind, SeqNum};
use synack_wire::{IpHeader, IpPacket, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, TcpQuote, checksum};

const V4_ECHO_REPLY: u8 = 0;
const V4_DEST_UNREACHABLE: u8 = 3;
const V4_ECHO_REQUEST: u8 = 8;
const V4_TIME_EXCEEDED: u8 = 11;
const V4_PARAMETER_PROBLEM: u8 = 12;
const V6_DEST_UNREACHABLE: u8 = 1;
const V6_PACKET_TOO_BIG: u8 = 2;
const V6_TIME_EXCEEDED: u8 = 3;
const V6_PARAMETER_PROBLEM: u8 = 4;
const V6_ECHO_REQUEST: u8 = 128;
const V6_ECHO_REPLY: u8 = 129;
/// Type, code, checksum and four bytes that depend on the type.
const ICMP_HEADER_LEN: usize = 8;

/// What an ICMP message asks of the stack.
#[derive(Debug, PartialEq, Eq)]
pub enum Icmp {
    /// An echo reply of this many bytes was written into the output buffer;
    /// send it.
    Reply(usize),
    /// An error about one of our segments; hand it to the engine.
    Error(IcmpError),
    /// Nothing to do: not for us, malformed, or a type we do not act on.
    Ignored,
}

/// Handles one ICMP or ICMPv6 datagram addressed to one of `ours`. `ttl`
/// is the hop limit for replies; `out` receives a reply (it needs room for
/// the whole datagram, or the request is ignored).
pub fn handle(ip: &IpPacket<'_>, ours: &[IpAddr], ttl: u8, out: &mut [u8]) -> Icmp {
    if !ours.contains(&ip.dst) {
        return Icmp::Ignored;
    }
    let b = ip.payload;
    if b.len() < ICMP_HEADER_LEN || !checksum_ok(ip) {
        return Icmp::Ignored;
    }
    let (kind, code) = (b[0], b[1]);
    match (ip.src, ip.protocol) {
        (IpAddr::V4(_), PROTO_ICMP) => match kind {
            V4_ECHO_REQUEST => echo_reply(ip, V4_ECHO_REPLY, ttl, out),
            V4_DEST_UNREACHABLE | V4_TIME_EXCEEDED | V4_PARAMETER_PROBLEM => {
                let mtu = u16::from_be_bytes([b[6], b[7]]);
                v4_error_kind(kind, code, mtu)
                    .and_then(|k| quoted_v4(&b[ICMP_HEADER_LEN..], ours, k))
                    .map_or(Icmp::Ignored, Icmp::Error)
            }
            _ => Icmp::Ignored,
        },
        (IpAddr::V6(_), PROTO_ICMPV6) => match kind {
            V6_ECHO_REQUEST => echo_reply(ip, V6_ECHO_REPLY, ttl, out),
            V6_DEST_UNREACHABLE | V6_PACKET_TOO_BIG | V6_TIME_EXCEEDED | V6_PARAMETER_PROBLEM => {
                let mtu = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                quoted_v6(&b[ICMP_HEADER_LEN..], ours, v6_error_kind(kind, code, mtu))
                    .map_or(Icmp::Ignored, Icmp::Error)
            }
            _ => Icmp::Ignored,
        },
        _ => Icmp::Ignored,
    }
}

fn checksum_ok(ip: &IpPacket<'_>) -> bool {
    let initial = if ip.protocol == PROTO_ICMPV6 {
        // ICMPv6 covers a pseudo-header (RFC 4443 2.3); ICMPv4 does not.
        checksum::pseudo_header(ip.src, ip.dst, PROTO_ICMPV6, ip.payload.len() as u32)
    } else {
        0
    };
    checksum::fold(checksum::sum(ip.payload, initial)) == 0
}

/// The request's identifier, sequence number and data, sent back from the
/// address it was sent to (RFC 792, RFC 4443 4.2).
fn echo_reply(ip: &IpPacket<'_>, kind: u8, ttl: u8, out: &mut [u8]) -> Icmp {
    // Never answer a broadcast or multicast source (RFC 1122 3.2.2.6).
    let unicast = match ip.src {
        IpAddr::V4(a) => !(a.is_broadcast() || a.is_multicast() || a.is_unspecified()),
        IpAddr::V6(a) => !(a.is_multicast() || a.is_unspecified()),
    };
    let header = IpHeader {
        src: ip.dst,
        dst: ip.src,
        protocol: ip.protocol,
        ttl,
        tos: 0,
        ident: 0,
        dont_fragment: false,
        flow_label: 0,
    };
    let hl = header.header_len();
    let len = ip.payload.len();
    if !unicast || out.len() < hl + len || header.emit(len, out).is_err() {
        return Icmp::Ignored;
    }
    let body = &mut out[hl..hl + len];
    body.copy_from_slice(ip.payload);
    body[0] = kind;
    body[2..4].fill(0);
    let initial = if ip.protocol == PROTO_ICMPV6 {
        checksum::pseudo_header(ip.dst, ip.src, PROTO_ICMPV6, len as u32)
    } else {
        0
    };
    let sum = checksum::fold(checksum::sum(body, initial));
    body[2..4].copy_from_slice(&sum.to_be_bytes());
    Icmp::Reply(hl + len)
}

/// RFC 792 and RFC 1812 5.2.7.1 codes; `None` for codes that say nothing
/// about a path (such as precedence cutoff) and are better ignored.
fn v4_error_kind(kind: u8, code: u8, mtu: u16) -> Option<IcmpErrorKind> {
    Some(match (kind, code) {
        (V4_TIME_EXCEEDED, _) => IcmpErrorKind::TimeExceeded,
        (V4_PARAMETER_PROBLEM, _) => IcmpErrorKind::ParameterProblem,
        (_, 0 | 6 | 11) => IcmpErrorKind::NetUnreachable,
        (_, 1 | 7 | 12) => IcmpErrorKind::HostUnreachable,
        (_, 2) => IcmpErrorKind::ProtocolUnreachable,
        (_, 3) => IcmpErrorKind::PortUnreachable,
        (_, 4) => IcmpErrorKind::FragmentationNeeded { mtu },
        (_, 5) => IcmpErrorKind::SourceRouteFailed,
        (_, 9 | 10 | 13) => IcmpErrorKind::AdminProhibited,
        (_, 8 | 14 | 15) => return None,
        _ => IcmpErrorKind::Other,
    })
}

/// RFC 4443 3.1-3.4 codes.
fn v6_error_kind(kind: u8, code: u8, mtu: u32) -> IcmpErrorKind {
    match (kind, code) {
        (V6_PACKET_TOO_BIG, _) => IcmpErrorKind::PacketTooBig { mtu },
        (V6_TIME_EXCEEDED, _) => IcmpErrorKind::TimeExceeded,
        (V6_PARAMETER_PROBLEM, _) => IcmpErrorKind::ParameterProblem,
        (_, 0) => IcmpErrorKind::NetUnreachable,
        (_, 1 | 5 | 6) => IcmpErrorKind::AdminProhibited,
        (_, 3) => IcmpErrorKind::HostUnreachable,
        (_, 4) => IcmpErrorKind::PortUnreachable,
        _ => IcmpErrorKind::Other,
    }
}

/// Reads the IPv4 header and first eight TCP bytes an error quotes. The
/// quote is usually truncated, so the header is read by hand rather than
/// through `parse_ip`, which insists on the whole datagram.
fn quoted_v4(q: &[u8], ours: &[IpAddr], kind: IcmpErrorKind) -> Option<IcmpError> {
    let ihl = usize::from(*q.first()? & 0x0f) * 4;
    if q[0] >> 4 != 4 || ihl < 20 || q.len() < ihl + 8 || q[9] != PROTO_TCP {
        return None;
    }
    // We never fragment; a later fragment carries no TCP header.
    if u16::from_be_bytes([q[6], q[7]]) & 0x1fff != 0 {
        return None;
    }
    let src = IpAddr::V4(Ipv4Addr::new(q[12], q[13], q[14], q[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(q[16], q[17], q[18], q[19]));
    quoted_tcp(src, dst, &q[ihl..], ours, kind)
}

/// The IPv6 twin of [`quoted_v4`]. We emit no extension headers, so a
/// quote of ours has TCP right after the fixed header.
fn quoted_v6(q: &[u8], ours: &[IpAddr], kind: IcmpErrorKind) -> Option<IcmpError> {
    if q.len() < 48 || q[0] >> 4 != 6 || q[6] != PROTO_TCP {
        return None;
    }
    let addr = |at: usize| -> Option<IpAddr> {
        Some(IpAddr::V6(Ipv6Addr::from(
            <[u8; 16]>::try_from(&q[at..at + 16]).ok()?,
        )))
    };
    quoted_tcp(addr(8)?, addr(24)?, &q[40..], ours, kind)
}

fn quoted_tcp(
    src: IpAddr,
    dst: IpAddr,
    tcp: &[u8],
    ours: &[IpAddr],
    kind: IcmpErrorKind,
) -> Option<IcmpError> {
    // Only a segment we sent can be ours to hear about.
    if !ours.contains(&src) {
        return None;
    }
    let quote = TcpQuote::parse(tcp).ok()?;
    Some(IcmpError {
        local: SocketAddr::new(src, quote.src_port),
        remote: SocketAddr::new(dst, quote.dst_port),
        seq: SeqNum(quote.seq),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use synack_wire::parse_ip;

    fn v4(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, n))
    }

    fn v6(n: u16) -> IpAddr {
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n))
    }

    /// An ICMP datagram from `src` to `dst` with a correct checksum.
    fn icmp(src: IpAddr, dst: IpAddr, mut body: Vec<u8>) -> Vec<u8> {
        let proto = if src.is_ipv4() {
            PROTO_ICMP
        } else {
            PROTO_ICMPV6
        };
        let initial = if src.is_ipv4() {
            0
        } else {
            checksum::pseudo_header(src, dst, proto, body.len() as u32)
        };
        body[2..4].fill(0);
        let s = checksum::fold(checksum::sum(&body, initial));
        body[2..4].copy_from_slice(&s.to_be_bytes());
        let h = IpHeader {
            src,
            dst,
            protocol: proto,
            ttl: 64,
            tos: 0,
            ident: 1,
            dont_fragment: false,
            flow_label: 0,
        };
        let mut out = vec![0u8; h.header_len()];
        h.emit(body.len(), &mut out).unwrap();
        out.extend_from_slice(&body);
        out
    }

    /// The first 28 (v4) or 48 (v6) bytes of a TCP segment we sent.
    fn quote(src: IpAddr, dst: IpAddr, seq: u32) -> Vec<u8> {
        let h = IpHeader {
            src,
            dst,
            protocol: PROTO_TCP,
            ttl: 64,
            tos: 0,
            ident: 9,
            dont_fragment: true,
            flow_label: 0,
        };
        let mut q = vec![0u8; h.header_len()];
        h.emit(1000, &mut q).unwrap();
        q.extend_from_slice(&49152u16.to_be_bytes());
        q.extend_from_slice(&80u16.to_be_bytes());
        q.extend_from_slice(&seq.to_be_bytes());
        q
    }

    #[test]
    fn v4_echo_is_answered() {
        let req = icmp(
            v4(1),
            v4(2),
            b"\x08\x00\0\0\x12\x34\x00\x07pingdata".to_vec(),
        );
        let ip = parse_ip(&req).unwrap();
        let mut out = [0u8; 1500];
        let Icmp::Reply(n) = handle(&ip, &[v4(2)], 64, &mut out) else {
            panic!("no reply");
        };
        let rep = parse_ip(&out[..n]).unwrap();
        assert_eq!((rep.src, rep.dst), (v4(2), v4(1)));
        assert_eq!(rep.payload[0], V4_ECHO_REPLY);
        assert_eq!(&rep.payload[4..], b"\x12\x34\x00\x07pingdata");
        assert!(checksum_ok(&rep));
        // Not our address: silence.
        assert_eq!(handle(&ip, &[v4(3)], 64, &mut out), Icmp::Ignored);
    }

    #[test]
    fn v6_echo_is_answered() {
        let req = icmp(v6(1), v6(2), b"\x80\x00\0\0\x00\x01\x00\x02hello".to_vec());
        let ip = parse_ip(&req).unwrap();
        let mut out = [0u8; 1500];
        let Icmp::Reply(n) = handle(&ip, &[v6(2)], 64, &mut out) else {
            panic!("no reply");
        };
        let rep = parse_ip(&out[..n]).unwrap();
        assert_eq!(rep.payload[0], V6_ECHO_REPLY);
        assert!(checksum_ok(&rep));
    }

    #[test]
    fn bad_checksum_is_ignored() {
        let mut req = icmp(v4(1), v4(2), b"\x08\x00\0\0\x12\x34\x00\x07".to_vec());
        let last = req.len() - 1;
        req[last] ^= 1;
        let ip = parse_ip(&req).unwrap();
        assert_eq!(handle(&ip, &[v4(2)], 64, &mut [0u8; 1500]), Icmp::Ignored);
    }

    #[test]
    fn v4_frag_needed_quotes_our_segment() {
        let mut body = vec![V4_DEST_UNREACHABLE, 4, 0, 0, 0, 0, 0x05, 0x00];
        body.extend(quote(v4(2), v4(1), 777));
        let msg = icmp(v4(9), v4(2), body);
        let ip = parse_ip(&msg).unwrap();
        let got = handle(&ip, &[v4(2)], 64, &mut [0u8; 1500]);
        assert_eq!(
            got,
            Icmp::Error(IcmpError {
                local: SocketAddr::new(v4(2), 49152),
                remote: SocketAddr::new(v4(1), 80),
                seq: SeqNum(777),
                kind: IcmpErrorKind::FragmentationNeeded { mtu: 1280 },
            })
        );
    }

    /// IP-02 (RFC 9293 MUST-55): an ICMP source quench quoting one of our
    /// segments is discarded silently: it reaches no connection, and no
    /// reply goes out (the same quote as a destination unreachable does
    /// reach the engine, so the quote itself is good).
    #[test]
    fn ip_02_source_quench_is_discarded() {
        const SOURCE_QUENCH: u8 = 4;
        let mut body = vec![SOURCE_QUENCH, 0, 0, 0, 0, 0, 0, 0];
        body.extend(quote(v4(2), v4(1), 777));
        let msg = icmp(v4(9), v4(2), body.clone());
        let ip = parse_ip(&msg).unwrap();
        let mut out = [0u8; 1500];
        assert_eq!(handle(&ip, &[v4(2)], 64, &mut out), Icmp::Ignored);
        body[0] = V4_DEST_UNREACHABLE;
        let msg = icmp(v4(9), v4(2), body);
        let ip = parse_ip(&msg).unwrap();
        assert!(matches!(
            handle(&ip, &[v4(2)], 64, &mut out),
            Icmp::Error(_)
        ));
    }

    #[test]
    fn v4_time_exceeded_and_foreign_quotes() {
        let mut body = vec![V4_TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
        body.extend(quote(v4(2), v4(1), 5));
        let ip_bytes = icmp(v4(9), v4(2), body.clone());
        let ip = parse_ip(&ip_bytes).unwrap();
        assert!(matches!(
            handle(&ip, &[v4(2)], 64, &mut [0u8; 64]),
            Icmp::Error(IcmpError {
                kind: IcmpErrorKind::TimeExceeded,
                ..
            })
        ));
        // The quoted segment is someone else's.
        let ip_bytes = icmp(v4(9), v4(3), {
            let mut b = vec![V4_TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0];
            b.extend(quote(v4(4), v4(1), 5));
            b
        });
        let ip = parse_ip(&ip_bytes).unwrap();
        assert_eq!(handle(&ip, &[v4(3)], 64, &mut [0u8; 64]), Icmp::Ignored);
        // Truncated quote: fewer than 8 TCP bytes.
        body.truncate(8 + 20 + 7);
        let ip_bytes = icmp(v4(9), v4(2), body);
        let ip = parse_ip(&ip_bytes).unwrap();
        assert_eq!(handle(&ip, &[v4(2)], 64, &mut [0u8; 64]), Icmp::Ignored);
    }

    #[test]
    fn v6_errors() {
        let cases = [
            (
                V6_PACKET_TOO_BIG,
                0,
                IcmpErrorKind::PacketTooBig { mtu: 1400 },
            ),
            (V6_DEST_UNREACHABLE, 4, IcmpErrorKind::PortUnreachable),
            (V6_DEST_UNREACHABLE, 3, IcmpErrorKind::HostUnreachable),
            (V6_TIME_EXCEEDED, 0, IcmpErrorKind::TimeExceeded),
        ];
        for (kind, code, want) in cases {
            let mut body = vec![kind, code, 0, 0];
            body.extend(1400u32.to_be_bytes());
            body.extend(quote(v6(2), v6(1), 42));
            let msg = icmp(v6(9), v6(2), body);
            let ip = parse_ip(&msg).unwrap();
            match handle(&ip, &[v6(2)], 64, &mut [0u8; 64]) {
                Icmp::Error(e) => {
                    assert_eq!(e.kind, want);
                    assert_eq!(e.local, SocketAddr::new(v6(2), 49152));
                    assert_eq!(e.seq, SeqNum(42));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn v4_codes() {
        assert_eq!(v4_error_kind(3, 3, 0), Some(IcmpErrorKind::PortUnreachable));
        assert_eq!(
            v4_error_kind(3, 2, 0),
            Some(IcmpErrorKind::ProtocolUnreachable)
        );
        assert_eq!(
            v4_error_kind(3, 13, 0),
            Some(IcmpErrorKind::AdminProhibited)
        );
        assert_eq!(
            v4_error_kind(3, 5, 0),
            Some(IcmpErrorKind::SourceRouteFailed)
        );
        assert_eq!(v4_error_kind(3, 15, 0), None);
        assert_eq!(
            v4_error_kind(12, 0, 0),
            Some(IcmpErrorKind::ParameterProblem)
        );
    }
}
