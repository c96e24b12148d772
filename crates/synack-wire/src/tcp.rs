//! The TCP header (RFC 9293 3.1): flags, zero-copy parsing of a received
//! segment, and emission of a header plus payload with its checksum.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};
use std::net::IpAddr;

use crate::checksum;
use crate::options::{self, MAX_OPTIONS_LEN, TcpOptions};
use crate::{PROTO_TCP, TCP_HEADER_LEN, WireError};

/// The eight control bits of byte 13 of the TCP header (RFC 9293 3.1,
/// RFC 3168 23.2 for ECE/CWR).
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECN-Echo (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// Congestion Window Reduced (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x80);
    /// No flag set.
    pub const NONE: TcpFlags = TcpFlags(0);

    /// True when every bit of `other` is set in `self`.
    #[inline]
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// True when any bit of `other` is set in `self`.
    #[inline]
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }
    /// True when no bit is set.
    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// FIN set.
    #[inline]
    pub const fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// SYN set.
    #[inline]
    pub const fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// RST set.
    #[inline]
    pub const fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH set.
    #[inline]
    pub const fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK set.
    #[inline]
    pub const fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// URG set.
    #[inline]
    pub const fn urg(self) -> bool {
        self.contains(Self::URG)
    }
    /// ECE set.
    #[inline]
    pub const fn ece(self) -> bool {
        self.contains(Self::ECE)
    }
    /// CWR set.
    #[inline]
    pub const fn cwr(self) -> bool {
        self.contains(Self::CWR)
    }
}

impl BitOr for TcpFlags {
    type Output = TcpFlags;
    #[inline]
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl BitOrAssign for TcpFlags {
    #[inline]
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for TcpFlags {
    type Output = TcpFlags;
    #[inline]
    fn bitand(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & rhs.0)
    }
}

/// Names in bit order, for Debug.
const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];

/// Debug lists the set flags by name, e.g. `SYN|ACK`; no flag prints `NONE`.
impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("NONE");
        }
        let mut first = true;
        for (bit, name) in NAMES.iter().enumerate() {
            if self.0 & (1 << bit) != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Display is tcpdump's notation, in tcpdump's order: F S R P, `.` for ACK,
/// U E W; no flag prints `none`. So SYN|ACK is `S.` and FIN|ACK is `F.`.
impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("none");
        }
        const ORDER: [(TcpFlags, &str); 8] = [
            (TcpFlags::FIN, "F"),
            (TcpFlags::SYN, "S"),
            (TcpFlags::RST, "R"),
            (TcpFlags::PSH, "P"),
            (TcpFlags::ACK, "."),
            (TcpFlags::URG, "U"),
            (TcpFlags::ECE, "E"),
            (TcpFlags::CWR, "W"),
        ];
        for (flag, letter) in ORDER {
            if self.contains(flag) {
                f.write_str(letter)?;
            }
        }
        Ok(())
    }
}

/// A received TCP segment, borrowing its payload from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful only with ACK).
    pub ack: u32,
    /// Control bits. The four reserved bits of byte 12 are ignored on
    /// receive (RFC 9293 3.1, WF-03).
    pub flags: TcpFlags,
    /// Window, unscaled.
    pub window: u16,
    /// Urgent pointer (meaningful only with URG).
    pub urgent_ptr: u16,
    /// Data offset in bytes (20..=60).
    pub header_len: usize,
    /// Decoded options.
    pub options: TcpOptions,
    /// Segment data.
    pub payload: &'a [u8],
}

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The pseudo-header length field is 16 bits for IPv4 (RFC 9293 3.1) and
/// 32 bits for IPv6 (RFC 8200 8.1); a longer segment cannot be checksummed.
#[inline]
fn pseudo_len(len: usize, src: IpAddr, dst: IpAddr) -> Result<u32, WireError> {
    let max = match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => usize::from(u16::MAX),
        (IpAddr::V6(_), IpAddr::V6(_)) => u32::MAX as usize,
        _ => return Err(WireError::AddressFamilyMismatch),
    };
    if len > max {
        return Err(WireError::BadPayloadLength);
    }
    Ok(len as u32)
}

impl<'a> TcpSegment<'a> {
    /// Parses and verifies a TCP segment (`buf` is the whole IP payload).
    ///
    /// Checks, in order: at least 20 bytes ([`WireError::Truncated`]); data
    /// offset >= 5 and within `buf` ([`WireError::BadDataOffset`]); address
    /// families agree ([`WireError::AddressFamilyMismatch`]); the checksum
    /// over the IPv4 (RFC 9293 3.1) or IPv6 (RFC 8200 8.1) pseudo-header
    /// ([`WireError::BadChecksum`], MUST-2/MUST-3, WF-02); then the options
    /// ([`WireError::BadOptionLength`]).
    pub fn parse(buf: &'a [u8], src: IpAddr, dst: IpAddr) -> Result<Self, WireError> {
        let header_len = data_offset(buf)?;
        let len = pseudo_len(buf.len(), src, dst)?;
        let sum = checksum::sum(buf, checksum::pseudo_header(src, dst, PROTO_TCP, len));
        if checksum::fold(sum) != 0 {
            return Err(WireError::BadChecksum);
        }
        Self::decode(buf, header_len)
    }

    /// Like [`parse`](Self::parse) but without the checksum, for fuzzing,
    /// tests and headers quoted inside ICMP errors (which are usually
    /// truncated and whose checksum cannot be checked).
    pub fn parse_unchecked(buf: &'a [u8]) -> Result<Self, WireError> {
        let header_len = data_offset(buf)?;
        // Keep seg_len() exact: it counts in u32.
        if buf.len() > u32::MAX as usize - 2 {
            return Err(WireError::BadPayloadLength);
        }
        Self::decode(buf, header_len)
    }

    /// Decodes fields and options once the data offset is known to be valid.
    fn decode(buf: &'a [u8], header_len: usize) -> Result<Self, WireError> {
        let options = options::parse(&buf[TCP_HEADER_LEN..header_len])?;
        Ok(TcpSegment {
            src_port: be16(buf, 0),
            dst_port: be16(buf, 2),
            seq: be32(buf, 4),
            ack: be32(buf, 8),
            flags: TcpFlags(buf[13]),
            window: be16(buf, 14),
            urgent_ptr: be16(buf, 18),
            header_len,
            options,
            payload: &buf[header_len..],
        })
    }

    /// SEG.LEN: octets of data plus one for SYN and one for FIN, the
    /// sequence space the segment occupies (RFC 9293 3.4).
    #[inline]
    pub fn seg_len(&self) -> u32 {
        // parse() bounds the payload below u32::MAX - 2, so no overflow.
        self.payload.len() as u32 + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }

    /// The header fields, for re-emitting (e.g. in tests and round trips).
    pub fn header(&self) -> TcpHeader {
        TcpHeader {
            src_port: self.src_port,
            dst_port: self.dst_port,
            seq: self.seq,
            ack: self.ack,
            flags: self.flags,
            window: self.window,
            urgent_ptr: self.urgent_ptr,
            options: self.options,
        }
    }
}

#[inline]
pub(crate) fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Validates the minimum length and data offset; returns the header length.
#[inline]
fn data_offset(buf: &[u8]) -> Result<usize, WireError> {
    if buf.len() < TCP_HEADER_LEN {
        return Err(WireError::Truncated);
    }
    let header_len = usize::from(buf[12] >> 4) * 4;
    if header_len < TCP_HEADER_LEN || header_len > buf.len() {
        return Err(WireError::BadDataOffset);
    }
    Ok(header_len)
}

/// The first eight bytes of a TCP header, which is all that an ICMPv4 error
/// is guaranteed to quote (RFC 792, RFC 5927 4.1): enough to find the
/// connection and check the sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpQuote {
    /// Source port of the quoted (our own, outgoing) segment.
    pub src_port: u16,
    /// Destination port of the quoted segment.
    pub dst_port: u16,
    /// Sequence number of the quoted segment.
    pub seq: u32,
}

impl TcpQuote {
    /// Reads the ports and sequence number; fails only with
    /// [`WireError::Truncated`] when fewer than 8 bytes are quoted.
    pub fn parse(buf: &[u8]) -> Result<TcpQuote, WireError> {
        if buf.len() < 8 {
            return Err(WireError::Truncated);
        }
        Ok(TcpQuote {
            src_port: be16(buf, 0),
            dst_port: be16(buf, 2),
            seq: be32(buf, 4),
        })
    }
}

/// A TCP header to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct TcpHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (RFC 9293 3.1: zero it when ACK is not set).
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window, already scaled down.
    pub window: u16,
    /// Urgent pointer.
    pub urgent_ptr: u16,
    /// Options, written in the Linux layout.
    pub options: TcpOptions,
}

impl TcpHeader {
    /// 20 + `options.wire_len()`.
    #[inline]
    pub fn header_len(&self) -> usize {
        TCP_HEADER_LEN + self.options.wire_len()
    }

    /// Writes header, options and `payload` into `out[..len]`, fills in the
    /// checksum over the pseudo-header of `src`/`dst` (WF-01), and returns
    /// `len`, the TCP length.
    ///
    /// The four reserved bits are written as zero (WF-03). Errors:
    /// [`WireError::OptionsTooLong`] for more than 40 option bytes,
    /// [`WireError::AddressFamilyMismatch`], [`WireError::PayloadTooLong`]
    /// when the segment exceeds 65535 bytes (the most a non-jumbo IPv4 or
    /// IPv6 datagram carries), and [`WireError::BufferTooSmall`]. Nothing is
    /// written on error.
    pub fn emit(
        &self,
        payload: &[u8],
        src: IpAddr,
        dst: IpAddr,
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        let opts_len = self.options.wire_len();
        if opts_len > MAX_OPTIONS_LEN {
            return Err(WireError::OptionsTooLong);
        }
        let header_len = TCP_HEADER_LEN + opts_len;
        let total = header_len + payload.len();
        if !same_family(src, dst) {
            return Err(WireError::AddressFamilyMismatch);
        }
        if total > usize::from(u16::MAX) {
            return Err(WireError::PayloadTooLong);
        }
        let len = total as u32;
        let out = out.get_mut(..total).ok_or(WireError::BufferTooSmall)?;

        let (hdr, data) = out.split_at_mut(header_len);
        hdr[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        hdr[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        hdr[4..8].copy_from_slice(&self.seq.to_be_bytes());
        hdr[8..12].copy_from_slice(&self.ack.to_be_bytes());
        // Data offset in the high nibble; reserved low nibble zero (WF-03).
        hdr[12] = ((header_len / 4) as u8) << 4;
        hdr[13] = self.flags.0;
        hdr[14..16].copy_from_slice(&self.window.to_be_bytes());
        hdr[16..18].fill(0);
        hdr[18..20].copy_from_slice(&self.urgent_ptr.to_be_bytes());
        options::write(&self.options, &mut hdr[TCP_HEADER_LEN..])?;
        data.copy_from_slice(payload);

        // Header first (always a multiple of 4 bytes, so the odd-length rule
        // only applies to the payload), then the payload from the caller's
        // buffer, which is still hot in cache from the copy above.
        let sum = checksum::sum(hdr, checksum::pseudo_header(src, dst, PROTO_TCP, len));
        let csum = checksum::fold(checksum::sum(payload, sum));
        hdr[16..18].copy_from_slice(&csum.to_be_bytes());
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{SackBlocks, Timestamps};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const S4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const D4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    const S6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    const D6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));

    fn syn() -> TcpHeader {
        TcpHeader {
            src_port: 40000,
            dst_port: 80,
            seq: 0xdead_beef,
            ack: 0,
            flags: TcpFlags::SYN,
            window: 65535,
            urgent_ptr: 0,
            options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                timestamps: Some(Timestamps {
                    tsval: 100,
                    tsecr: 0,
                }),
                sack: SackBlocks::new(),
            },
        }
    }

    fn emit(h: &TcpHeader, payload: &[u8], s: IpAddr, d: IpAddr) -> Vec<u8> {
        let mut buf = vec![0xaau8; 2048];
        let n = h.emit(payload, s, d, &mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn flags_format() {
        let sa = TcpFlags::SYN | TcpFlags::ACK;
        assert_eq!(format!("{sa:?}"), "SYN|ACK");
        assert_eq!(format!("{sa}"), "S.");
        assert_eq!(format!("{}", TcpFlags::FIN | TcpFlags::ACK), "F.");
        assert_eq!(format!("{}", TcpFlags::RST), "R");
        assert_eq!(format!("{}", TcpFlags::PSH | TcpFlags::ACK), "P.");
        assert_eq!(format!("{}", TcpFlags(0xff)), "FSRP.UEW");
        assert_eq!(
            format!("{:?}", TcpFlags(0xff)),
            "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR"
        );
        assert_eq!(format!("{:?}", TcpFlags::NONE), "NONE");
        assert_eq!(format!("{}", TcpFlags::NONE), "none");
        let mut f = TcpFlags::SYN;
        f |= TcpFlags::ACK;
        assert!(f.contains(TcpFlags::SYN | TcpFlags::ACK));
        assert!(!f.contains(TcpFlags::SYN | TcpFlags::FIN));
        assert!(f.syn() && f.ack() && !f.fin() && !f.rst() && !f.psh() && !f.urg());
        assert_eq!(f & TcpFlags::ACK, TcpFlags::ACK);
    }

    #[test]
    fn wf01_emit_then_parse_v4_v6_odd_payload() {
        for (s, d) in [(S4, D4), (S6, D6)] {
            for payload in [&b""[..], b"x", b"hello", b"0123456789abcdefX"] {
                let mut h = syn();
                h.flags = TcpFlags::ACK | TcpFlags::PSH;
                let seg = emit(&h, payload, s, d);
                let p = TcpSegment::parse(&seg, s, d).unwrap();
                assert_eq!(p.header(), h);
                assert_eq!(p.payload, payload);
                assert_eq!(p.header_len, 40);
            }
        }
    }

    #[test]
    fn wf01_checksum_known_vector() {
        // A minimal SYN 10.0.0.1:1 -> 10.0.0.2:2, seq 0, no options, window 0.
        // Pseudo-header: 0a00+0001+0a00+0002+0006+0014 = 0x141d; header:
        // 0001+0002+5002 = 0x5005; total 0x6422, checksum !0x6422 = 0x9bdd.
        let h = TcpHeader {
            src_port: 1,
            dst_port: 2,
            flags: TcpFlags::SYN,
            ..Default::default()
        };
        let seg = emit(&h, &[], S4, D4);
        assert_eq!(&seg[16..18], &[0x9b, 0xdd]);
    }

    #[test]
    fn wf02_bad_checksum_rejected() {
        let mut seg = emit(&syn(), b"abc", S4, D4);
        seg[16] ^= 0x01;
        assert_eq!(TcpSegment::parse(&seg, S4, D4), Err(WireError::BadChecksum));
        // parse_unchecked does not look at it.
        assert!(TcpSegment::parse_unchecked(&seg).is_ok());
        // A wrong pseudo-header (other destination) also fails.
        let seg = emit(&syn(), b"abc", S4, D4);
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));
        assert_eq!(
            TcpSegment::parse(&seg, S4, other),
            Err(WireError::BadChecksum)
        );
        // Flipped payload bit.
        let mut seg = emit(&syn(), b"abc", S6, D6);
        *seg.last_mut().unwrap() ^= 0x80;
        assert_eq!(TcpSegment::parse(&seg, S6, D6), Err(WireError::BadChecksum));
    }

    #[test]
    fn wf03_reserved_bits_zero_on_emit_ignored_on_receive() {
        let seg = emit(&syn(), &[], S4, D4);
        assert_eq!(seg[12] & 0x0f, 0);
        let mut raw = emit(&syn(), &[], S4, D4);
        raw[12] |= 0x0f;
        let p = TcpSegment::parse_unchecked(&raw).unwrap();
        assert_eq!(p.header(), syn());
    }

    #[test]
    fn rejections() {
        assert_eq!(
            TcpSegment::parse_unchecked(&[0; 19]),
            Err(WireError::Truncated)
        );
        let mut seg = emit(&syn(), &[], S4, D4);
        seg[12] = 4 << 4;
        assert_eq!(
            TcpSegment::parse_unchecked(&seg),
            Err(WireError::BadDataOffset)
        );
        seg[12] = 15 << 4; // 60 bytes, but the segment is 40
        assert_eq!(
            TcpSegment::parse_unchecked(&seg),
            Err(WireError::BadDataOffset)
        );
        let seg = emit(&syn(), &[], S4, D4);
        assert_eq!(
            TcpSegment::parse(&seg, S4, D6),
            Err(WireError::AddressFamilyMismatch)
        );
        // Bad option length behind a valid checksum is still rejected.
        let mut h = syn();
        h.options = TcpOptions::default();
        h.options.mss = Some(0);
        let mut seg = emit(&h, &[], S4, D4);
        seg[21] = 0; // MSS length 0
        // Fix the checksum: the word 0x0204 became 0x0200.
        let c = u16::from_be_bytes([seg[16], seg[17]]);
        seg[16..18].copy_from_slice(&checksum_adjust(c, 0x0204, 0x0200).to_be_bytes());
        assert_eq!(
            TcpSegment::parse(&seg, S4, D4),
            Err(WireError::BadOptionLength)
        );
    }

    /// RFC 1624 incremental update: HC' = ~(~HC + ~m + m').
    fn checksum_adjust(hc: u16, old: u16, new: u16) -> u16 {
        let mut s = u32::from(!hc) + u32::from(!old) + u32::from(new);
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        !(s as u16)
    }

    #[test]
    fn emit_errors() {
        let mut h = syn();
        for i in 0..3 {
            h.options.sack.push(i, i + 1);
        }
        // 4 + 12 + 4 + 28 = 48 > 40 option bytes.
        assert_eq!(
            h.emit(&[], S4, D4, &mut [0; 100]),
            Err(WireError::OptionsTooLong)
        );
        let h = syn();
        assert_eq!(
            h.emit(b"abc", S4, D4, &mut [0; 42]),
            Err(WireError::BufferTooSmall)
        );
        assert_eq!(
            h.emit(&[], S4, D6, &mut [0; 100]),
            Err(WireError::AddressFamilyMismatch)
        );
        let big = vec![0u8; 65535];
        assert_eq!(
            h.emit(&big, S6, D6, &mut vec![0; 70000]),
            Err(WireError::PayloadTooLong)
        );
        assert_eq!(
            h.emit(&big, S4, D4, &mut vec![0; 70000]),
            Err(WireError::PayloadTooLong)
        );
    }

    #[test]
    fn oversized_segment_for_ipv4_pseudo_header() {
        // 65536 bytes cannot be described by the 16-bit IPv4 pseudo-header
        // length, but fit the 32-bit IPv6 one (where the checksum then fails).
        let mut seg = vec![0u8; 65536];
        seg[12] = 5 << 4;
        assert_eq!(
            TcpSegment::parse(&seg, S4, D4),
            Err(WireError::BadPayloadLength)
        );
        assert_eq!(TcpSegment::parse(&seg, S6, D6), Err(WireError::BadChecksum));
    }

    #[test]
    fn seg_len_counts_syn_and_fin() {
        let mut h = syn();
        h.flags = TcpFlags::SYN | TcpFlags::FIN;
        let seg = emit(&h, b"abcd", S4, D4);
        assert_eq!(TcpSegment::parse(&seg, S4, D4).unwrap().seg_len(), 6);
        h.flags = TcpFlags::ACK;
        let seg = emit(&h, b"", S4, D4);
        assert_eq!(TcpSegment::parse(&seg, S4, D4).unwrap().seg_len(), 0);
    }

    #[test]
    fn quote() {
        let seg = emit(&syn(), &[], S4, D4);
        assert_eq!(
            TcpQuote::parse(&seg[..8]),
            Ok(TcpQuote {
                src_port: 40000,
                dst_port: 80,
                seq: 0xdead_beef
            })
        );
        assert_eq!(TcpQuote::parse(&seg[..7]), Err(WireError::Truncated));
    }
}
