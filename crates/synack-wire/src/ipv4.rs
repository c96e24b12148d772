//! IPv4 (RFC 791 3.1): header validation on receive, header emission.

use std::net::{IpAddr, Ipv4Addr};

use crate::checksum;
use crate::ip::{IpHeader, IpPacket};
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
pub(crate) fn parse(buf: &[u8]) -> Result<IpPacket<'_>, WireError> {
    if buf.len() < IPV4_HEADER_LEN {
        return Err(WireError::Truncated);
    }
    if buf[0] >> 4 != 4 {
        return Err(WireError::BadVersion);
    }
    let header_len = usize::from(buf[0] & 0x0f) * 4;
    if header_len < IPV4_HEADER_LEN || header_len > buf.len() {
        return Err(WireError::BadIhl);
    }
    let total_len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    if total_len < header_len || total_len > buf.len() {
        return Err(WireError::BadTotalLength);
    }
    let header = &buf[..header_len];
    if checksum::fold(checksum::sum(header, 0)) != 0 {
        return Err(WireError::BadIpChecksum);
    }
    let frag = u16::from_be_bytes([buf[6], buf[7]]);
    if frag & (FLAG_MF | FRAG_OFFSET_MASK) != 0 {
        return Err(WireError::Fragmented);
    }
    Ok(IpPacket {
        src: IpAddr::V4(Ipv4Addr::new(buf[12], buf[13], buf[14], buf[15])),
        dst: IpAddr::V4(Ipv4Addr::new(buf[16], buf[17], buf[18], buf[19])),
        protocol: buf[9],
        ttl: buf[8],
        tos: buf[1],
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
    let hdr = out
        .get_mut(..IPV4_HEADER_LEN)
        .ok_or(WireError::BufferTooSmall)?;
    hdr[0] = 0x45; // version 4, IHL 5
    hdr[1] = h.tos;
    hdr[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    hdr[4..6].copy_from_slice(&h.ident.to_be_bytes());
    let flags = if h.dont_fragment { FLAG_DF } else { 0 };
    hdr[6..8].copy_from_slice(&flags.to_be_bytes());
    hdr[8] = h.ttl;
    hdr[9] = h.protocol;
    hdr[10..12].fill(0);
    hdr[12..16].copy_from_slice(&src.octets());
    hdr[16..20].copy_from_slice(&dst.octets());
    let csum = checksum::fold(checksum::sum(hdr, 0));
    hdr[10..12].copy_from_slice(&csum.to_be_bytes());
    Ok(IPV4_HEADER_LEN)
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
