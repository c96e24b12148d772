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
//! # Byte order
//!
//! Internally the data is summed as *little-endian* words, which on every
//! common host are plain loads with no byte swap. RFC 1071 2(B): the sum of
//! byte-swapped 16-bit words is the byte-swapped sum. In the congruence
//! view, swapping a 16-bit word multiplies it by 256 modulo `0xffff`
//! (`hi * 2^16 + lo * 2^8 ≡ hi + lo * 2^8`), and since `256 * 256 = 2^16 ≡ 1`
//! the same multiplication converts back. So a little-endian sum `L` and the
//! big-endian sum `B` of the same bytes satisfy `B ≡ 256 * L (mod 0xffff)`,
//! and `L` is zero exactly when `B` is (all bytes zero). [`sum`] converts
//! with one shift; the parsers and emitters in this crate mix both domains
//! the same way (header fields they already hold as integers are added in
//! the big-endian domain, bytes in memory in the little-endian one).
//!
//! The hot loop reads 32 bytes at a time into two independent 128-bit
//! accumulators (four 64-bit loads, each an add/adc pair), so the work per
//! byte is small and the two chains can run in parallel. Emitting sums a
//! short payload while copying it (`copy_sum_le`), and computes the
//! header part from the field values instead of reading it back.

use std::net::IpAddr;

/// One's-complement addition of two unfolded sums (end-around carry), so
/// that chaining never loses a carry out of bit 63.
#[inline]
pub(crate) fn add(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    // If the add wrapped, `s` is at most 2^64 - 2, so adding 1 cannot wrap.
    s + u64::from(carry)
}

/// Reduce a 128-bit accumulator to a congruent 64-bit one (2^64 ≡ 1 mod 0xffff).
#[inline]
pub(crate) fn fold128(x: u128) -> u64 {
    add(x as u64, (x >> 64) as u64)
}

/// The unfolded sum of `data` read as *little-endian* 16-bit words (an odd
/// last byte `b` counts as the word `[b, 0]`, i.e. `b`). Congruent to
/// `256 *` the big-endian sum modulo `0xffff`, and zero exactly when every
/// byte is zero (see the module docs).
#[inline]
pub(crate) fn sum_le(data: &[u8]) -> u64 {
    let mut a: u128 = 0;
    let mut b: u128 = 0;
    let mut blocks = data.chunks_exact(32);
    for block in &mut blocks {
        // Always 32 bytes; the fallback is never taken and keeps this
        // panic-free.
        let [w0, w1]: [[u8; 16]; 2] = halves(block);
        let (v0, v1) = (u128::from_le_bytes(w0), u128::from_le_bytes(w1));
        a += u128::from(v0 as u64) + u128::from(v1 as u64);
        b += (v0 >> 64) + (v1 >> 64);
    }
    let mut rest = blocks.remainder();
    if let Some((x, r)) = rest.split_first_chunk::<16>() {
        let v = u128::from_le_bytes(*x);
        a += u128::from(v as u64);
        b += v >> 64;
        rest = r;
    }
    // Then up to 15 bytes: 8-, 4- and 2-byte words and a last odd byte,
    // all at even offsets, where a word's position does not change its sum
    // modulo 0xffff.
    if let Some((x, r)) = rest.split_first_chunk::<8>() {
        b += u128::from(u64::from_le_bytes(*x));
        rest = r;
    }
    if let Some((x, r)) = rest.split_first_chunk::<4>() {
        a += u128::from(u32::from_le_bytes(*x));
        rest = r;
    }
    if let Some((x, r)) = rest.split_first_chunk::<2>() {
        a += u128::from(u16::from_le_bytes(*x));
        rest = r;
    }
    if let Some(&last) = rest.first() {
        // Odd length: the last byte is padded on the right with zero, which
        // as a little-endian word is the byte itself.
        a += u128::from(last);
    }
    add(fold128(a), fold128(b))
}

/// Two 16-byte halves of a 32-byte block (zeros if `block` is shorter,
/// which the callers never pass).
#[inline(always)]
fn halves(block: &[u8]) -> [[u8; 16]; 2] {
    match block.split_first_chunk::<16>() {
        Some((x, r)) => match r.first_chunk::<16>() {
            Some(y) => [*x, *y],
            None => [[0; 16]; 2],
        },
        None => [[0; 16]; 2],
    }
}

/// Converts an unfolded little-endian-domain sum to a congruent
/// big-endian-domain one below 2^41 (zero stays zero, non-zero stays
/// non-zero).
#[inline]
pub(crate) fn le_to_be(le: u64) -> u64 {
    // < 2^33, then times 256.
    ((le & 0xffff_ffff) + (le >> 32)) << 8
}

/// Adds `data` to the unfolded running sum `initial` and returns the new
/// unfolded sum. Pass `0` to start. If `data` has an odd length, the last byte
/// is padded on the right with a zero byte (RFC 9293 3.1, "Checksum").
#[inline]
pub fn sum(data: &[u8], initial: u64) -> u64 {
    add(initial, le_to_be(sum_le(data)))
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
    // Two end-around-carry additions of halves, 64 -> 32 -> 16 bits. Each
    // keeps the value modulo 0xffff and keeps a non-zero value non-zero; if
    // an addition carries out, its wrapped result is at most 2^n - 2, so
    // adding the carry back cannot wrap again.
    let (s, c) = (sum as u32).overflowing_add((sum >> 32) as u32);
    let s = s + u32::from(c);
    let (t, c) = (s as u16).overflowing_add((s >> 16) as u16);
    !(t + u16::from(c))
}

/// Copies `src` into `dst` and returns [`sum_le`] of the bytes: one pass
/// instead of a `memcpy` call and a second read, which is what short
/// payloads want. `dst` must be as long as `src` (if not, only a prefix is
/// copied and summed; nothing panics). Payloads of 128 bytes and more use
/// the library `memcpy`, which is faster there than register moves.
#[inline(always)]
pub(crate) fn copy_sum_le(dst: &mut [u8], src: &[u8]) -> u64 {
    debug_assert_eq!(dst.len(), src.len());
    if src.is_empty() {
        return 0;
    }
    if src.len() >= 128 {
        if let Some(d) = dst.get_mut(..src.len()) {
            d.copy_from_slice(src);
        }
        return sum_le(src);
    }
    // Below 128 bytes: fixed-size pieces of 64, 32, ..., 1 bytes, largest
    // first, so every piece but a final odd byte starts at an even offset.
    // No loop, so the compiler cannot turn the copy back into a `memcpy`
    // call; each piece is a few register moves and its sum is unrolled.
    let (mut s, mut d, mut acc) = (src, dst, 0);
    copy_sum_piece::<64>(&mut s, &mut d, &mut acc);
    copy_sum_piece::<32>(&mut s, &mut d, &mut acc);
    copy_sum_piece::<16>(&mut s, &mut d, &mut acc);
    copy_sum_piece::<8>(&mut s, &mut d, &mut acc);
    copy_sum_piece::<4>(&mut s, &mut d, &mut acc);
    copy_sum_piece::<2>(&mut s, &mut d, &mut acc);
    copy_sum_piece::<1>(&mut s, &mut d, &mut acc);
    acc
}

/// One step of [`copy_sum_le`]: if at least `N` bytes remain in both, copy
/// and sum the first `N` and advance past them.
#[inline(always)]
fn copy_sum_piece<const N: usize>(s: &mut &[u8], d: &mut &mut [u8], acc: &mut u64) {
    let Some((x, sr)) = s.split_first_chunk::<N>() else {
        return;
    };
    // A destination shorter than the source (never the case in this crate)
    // is left empty here, which ends the copy.
    let Some((y, dr)) = core::mem::take(d).split_first_chunk_mut::<N>() else {
        return;
    };
    *y = *x;
    *acc = add(*acc, sum_le_fixed(x));
    (*s, *d) = (sr, dr);
}

/// [`sum_le`] of a fixed-size piece, always inlined so that it unrolls into
/// a few loads and adds.
#[inline(always)]
fn sum_le_fixed<const N: usize>(x: &[u8; N]) -> u64 {
    let mut acc: u128 = 0;
    let mut rest: &[u8] = x;
    while let Some((w, r)) = rest.split_first_chunk::<8>() {
        acc += u128::from(u64::from_le_bytes(*w));
        rest = r;
    }
    if let Some((w, r)) = rest.split_first_chunk::<4>() {
        acc += u128::from(u32::from_le_bytes(*w));
        rest = r;
    }
    if let Some((w, r)) = rest.split_first_chunk::<2>() {
        acc += u128::from(u16::from_le_bytes(*w));
        rest = r;
    }
    if let Some(&b) = rest.first() {
        acc += u128::from(b);
    }
    fold128(acc)
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
    fn fold_matches_the_four_step_reference() {
        fn four_step(sum: u64) -> u16 {
            let mut s = (sum & 0xffff_ffff) + (sum >> 32);
            s = (s & 0xffff) + (s >> 16);
            s = (s & 0xffff) + (s >> 16);
            s = (s & 0xffff) + (s >> 16);
            !(s as u16)
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let edges = [
            0,
            1,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            0xffff_fffe_ffff,
            u64::MAX,
            u64::MAX - 1,
            0xffff_0000_ffff_0000,
        ];
        for v in edges.into_iter().chain((0..100_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x >> (x & 63)
        })) {
            assert_eq!(fold(v), four_step(v), "{v:#x}");
        }
    }

    #[test]
    fn little_endian_domain() {
        for len in 0..300 {
            let data: Vec<u8> = (0..len).map(|i| (i * 91 + 7) as u8).collect();
            let le = sum_le(&data);
            assert_eq!(fold(le_to_be(le)), reference(&data), "len {len}");
            let mut copy = vec![0xeeu8; len];
            let copied = copy_sum_le(&mut copy, &data);
            assert_eq!(fold(le_to_be(copied)), reference(&data), "len {len}");
            assert_eq!(copy, data);
        }
        assert_eq!(sum_le(&[0; 33]), 0);
        let ones = vec![0xffu8; 70_000];
        assert_eq!(fold(le_to_be(sum_le(&ones))), reference(&ones));
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
