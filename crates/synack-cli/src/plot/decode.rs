//! From a captured frame to a TCP segment: the link header, the IPv4 or
//! IPv6 header, the TCP header.
//!
//! Written here rather than with `synack_wire::parse_ip_tcp` because a
//! capture is not what a stack receives: kernels on veth leave checksums to
//! an offload that never happens (so they are wrong in the capture), and a
//! snap length cuts payloads short (so the IP length, not the captured
//! bytes, says how long the segment was). Only the TCP header itself goes
//! through `synack_wire`, without its checksum.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack_wire::{TcpFlags, TcpOptions, TcpSegment};

/// A TCP segment as captured, without its payload bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub time_ns: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// SEG.SEQ and SEG.ACK, absolute.
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// SEG.WND as sent (unscaled).
    pub window: u16,
    pub options: TcpOptions,
    /// Payload octets on the wire (from the IP length, not the capture).
    pub len: u32,
}

impl Segment {
    /// SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 3.4).
    pub fn seg_len(&self) -> u32 {
        self.len + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }
}

/// Why a frame gave no segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Not IP, or IP but not TCP: ARP, ICMP, UDP... Not an error.
    Other,
    /// A later IPv4 or IPv6 fragment: no TCP header in it.
    Fragment,
    /// Cut short before the end of the TCP header.
    Truncated,
    /// A header that contradicts itself (lengths, data offset, options).
    Malformed,
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The network-layer bytes of a frame of link type `link`.
pub fn network(link: u32, data: &[u8]) -> Result<&[u8], Skip> {
    let (ethertype, rest) = match link {
        // RAW (101, and 12 and 14 as some systems number DLT_RAW), and
        // the IPv4-only and IPv6-only link types.
        101 | 12 | 14 | 228 | 229 => return Ok(data),
        1 => ethernet(data)?,
        // Linux cooked v1: the protocol at 14, 16 bytes of header.
        113 => (be16(data, 14).ok_or(Skip::Truncated)?, data.get(16..)),
        // Linux cooked v2: the protocol first, 20 bytes of header.
        276 => (be16(data, 0).ok_or(Skip::Truncated)?, data.get(20..)),
        // BSD loopback: a 4-byte address family, in the capturing host's
        // order (NULL) or network order (LOOP); either is accepted.
        0 | 108 => {
            let b: [u8; 4] = data
                .get(..4)
                .ok_or(Skip::Truncated)?
                .try_into()
                .map_err(|_| Skip::Truncated)?;
            let af = u32::from_le_bytes(b).min(u32::from_be_bytes(b));
            let ethertype = match af {
                2 => ETH_IPV4,
                10 | 24 | 28 | 30 => ETH_IPV6,
                _ => return Err(Skip::Other),
            };
            (ethertype, data.get(4..))
        }
        _ => return Err(Skip::Other),
    };
    match ethertype {
        ETH_IPV4 | ETH_IPV6 => rest.ok_or(Skip::Truncated),
        _ => Err(Skip::Other),
    }
}

/// Ethernet II, past any 802.1Q / 802.1ad tags.
fn ethernet(data: &[u8]) -> Result<(u16, Option<&[u8]>), Skip> {
    let mut at = 12;
    loop {
        let t = be16(data, at).ok_or(Skip::Truncated)?;
        if matches!(t, 0x8100 | 0x88a8 | 0x9100) {
            at += 4;
            continue;
        }
        return Ok((t, data.get(at + 2..)));
    }
}

/// The TCP segment in an IP datagram captured at `time_ns`.
pub fn segment(time_ns: u64, ip: &[u8]) -> Result<Segment, Skip> {
    let (src, dst, tcp, ip_payload_len) = match ip.first().map(|b| b >> 4) {
        Some(4) => ipv4(ip)?,
        Some(6) => ipv6(ip)?,
        Some(_) => return Err(Skip::Malformed),
        None => return Err(Skip::Truncated),
    };
    let hl = usize::from(tcp.get(12).ok_or(Skip::Truncated)? >> 4) * 4;
    if hl < 20 {
        return Err(Skip::Malformed);
    }
    let header = tcp.get(..hl).ok_or(Skip::Truncated)?;
    let t = TcpSegment::parse_unchecked(header).map_err(|_| Skip::Malformed)?;
    // A zero IP length is what a capture of a TSO super-packet shows: then
    // the captured bytes are all there is to go by.
    let len = match ip_payload_len {
        Some(n) => n.checked_sub(hl).ok_or(Skip::Malformed)?,
        None => tcp.len() - hl,
    };
    Ok(Segment {
        time_ns,
        src: SocketAddr::new(src, t.src_port),
        dst: SocketAddr::new(dst, t.dst_port),
        seq: t.seq,
        ack: t.ack,
        flags: t.flags,
        window: t.window,
        options: t.options,
        len: u32::try_from(len).map_err(|_| Skip::Malformed)?,
    })
}

/// Addresses, the TCP bytes captured, and the TCP length the header
/// claims (None when it claims zero).
type Ip<'a> = (IpAddr, IpAddr, &'a [u8], Option<usize>);

fn ipv4(ip: &[u8]) -> Result<Ip<'_>, Skip> {
    let h: &[u8; 20] = ip
        .get(..20)
        .ok_or(Skip::Truncated)?
        .try_into()
        .map_err(|_| Skip::Truncated)?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(Skip::Malformed);
    }
    if h[9] != 6 {
        return Err(Skip::Other);
    }
    if u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0 {
        return Err(Skip::Fragment);
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let claimed = match total {
        0 => None,
        t => Some(t.checked_sub(ihl).ok_or(Skip::Malformed)?),
    };
    let tcp = ip.get(ihl..).ok_or(Skip::Truncated)?;
    // Link padding (Ethernet's 60-byte minimum) follows short datagrams.
    let tcp = claimed.map_or(tcp, |n| &tcp[..n.min(tcp.len())]);
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    Ok((src.into(), dst.into(), tcp, claimed))
}

fn ipv6(ip: &[u8]) -> Result<Ip<'_>, Skip> {
    let h = ip.get(..40).ok_or(Skip::Truncated)?;
    let addr = |at: usize| -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&h[at..at + 16]);
        Ipv6Addr::from(a)
    };
    let payload = usize::from(u16::from_be_bytes([h[4], h[5]]));
    let mut next = h[6];
    let mut at = 40;
    // Extension headers, as many as a datagram can hold; each says how
    // long it is, in 8-octet units past its first 8 (AH: 4-octet units).
    for _ in 0..16 {
        match next {
            6 => {
                let claimed = match payload {
                    0 => None,
                    p => Some((p + 40).checked_sub(at).ok_or(Skip::Malformed)?),
                };
                let tcp = ip.get(at..).ok_or(Skip::Truncated)?;
                let tcp = claimed.map_or(tcp, |n| &tcp[..n.min(tcp.len())]);
                return Ok((addr(8).into(), addr(24).into(), tcp, claimed));
            }
            0 | 43 | 60 | 51 => {
                let nh = *ip.get(at).ok_or(Skip::Truncated)?;
                let l = usize::from(*ip.get(at + 1).ok_or(Skip::Truncated)?);
                at += if next == 51 { (l + 2) * 4 } else { (l + 1) * 8 };
                next = nh;
            }
            44 => {
                let nh = *ip.get(at).ok_or(Skip::Truncated)?;
                let off = be16(ip, at + 2).ok_or(Skip::Truncated)?;
                if off & 0xfff8 != 0 {
                    return Err(Skip::Fragment);
                }
                at += 8;
                next = nh;
            }
            _ => return Err(Skip::Other),
        }
    }
    Err(Skip::Malformed)
}
