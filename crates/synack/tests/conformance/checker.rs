//! An independent builder and checker: the Internet checksum, pseudo-
//! headers, hand-written TCP and IPv4 headers, and the structural checks
//! every emitted datagram must pass. Shares no code with the stack.

#![allow(dead_code)]

use crate::harness::{ENGINE_V4, PEER_V4};
use crate::script::In;
use std::net::IpAddr;
use synack_wire::{IpHeader, PROTO_TCP, TcpHeader};

/// The Internet checksum (RFC 1071), written out plainly and shared with
/// nothing in the stack: 16-bit big-endian words, an odd final byte padded
/// with zero, carries folded back in.
pub fn inet_sum(parts: &[&[u8]]) -> u16 {
    let mut data = Vec::new();
    for p in parts {
        data.extend_from_slice(p);
    }
    if data.len() & 1 == 1 {
        data.push(0);
    }
    let mut sum: u64 = 0;
    for w in data.chunks(2) {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// The TCP pseudo-header: IPv4 (RFC 9293 3.1) or IPv6 (RFC 8200 8.1).
pub fn pseudo_header(src: IpAddr, dst: IpAddr, tcp_len: usize) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = Vec::new();
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&[0, PROTO_TCP]);
            p.extend_from_slice(&(tcp_len as u16).to_be_bytes());
            p
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = Vec::new();
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.extend_from_slice(&(tcp_len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, PROTO_TCP]);
            p
        }
        _ => panic!("address families differ"),
    }
}

/// A TCP segment written byte by byte, for what `TcpHeader::emit` will not
/// write: arbitrary option bytes and reserved bits.
pub(crate) fn raw_tcp(h: &TcpHeader, s: &In, src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let mut opts = match &s.raw_options {
        Some(o) => o.clone(),
        None => {
            let mut b = vec![0u8; 60];
            let hdr = TcpHeader {
                options: h.options,
                ..TcpHeader::default()
            };
            let n = hdr
                .emit(&[], IpAddr::V4(PEER_V4), IpAddr::V4(ENGINE_V4), &mut b)
                .expect("emit options");
            b[20..n].to_vec()
        }
    };
    while opts.len() & 3 != 0 {
        opts.push(0);
    }
    let hlen = 20 + opts.len();
    let mut t = Vec::with_capacity(hlen + s.payload.len());
    t.extend_from_slice(&h.src_port.to_be_bytes());
    t.extend_from_slice(&h.dst_port.to_be_bytes());
    t.extend_from_slice(&h.seq.to_be_bytes());
    t.extend_from_slice(&h.ack.to_be_bytes());
    t.push(((hlen / 4) as u8) << 4 | s.reserved);
    t.push(h.flags.0);
    t.extend_from_slice(&h.window.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&h.urgent_ptr.to_be_bytes());
    t.extend_from_slice(&opts);
    t.extend_from_slice(&s.payload);
    let c = inet_sum(&[&pseudo_header(src, dst, t.len()), &t]);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

/// An IPv4 header with options, byte by byte.
pub(crate) fn raw_ipv4_header(ip: &IpHeader, options: &[u8], tcp_len: usize) -> Vec<u8> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (ip.src, ip.dst) else {
        panic!("IP options are IPv4 only");
    };
    let mut o = options.to_vec();
    while o.len() & 3 != 0 {
        o.push(0);
    }
    let hlen = 20 + o.len();
    let mut h = Vec::with_capacity(hlen);
    h.push(0x40 | (hlen / 4) as u8);
    h.push(ip.tos);
    h.extend_from_slice(&((hlen + tcp_len) as u16).to_be_bytes());
    h.extend_from_slice(&ip.ident.to_be_bytes());
    h.extend_from_slice(&[0x40, 0]);
    h.push(ip.ttl);
    h.push(PROTO_TCP);
    h.extend_from_slice(&[0, 0]);
    h.extend_from_slice(&s.octets());
    h.extend_from_slice(&d.octets());
    h.extend_from_slice(&o);
    let c = inet_sum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// The structural checks every emitted datagram must pass (see the module
/// documentation). Parses by hand, independently of `synack_wire`.
pub fn check_datagram(pkt: &[u8], ttl: u8) {
    let (src, dst, tcp): (IpAddr, IpAddr, &[u8]) = match pkt[0] >> 4 {
        4 => {
            let ihl = usize::from(pkt[0] & 0xF) * 4;
            assert_eq!(ihl, 20, "WF: the engine emits no IP options");
            assert_eq!(inet_sum(&[&pkt[..ihl]]), 0, "WF-01: IPv4 header checksum");
            let total = usize::from(u16::from_be_bytes([pkt[2], pkt[3]]));
            assert_eq!(total, pkt.len(), "IPv4 total length");
            assert_eq!(pkt[9], PROTO_TCP);
            assert_eq!(pkt[8], ttl, "MUST-49: configured TTL");
            let s: [u8; 4] = pkt[12..16].try_into().unwrap();
            let d: [u8; 4] = pkt[16..20].try_into().unwrap();
            (IpAddr::from(s), IpAddr::from(d), &pkt[ihl..])
        }
        6 => {
            let plen = usize::from(u16::from_be_bytes([pkt[4], pkt[5]]));
            assert_eq!(plen + 40, pkt.len(), "IPv6 payload length");
            assert_eq!(pkt[6], PROTO_TCP, "no extension headers");
            assert_eq!(pkt[7], ttl, "hop limit");
            let s: [u8; 16] = pkt[8..24].try_into().unwrap();
            let d: [u8; 16] = pkt[24..40].try_into().unwrap();
            (IpAddr::from(s), IpAddr::from(d), &pkt[40..])
        }
        v => panic!("IP version {v}"),
    };
    assert!(tcp.len() >= 20, "TCP header truncated");
    assert_eq!(
        inet_sum(&[&pseudo_header(src, dst, tcp.len()), tcp]),
        0,
        "WF-01: TCP checksum over the pseudo-header must verify"
    );
    let hlen = usize::from(tcp[12] >> 4) * 4;
    assert!(
        (20..=60).contains(&hlen) && hlen <= tcp.len(),
        "WF-03: data offset"
    );
    assert_eq!(tcp[12] & 0x0F, 0, "WF-03: reserved bits are zero");
    let flags = tcp[13];
    let syn = flags & 0x02 != 0;
    let ackf = flags & 0x10 != 0;
    if !ackf {
        assert_eq!(
            &tcp[8..12],
            &[0, 0, 0, 0],
            "ACK number zero when ACK is off"
        );
    }
    let opts = &tcp[20..hlen];
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => {
                assert!(
                    opts[i..].iter().all(|&b| b == 0),
                    "WF-03: bytes after EOL are zero"
                );
                break;
            }
            1 => i += 1,
            kind => {
                let len = usize::from(*opts.get(i + 1).expect("WF-07: option has a length"));
                assert!(len >= 2 && i + len <= opts.len(), "WF-07: option length");
                if kind == 2 {
                    assert!(syn, "WF-07: MSS only on segments with SYN");
                    assert_eq!(len, 4);
                }
                i += len;
            }
        }
    }
}
