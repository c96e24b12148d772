//! Finding where a datagram is going.
//!
//! The simulator reads only the destination address, and reads it itself
//! rather than through the wire crate's full parser: routing must work on
//! packets the parser would reject (bad checksums, odd options, attack
//! traffic), because rejecting those is the receiving endpoint's job.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The destination address of an IPv4 or IPv6 datagram, or `None` when the
/// bytes are too short to hold one or carry another version.
pub(crate) fn destination(packet: &[u8]) -> Option<IpAddr> {
    match packet.first()? >> 4 {
        4 if packet.len() >= 20 => {
            let b: [u8; 4] = packet[16..20].try_into().ok()?;
            Some(IpAddr::V4(Ipv4Addr::from(b)))
        }
        6 if packet.len() >= 40 => {
            let b: [u8; 16] = packet[24..40].try_into().ok()?;
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// The payload length of a TCP segment in an IPv4 or IPv6 datagram, or
/// `None` when the datagram carries something else, is a later fragment,
/// or is too short for the headers it claims. IPv6 extension headers are
/// not followed: TCP must be the first next header.
///
/// Lengths come from the headers, bounded by the bytes present, so a
/// segment whose total length lies reads as what is really there.
pub(crate) fn tcp_payload_len(packet: &[u8]) -> Option<usize> {
    let (ip_len, total) = match packet.first()? >> 4 {
        4 if packet.len() >= 20 => {
            let ihl = usize::from(packet[0] & 0x0f) * 4;
            let fragment_offset = u16::from_be_bytes([packet[6], packet[7]]) & 0x1fff;
            if packet[9] != 6 || ihl < 20 || fragment_offset != 0 {
                return None;
            }
            (ihl, usize::from(u16::from_be_bytes([packet[2], packet[3]])))
        }
        6 if packet.len() >= 40 => {
            if packet[6] != 6 {
                return None;
            }
            let payload = usize::from(u16::from_be_bytes([packet[4], packet[5]]));
            (40, 40 + payload)
        }
        _ => return None,
    };
    let end = total.min(packet.len());
    let tcp = packet.get(ip_len..end)?;
    let data_offset = usize::from(*tcp.get(12)? >> 4) * 4;
    if data_offset < 20 {
        return None;
    }
    tcp.len().checked_sub(data_offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_versions() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[16..20].copy_from_slice(&[10, 0, 0, 2]);
        assert_eq!(destination(&v4), Some("10.0.0.2".parse().unwrap()));

        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[39] = 1;
        assert_eq!(destination(&v6), Some("::1".parse().unwrap()));
    }

    /// An IPv4 datagram holding a TCP header of `doff` words and `payload`
    /// bytes.
    fn tcp_v4(doff: u8, payload: usize) -> Vec<u8> {
        let total = 20 + usize::from(doff) * 4 + payload;
        let mut p = vec![0u8; total];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p[9] = 6;
        p[20 + 12] = doff << 4;
        p
    }

    #[test]
    fn tcp_payload_lengths() {
        assert_eq!(tcp_payload_len(&tcp_v4(5, 0)), Some(0));
        assert_eq!(tcp_payload_len(&tcp_v4(8, 1448)), Some(1448));
        // Not TCP, a later fragment, a bogus data offset, cut short.
        let mut udp = tcp_v4(5, 10);
        udp[9] = 17;
        assert_eq!(tcp_payload_len(&udp), None);
        let mut frag = tcp_v4(5, 10);
        frag[7] = 1;
        assert_eq!(tcp_payload_len(&frag), None);
        assert_eq!(tcp_payload_len(&tcp_v4(4, 10)), None);
        assert_eq!(tcp_payload_len(&tcp_v4(8, 0)[..40]), None);
        // A total length beyond the bytes present counts what is there.
        let mut long = tcp_v4(5, 10);
        long[2..4].copy_from_slice(&1000u16.to_be_bytes());
        assert_eq!(tcp_payload_len(&long), Some(10));

        let mut v6 = vec![0u8; 40 + 20 + 7];
        v6[0] = 0x60;
        v6[4..6].copy_from_slice(&27u16.to_be_bytes());
        v6[6] = 6;
        v6[40 + 12] = 5 << 4;
        assert_eq!(tcp_payload_len(&v6), Some(7));
        v6[6] = 0; // a hop-by-hop header first: not followed
        assert_eq!(tcp_payload_len(&v6), None);
    }

    #[test]
    fn rejects_short_and_foreign() {
        assert_eq!(destination(&[]), None);
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        assert_eq!(destination(&v4[..19]), None);
        v4[0] = 0x55;
        assert_eq!(destination(&v4), None);
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        assert_eq!(destination(&v6[..39]), None);
        // A 40-byte packet claiming version 4 is still read as IPv4.
        v6[0] = 0x45;
        assert!(matches!(destination(&v6), Some(IpAddr::V4(_))));
    }
}
