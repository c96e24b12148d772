//! TCP options: parsing (any alignment, single pass) and emission (the Linux
//! layout, so that packetdrill scripts written against Linux match byte for
//! byte).
//!
//! Option kinds handled: End of Option List (0), No-Operation (1), Maximum
//! Segment Size (2, RFC 9293 3.2), Window Scale (3, RFC 7323 2.2),
//! SACK-Permitted (4, RFC 2018 2), SACK (5, RFC 2018 3) and Timestamps
//! (8, RFC 7323 3.2). Other kinds are skipped by their length (MUST-6).

use crate::WireError;

pub(crate) const KIND_EOL: u8 = 0;
pub(crate) const KIND_NOP: u8 = 1;
pub(crate) const KIND_MSS: u8 = 2;
pub(crate) const KIND_WS: u8 = 3;
pub(crate) const KIND_SACK_PERMITTED: u8 = 4;
pub(crate) const KIND_SACK: u8 = 5;
pub(crate) const KIND_TIMESTAMPS: u8 = 8;

const LEN_MSS: u8 = 4;
const LEN_WS: u8 = 3;
const LEN_SACK_PERMITTED: u8 = 2;
const LEN_TIMESTAMPS: u8 = 10;

/// Most SACK blocks one option can carry: 2 + 8 * 4 = 34 bytes, and a fifth
/// would not fit in the 40 bytes of option space (RFC 2018 3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// Most option bytes a TCP header can hold: data offset 15 * 4 - 20.
pub const MAX_OPTIONS_LEN: usize = 40;

/// The Timestamps option (RFC 7323 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct Timestamps {
    /// TSval: the sender's timestamp clock.
    pub tsval: u32,
    /// TSecr: the echoed TSval (meaningful only when ACK is set).
    pub tsecr: u32,
}

/// Up to four SACK blocks `(left edge, right edge)` as raw sequence numbers
/// (RFC 2018 3), stored inline so that parsing never allocates.
///
/// Equality and hashing look only at the stored blocks, never at unused slots.
#[derive(Clone, Copy, Default)]
pub struct SackBlocks {
    len: u8,
    blocks: [(u32, u32); MAX_SACK_BLOCKS],
}

impl SackBlocks {
    /// An empty list.
    pub const fn new() -> Self {
        SackBlocks {
            len: 0,
            blocks: [(0, 0); MAX_SACK_BLOCKS],
        }
    }

    /// Appends a block; returns `false` (and changes nothing) when full.
    pub fn push(&mut self, left: u32, right: u32) -> bool {
        match self.blocks.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = (left, right);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// The stored blocks, in order.
    pub fn as_slice(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.len)]
    }

    /// Number of stored blocks (0..=4).
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when no block is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes all blocks.
    pub fn clear(&mut self) {
        *self = SackBlocks::new();
    }
}

impl PartialEq for SackBlocks {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SackBlocks {}

impl core::hash::Hash for SackBlocks {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl core::fmt::Debug for SackBlocks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// The TCP options this stack understands, decoded.
///
/// When a segment carries the same known option twice, the last occurrence
/// wins: RFC 9293 does not define duplicates, and keeping the last is what a
/// single forward pass does without extra state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct TcpOptions {
    /// Maximum Segment Size (kind 2).
    pub mss: Option<u16>,
    /// Window Scale shift as received (kind 3); the engine clamps values
    /// above 14 (RFC 7323 2.3).
    pub window_scale: Option<u8>,
    /// SACK-Permitted present (kind 4).
    pub sack_permitted: bool,
    /// Timestamps (kind 8).
    pub timestamps: Option<Timestamps>,
    /// SACK blocks (kind 5); empty when the option is absent.
    pub sack: SackBlocks,
}

impl TcpOptions {
    /// Bytes these options take when emitted in the Linux layout (always a
    /// multiple of 4; may exceed 40, which emit rejects with
    /// [`WireError::OptionsTooLong`]).
    #[inline]
    pub fn wire_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.timestamps.is_some() {
            // SACK-Permitted + TS, or NOP NOP TS: 12 bytes either way.
            n += 12;
        } else if self.sack_permitted {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4;
        }
        if !self.sack.is_empty() {
            n += 4 + 8 * self.sack.len();
        }
        n
    }

    /// True when no option is set (the header is then 20 bytes).
    pub fn is_empty(&self) -> bool {
        self.wire_len() == 0
    }
}

/// Decodes the option bytes of a TCP header (everything between byte 20 and
/// data offset * 4) in one pass.
///
/// * EOL (0) ends parsing; whatever follows is padding and is not looked at.
/// * NOP (1) is skipped, so options may start at any alignment (MUST-64).
/// * Every other kind must have a length byte >= 2 that stays inside the
///   header, or the segment is rejected with [`WireError::BadOptionLength`]
///   (MUST-7); nothing is ever read past `opts`.
/// * Known kinds with a wrong length are rejected likewise; unknown kinds
///   are skipped by their length (MUST-6).
pub(crate) fn parse(opts: &[u8]) -> Result<TcpOptions, WireError> {
    let mut out = TcpOptions::default();
    // Fast path: once established, Linux and the BSDs send exactly
    // NOP,NOP,TS on every segment (the RFC 7323 Appendix A layout).
    if let &[
        KIND_NOP,
        KIND_NOP,
        KIND_TIMESTAMPS,
        LEN_TIMESTAMPS,
        v0,
        v1,
        v2,
        v3,
        e0,
        e1,
        e2,
        e3,
    ] = opts
    {
        out.timestamps = Some(Timestamps {
            tsval: u32::from_be_bytes([v0, v1, v2, v3]),
            tsecr: u32::from_be_bytes([e0, e1, e2, e3]),
        });
        return Ok(out);
    }
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            KIND_EOL => break,
            KIND_NOP => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let len = usize::from(*opts.get(i + 1).ok_or(WireError::BadOptionLength)?);
        if len < 2 {
            return Err(WireError::BadOptionLength);
        }
        let body = opts.get(i + 2..i + len).ok_or(WireError::BadOptionLength)?;
        match kind {
            KIND_MSS => {
                let b: [u8; LEN_MSS as usize - 2] =
                    body.try_into().map_err(|_| WireError::BadOptionLength)?;
                out.mss = Some(u16::from_be_bytes(b));
            }
            KIND_WS => {
                let [shift]: [u8; LEN_WS as usize - 2] =
                    body.try_into().map_err(|_| WireError::BadOptionLength)?;
                out.window_scale = Some(shift);
            }
            KIND_SACK_PERMITTED => {
                if len != usize::from(LEN_SACK_PERMITTED) {
                    return Err(WireError::BadOptionLength);
                }
                out.sack_permitted = true;
            }
            KIND_SACK => {
                if body.is_empty() || body.len() % 8 != 0 || body.len() > 8 * MAX_SACK_BLOCKS {
                    return Err(WireError::BadOptionLength);
                }
                out.sack.clear();
                for block in body.chunks_exact(8) {
                    let (l, r) = block.split_at(4);
                    out.sack.push(be32(l), be32(r));
                }
            }
            KIND_TIMESTAMPS => {
                if len != usize::from(LEN_TIMESTAMPS) {
                    return Err(WireError::BadOptionLength);
                }
                let (v, e) = body.split_at(4);
                out.timestamps = Some(Timestamps {
                    tsval: be32(v),
                    tsecr: be32(e),
                });
            }
            _ => {}
        }
        i += len;
    }
    Ok(out)
}

/// Big-endian u32 from a slice the caller has already sized to 4 bytes.
#[inline]
fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b.try_into().unwrap_or([0; 4]))
}

/// Writes `opts` in the Linux layout into `out`, which must hold at least
/// `opts.wire_len()` bytes (the caller checks; a short buffer yields
/// `BufferTooSmall` rather than a panic). Returns the bytes written.
///
/// Layout (Linux `tcp_options_write`): MSS; then SACK-Permitted+TS or
/// NOP,NOP,TS or NOP,NOP,SACK-Permitted; then NOP,WS; then NOP,NOP,SACK.
/// Every option other than NOP carries its length (WF-07), NOPs do the
/// padding, so the total is a multiple of 4 and no EOL is ever emitted:
/// there are no bytes after an EOL that could be non-zero (WF-03).
pub(crate) fn write(opts: &TcpOptions, out: &mut [u8]) -> Result<usize, WireError> {
    let mut w = Writer { out, pos: 0 };
    if let Some(mss) = opts.mss {
        let m = mss.to_be_bytes();
        w.put(&[KIND_MSS, LEN_MSS, m[0], m[1]])?;
    }
    if let Some(ts) = opts.timestamps {
        if opts.sack_permitted {
            w.put(&[KIND_SACK_PERMITTED, LEN_SACK_PERMITTED])?;
        } else {
            w.put(&[KIND_NOP, KIND_NOP])?;
        }
        w.put(&[KIND_TIMESTAMPS, LEN_TIMESTAMPS])?;
        w.put(&ts.tsval.to_be_bytes())?;
        w.put(&ts.tsecr.to_be_bytes())?;
    } else if opts.sack_permitted {
        w.put(&[KIND_NOP, KIND_NOP, KIND_SACK_PERMITTED, LEN_SACK_PERMITTED])?;
    }
    if let Some(shift) = opts.window_scale {
        w.put(&[KIND_NOP, KIND_WS, LEN_WS, shift])?;
    }
    if !opts.sack.is_empty() {
        // At most 2 + 8 * 4 = 34: SackBlocks holds four blocks.
        let len = (2 + 8 * opts.sack.len()) as u8;
        w.put(&[KIND_NOP, KIND_NOP, KIND_SACK, len])?;
        for &(l, r) in opts.sack.as_slice() {
            w.put(&l.to_be_bytes())?;
            w.put(&r.to_be_bytes())?;
        }
    }
    Ok(w.pos)
}

struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let end = self.pos + bytes.len();
        self.out
            .get_mut(self.pos..end)
            .ok_or(WireError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(o: &TcpOptions) -> Vec<u8> {
        let mut buf = [0u8; 64];
        let n = write(o, &mut buf).unwrap();
        assert_eq!(n, o.wire_len());
        buf[..n].to_vec()
    }

    #[test]
    fn linux_syn_layout() {
        let o = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0,
            }),
            sack: SackBlocks::new(),
        };
        // mss 1460,sackOK,TS val 16909060 ecr 0,nop,wscale 7
        assert_eq!(
            emit(&o),
            [
                2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7
            ]
        );
        assert_eq!(parse(&emit(&o)), Ok(o));
    }

    #[test]
    fn layout_without_timestamps_or_sack_perm() {
        let mut o = TcpOptions {
            sack_permitted: true,
            ..Default::default()
        };
        assert_eq!(emit(&o), [1, 1, 4, 2]);
        o.sack_permitted = false;
        o.timestamps = Some(Timestamps { tsval: 1, tsecr: 2 });
        assert_eq!(emit(&o), [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        o.timestamps = None;
        o.sack.push(10, 20);
        assert_eq!(emit(&o), [1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20]);
        assert_eq!(emit(&TcpOptions::default()), []);
    }

    #[test]
    fn write_reports_short_buffer() {
        let o = TcpOptions {
            mss: Some(536),
            ..Default::default()
        };
        assert_eq!(write(&o, &mut [0u8; 3]), Err(WireError::BufferTooSmall));
    }

    #[test]
    fn wf04_options_at_odd_alignment() {
        // One NOP shifts MSS to offset 1, WS to offset 5, TS to offset 8+1.
        let bytes = [
            1, 2, 4, 0x02, 0x18, 3, 3, 14, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 0,
        ];
        let o = parse(&bytes).unwrap();
        assert_eq!(o.mss, Some(0x218));
        assert_eq!(o.window_scale, Some(14));
        assert_eq!(o.timestamps, Some(Timestamps { tsval: 9, tsecr: 8 }));
    }

    #[test]
    fn wf05_unknown_kind_skipped_by_length() {
        // Kind 253 (experimental, RFC 4727) with length 6, then MSS.
        let bytes = [253, 6, 0xde, 0xad, 0xbe, 0xef, 2, 4, 0x05, 0xb4];
        assert_eq!(parse(&bytes).unwrap().mss, Some(1460));
    }

    #[test]
    fn wf06_mss_length_zero_and_wrong_lengths() {
        assert_eq!(parse(&[2, 0, 0, 0]), Err(WireError::BadOptionLength));
        assert_eq!(parse(&[2, 1, 0, 0]), Err(WireError::BadOptionLength));
        assert_eq!(parse(&[2, 5, 0, 0, 0]), Err(WireError::BadOptionLength));
        assert_eq!(parse(&[3, 4, 7, 0]), Err(WireError::BadOptionLength));
        assert_eq!(parse(&[4, 3, 0, 0]), Err(WireError::BadOptionLength));
        assert_eq!(
            parse(&[8, 8, 0, 0, 0, 0, 0, 0]),
            Err(WireError::BadOptionLength)
        );
        // SACK with no block, and with a partial block.
        assert_eq!(parse(&[5, 2, 1, 1]), Err(WireError::BadOptionLength));
        assert_eq!(parse(&[5, 6, 0, 0, 0, 0]), Err(WireError::BadOptionLength));
        // Unknown kinds still need length >= 2.
        assert_eq!(parse(&[99, 1, 0, 0]), Err(WireError::BadOptionLength));
    }

    #[test]
    fn sack_with_five_blocks_rejected() {
        let mut bytes = vec![5u8, 42];
        bytes.extend_from_slice(&[0; 40]);
        assert_eq!(parse(&bytes), Err(WireError::BadOptionLength));
    }

    #[test]
    fn wf06_length_past_header_end() {
        assert_eq!(parse(&[1, 1, 2, 4, 5]), Err(WireError::BadOptionLength));
        assert_eq!(parse(&[253, 9, 0, 0]), Err(WireError::BadOptionLength));
        // Length byte itself missing.
        assert_eq!(parse(&[1, 1, 1, 2]), Err(WireError::BadOptionLength));
    }

    #[test]
    fn eol_then_junk_ignored() {
        // After EOL the rest is padding, even if it would be malformed.
        let o = parse(&[2, 4, 0, 100, 0, 2, 0, 0xff]).unwrap();
        assert_eq!(o.mss, Some(100));
        assert_eq!(o.window_scale, None);
    }

    #[test]
    fn duplicate_options_last_wins() {
        let o = parse(&[
            2, 4, 0, 1, 2, 4, 0, 2, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 3, 0, 0, 0, 4,
        ])
        .unwrap();
        assert_eq!(o.mss, Some(2));
        assert_eq!(o.sack.as_slice(), &[(3, 4)]);
    }

    #[test]
    fn sack_blocks_container() {
        let mut s = SackBlocks::new();
        assert!(s.is_empty());
        for i in 0..4 {
            assert!(s.push(i, i + 1));
        }
        assert!(!s.push(9, 9));
        assert_eq!(s.len(), 4);
        assert_eq!(s.as_slice()[3], (3, 4));
        s.clear();
        assert!(s.is_empty());
        // Equality ignores stale slots.
        let mut a = SackBlocks::new();
        a.push(1, 2);
        let mut b = SackBlocks::new();
        b.push(1, 2);
        b.push(3, 4);
        b.len = 1;
        assert_eq!(a, b);
        assert_eq!(format!("{a:?}"), "[(1, 2)]");
    }
}
