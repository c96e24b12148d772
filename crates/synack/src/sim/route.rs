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
