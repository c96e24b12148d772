//! IPv6 neighbor discovery over Ethernet (RFC 4861), the part a host needs
//! to be reached and to reach others: neighbor solicitations and
//! advertisements with link-layer address options.

use super::ethernet::MacAddr;
use std::net::{IpAddr, Ipv6Addr};
use synack_wire::{IpHeader, PROTO_ICMPV6, checksum, parse_ip};

const ROUTER_SOLICIT: u8 = 133;
const REDIRECT: u8 = 137;
const NEIGHBOR_SOLICIT: u8 = 135;
const NEIGHBOR_ADVERT: u8 = 136;
const OPT_SOURCE_LL: u8 = 1;
const OPT_TARGET_LL: u8 = 2;
/// NA flags (RFC 4861 4.4): Solicited and Override.
const FLAG_SOLICITED: u8 = 0x40;
const FLAG_OVERRIDE: u8 = 0x20;
/// Every ND message is sent with hop limit 255, and one that arrives with
/// less crossed a router and is forged (RFC 4861 7.1).
const ND_HOP_LIMIT: u8 = 255;

/// A neighbor-discovery message, or another ICMPv6 message of the
/// router/neighbor family that the link layer consumes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ndp {
    Solicit {
        src: Ipv6Addr,
        target: Ipv6Addr,
        source_ll: Option<MacAddr>,
    },
    Advert {
        target: Ipv6Addr,
        target_ll: Option<MacAddr>,
    },
    /// Router solicitations and advertisements and redirects: a host that
    /// does not route has no use for them. Consumed, no action.
    Unused,
    /// A solicitation or advertisement that failed RFC 4861's validity
    /// checks (7.1.1, 7.1.2). Consumed, no action.
    Invalid,
}

/// Classifies an IPv6 datagram: `None` if it is not neighbor discovery
/// (the caller passes it up), else the validated message.
pub(super) fn parse(datagram: &[u8]) -> Option<Ndp> {
    let ip = parse_ip(datagram).ok()?;
    if ip.protocol != PROTO_ICMPV6 {
        return None;
    }
    let b = ip.payload;
    let kind = *b.first()?;
    if !(ROUTER_SOLICIT..=REDIRECT).contains(&kind) {
        return None;
    }
    // Messages we never act on are not worth validating.
    if !(kind == NEIGHBOR_SOLICIT || kind == NEIGHBOR_ADVERT) {
        return Some(Ndp::Unused);
    }
    let (IpAddr::V6(src), IpAddr::V6(dst)) = (ip.src, ip.dst) else {
        return Some(Ndp::Invalid);
    };
    let sum = checksum::sum(
        b,
        checksum::pseudo_header(ip.src, ip.dst, PROTO_ICMPV6, b.len() as u32),
    );
    let valid = ip.ttl == ND_HOP_LIMIT && b.len() >= 24 && b[1] == 0 && checksum::fold(sum) == 0;
    if !valid {
        return Some(Ndp::Invalid);
    }
    let target = Ipv6Addr::from(<[u8; 16]>::try_from(&b[8..24]).ok()?);
    if target.is_multicast() {
        return Some(Ndp::Invalid);
    }
    let Some(ll) = link_layer_option(
        &b[24..],
        if kind == NEIGHBOR_SOLICIT {
            OPT_SOURCE_LL
        } else {
            OPT_TARGET_LL
        },
    ) else {
        return Some(Ndp::Invalid);
    };
    Some(if kind == NEIGHBOR_SOLICIT {
        // Duplicate address detection comes from :: to the solicited-node
        // group and must not carry a source address option (7.1.1).
        if src.is_unspecified() && (ll.is_some() || !dst.is_multicast()) {
            return Some(Ndp::Invalid);
        }
        Ndp::Solicit {
            src,
            target,
            source_ll: ll,
        }
    } else {
        Ndp::Advert {
            target,
            target_ll: ll,
        }
    })
}

/// Walks the options for a link-layer address of type `want`. The outer
/// `None` means malformed options (a zero length: RFC 4861 4.6 says drop).
fn link_layer_option(mut opts: &[u8], want: u8) -> Option<Option<MacAddr>> {
    let mut found = None;
    while opts.len() >= 2 {
        let len = usize::from(opts[1]) * 8;
        if len == 0 || len > opts.len() {
            return None;
        }
        if opts[0] == want && len >= 8 {
            found = Some(MacAddr(opts[2..8].try_into().ok()?));
        }
        opts = &opts[len..];
    }
    Some(found)
}

/// The solicited-node multicast group of `ip` (RFC 4291 2.7.1).
pub(super) fn solicited_node(ip: Ipv6Addr) -> Ipv6Addr {
    let o = ip.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// A neighbor solicitation from `src` for `target`, to the target's
/// solicited-node group, as an IPv6 datagram.
pub(super) fn solicit(src: Ipv6Addr, mac: MacAddr, target: Ipv6Addr, out: &mut Vec<u8>) {
    let mut body = [0u8; 32];
    body[0] = NEIGHBOR_SOLICIT;
    body[8..24].copy_from_slice(&target.octets());
    body[24] = OPT_SOURCE_LL;
    body[25] = 1;
    body[26..32].copy_from_slice(&mac.0);
    icmpv6(src, solicited_node(target), &mut body, out);
}

/// A neighbor advertisement of our `ip` at `mac`, to `dst`.
pub(super) fn advert(
    ip: Ipv6Addr,
    mac: MacAddr,
    dst: Ipv6Addr,
    solicited: bool,
    out: &mut Vec<u8>,
) {
    let mut body = [0u8; 32];
    body[0] = NEIGHBOR_ADVERT;
    body[4] = FLAG_OVERRIDE | if solicited { FLAG_SOLICITED } else { 0 };
    body[8..24].copy_from_slice(&ip.octets());
    body[24] = OPT_TARGET_LL;
    body[25] = 1;
    body[26..32].copy_from_slice(&mac.0);
    icmpv6(ip, dst, &mut body, out);
}

fn icmpv6(src: Ipv6Addr, dst: Ipv6Addr, body: &mut [u8], out: &mut Vec<u8>) {
    let (s, d) = (IpAddr::V6(src), IpAddr::V6(dst));
    let sum = checksum::sum(
        body,
        checksum::pseudo_header(s, d, PROTO_ICMPV6, body.len() as u32),
    );
    body[2..4].copy_from_slice(&checksum::fold(sum).to_be_bytes());
    let header = IpHeader {
        src: s,
        dst: d,
        protocol: PROTO_ICMPV6,
        ttl: ND_HOP_LIMIT,
        tos: 0,
        ident: 0,
        dont_fragment: false,
        flow_label: 0,
    };
    out.clear();
    out.resize(header.header_len(), 0);
    // Family and length are right by construction; an error leaves an
    // empty datagram, which the caller does not send.
    if header.emit(body.len(), out).is_err() {
        out.clear();
        return;
    }
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);

    fn a(n: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n)
    }

    #[test]
    fn solicit_parses_back() {
        let mut v = Vec::new();
        solicit(a(1), MAC, a(2), &mut v);
        assert_eq!(
            parse(&v),
            Some(Ndp::Solicit {
                src: a(1),
                target: a(2),
                source_ll: Some(MAC)
            })
        );
        assert_eq!(&v[24..40], &solicited_node(a(2)).octets());
    }

    #[test]
    fn advert_parses_back_and_bad_hop_limit_is_invalid() {
        let mut v = Vec::new();
        advert(a(2), MAC, a(1), true, &mut v);
        assert_eq!(
            parse(&v),
            Some(Ndp::Advert {
                target: a(2),
                target_ll: Some(MAC)
            })
        );
        v[7] = 64; // hop limit: it crossed a router
        assert_eq!(parse(&v), Some(Ndp::Invalid));
    }

    #[test]
    fn router_messages_are_unused_not_invalid() {
        // A router solicitation, as the kernel sends one on a new link: 8
        // bytes, too short for the checks of a neighbor message.
        let mut rs = [133u8, 0, 0, 0, 0, 0, 0, 0];
        let mut v = Vec::new();
        icmpv6(a(1), "ff02::2".parse().unwrap(), &mut rs, &mut v);
        assert_eq!(parse(&v), Some(Ndp::Unused));
    }

    #[test]
    fn solicited_node_group() {
        let ip: Ipv6Addr = "2001:db8::1:2345:6789".parse().unwrap();
        assert_eq!(
            solicited_node(ip),
            "ff02::1:ff45:6789".parse::<Ipv6Addr>().unwrap()
        );
    }
}
