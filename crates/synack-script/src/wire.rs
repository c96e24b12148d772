//! Building the script's inbound segments byte for byte (its option list
//! as written, NOPs and order included) and reading the stack's outbound
//! ones back, option bytes included.

use crate::ast::{Ecn, TcpOpt};
use std::net::IpAddr;
use synack_wire::{TcpSegment, parse_ip};

/// A segment as the runner sees it, both ways: what [`read`] finds in a
/// datagram the stack sent, and what [`build`] puts in one for it.
#[derive(Clone, Debug)]
pub struct Segment {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub win: u16,
    pub urg: u16,
    /// Payload bytes (their content is never compared).
    pub len: u32,
    pub ecn: Ecn,
    /// The option bytes as sent.
    pub options: Vec<u8>,
}

impl Ecn {
    /// The IP header's two ECN bits (RFC 3168 5).
    fn bits(self) -> u8 {
        match self {
            Ecn::NotEct => 0,
            Ecn::Ect1 => 1,
            Ecn::Ect0 => 2,
            Ecn::Ce => 3,
        }
    }

    fn from_bits(tos: u8) -> Ecn {
        match tos & 3 {
            0 => Ecn::NotEct,
            1 => Ecn::Ect1,
            2 => Ecn::Ect0,
            _ => Ecn::Ce,
        }
    }
}

pub fn read(datagram: &[u8]) -> Result<Segment, String> {
    let ip = parse_ip(datagram).map_err(|e| format!("the stack sent a bad IP datagram: {e:?}"))?;
    let seg = TcpSegment::parse(ip.payload, ip.src, ip.dst)
        .map_err(|e| format!("the stack sent a bad TCP segment: {e:?}"))?;
    let options = ip.payload[20..seg.header_len].to_vec();
    Ok(Segment {
        src: ip.src,
        dst: ip.dst,
        src_port: seg.src_port,
        dst_port: seg.dst_port,
        seq: seg.seq,
        ack: seg.ack,
        flags: seg.flags.0,
        win: seg.window,
        urg: seg.urgent_ptr,
        len: seg.payload.len() as u32,
        ecn: Ecn::from_bits(ip.tos),
        options,
    })
}

/// The bytes of an option list, exactly as written.
pub fn option_bytes(list: &[TcpOpt]) -> Vec<u8> {
    let mut o = Vec::new();
    for opt in list {
        match opt {
            TcpOpt::Nop => o.push(1),
            TcpOpt::Eol => o.push(0),
            TcpOpt::Mss(m) => o.extend_from_slice(&[2, 4, (m >> 8) as u8, *m as u8]),
            TcpOpt::WScale(s) => o.extend_from_slice(&[3, 3, *s]),
            TcpOpt::SackOk => o.extend_from_slice(&[4, 2]),
            TcpOpt::Sack(blocks) => {
                o.push(5);
                o.push(2 + 8 * blocks.len() as u8);
                for (l, r) in blocks {
                    o.extend_from_slice(&l.to_be_bytes());
                    o.extend_from_slice(&r.to_be_bytes());
                }
            }
            TcpOpt::Timestamp { val, ecr } => {
                o.extend_from_slice(&[8, 10]);
                o.extend_from_slice(&val.to_be_bytes());
                o.extend_from_slice(&ecr.to_be_bytes());
            }
        }
    }
    o
}

/// Where the TS option's value and echo sit in option bytes, if present.
pub fn timestamp_at(opts: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => return None,
            1 => i += 1,
            kind => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 || i + len > opts.len() {
                    return None;
                }
                if kind == 8 && len == 10 {
                    return Some(i + 2);
                }
                i += len;
            }
        }
    }
    None
}

/// An IPv4 or IPv6 datagram carrying the segment, checksums right.
pub fn build(p: &Segment) -> Vec<u8> {
    let mut opts = p.options.to_vec();
    while !opts.len().is_multiple_of(4) {
        opts.push(0);
    }
    let tcp_len = 20 + opts.len() + p.len as usize;
    let mut tcp = Vec::with_capacity(tcp_len);
    tcp.extend_from_slice(&p.src_port.to_be_bytes());
    tcp.extend_from_slice(&p.dst_port.to_be_bytes());
    tcp.extend_from_slice(&p.seq.to_be_bytes());
    tcp.extend_from_slice(&p.ack.to_be_bytes());
    tcp.push((((20 + opts.len()) / 4) as u8) << 4);
    tcp.push(p.flags);
    tcp.extend_from_slice(&p.win.to_be_bytes());
    tcp.extend_from_slice(&[0, 0]);
    tcp.extend_from_slice(&p.urg.to_be_bytes());
    tcp.extend_from_slice(&opts);
    tcp.resize(tcp_len, 0);
    let mut pseudo = Vec::new();
    match (p.src, p.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&(tcp_len as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 6]);
        }
        _ => unreachable!("one family per script"),
    }
    let sum = checksum(&[&pseudo, &tcp]);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    let mut out = Vec::new();
    match (p.src, p.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (20 + tcp_len) as u16;
            out.extend_from_slice(&[0x45, p.ecn.bits()]);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            let sum = checksum(&[&out]);
            out[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            // Traffic class = the ECN bits; they straddle the first two bytes.
            out.extend_from_slice(&[0x60, p.ecn.bits() << 4, 0, 0]);
            out.extend_from_slice(&(tcp_len as u16).to_be_bytes());
            out.extend_from_slice(&[6, 64]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        _ => unreachable!("one family per script"),
    }
    out.extend_from_slice(&tcp);
    out
}

fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    for part in parts {
        let mut chunks = part.chunks_exact(2);
        for c in &mut chunks {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
