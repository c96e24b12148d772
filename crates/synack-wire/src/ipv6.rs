//! IPv6 (RFC 8200 3): fixed header, extension header walk (RFC 8200 4,
//! IP-08), header emission.

use std::net::{IpAddr, Ipv6Addr};

use crate::ip::{IpHeader, IpPacket};
use crate::{IPV6_HEADER_LEN, WireError};

/// Hop-by-Hop Options (RFC 8200 4.3).
pub const NH_HOP_BY_HOP: u8 = 0;
/// Routing (RFC 8200 4.4).
pub const NH_ROUTING: u8 = 43;
/// Fragment (RFC 8200 4.5).
pub const NH_FRAGMENT: u8 = 44;
/// Encapsulating Security Payload (RFC 4303).
pub const NH_ESP: u8 = 50;
/// Authentication Header (RFC 4302).
pub const NH_AH: u8 = 51;
/// No Next Header (RFC 8200 4.7).
pub const NH_NO_NEXT: u8 = 59;
/// Destination Options (RFC 8200 4.6).
pub const NH_DEST_OPTS: u8 = 60;

/// Most extension headers walked before giving up, so a crafted chain costs
/// bounded work. Real traffic to a host carries at most a Hop-by-Hop, a
/// Routing and two Destination Options headers (RFC 8200 4.1 order).
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// Parses an IPv6 datagram and walks its extension headers.
///
/// * Payload length 0 means a jumbogram (RFC 2675), which is not supported,
///   and a length past the buffer is a truncated datagram: both are
///   [`WireError::BadPayloadLength`]. Bytes past the payload length are link
///   padding and are dropped.
/// * Hop-by-Hop (only first, RFC 8200 4.1), Routing and Destination Options
///   are walked by their Hdr Ext Len, never past the payload. Their options
///   must be well-formed TLVs, and an unrecognised option whose two high
///   bits ask for a discard rejects the datagram (RFC 8200 4.2). A Routing
///   header with Segments Left != 0 means we are not the final destination
///   and the datagram is rejected (RFC 8200 4.4; we do not forward).
/// * Fragment -> [`WireError::Fragmented`]; No Next Header ->
///   [`WireError::NotTcp`]`(59)`; ESP, AH and the other extension headers of
///   RFC 7045 (Mobility 135, HIP 139, Shim6 140, experimental 253/254) ->
///   [`WireError::ExtensionHeader`].
/// * Anything else is the upper-layer protocol.
#[inline(never)]
pub(crate) fn parse(buf: &[u8]) -> Result<IpPacket<'_>, WireError> {
    if buf.len() < IPV6_HEADER_LEN {
        return Err(WireError::Truncated);
    }
    if buf[0] >> 4 != 6 {
        return Err(WireError::BadVersion);
    }
    let payload_len = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
    let end = IPV6_HEADER_LEN + payload_len;
    if payload_len == 0 || end > buf.len() {
        return Err(WireError::BadPayloadLength);
    }
    let datagram = &buf[..end];

    let mut next = buf[6];
    let mut off = IPV6_HEADER_LEN;
    let mut walked = 0;
    loop {
        match next {
            NH_HOP_BY_HOP | NH_ROUTING | NH_DEST_OPTS => {
                let bad = WireError::ExtensionHeader(next);
                if (next == NH_HOP_BY_HOP && walked != 0) || walked == MAX_EXTENSION_HEADERS {
                    return Err(bad);
                }
                let rest = datagram.get(off..).ok_or(bad)?;
                let (&nh, &ext_len) = rest.first().zip(rest.get(1)).ok_or(bad)?;
                // Hdr Ext Len counts 8-octet units beyond the first 8.
                let len = (usize::from(ext_len) + 1) * 8;
                let ext = rest.get(..len).ok_or(bad)?;
                if next == NH_ROUTING {
                    // Segments Left is byte 3; len >= 8 so it exists.
                    if ext[3] != 0 {
                        return Err(bad);
                    }
                } else if !options_ok(&ext[2..]) {
                    return Err(bad);
                }
                next = nh;
                off += len;
                walked += 1;
            }
            NH_FRAGMENT => return Err(WireError::Fragmented),
            NH_NO_NEXT => return Err(WireError::NotTcp(NH_NO_NEXT)),
            NH_ESP | NH_AH | 135 | 139 | 140 | 253 | 254 => {
                return Err(WireError::ExtensionHeader(next));
            }
            _ => break,
        }
    }

    let src: [u8; 16] = buf[8..24].try_into().unwrap_or([0; 16]);
    let dst: [u8; 16] = buf[24..40].try_into().unwrap_or([0; 16]);
    Ok(IpPacket {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        protocol: next,
        ttl: buf[7],
        tos: (buf[0] << 4) | (buf[1] >> 4),
        header_len: off,
        payload: &datagram[off..],
    })
}

/// Walks the TLV options of a Hop-by-Hop or Destination Options header
/// (RFC 8200 4.2). We recognise only Pad1 and PadN, so any option whose
/// action bits (the two high bits of its type) are not `00` must discard the
/// datagram. Returns false for that or for a TLV running past the header.
fn options_ok(mut opts: &[u8]) -> bool {
    while let Some(&kind) = opts.first() {
        if kind == 0 {
            // Pad1 has no length byte.
            opts = &opts[1..];
            continue;
        }
        if kind >> 6 != 0 {
            return false;
        }
        let Some(&len) = opts.get(1) else {
            return false;
        };
        match opts.get(2 + usize::from(len)..) {
            Some(rest) => opts = rest,
            None => return false,
        }
    }
    true
}

/// Writes a 40-byte IPv6 header without extension headers.
pub(crate) fn emit(
    h: &IpHeader,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, WireError> {
    let payload_len = u16::try_from(payload_len).map_err(|_| WireError::PayloadTooLong)?;
    let hdr = out
        .get_mut(..IPV6_HEADER_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    // Version 6, traffic class, 20-bit flow label (RFC 8200 3, RFC 6437);
    // bits of flow_label above the 20th are dropped.
    let word = (6u32 << 28) | (u32::from(h.tos) << 20) | (h.flow_label & 0x000f_ffff);
    hdr[0..4].copy_from_slice(&word.to_be_bytes());
    hdr[4..6].copy_from_slice(&payload_len.to_be_bytes());
    hdr[6] = h.protocol;
    hdr[7] = h.ttl;
    hdr[8..24].copy_from_slice(&src.octets());
    hdr[24..40].copy_from_slice(&dst.octets());
    Ok(IPV6_HEADER_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PROTO_TCP, parse_ip};

    fn header() -> IpHeader {
        IpHeader {
            src: "2001:db8::1".parse().unwrap(),
            dst: "2001:db8::2".parse().unwrap(),
            protocol: PROTO_TCP,
            ttl: 63,
            tos: 0xb9,
            ident: 0,
            dont_fragment: false,
            flow_label: 0xabcde,
        }
    }

    /// A datagram whose first Next Header is `first`, followed by `exts`
    /// (already chained by the caller) and `payload`.
    fn datagram(first: u8, exts: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut h = header();
        h.protocol = first;
        let mut buf = vec![0u8; 40];
        h.emit(exts.len() + payload.len(), &mut buf).unwrap();
        buf.extend_from_slice(exts);
        buf.extend_from_slice(payload);
        buf
    }

    #[test]
    fn emit_fields() {
        let d = datagram(PROTO_TCP, &[], b"data");
        assert_eq!(&d[..8], &[0x6b, 0x9a, 0xbc, 0xde, 0, 4, 6, 63]);
        let p = parse_ip(&d).unwrap();
        assert_eq!(p.tos, 0xb9);
        assert_eq!(p.ttl, 63);
        assert_eq!(p.protocol, PROTO_TCP);
        assert_eq!(p.header_len, 40);
        assert_eq!(p.payload, b"data");
        assert_eq!(p.src, header().src);
        assert_eq!(p.dst, header().dst);
    }

    #[test]
    fn ip08_hop_by_hop_and_destination_options_walked() {
        // HBH: next=60, len 0 (8 bytes): Router Alert (type 5, len 2), PadN 0.
        // Dest opts: next=6, len 1 (16 bytes): an unknown option 0x1e whose
        // action bits 00 say "skip", Pad1, PadN with 9 bytes.
        let mut exts = vec![NH_DEST_OPTS, 0, 5, 2, 0, 0, 1, 0];
        exts.extend_from_slice(&[PROTO_TCP, 1, 0x1e, 0, 0, 1, 9]);
        exts.extend_from_slice(&[0; 9]);
        assert_eq!(exts.len(), 24);
        let d = datagram(NH_HOP_BY_HOP, &exts, b"tcp!");
        let p = parse_ip(&d).unwrap();
        assert_eq!(p.protocol, PROTO_TCP);
        assert_eq!(p.header_len, 64);
        assert_eq!(p.payload, b"tcp!");
    }

    #[test]
    fn ip08_routing_header_with_no_segments_left_walked() {
        let exts = [PROTO_TCP, 0, 4, 0, 0, 0, 0, 0];
        let d = datagram(NH_ROUTING, &exts, b"x");
        let p = parse_ip(&d).unwrap();
        assert_eq!((p.protocol, p.header_len), (PROTO_TCP, 48));
        let exts = [PROTO_TCP, 0, 4, 1, 0, 0, 0, 0];
        assert_eq!(
            parse_ip(&datagram(NH_ROUTING, &exts, b"x")),
            Err(WireError::ExtensionHeader(NH_ROUTING))
        );
    }

    #[test]
    fn extension_header_rejections() {
        let pad = [PROTO_TCP, 0, 1, 4, 0, 0, 0, 0];
        // Fragment header.
        assert_eq!(
            parse_ip(&datagram(NH_FRAGMENT, &[6, 0, 0, 0, 0, 0, 0, 1], b"")),
            Err(WireError::Fragmented)
        );
        // No Next Header, directly and after an extension header.
        assert_eq!(
            parse_ip(&datagram(NH_NO_NEXT, &[], b"junk")),
            Err(WireError::NotTcp(59))
        );
        let mut nn = pad;
        nn[0] = NH_NO_NEXT;
        assert_eq!(
            parse_ip(&datagram(NH_DEST_OPTS, &nn, b"")),
            Err(WireError::NotTcp(59))
        );
        // ESP and AH.
        for nh in [NH_ESP, NH_AH, 135] {
            assert_eq!(
                parse_ip(&datagram(nh, &[0; 16], b"")),
                Err(WireError::ExtensionHeader(nh))
            );
        }
        // Hop-by-Hop not first.
        let mut first = pad;
        first[0] = NH_HOP_BY_HOP;
        assert_eq!(
            parse_ip(&datagram(NH_DEST_OPTS, &[first, pad].concat(), b"")),
            Err(WireError::ExtensionHeader(NH_HOP_BY_HOP))
        );
        // Header running past the payload length (claims 16 bytes, has 8).
        let mut long = pad;
        long[1] = 1;
        assert_eq!(
            parse_ip(&datagram(NH_DEST_OPTS, &long, b"")),
            Err(WireError::ExtensionHeader(NH_DEST_OPTS))
        );
        // Only one byte of extension header present.
        assert_eq!(
            parse_ip(&datagram(NH_DEST_OPTS, &[6], b"")),
            Err(WireError::ExtensionHeader(NH_DEST_OPTS))
        );
        // Option TLV running past its header.
        let tlv = [PROTO_TCP, 0, 1, 5, 0, 0, 0, 0];
        assert_eq!(
            parse_ip(&datagram(NH_DEST_OPTS, &tlv, b"")),
            Err(WireError::ExtensionHeader(NH_DEST_OPTS))
        );
        // Unrecognised option with action "discard" (01).
        let tlv = [PROTO_TCP, 0, 0x42, 4, 0, 0, 0, 0];
        assert_eq!(
            parse_ip(&datagram(NH_HOP_BY_HOP, &tlv, b"")),
            Err(WireError::ExtensionHeader(NH_HOP_BY_HOP))
        );
        // Jumbo Payload option (0xC2) is rejected the same way.
        let tlv = [PROTO_TCP, 0, 0xc2, 4, 0, 1, 0, 0];
        assert_eq!(
            parse_ip(&datagram(NH_HOP_BY_HOP, &tlv, b"")),
            Err(WireError::ExtensionHeader(NH_HOP_BY_HOP))
        );
    }

    #[test]
    fn extension_chain_bounded() {
        let mut hdr = [NH_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0];
        let mut exts = Vec::new();
        for _ in 0..MAX_EXTENSION_HEADERS - 1 {
            exts.extend_from_slice(&hdr);
        }
        hdr[0] = PROTO_TCP;
        exts.extend_from_slice(&hdr);
        // Exactly the limit is fine.
        let d = datagram(NH_DEST_OPTS, &exts, b"");
        let p = parse_ip(&d).unwrap();
        assert_eq!(p.header_len, 40 + 8 * MAX_EXTENSION_HEADERS);
        // One more is not.
        let mut more = vec![NH_DEST_OPTS, 0, 1, 4, 0, 0, 0, 0];
        more.extend_from_slice(&exts);
        assert_eq!(
            parse_ip(&datagram(NH_DEST_OPTS, &more, b"")),
            Err(WireError::ExtensionHeader(NH_DEST_OPTS))
        );
    }

    #[test]
    fn fixed_header_rejections() {
        let good = datagram(PROTO_TCP, &[], b"abcd");
        assert_eq!(parse_ip(&good[..39]), Err(WireError::Truncated));
        // Jumbogram marker.
        let mut d = good.clone();
        d[4..6].fill(0);
        assert_eq!(parse_ip(&d), Err(WireError::BadPayloadLength));
        // Payload length past the buffer.
        let mut d = good.clone();
        d[5] = 5;
        assert_eq!(parse_ip(&d), Err(WireError::BadPayloadLength));
        // Padding after the payload is dropped.
        let mut d = good.clone();
        d.extend_from_slice(&[0xee; 6]);
        assert_eq!(parse_ip(&d).unwrap().payload, b"abcd");
    }

    #[test]
    fn emit_errors() {
        assert_eq!(
            header().emit(65536, &mut [0; 40]),
            Err(WireError::PayloadTooLong)
        );
        assert_eq!(
            header().emit(0, &mut [0; 39]),
            Err(WireError::BufferTooSmall)
        );
    }
}
