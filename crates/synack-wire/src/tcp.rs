//! The TCP header (RFC 9293 3.1): flags, zero-copy parsing of a received
//! segment, and emission of a header plus payload with its checksum.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};
use std::net::{IpAddr, Ipv4Addr};

use crate::checksum;
use crate::options::{self, MAX_OPTIONS_LEN, OptionsWriter, TcpOptions, with_writer};
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

/// The pseudo-header sum of a segment of `len` bytes, in the little-endian
/// domain (see [`checksum`]): addresses loaded as they lie in memory,
/// protocol and length (big-endian values) times 256.
///
/// The pseudo-header length field is 16 bits for IPv4 (RFC 9293 3.1) and
/// 32 bits for IPv6 (RFC 8200 8.1); a longer segment cannot be checksummed
/// ([`WireError::BadPayloadLength`]). Mixed families are
/// [`WireError::AddressFamilyMismatch`].
#[inline]
fn pseudo_le(len: usize, src: IpAddr, dst: IpAddr) -> Result<u64, WireError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_le_v4(len, s, d),
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            if len > u32::MAX as usize {
                return Err(WireError::BadPayloadLength);
            }
            let len = len as u64;
            let fixed = (u64::from(PROTO_TCP) + (len >> 16) + (len & 0xffff)) << 8;
            let addrs = checksum::add(
                checksum::fold128(u128::from_le_bytes(s.octets())),
                checksum::fold128(u128::from_le_bytes(d.octets())),
            );
            Ok(checksum::add(addrs, fixed))
        }
        _ => Err(WireError::AddressFamilyMismatch),
    }
}

/// The IPv4 arm of [`pseudo_le`].
#[inline(always)]
fn pseudo_le_v4(len: usize, s: Ipv4Addr, d: Ipv4Addr) -> Result<u64, WireError> {
    if len > usize::from(u16::MAX) {
        return Err(WireError::BadPayloadLength);
    }
    let addrs =
        u64::from(u32::from_le_bytes(s.octets())) + u64::from(u32::from_le_bytes(d.octets()));
    Ok(addrs + ((u64::from(PROTO_TCP) + len as u64) << 8))
}

/// A segment's fixed header, options and payload.
type Parts<'a> = (&'a [u8; TCP_HEADER_LEN], &'a [u8], &'a [u8]);

/// Splits a segment into its fixed 20-byte header, its options and its
/// payload, validating the minimum length ([`WireError::Truncated`]) and the
/// data offset ([`WireError::BadDataOffset`]).
#[inline]
fn split(buf: &[u8]) -> Result<Parts<'_>, WireError> {
    let (h, rest) = buf
        .split_first_chunk::<TCP_HEADER_LEN>()
        .ok_or(WireError::Truncated)?;
    let opts_len = (usize::from(h[12] >> 4) * 4)
        .checked_sub(TCP_HEADER_LEN)
        .ok_or(WireError::BadDataOffset)?;
    let (opts, payload) = rest
        .split_at_checked(opts_len)
        .ok_or(WireError::BadDataOffset)?;
    Ok((h, opts, payload))
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
        Self::parse_checked(buf, |len| pseudo_le(len, src, dst))
    }

    /// [`parse`](Self::parse) for a segment carried by IPv4, with the
    /// addresses as 4-byte values: the same checks and the same result.
    /// A caller that holds the addresses as `IpAddr`s in memory, just
    /// written by the IP parser, would otherwise copy them whole to pass
    /// them, a copy that stalls on store forwarding; this one per packet
    /// matters at millions of segments a second.
    pub fn parse_v4(buf: &'a [u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<Self, WireError> {
        Self::parse_checked(buf, |len| pseudo_le_v4(len, src, dst))
    }

    /// The fixed header's checks, then the checksum over the pseudo-header
    /// sum `pseudo` gives for the segment's length, then the options.
    #[inline(always)]
    fn parse_checked(
        buf: &'a [u8],
        pseudo: impl FnOnce(usize) -> Result<u64, WireError>,
    ) -> Result<Self, WireError> {
        let (h, opts, payload) = split(buf)?;
        let pseudo = pseudo(buf.len())?;
        // Both sums are in the little-endian domain, where "verifies" is
        // the same test as in the big-endian one (see `checksum`).
        let sum = checksum::add(pseudo, checksum::sum_le(buf));
        if checksum::fold(sum) != 0 {
            return Err(WireError::BadChecksum);
        }
        Self::decode(h, opts, payload)
    }

    /// Like [`parse`](Self::parse) but without the checksum, for fuzzing,
    /// tests and headers quoted inside ICMP errors (which are usually
    /// truncated and whose checksum cannot be checked).
    pub fn parse_unchecked(buf: &'a [u8]) -> Result<Self, WireError> {
        let (h, opts, payload) = split(buf)?;
        // Keep seg_len() exact: it counts in u32.
        if buf.len() > u32::MAX as usize - 2 {
            return Err(WireError::BadPayloadLength);
        }
        Self::decode(h, opts, payload)
    }

    /// Decodes fields and options once the data offset is known to be
    /// valid. The common option layouts are decoded inline; anything else
    /// takes the general, out-of-line path.
    #[inline]
    fn decode(h: &[u8; TCP_HEADER_LEN], opts: &[u8], payload: &'a [u8]) -> Result<Self, WireError> {
        match options::parse_fast(opts) {
            Some(options) => Ok(Self::assemble(h, opts.len(), options, payload)),
            None => Self::decode_general(h, opts, payload),
        }
    }

    #[inline(never)]
    fn decode_general(
        h: &[u8; TCP_HEADER_LEN],
        opts: &[u8],
        payload: &'a [u8],
    ) -> Result<Self, WireError> {
        let options = options::parse_general(opts)?;
        Ok(Self::assemble(h, opts.len(), options, payload))
    }

    #[inline(always)]
    fn assemble(
        h: &[u8; TCP_HEADER_LEN],
        opts_len: usize,
        options: TcpOptions,
        payload: &'a [u8],
    ) -> Self {
        TcpSegment {
            src_port: u16::from_be_bytes([h[0], h[1]]),
            dst_port: u16::from_be_bytes([h[2], h[3]]),
            seq: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
            ack: u32::from_be_bytes([h[8], h[9], h[10], h[11]]),
            flags: TcpFlags(h[13]),
            window: u16::from_be_bytes([h[14], h[15]]),
            urgent_ptr: u16::from_be_bytes([h[18], h[19]]),
            header_len: TCP_HEADER_LEN + opts_len,
            options,
            payload,
        }
    }

    /// SEG.LEN: octets of data plus one for SYN and one for FIN, the
    /// sequence space the segment occupies (RFC 9293 3.4).
    #[inline]
    pub fn seg_len(&self) -> u32 {
        // parse() bounds the payload below u32::MAX - 2, so no overflow.
        self.payload.len() as u32 + u32::from(self.flags.syn()) + u32::from(self.flags.fin())
    }

    /// The header fields, for re-emitting (e.g. in tests and round trips).
    #[inline]
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
        let (&[s0, s1, d0, d1, q0, q1, q2, q3], _) =
            buf.split_first_chunk::<8>().ok_or(WireError::Truncated)?;
        Ok(TcpQuote {
            src_port: u16::from_be_bytes([s0, s1]),
            dst_port: u16::from_be_bytes([d0, d1]),
            seq: u32::from_be_bytes([q0, q1, q2, q3]),
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
        with_writer!(&self.options, w => self.emit_with(w, payload, src, dst, out))
    }

    /// [`emit`](Self::emit) for one option layout.
    #[inline(always)]
    fn emit_with<W: OptionsWriter>(
        &self,
        options: W,
        payload: &[u8],
        src: IpAddr,
        dst: IpAddr,
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        if options.len() > MAX_OPTIONS_LEN {
            return Err(WireError::OptionsTooLong);
        }
        let addrs = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => v4_addr_sum(s, d),
            (IpAddr::V6(s), IpAddr::V6(d)) => checksum::add(
                checksum::fold128(u128::from(s)),
                checksum::fold128(u128::from(d)),
            ),
            _ => return Err(WireError::AddressFamilyMismatch),
        };
        self.emit_segment(options, payload, addrs, out)
    }

    /// [`emit`](Self::emit) once the options are known to take at most 40
    /// bytes and the address families to agree; `addrs` is the
    /// big-endian-domain unfolded sum of the two addresses (the variable
    /// part of the pseudo-header).
    ///
    /// The checksum is computed from the field values as they are written,
    /// not read back from `out`: every header field is a big-endian integer
    /// whose sum modulo `0xffff` is the integer itself (2^16 ≡ 1), the
    /// options come with their sum from [`OptionsWriter::write`], and only
    /// the payload is summed from memory (while it is copied).
    #[inline(always)]
    pub(crate) fn emit_segment<W: OptionsWriter>(
        &self,
        options: W,
        payload: &[u8],
        addrs: u64,
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        let opts_len = options.len();
        let header_len = TCP_HEADER_LEN + opts_len;
        let total = header_len + payload.len();
        if total > usize::from(u16::MAX) {
            return Err(WireError::PayloadTooLong);
        }
        let out = out.get_mut(..total).ok_or(WireError::BufferTooSmall)?;
        let (hdr, rest) = out
            .split_first_chunk_mut::<TCP_HEADER_LEN>()
            .ok_or(WireError::BufferTooSmall)?;
        let (opts, data) = rest
            .split_at_mut_checked(opts_len)
            .ok_or(WireError::BufferTooSmall)?;

        // Bytes 0..16 as two big-endian words. Data offset in the high
        // nibble of byte 12; reserved low nibble zero (WF-03).
        let offset_flags = (((header_len / 4) as u64) << 12) | u64::from(self.flags.0);
        let w0 = (u64::from(self.src_port) << 48)
            | (u64::from(self.dst_port) << 32)
            | u64::from(self.seq);
        let w1 = (u64::from(self.ack) << 32) | (offset_flags << 16) | u64::from(self.window);
        hdr[0..8].copy_from_slice(&w0.to_be_bytes());
        hdr[8..16].copy_from_slice(&w1.to_be_bytes());
        hdr[18..20].copy_from_slice(&self.urgent_ptr.to_be_bytes());
        let opts_sum = options.write(opts)?;
        // Copied and summed in one pass; the header is a multiple of 4
        // bytes, so the odd-length rule only applies here.
        let data_sum = checksum::le_to_be(checksum::copy_sum_le(data, payload));

        // A big-endian word of any even width counts as itself (2^16 ≡ 1),
        // so the two header words go in whole. The rest: the pseudo-header
        // (protocol, TCP length), the urgent pointer (the checksum field
        // counts as zero) and the options, all small.
        let fields =
            u64::from(PROTO_TCP) + total as u64 + u64::from(self.urgent_ptr) + opts_sum + data_sum;
        let words = checksum::add(checksum::add(w0, w1), addrs);
        let csum = checksum::fold(checksum::add(words, fields));
        hdr[16..18].copy_from_slice(&csum.to_be_bytes());
        Ok(total)
    }
}

/// The big-endian-domain sum of two IPv4 addresses (below 2^33).
#[inline]
pub(crate) fn v4_addr_sum(src: std::net::Ipv4Addr, dst: std::net::Ipv4Addr) -> u64 {
    u64::from(u32::from(src)) + u64::from(u32::from(dst))
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
                user_timeout: None,
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

    /// `parse_v4` is `parse` for IPv4: the same segment, or the same
    /// error, for good segments, a bad checksum, a wrong address, a
    /// truncated header and a bad data offset.
    #[test]
    fn wf02_parse_v4_agrees_with_parse() {
        let (IpAddr::V4(s4), IpAddr::V4(d4)) = (S4, D4) else {
            unreachable!()
        };
        let mut h = syn();
        h.flags = TcpFlags::ACK | TcpFlags::PSH;
        let good = emit(&h, b"hello", S4, D4);
        let mut bad_sum = good.clone();
        bad_sum[16] ^= 1;
        let mut bad_offset = good.clone();
        bad_offset[12] = 0x40;
        let cases: [(&[u8], Ipv4Addr); 5] = [
            (&good, s4),
            (&bad_sum, s4),
            (&good, Ipv4Addr::new(10, 0, 0, 9)),
            (&good[..19], s4),
            (&bad_offset, s4),
        ];
        for (seg, src) in cases {
            let want = TcpSegment::parse(seg, IpAddr::V4(src), D4);
            assert_eq!(TcpSegment::parse_v4(seg, src, d4), want);
        }
        assert!(TcpSegment::parse_v4(&good, s4, d4).is_ok());
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
