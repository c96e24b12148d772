//! IPv4 (RFC 791 3.1): header validation on receive, header emission.

use std::net::{IpAddr, Ipv4Addr};

use crate::checksum;
use crate::ip::{IpHeader, IpPacket};
use crate::tcp::v4_addr_sum;
use crate::{IPV4_HEADER_LEN, WireError};

/// Don't Fragment, in the flags/fragment-offset word.
const FLAG_DF: u16 = 0x4000;
/// More Fragments.
const FLAG_MF: u16 = 0x2000;
/// Fragment offset, in 8-byte units.
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// Parses an IPv4 datagram. The caller has already seen version nibble 4
/// (it is checked again so this function stands on its own).
///
/// * IHL >= 5 and the header within `buf`, else [`WireError::BadIhl`].
/// * Total length >= IHL * 4 and <= `buf.len()`, else
///   [`WireError::BadTotalLength`]; bytes beyond the total length are link
///   padding (Ethernet pads to 60 bytes) and are dropped.
/// * The header checksum verifies, else [`WireError::BadIpChecksum`].
/// * Not a fragment (MF clear, offset zero), else [`WireError::Fragmented`]:
///   the stack does no reassembly.
/// * Options are skipped without being interpreted (RFC 1122 3.2.1.8,
///   MUST-50; unknown options ignored, WF-05).
#[inline]
pub(crate) fn parse(buf: &[u8]) -> Result<IpPacket<'_>, WireError> {
    let (h, _) = buf
        .split_first_chunk::<IPV4_HEADER_LEN>()
        .ok_or(WireError::Truncated)?;
    if h[0] >> 4 != 4 {
        return Err(WireError::BadVersion);
    }
    let header_len = usize::from(h[0] & 0x0f) * 4;
    if header_len < IPV4_HEADER_LEN || header_len > buf.len() {
        return Err(WireError::BadIhl);
    }
    let total_len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if total_len < header_len || total_len > buf.len() {
        return Err(WireError::BadTotalLength);
    }
    // Summed in the little-endian domain, where "verifies" is the same test
    // (see `checksum`). Without options the header is the fixed 20 bytes.
    let sum = if header_len == IPV4_HEADER_LEN {
        checksum::sum_le(h)
    } else {
        checksum::sum_le(&buf[..header_len])
    };
    if checksum::fold(sum) != 0 {
        return Err(WireError::BadIpChecksum);
    }
    let frag = u16::from_be_bytes([h[6], h[7]]);
    if frag & (FLAG_MF | FRAG_OFFSET_MASK) != 0 {
        return Err(WireError::Fragmented);
    }
    Ok(IpPacket {
        src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
        dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
        protocol: h[9],
        ttl: h[8],
        tos: h[1],
        header_len,
        payload: &buf[header_len..total_len],
    })
}

/// Writes a 20-byte IPv4 header (no options) with its checksum.
pub(crate) fn emit(
    h: &IpHeader,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, WireError> {
    let total = IPV4_HEADER_LEN
        .checked_add(payload_len)
        .filter(|&t| t <= usize::from(u16::MAX))
        .ok_or(WireError::PayloadTooLong)?;
    let (hdr, _) = out
        .split_first_chunk_mut::<IPV4_HEADER_LEN>()
        .ok_or(WireError::BufferTooSmall)?;
    write(
        hdr,
        h,
        h.protocol,
        total as u16,
        src,
        dst,
        v4_addr_sum(src, dst),
    );
    Ok(IPV4_HEADER_LEN)
}

/// Fills in a 20-byte IPv4 header for a datagram of `total` bytes. `addrs`
/// is the unfolded sum of the two addresses (shared with the TCP
/// pseudo-header); the checksum is computed from the field values.
#[inline(always)]
pub(crate) fn write(
    hdr: &mut [u8; IPV4_HEADER_LEN],
    h: &IpHeader,
    protocol: u8,
    total: u16,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    addrs: u64,
) {
    let flags = if h.dont_fragment { FLAG_DF } else { 0 };
    let ttl_proto = u16::from_be_bytes([h.ttl, protocol]);
    hdr[0] = 0x45; // version 4, IHL 5
    hdr[1] = h.tos;
    hdr[2..4].copy_from_slice(&total.to_be_bytes());
    hdr[4..6].copy_from_slice(&h.ident.to_be_bytes());
    hdr[6..8].copy_from_slice(&flags.to_be_bytes());
    hdr[8..10].copy_from_slice(&ttl_proto.to_be_bytes());
    hdr[12..16].copy_from_slice(&src.octets());
    hdr[16..20].copy_from_slice(&dst.octets());
    let sum = addrs
        + u64::from(0x4500 | u16::from(h.tos))
        + u64::from(total)
        + u64::from(h.ident)
        + u64::from(flags)
        + u64::from(ttl_proto);
    hdr[10..12].copy_from_slice(&checksum::fold(sum).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PROTO_TCP, parse_ip};

    fn header() -> IpHeader {
        IpHeader {
            src: Ipv4Addr::new(192, 0, 2, 1).into(),
            dst: Ipv4Addr::new(192, 0, 2, 2).into(),
            protocol: PROTO_TCP,
            ttl: 64,
            tos: 0x02,
            ident: 0x1234,
            dont_fragment: true,
            flow_label: 0,
        }
    }

    fn datagram(payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; 20 + payload.len()];
        header().emit(payload.len(), &mut buf).unwrap();
        buf[20..].copy_from_slice(payload);
        buf
    }

    /// Recomputes the header checksum after a test edits the header.
    fn fix_checksum(buf: &mut [u8]) {
        let hl = usize::from(buf[0] & 0xf) * 4;
        buf[10] = 0;
        buf[11] = 0;
        let c = checksum::fold(checksum::sum(&buf[..hl], 0));
        buf[10..12].copy_from_slice(&c.to_be_bytes());
    }

    #[test]
    fn emit_known_bytes() {
        let d = datagram(b"hi");
        assert_eq!(
            &d[..20],
            &[
                0x45, 0x02, 0x00, 0x16, 0x12, 0x34, 0x40, 0x00, 64, 6, 0xa4, 0xa8, 192, 0, 2, 1,
                192, 0, 2, 2
            ]
        );
        let p = parse_ip(&d).unwrap();
        assert_eq!(p.payload, b"hi");
        assert_eq!((p.ttl, p.tos, p.protocol, p.header_len), (64, 2, 6, 20));
    }

    #[test]
    fn trailing_link_padding_dropped() {
        let mut d = datagram(b"abc");
        d.extend_from_slice(&[0; 20]);
        assert_eq!(parse_ip(&d).unwrap().payload, b"abc");
    }

    #[test]
    fn wf05_options_skipped() {
        // IHL 8: a Record Route option (7), a made-up option 0x9e, and EOL.
        let mut d = vec![0u8; 32 + 3];
        d[0] = 0x48;
        d[2..4].copy_from_slice(&35u16.to_be_bytes());
        d[8] = 1;
        d[9] = PROTO_TCP;
        d[12..16].copy_from_slice(&[10, 0, 0, 1]);
        d[16..20].copy_from_slice(&[10, 0, 0, 2]);
        d[20..32].copy_from_slice(&[7, 7, 4, 0, 0, 0, 0, 0x9e, 3, 0xff, 0, 0]);
        d[32..].copy_from_slice(b"xyz");
        fix_checksum(&mut d);
        let p = parse_ip(&d).unwrap();
        assert_eq!(p.header_len, 32);
        assert_eq!(p.payload, b"xyz");
    }

    #[test]
    fn rejections() {
        let good = datagram(b"abcd");
        assert_eq!(parse_ip(&good[..19]), Err(WireError::Truncated));

        let mut d = good.clone();
        d[0] = 0x44;
        fix_checksum(&mut d);
        assert_eq!(parse_ip(&d), Err(WireError::BadIhl));
        d[0] = 0x4f; // 60-byte header in a 24-byte buffer
        assert_eq!(parse_ip(&d), Err(WireError::BadIhl));

        let mut d = good.clone();
        d[2..4].copy_from_slice(&19u16.to_be_bytes());
        fix_checksum(&mut d);
        assert_eq!(parse_ip(&d), Err(WireError::BadTotalLength));
        d[2..4].copy_from_slice(&25u16.to_be_bytes());
        fix_checksum(&mut d);
        assert_eq!(parse_ip(&d), Err(WireError::BadTotalLength));

        let mut d = good.clone();
        d[11] ^= 1;
        assert_eq!(parse_ip(&d), Err(WireError::BadIpChecksum));

        for frag in [FLAG_MF, 1, FLAG_DF | 0x100, FLAG_MF | 7] {
            let mut d = good.clone();
            d[6..8].copy_from_slice(&frag.to_be_bytes());
            fix_checksum(&mut d);
            assert_eq!(parse_ip(&d), Err(WireError::Fragmented), "{frag:#x}");
        }
        // The reserved flag bit alone is not a fragment.
        let mut d = good.clone();
        d[6..8].copy_from_slice(&0x8000u16.to_be_bytes());
        fix_checksum(&mut d);
        assert!(parse_ip(&d).is_ok());
    }

    #[test]
    fn emit_errors() {
        assert_eq!(
            header().emit(65516, &mut [0; 20]),
            Err(WireError::PayloadTooLong)
        );
        assert_eq!(
            header().emit(0, &mut [0; 19]),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(header().emit(65515, &mut [0; 20]), Ok(20));
    }
}
