//! ARP for IPv4 over Ethernet (RFC 826): the packet format and the
//! receive rule.

use super::ethernet::MacAddr;
use super::neighbor::NeighborCache;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// EtherType of ARP.
pub(super) const ETHERTYPE_ARP: u16 = 0x0806;
/// ar$op values.
pub(super) const OP_REQUEST: u16 = 1;
pub(super) const OP_REPLY: u16 = 2;
/// An Ethernet/IPv4 ARP packet: 8 bytes of header, two (MAC, IP) pairs.
pub(super) const ARP_LEN: usize = 28;

/// An ARP packet for Ethernet hardware and IPv4 protocol addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ArpPacket {
    pub op: u16,
    /// Sender hardware and protocol address.
    pub sha: MacAddr,
    pub spa: Ipv4Addr,
    /// Target hardware and protocol address.
    pub tha: MacAddr,
    pub tpa: Ipv4Addr,
}

impl ArpPacket {
    /// Parses an ARP packet; `None` unless it is Ethernet (htype 1) and
    /// IPv4 (ptype 0x0800) with the matching address lengths.
    pub(super) fn parse(b: &[u8]) -> Option<ArpPacket> {
        if b.len() < ARP_LEN || b[0..6] != [0, 1, 0x08, 0x00, 6, 4] {
            return None;
        }
        let mac = |at: usize| MacAddr(b[at..at + 6].try_into().unwrap_or([0; 6]));
        let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        Some(ArpPacket {
            op: u16::from_be_bytes([b[6], b[7]]),
            sha: mac(8),
            spa: ip(14),
            tha: mac(18),
            tpa: ip(24),
        })
    }

    /// The 28 bytes on the wire.
    pub(super) fn to_bytes(self) -> [u8; ARP_LEN] {
        let mut b = [0u8; ARP_LEN];
        b[0..6].copy_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
        b[6..8].copy_from_slice(&self.op.to_be_bytes());
        b[8..14].copy_from_slice(&self.sha.0);
        b[14..18].copy_from_slice(&self.spa.octets());
        b[18..24].copy_from_slice(&self.tha.0);
        b[24..28].copy_from_slice(&self.tpa.octets());
        b
    }

    /// A broadcast request for `target`.
    pub(super) fn request(mac: MacAddr, ip: Ipv4Addr, target: Ipv4Addr) -> ArpPacket {
        ArpPacket {
            op: OP_REQUEST,
            sha: mac,
            spa: ip,
            tha: MacAddr([0; 6]),
            tpa: target,
        }
    }
}

/// What receiving an ARP packet led to.
pub(super) struct ArpOutcome {
    /// A reply to send to the requester (its `tha`).
    pub reply: Option<ArpPacket>,
    /// Packets that waited for the sender's address, now sendable.
    pub released: VecDeque<Vec<u8>>,
}

/// RFC 826's "packet reception" algorithm: merge the sender into the cache
/// if it is there, add it if the packet is for us, and answer requests for
/// our address.
pub(super) fn receive(
    p: &ArpPacket,
    our_mac: MacAddr,
    our_ip: Option<Ipv4Addr>,
    cache: &mut NeighborCache,
    now: Instant,
) -> ArpOutcome {
    let for_us = our_ip.is_some_and(|ip| p.tpa == ip);
    // An ARP probe (RFC 5227) has sender 0.0.0.0 and teaches nothing; a
    // multicast or broadcast sender address is bogus.
    let learnable = !p.spa.is_unspecified() && !p.spa.is_broadcast() && !p.sha.is_multicast();
    let released = if learnable {
        cache.learn(IpAddr::V4(p.spa), p.sha, now, for_us)
    } else {
        VecDeque::new()
    };
    let reply = match (for_us, our_ip) {
        (true, Some(ip)) if p.op == OP_REQUEST && !p.sha.is_multicast() => Some(ArpPacket {
            op: OP_REPLY,
            sha: our_mac,
            spa: ip,
            tha: p.sha,
            tpa: p.spa,
        }),
        _ => None,
    };
    ArpOutcome { reply, released }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::NeighborConfig;

    const US: MacAddr = MacAddr([2, 0, 198, 18, 0, 2]);
    const THEM: MacAddr = MacAddr([0x52, 0x54, 0, 1, 2, 3]);

    fn ip(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, n)
    }

    #[test]
    fn round_trip() {
        let p = ArpPacket::request(US, ip(2), ip(1));
        assert_eq!(ArpPacket::parse(&p.to_bytes()), Some(p));
        let mut b = p.to_bytes();
        b[5] = 16; // IPv6-sized protocol addresses: not ours to read
        assert_eq!(ArpPacket::parse(&b), None);
        assert_eq!(ArpPacket::parse(&b[..27]), None);
    }

    #[test]
    fn request_for_us_is_answered_and_learned() {
        let now = Instant::now();
        let mut cache = NeighborCache::new(NeighborConfig::default());
        let req = ArpPacket::request(THEM, ip(1), ip(2));
        let out = receive(&req, US, Some(ip(2)), &mut cache, now);
        let reply = out.reply.expect("answered");
        assert_eq!(reply.op, OP_REPLY);
        assert_eq!((reply.sha, reply.spa), (US, ip(2)));
        assert_eq!((reply.tha, reply.tpa), (THEM, ip(1)));
        assert_eq!(cache.lookup(IpAddr::V4(ip(1)), now), Some(THEM));
    }

    #[test]
    fn request_for_another_is_ignored() {
        let now = Instant::now();
        let mut cache = NeighborCache::new(NeighborConfig::default());
        let req = ArpPacket::request(THEM, ip(1), ip(3));
        let out = receive(&req, US, Some(ip(2)), &mut cache, now);
        assert!(out.reply.is_none());
        assert_eq!(cache.lookup(IpAddr::V4(ip(1)), now), None);
    }
}
