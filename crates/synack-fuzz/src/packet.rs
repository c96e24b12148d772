//! Datagrams in both directions, written and checked here rather than with
//! synack-wire: the harness must be able to send what the wire crate would
//! refuse to emit (malformed options, IP options, padding), and it checks
//! the engine's checksums with an implementation that shares no code with
//! the one under test.

use std::net::{IpAddr, SocketAddr};

pub(crate) const PROTO_TCP: u8 = 6;

/// The segment the fuzzer sends, before it becomes a datagram.
pub(crate) struct SegSpec<'a> {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) flags: u8,
    pub(crate) window: u16,
    /// Option bytes, at most 40; padded here to a multiple of 4.
    pub(crate) options: &'a [u8],
    pub(crate) payload: &'a [u8],
    /// IPv4 options (NOPs) or an IPv6 Hop-by-Hop header: valid datagrams
    /// whose TCP header does not start at a fixed offset.
    pub(crate) ip_extra: bool,
    /// Another upper-layer protocol, checksummed correctly (UDP's number).
    pub(crate) protocol: u8,
}

/// RFC 1071 one's-complement sum, 16 bits at a time, big-endian.
fn sum(data: &[u8], mut acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn pseudo(src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> u64 {
    let mut acc = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = sum(&s.octets(), acc);
            acc = sum(&d.octets(), acc);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = sum(&s.octets(), acc);
            acc = sum(&d.octets(), acc);
        }
        _ => {}
    }
    acc + u64::from(protocol) + len as u64
}

/// Writes the datagram into `out` (cleared first).
pub(crate) fn build(s: &SegSpec<'_>, out: &mut Vec<u8>) {
    out.clear();
    let opt_len = s.options.len().min(40).div_ceil(4) * 4;
    let tcp_len = 20 + opt_len + s.payload.len();
    match (s.src.ip(), s.dst.ip()) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let ihl = if s.ip_extra { 6 } else { 5 };
            let total = ihl * 4 + tcp_len;
            out.extend_from_slice(&[0x40 | ihl as u8, 0]);
            out.extend_from_slice(&(total.min(0xffff) as u16).to_be_bytes());
            // Ident, DF, TTL, protocol, checksum (filled below).
            out.extend_from_slice(&[0x12, 0x34, 0x40, 0, 64, s.protocol, 0, 0]);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
            if s.ip_extra {
                // Four NOPs (RFC 791 option type 1): skipped (MUST-50).
                out.extend_from_slice(&[1, 1, 1, 1]);
            }
            let c = !fold(sum(&out[..ihl * 4], 0));
            out[10..12].copy_from_slice(&c.to_be_bytes());
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let extra = if s.ip_extra { 8 } else { 0 };
            let next = if s.ip_extra { 0 } else { s.protocol };
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&((tcp_len + extra).min(0xffff) as u16).to_be_bytes());
            out.extend_from_slice(&[next, 64]);
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
            if s.ip_extra {
                // Hop-by-Hop header: next header, length 0, PadN of 4.
                out.extend_from_slice(&[s.protocol, 0, 1, 4, 0, 0, 0, 0]);
            }
        }
        // Mixed families cannot be written; the caller never asks.
        _ => return,
    }
    let tcp = out.len();
    out.extend_from_slice(&s.src.port().to_be_bytes());
    out.extend_from_slice(&s.dst.port().to_be_bytes());
    out.extend_from_slice(&s.seq.to_be_bytes());
    out.extend_from_slice(&s.ack.to_be_bytes());
    out.push((((20 + opt_len) / 4) as u8) << 4);
    out.push(s.flags);
    out.extend_from_slice(&s.window.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    let opts = &s.options[..s.options.len().min(40)];
    out.extend_from_slice(opts);
    // End-of-option-list padding.
    out.resize(out.len() + opt_len - opts.len(), 0);
    out.extend_from_slice(s.payload);
    let c = !fold(sum(
        &out[tcp..],
        pseudo(s.src.ip(), s.dst.ip(), s.protocol, tcp_len),
    ));
    out[tcp + 16..tcp + 18].copy_from_slice(&c.to_be_bytes());
}

/// Where the fields of an emitted datagram are, once its checksums are
/// known good.
pub(crate) struct Emitted {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) flags: u8,
    pub(crate) window: u16,
    pub(crate) tsval: Option<u32>,
    pub(crate) payload_start: usize,
    pub(crate) payload_len: usize,
}

/// Checks an emitted datagram independently of synack-wire: lengths agree
/// with the buffer, the IPv4 header checksum and the TCP checksum verify.
pub(crate) fn check_emitted(d: &[u8]) -> Result<Emitted, String> {
    let first = *d.first().ok_or("empty datagram")?;
    let (src, dst, tcp_start) = match first >> 4 {
        4 => {
            let ihl = usize::from(first & 0xf) * 4;
            if ihl < 20 || d.len() < ihl {
                return Err(format!("IPv4 header length {ihl} in {} bytes", d.len()));
            }
            let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
            if total != d.len() {
                return Err(format!("IPv4 total length {total}, datagram {}", d.len()));
            }
            if fold(sum(&d[..ihl], 0)) != 0xffff {
                return Err("IPv4 header checksum does not verify".into());
            }
            if d[9] != PROTO_TCP {
                return Err(format!("IPv4 protocol {}", d[9]));
            }
            if d[6] & 0x3f != 0 || d[7] != 0 {
                return Err("emitted an IPv4 fragment".into());
            }
            let s: [u8; 4] = d[12..16].try_into().map_err(|_| "short")?;
            let t: [u8; 4] = d[16..20].try_into().map_err(|_| "short")?;
            (IpAddr::from(s), IpAddr::from(t), ihl)
        }
        6 => {
            if d.len() < 40 {
                return Err("short IPv6 header".into());
            }
            let plen = usize::from(u16::from_be_bytes([d[4], d[5]]));
            if plen + 40 != d.len() {
                return Err(format!("IPv6 payload length {plen}, datagram {}", d.len()));
            }
            if d[6] != PROTO_TCP {
                return Err(format!("IPv6 next header {}", d[6]));
            }
            let s: [u8; 16] = d[8..24].try_into().map_err(|_| "short")?;
            let t: [u8; 16] = d[24..40].try_into().map_err(|_| "short")?;
            (IpAddr::from(s), IpAddr::from(t), 40)
        }
        v => return Err(format!("IP version {v}")),
    };
    let tcp = &d[tcp_start..];
    if tcp.len() < 20 {
        return Err("short TCP header".into());
    }
    let off = usize::from(tcp[12] >> 4) * 4;
    if off < 20 || off > tcp.len() {
        return Err(format!("TCP data offset {off} in {} bytes", tcp.len()));
    }
    if tcp[12] & 0x0f != 0 {
        return Err("reserved bits set".into());
    }
    if fold(sum(tcp, pseudo(src, dst, PROTO_TCP, tcp.len()))) != 0xffff {
        return Err("TCP checksum does not verify".into());
    }
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Ok(Emitted {
        src: SocketAddr::new(src, u16::from_be_bytes([tcp[0], tcp[1]])),
        dst: SocketAddr::new(dst, u16::from_be_bytes([tcp[2], tcp[3]])),
        seq: be32(&tcp[4..8]),
        ack: be32(&tcp[8..12]),
        flags: tcp[13],
        window: u16::from_be_bytes([tcp[14], tcp[15]]),
        tsval: find_tsval(&tcp[20..off]),
        payload_start: tcp_start + off,
        payload_len: tcp.len() - off,
    })
}

/// TSval of a Timestamps option, if the options carry one.
fn find_tsval(mut opts: &[u8]) -> Option<u32> {
    while let [kind, rest @ ..] = opts {
        match kind {
            0 => return None,
            1 => opts = rest,
            _ => {
                let len = usize::from(*rest.first()?);
                if len < 2 || len > opts.len() {
                    return None;
                }
                if *kind == 8 && len == 10 {
                    return Some(u32::from_be_bytes([opts[2], opts[3], opts[4], opts[5]]));
                }
                opts = &opts[len..];
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `build` writes, synack-wire parses with the same fields, and
    /// `check_emitted` accepts: both sides of the harness agree with the
    /// wire crate.
    #[test]
    fn build_round_trips_through_synack_wire() {
        for (src, dst) in [
            ("198.18.1.1:1000", "198.18.0.1:80"),
            ("[2001:db8::1:1]:1000", "[2001:db8::1]:80"),
        ] {
            for ip_extra in [false, true] {
                let opts = [2, 4, 5, 0xb4, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 3, 7];
                let spec = SegSpec {
                    src: src.parse().unwrap(),
                    dst: dst.parse().unwrap(),
                    seq: 0xfffffff0,
                    ack: 77,
                    flags: 0x12,
                    window: 1234,
                    options: &opts,
                    payload: b"hello",
                    ip_extra,
                    protocol: PROTO_TCP,
                };
                let mut out = Vec::new();
                build(&spec, &mut out);
                let (ip, seg) = synack_wire::parse_ip_tcp(&out).expect("parses");
                assert_eq!(ip.src, spec.src.ip());
                assert_eq!((seg.seq, seg.ack, seg.window), (0xfffffff0, 77, 1234));
                assert_eq!(seg.options.mss, Some(1460));
                assert_eq!(seg.options.window_scale, Some(7));
                assert_eq!(seg.payload, b"hello");
                if !ip_extra {
                    let e = check_emitted(&out).expect("checks");
                    assert_eq!(e.tsval, Some(1));
                    assert_eq!(&out[e.payload_start..][..e.payload_len], b"hello");
                }
            }
        }
    }
}
