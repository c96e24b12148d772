//! The Internet checksum (RFC 1071), used by the IPv4 header (RFC 791 3.1)
//! and by TCP over both IP versions (RFC 9293 3.1, RFC 8200 8.1).
//!
//! # Representation
//!
//! The running sum is an *unfolded* `u64`: any value congruent, modulo
//! `0xffff`, to the 16-bit one's-complement sum of the data. This works
//! because 2^16 ≡ 1 (mod 0xffff), so a big-endian word of any even width
//! contributes the same as its 16-bit halves added separately (RFC 1071 2(B)
//! "deferred carries" and 2(C) "parallel summation"). [`fold`] reduces it to
//! 16 bits and complements it.
//!
//! Sums chain: `sum(b, sum(a, 0))` equals `sum(a ++ b, 0)` as long as `a` has
//! an even length (only the last piece may be odd, since an odd length shifts
//! the byte alignment of whatever follows).
//!
//! The hot loop reads 16 bytes at a time into two independent 128-bit
//! accumulators (two 64-bit loads, each an add/adc pair), so the work per
//! byte is small and the two chains can run in parallel.

use std::net::IpAddr;

/// One's-complement addition of two unfolded sums (end-around carry), so
/// that chaining never loses a carry out of bit 63.
#[inline]
fn add(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    // If the add wrapped, `s` is at most 2^64 - 2, so adding 1 cannot wrap.
    s + u64::from(carry)
}

/// Reduce a 128-bit accumulator to a congruent 64-bit one (2^64 ≡ 1 mod 0xffff).
#[inline]
fn fold128(x: u128) -> u64 {
    add(x as u64, (x >> 64) as u64)
}

/// Adds `data` to the unfolded running sum `initial` and returns the new
/// unfolded sum. Pass `0` to start. If `data` has an odd length, the last byte
/// is padded on the right with a zero byte (RFC 9293 3.1, "Checksum").
#[inline]
pub fn sum(data: &[u8], initial: u64) -> u64 {
    let mut a: u128 = 0;
    let mut b: u128 = 0;
    let mut blocks = data.chunks_exact(16);
    for block in &mut blocks {
        let (x, y) = block.split_at(8);
        // `split_at(8)` of a 16-byte chunk always gives two 8-byte halves, so
        // these conversions cannot fail; `unwrap_or` keeps the code panic-free.
        a += u128::from(u64::from_be_bytes(x.try_into().unwrap_or([0; 8])));
        b += u128::from(u64::from_be_bytes(y.try_into().unwrap_or([0; 8])));
    }
    let mut rest = blocks.remainder();
    // Up to 15 trailing bytes. Headers are short, so this matters: no
    // memcpy into a scratch block, just 8-, 4- and 2-byte words and a last
    // odd byte. Their offsets stay even, and at an even offset a word's
    // position does not change its sum modulo 0xffff.
    if let Some((x, r)) = rest.split_first_chunk::<8>() {
        b += u128::from(u64::from_be_bytes(*x));
        rest = r;
    }
    if let Some((x, r)) = rest.split_first_chunk::<4>() {
        a += u128::from(u32::from_be_bytes(*x));
        rest = r;
    }
    if let Some((x, r)) = rest.split_first_chunk::<2>() {
        a += u128::from(u16::from_be_bytes(*x));
        rest = r;
    }
    if let Some(&last) = rest.first() {
        // Odd length: the last byte is padded on the right with zero.
        a += u128::from(u16::from(last) << 8);
    }
    add(initial, add(fold128(a), fold128(b)))
}

/// The unfolded sum of the TCP/UDP pseudo-header.
///
/// IPv4 (RFC 9293 3.1): source, destination, zero, protocol, 16-bit TCP
/// length. IPv6 (RFC 8200 8.1): source, destination, 32-bit upper-layer
/// length, three zero bytes, next header. Both reduce to the same sum:
/// addresses + protocol + the length's two 16-bit halves (the high half is
/// zero for IPv4, whose length field is 16 bits).
///
/// The caller must pass addresses of one family; for mixed families the
/// result is meaningless (but nothing panics). [`crate::TcpSegment::parse`]
/// and [`crate::TcpHeader::emit`] check this and return
/// [`crate::WireError::AddressFamilyMismatch`].
#[inline]
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: u8, len: u32) -> u64 {
    let addr = |ip: IpAddr| -> u64 {
        match ip {
            IpAddr::V4(v4) => u64::from(u32::from(v4)),
            IpAddr::V6(v6) => fold128(u128::from(v6)),
        }
    };
    let fixed = u64::from(protocol) + u64::from(len >> 16) + u64::from(len & 0xffff);
    add(add(addr(src), addr(dst)), fixed)
}

/// Folds an unfolded sum to 16 bits and returns its one's complement: the
/// value to store in a checksum field, or, when the sum already covers a
/// checksum field, zero if and only if the data verifies.
#[inline]
pub fn fold(sum: u64) -> u16 {
    // < 2^33 after the first step, < 2^17 + 2^16 after the second, and at
    // most 0xffff after the fourth.
    let mut s = (sum & 0xffff_ffff) + (sum >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// Straightforward RFC 1071 reference: 16-bit words, 32-bit accumulator.
    fn reference(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in data.chunks(2) {
            let w = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            acc += u32::from(w);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&data, 0)), !0xddf2);
    }

    #[test]
    fn ipv4_header_known_vector() {
        // A classic example header (Wikipedia "IPv4 header checksum"), whose
        // checksum field holds b861.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(fold(sum(&hdr, 0)), 0xb861);
        let mut with = hdr;
        with[10] = 0xb8;
        with[11] = 0x61;
        assert_eq!(fold(sum(&with, 0)), 0);
    }

    #[test]
    fn wf01_odd_length_pads_right() {
        // A lone byte 0xab counts as the word 0xab00.
        assert_eq!(fold(sum(&[0xab], 0)), !0xab00);
        for len in 0..80 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(fold(sum(&data, 0)), reference(&data), "len {len}");
        }
    }

    #[test]
    fn all_ones_and_carries() {
        // Many 0xff bytes force carries out of every accumulator position.
        let data = vec![0xffu8; 4099];
        assert_eq!(fold(sum(&data, 0)), reference(&data));
        // A huge initial value must not lose its carry.
        assert_eq!(fold(sum(&data, u64::MAX)), fold(sum(&data, 0)));
    }

    #[test]
    fn chaining_even_pieces() {
        let data: Vec<u8> = (0..1001u32).map(|i| (i * 7) as u8).collect();
        let whole = fold(sum(&data, 0));
        for cut in (0..data.len()).step_by(2) {
            let chained = fold(sum(&data[cut..], sum(&data[..cut], 0)));
            assert_eq!(chained, whole, "cut {cut}");
        }
    }

    #[test]
    fn pseudo_header_matches_byte_layout() {
        let s4 = Ipv4Addr::new(192, 0, 2, 1);
        let d4 = Ipv4Addr::new(198, 51, 100, 7);
        let mut v4 = Vec::new();
        v4.extend_from_slice(&s4.octets());
        v4.extend_from_slice(&d4.octets());
        v4.extend_from_slice(&[0, 6]);
        v4.extend_from_slice(&1234u16.to_be_bytes());
        assert_eq!(
            fold(pseudo_header(s4.into(), d4.into(), 6, 1234)),
            reference(&v4)
        );

        let s6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let d6: Ipv6Addr = "2001:db8:ffff::abcd".parse().unwrap();
        let mut v6 = Vec::new();
        v6.extend_from_slice(&s6.octets());
        v6.extend_from_slice(&d6.octets());
        v6.extend_from_slice(&70_000u32.to_be_bytes());
        v6.extend_from_slice(&[0, 0, 0, 6]);
        assert_eq!(
            fold(pseudo_header(s6.into(), d6.into(), 6, 70_000)),
            reference(&v6)
        );
    }
}
