//! Version dispatch for received datagrams, and the version-independent
//! header that the engine fills in to emit one.

use std::net::{IpAddr, Ipv4Addr};

use crate::options::{MAX_OPTIONS_LEN, OptionsWriter, with_writer};
use crate::tcp::{TcpHeader, TcpSegment, v4_addr_sum};
use crate::{IPV4_HEADER_LEN, IPV6_HEADER_LEN, PROTO_TCP, WireError, ipv4, ipv6};

/// A validated IP datagram, borrowing its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 Protocol, or for IPv6 the Next Header after the extension headers.
    pub protocol: u8,
    /// IPv4 TTL or IPv6 Hop Limit.
    pub ttl: u8,
    /// IPv4 TOS or IPv6 Traffic Class: DSCP << 2 | ECN.
    pub tos: u8,
    /// Bytes before the payload, IPv6 extension headers included.
    pub header_len: usize,
    /// The upper-layer bytes, exactly as many as the length fields say
    /// (trailing link padding dropped).
    pub payload: &'a [u8],
}

/// Parses an IPv4 or IPv6 datagram, dispatching on the version nibble.
///
/// See the crate docs for what is checked; every rejection is a
/// [`WireError`]. IPv4: RFC 791 3.1, options skipped (MUST-50), fragments
/// rejected. IPv6: RFC 8200, extension headers walked (IP-08), fragments and
/// jumbograms rejected.
pub fn parse_ip(buf: &[u8]) -> Result<IpPacket<'_>, WireError> {
    match buf.first().map(|b| b >> 4) {
        None => Err(WireError::Truncated),
        Some(4) => ipv4::parse(buf),
        Some(6) => ipv6::parse(buf),
        Some(_) => Err(WireError::BadVersion),
    }
}

/// [`parse_ip`] then [`TcpSegment::parse`] (checksum verified); a datagram
/// carrying another protocol is [`WireError::NotTcp`].
pub fn parse_ip_tcp(buf: &[u8]) -> Result<(IpPacket<'_>, TcpSegment<'_>), WireError> {
    let ip = parse_ip(buf)?;
    if ip.protocol != PROTO_TCP {
        return Err(WireError::NotTcp(ip.protocol));
    }
    let tcp = TcpSegment::parse(ip.payload, ip.src, ip.dst)?;
    Ok((ip, tcp))
}

/// An IP header to emit. The family is that of `src` and `dst`, which must
/// agree ([`WireError::AddressFamilyMismatch`] otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpHeader {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 Protocol / IPv6 Next Header (no extension headers are emitted).
    pub protocol: u8,
    /// IPv4 TTL / IPv6 Hop Limit.
    pub ttl: u8,
    /// IPv4 TOS / IPv6 Traffic Class (DSCP << 2 | ECN).
    pub tos: u8,
    /// IPv4 Identification; ignored for IPv6.
    pub ident: u16,
    /// IPv4 Don't Fragment; ignored for IPv6.
    pub dont_fragment: bool,
    /// IPv6 flow label (RFC 6437), low 20 bits used; ignored for IPv4.
    pub flow_label: u32,
}

impl IpHeader {
    /// 20 for IPv4 (no options are emitted), 40 for IPv6 (no extension
    /// headers are emitted). Follows `src`.
    #[inline]
    pub fn header_len(&self) -> usize {
        if self.src.is_ipv4() {
            IPV4_HEADER_LEN
        } else {
            IPV6_HEADER_LEN
        }
    }

    /// Writes only the IP header (with its checksum, for IPv4) into the
    /// start of `out`, for a payload of `payload_len` bytes; returns the
    /// header length. Errors: [`WireError::AddressFamilyMismatch`],
    /// [`WireError::PayloadTooLong`] (IPv4 total length or IPv6 payload
    /// length over 65535), [`WireError::BufferTooSmall`].
    pub fn emit(&self, payload_len: usize, out: &mut [u8]) -> Result<usize, WireError> {
        match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => ipv4::emit(self, s, d, payload_len, out),
            (IpAddr::V6(s), IpAddr::V6(d)) => ipv6::emit(self, s, d, payload_len, out),
            _ => Err(WireError::AddressFamilyMismatch),
        }
    }
}

/// Writes a whole datagram, IP header then TCP segment, into `out` and
/// returns its length. The TCP checksum uses the pseudo-header of `ip.src`
/// and `ip.dst`. The IP protocol field is always written as [`PROTO_TCP`],
/// whatever `ip.protocol` says, so header and pseudo-header cannot disagree.
pub fn emit_ip_tcp(
    ip: &IpHeader,
    tcp: &TcpHeader,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, WireError> {
    // The checks happen in the order of the unfused version: family, room
    // for the IP header, the TCP emit's own checks, then the IP length.
    match (ip.src, ip.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let (hdr, rest) = out
                .split_first_chunk_mut::<IPV4_HEADER_LEN>()
                .ok_or(WireError::BufferTooSmall)?;
            with_writer!(&tcp.options, w => emit_v4(ip, tcp, w, payload, s, d, hdr, rest))
        }
        (IpAddr::V6(_), IpAddr::V6(_)) => {
            if out.len() < IPV6_HEADER_LEN {
                return Err(WireError::BufferTooSmall);
            }
            let (hdr, rest) = out.split_at_mut(IPV6_HEADER_LEN);
            let tcp_len = tcp.emit(payload, ip.src, ip.dst, rest)?;
            let ip = IpHeader {
                protocol: PROTO_TCP,
                ..*ip
            };
            ip.emit(tcp_len, hdr)?;
            Ok(IPV6_HEADER_LEN + tcp_len)
        }
        _ => Err(WireError::AddressFamilyMismatch),
    }
}

/// The IPv4 arm of [`emit_ip_tcp`], for one option layout, once the output
/// is known to hold the IP header.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn emit_v4<W: OptionsWriter>(
    ip: &IpHeader,
    tcp: &TcpHeader,
    options: W,
    payload: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    hdr: &mut [u8; IPV4_HEADER_LEN],
    rest: &mut [u8],
) -> Result<usize, WireError> {
    if options.len() > MAX_OPTIONS_LEN {
        return Err(WireError::OptionsTooLong);
    }
    // Shared by the IP header checksum and the TCP pseudo-header.
    let addrs = v4_addr_sum(src, dst);
    let tcp_len = tcp.emit_segment(options, payload, addrs, rest)?;
    let total = u16::try_from(IPV4_HEADER_LEN + tcp_len).map_err(|_| WireError::PayloadTooLong)?;
    ipv4::write(hdr, ip, PROTO_TCP, total, src, dst, addrs);
    Ok(usize::from(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TcpFlags;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn version_dispatch() {
        assert_eq!(parse_ip(&[]), Err(WireError::Truncated));
        assert_eq!(parse_ip(&[0x55; 60]), Err(WireError::BadVersion));
        assert_eq!(parse_ip(&[0x45; 10]), Err(WireError::Truncated));
        assert_eq!(parse_ip(&[0x60; 39]), Err(WireError::Truncated));
    }

    fn ip4() -> IpHeader {
        IpHeader {
            src: Ipv4Addr::new(10, 1, 1, 1).into(),
            dst: Ipv4Addr::new(10, 1, 1, 2).into(),
            protocol: 17, // overridden by emit_ip_tcp
            ttl: 64,
            tos: 0,
            ident: 7,
            dont_fragment: true,
            flow_label: 0,
        }
    }

    #[test]
    fn emit_and_parse_ip_tcp() {
        let tcp = TcpHeader {
            src_port: 1,
            dst_port: 2,
            seq: 3,
            ack: 4,
            flags: TcpFlags::ACK,
            window: 5,
            ..Default::default()
        };
        let mut buf = [0u8; 100];
        let n = emit_ip_tcp(&ip4(), &tcp, b"xyz", &mut buf).unwrap();
        assert_eq!(n, 43);
        let (ip, seg) = parse_ip_tcp(&buf[..n]).unwrap();
        assert_eq!(ip.protocol, PROTO_TCP);
        assert_eq!(seg.header(), tcp);
        assert_eq!(seg.payload, b"xyz");

        assert_eq!(
            emit_ip_tcp(&ip4(), &tcp, b"xyz", &mut buf[..42]),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            emit_ip_tcp(&ip4(), &tcp, b"", &mut buf[..19]),
            Err(WireError::BufferTooSmall)
        );
        let mixed = IpHeader {
            dst: Ipv6Addr::LOCALHOST.into(),
            ..ip4()
        };
        assert_eq!(
            emit_ip_tcp(&mixed, &tcp, b"", &mut buf),
            Err(WireError::AddressFamilyMismatch)
        );
        assert_eq!(
            mixed.emit(0, &mut buf),
            Err(WireError::AddressFamilyMismatch)
        );
        // The largest IPv4 datagram: 65535 bytes in all.
        let big = vec![0u8; 65535 - 40];
        let mut out = vec![0u8; 65535];
        assert_eq!(emit_ip_tcp(&ip4(), &tcp, &big, &mut out), Ok(65535));
        assert!(parse_ip_tcp(&out).is_ok());
        let big = vec![0u8; 65535 - 39];
        assert_eq!(
            emit_ip_tcp(&ip4(), &tcp, &big, &mut vec![0; 70000]),
            Err(WireError::PayloadTooLong)
        );
    }

    #[test]
    fn not_tcp() {
        let mut h = ip4();
        h.protocol = crate::PROTO_ICMP;
        let mut buf = [0u8; 28];
        h.emit(8, &mut buf).unwrap();
        assert_eq!(parse_ip_tcp(&buf), Err(WireError::NotTcp(1)));
    }
}
