//! The virtio-net header a TUN device with offloads (IFF_VNET_HDR) puts in
//! front of every packet it hands over, and what it says about that packet
//! (linux/virtio_net.h): whether its checksum is still to be computed,
//! marked valid, or whether it is a super-segment of several TCP segments.
//!
//! A super-segment comes whole from the kernel's GRO (segments that
//! arrived, checksums verified before they were merged) or its TSO
//! (segments the local stack sent, never on a wire): one IP datagram of up
//! to 64 KiB whose IP length covers all of it, the first segment's TCP
//! header, and `gso_size` payload bytes per segment. It can be taken as it
//! is, as one large segment, rather than cut back into segments.

use std::num::NonZeroU16;
use synack_wire::checksum;

/// The header's length: the fields below, without `num_buffers` (the size
/// tun-rs sets on the device with TUNSETVNETHDRSZ).
pub(super) const HDR_LEN: usize = tun_rs::VIRTIO_NET_HDR_LEN;
const _: () = assert!(HDR_LEN == 10, "the layout read below");

/// `flags`: the checksum is partial: the pseudo-header sum is in the
/// field at `csum_start + csum_offset`, the rest is left to us.
const F_NEEDS_CSUM: u8 = 1;
/// `flags`: the checksum was verified.
const F_DATA_VALID: u8 = 2;
/// `gso_type` values.
const GSO_NONE: u8 = 0;
const GSO_TCPV4: u8 = 1;
const GSO_TCPV6: u8 = 4;
/// `gso_type` bit: the segments carry ECN's CWR (only the first does).
const GSO_ECN: u8 = 0x80;

const PROTO_TCP: u8 = 6;

/// What the header and the packet's own headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Packet {
    /// One datagram; `verified`: the kernel computed or checked its
    /// checksum (or, for TCP, will never need one).
    Plain { verified: bool },
    /// A TCP super-segment of segments of this many payload bytes, its IP
    /// length that of the whole.
    Coalesced { segment_size: NonZeroU16 },
    /// A super-segment that is not what the kernel should hand over: of
    /// another protocol or family than its header says, without a segment
    /// size, or with an IP length that is not its length.
    Malformed,
}

/// Reads the header `hdr` of `packet` (the bytes after it). A partial
/// checksum of anything but TCP is completed in place, so the ICMP path
/// sees a whole one; a TCP one stays partial and the packet counts as
/// verified (the engine skips the sum; a capture shows the partial sum, as
/// tcpdump on an offloading interface does).
pub(super) fn classify(hdr: &[u8; HDR_LEN], packet: &mut [u8]) -> Packet {
    let flags = hdr[0];
    let gso_type = hdr[1] & !GSO_ECN;
    let gso_size = u16::from_le_bytes([hdr[4], hdr[5]]);
    let csum_start = usize::from(u16::from_le_bytes([hdr[6], hdr[7]]));
    let csum_offset = usize::from(u16::from_le_bytes([hdr[8], hdr[9]]));
    let ip = ip_of(packet);
    if gso_type == GSO_NONE {
        // A plain datagram goes on to the stack whatever its headers say:
        // the stack's own parsing counts what is wrong with it.
        let verified = if flags & F_NEEDS_CSUM != 0 {
            match ip {
                Some(ip) if ip.proto == PROTO_TCP => true,
                _ => complete(packet, csum_start, csum_offset),
            }
        } else {
            flags & F_DATA_VALID != 0
        };
        return Packet::Plain { verified };
    }
    match (ip, NonZeroU16::new(gso_size)) {
        (Some(ip), Some(segment_size))
            if ip.whole
                && ip.proto == PROTO_TCP
                && ((gso_type == GSO_TCPV4 && !ip.v6) || (gso_type == GSO_TCPV6 && ip.v6)) =>
        {
            Packet::Coalesced { segment_size }
        }
        _ => Packet::Malformed,
    }
}

/// Whether a packet with these header `flags` and `gso_type` has a
/// checksum the kernel computed or checked, or one it left partial (it
/// came from its own memory), once cut into segments by tun-rs.
pub(super) fn kernel_checked(flags: u8, gso_type: u8) -> bool {
    gso_type != GSO_NONE || flags & (F_NEEDS_CSUM | F_DATA_VALID) != 0
}

/// Fills `hdr` for a TCP super-segment we built: the kernel is to cut it
/// into segments of `gso_size` payload bytes after `hdr_len` bytes of
/// headers, completing each one's checksum from the partial sum at
/// `csum_start` + 16.
pub(super) fn write_gso_header(
    hdr: &mut [u8],
    v6: bool,
    hdr_len: u16,
    gso_size: u16,
    csum_start: u16,
) {
    hdr[0] = F_NEEDS_CSUM;
    hdr[1] = if v6 { GSO_TCPV6 } else { GSO_TCPV4 };
    hdr[2..4].copy_from_slice(&hdr_len.to_le_bytes());
    hdr[4..6].copy_from_slice(&gso_size.to_le_bytes());
    hdr[6..8].copy_from_slice(&csum_start.to_le_bytes());
    hdr[8..10].copy_from_slice(&16u16.to_le_bytes());
}

/// What the IP header says.
#[derive(Clone, Copy)]
struct Ip {
    v6: bool,
    /// The transport protocol (IPv6 extension headers are not looked
    /// through: a TCP packet the kernel offloads has none).
    proto: u8,
    /// The IP length is exactly the packet's.
    whole: bool,
}

fn ip_of(p: &[u8]) -> Option<Ip> {
    match p.first()? >> 4 {
        4 if p.len() >= 20 => {
            let total = u16::from_be_bytes([p[2], p[3]]);
            Some(Ip {
                v6: false,
                proto: p[9],
                whole: usize::from(total) == p.len(),
            })
        }
        6 if p.len() >= 40 => {
            let payload = u16::from_be_bytes([p[4], p[5]]);
            Some(Ip {
                v6: true,
                proto: p[6],
                whole: usize::from(payload) + 40 == p.len(),
            })
        }
        _ => None,
    }
}

/// Completes a partial checksum: the one's complement sum from
/// `csum_start` to the end (the field holds the pseudo-header's sum),
/// stored in the field. False, and nothing written, if the field lies
/// outside the packet.
fn complete(packet: &mut [u8], start: usize, offset: usize) -> bool {
    let at = start + offset;
    if at + 2 > packet.len() || start > packet.len() {
        return false;
    }
    // `fold` gives the complement, the value the field takes.
    let sum = checksum::fold(checksum::sum(&packet[start..], 0));
    packet[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u8, gso_type: u8, gso_size: u16, start: u16, offset: u16) -> [u8; HDR_LEN] {
        let mut h = [0u8; HDR_LEN];
        h[0] = flags;
        h[1] = gso_type;
        h[4..6].copy_from_slice(&gso_size.to_le_bytes());
        h[6..8].copy_from_slice(&start.to_le_bytes());
        h[8..10].copy_from_slice(&offset.to_le_bytes());
        h
    }

    /// An IPv4 datagram of `len` bytes with protocol `proto`.
    fn v4(proto: u8, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        p[9] = proto;
        p
    }

    fn v6(proto: u8, len: usize) -> Vec<u8> {
        let mut p = vec![0u8; len];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
        p[6] = proto;
        p
    }

    #[test]
    fn tcp_super_segments_are_taken_whole_with_their_segment_size() {
        let mut p = v4(PROTO_TCP, 40 + 3 * 1448);
        let h = header(F_NEEDS_CSUM, GSO_TCPV4, 1448, 20, 16);
        let want = Packet::Coalesced {
            segment_size: NonZeroU16::new(1448).unwrap(),
        };
        assert_eq!(classify(&h, &mut p), want);
        let mut p = v6(PROTO_TCP, 60 + 2 * 1428);
        let h = header(F_NEEDS_CSUM, GSO_TCPV6 | GSO_ECN, 1428, 40, 16);
        let want = Packet::Coalesced {
            segment_size: NonZeroU16::new(1428).unwrap(),
        };
        assert_eq!(classify(&h, &mut p), want);
    }

    #[test]
    fn what_disagrees_is_malformed() {
        // The family named in the header is not the packet's.
        let mut p = v6(PROTO_TCP, 2000);
        assert_eq!(
            classify(&header(1, GSO_TCPV4, 1000, 40, 16), &mut p),
            Packet::Malformed
        );
        // Not TCP (UDP segmentation is not switched on).
        let mut p = v4(17, 2000);
        assert_eq!(
            classify(&header(1, GSO_TCPV4, 1000, 20, 6), &mut p),
            Packet::Malformed
        );
        // No segment size.
        let mut p = v4(PROTO_TCP, 2000);
        assert_eq!(
            classify(&header(1, GSO_TCPV4, 0, 20, 16), &mut p),
            Packet::Malformed
        );
        // The IP length is not the packet's (cut short by a small buffer).
        let mut p = v4(PROTO_TCP, 2000);
        p.truncate(1500);
        assert_eq!(
            classify(&header(1, GSO_TCPV4, 1000, 20, 16), &mut p),
            Packet::Malformed
        );
        // Not IP at all.
        let mut p = vec![0u8; 100];
        assert_eq!(
            classify(&header(1, GSO_TCPV4, 1000, 20, 16), &mut p),
            Packet::Malformed
        );
        assert_eq!(
            classify(&header(1, GSO_TCPV4, 1000, 20, 16), &mut []),
            Packet::Malformed
        );
        // A plain datagram goes on whatever it holds; the stack judges it.
        assert_eq!(
            classify(&header(0, 0, 0, 0, 0), &mut []),
            Packet::Plain { verified: false }
        );
    }

    #[test]
    fn plain_datagrams_say_whether_the_kernel_vouched_for_them() {
        let mut p = v4(PROTO_TCP, 60);
        assert_eq!(
            classify(&header(0, GSO_NONE, 0, 0, 0), &mut p),
            Packet::Plain { verified: false }
        );
        assert_eq!(
            classify(&header(F_DATA_VALID, GSO_NONE, 0, 0, 0), &mut p),
            Packet::Plain { verified: true }
        );
        // A partial TCP checksum stays as it is.
        let before = p.clone();
        assert_eq!(
            classify(&header(F_NEEDS_CSUM, GSO_NONE, 0, 20, 16), &mut p),
            Packet::Plain { verified: true }
        );
        assert_eq!(p, before);
    }

    /// A partial UDP checksum is completed: summing the whole of it with
    /// its pseudo-header then gives zero, as for any correct checksum.
    #[test]
    fn a_partial_checksum_of_another_protocol_is_completed() {
        let mut p = v4(17, 20 + 8 + 5);
        p[12..16].copy_from_slice(&[198, 18, 0, 1]);
        p[16..20].copy_from_slice(&[198, 18, 0, 2]);
        p[24..26].copy_from_slice(&13u16.to_be_bytes());
        p[28..].copy_from_slice(b"hello");
        let pseudo = checksum::pseudo_header(
            "198.18.0.1".parse().unwrap(),
            "198.18.0.2".parse().unwrap(),
            17,
            13,
        );
        // What the kernel leaves in the field: the folded pseudo-header
        // sum, not complemented (`fold` complements).
        p[26..28].copy_from_slice(&(!checksum::fold(pseudo)).to_be_bytes());
        assert_eq!(
            classify(&header(F_NEEDS_CSUM, GSO_NONE, 0, 20, 6), &mut p),
            Packet::Plain { verified: true }
        );
        assert_eq!(
            checksum::fold(checksum::sum(&p[20..], pseudo)),
            0,
            "verifies"
        );
        // A field beyond the packet: nothing written, nothing vouched for.
        let mut short = v4(17, 24);
        let before = short.clone();
        assert_eq!(
            classify(&header(F_NEEDS_CSUM, GSO_NONE, 0, 20, 6), &mut short),
            Packet::Plain { verified: false }
        );
        assert_eq!(short, before);
    }
}
