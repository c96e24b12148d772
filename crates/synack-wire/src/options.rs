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
/// TCP User Timeout (RFC 5482).
pub(crate) const KIND_UTO: u8 = 28;

const LEN_MSS: u8 = 4;
const LEN_WS: u8 = 3;
const LEN_SACK_PERMITTED: u8 = 2;
const LEN_TIMESTAMPS: u8 = 10;
const LEN_UTO: u8 = 4;

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
    /// User Timeout (kind 28, RFC 5482).
    pub user_timeout: Option<UserTimeout>,
}

/// The User Timeout option's value (RFC 5482 section 2): 15 bits of
/// seconds or, with the granularity bit, of minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UserTimeout {
    /// The granularity bit: `value` counts minutes, not seconds.
    pub minutes: bool,
    /// 0 to 32,767.
    pub value: u16,
}

impl UserTimeout {
    /// The option for a timeout of `secs` seconds: in seconds when it fits
    /// 15 bits, else in minutes (rounded down, at most 32,767).
    pub fn from_secs(secs: u64) -> UserTimeout {
        if secs <= 0x7fff {
            UserTimeout {
                minutes: false,
                value: secs as u16,
            }
        } else {
            UserTimeout {
                minutes: true,
                value: (secs / 60).min(0x7fff) as u16,
            }
        }
    }

    /// The timeout in seconds.
    pub fn secs(self) -> u64 {
        u64::from(self.value) * if self.minutes { 60 } else { 1 }
    }

    fn to_wire(self) -> [u8; 2] {
        (u16::from(self.minutes) << 15 | (self.value & 0x7fff)).to_be_bytes()
    }

    fn from_wire(b: [u8; 2]) -> UserTimeout {
        let v = u16::from_be_bytes(b);
        UserTimeout {
            minutes: v & 0x8000 != 0,
            value: v & 0x7fff,
        }
    }
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
        if self.user_timeout.is_some() {
            n += 4;
        }
        n
    }

    /// True when no option is set (the header is then 20 bytes).
    pub fn is_empty(&self) -> bool {
        self.wire_len() == 0
    }
}

/// Decodes the option bytes of a TCP header (everything between byte 20 and
/// data offset * 4): [`parse_fast`] for the common layouts, else
/// [`parse_general`]. The engine-facing path (`TcpSegment::decode`) makes
/// the same two calls.
#[cfg(test)]
pub(crate) fn parse(opts: &[u8]) -> Result<TcpOptions, WireError> {
    match parse_fast(opts) {
        Some(o) => Ok(o),
        None => parse_general(opts),
    }
}

/// The layouts that make up nearly all traffic, recognised whole and
/// decoded without a loop; `None` for anything else. Each decodes exactly
/// as [`parse_general`] would. Kind and length bytes are compared four at a
/// time.
#[inline(always)]
pub(crate) fn parse_fast(opts: &[u8]) -> Option<TcpOptions> {
    const NOP_NOP_TS: u32 =
        u32::from_le_bytes([KIND_NOP, KIND_NOP, KIND_TIMESTAMPS, LEN_TIMESTAMPS]);
    const SACKOK_TS: u32 = u32::from_le_bytes([
        KIND_SACK_PERMITTED,
        LEN_SACK_PERMITTED,
        KIND_TIMESTAMPS,
        LEN_TIMESTAMPS,
    ]);
    const NOP_WS: [u8; 3] = [KIND_NOP, KIND_WS, LEN_WS];
    if opts.is_empty() {
        return Some(TcpOptions::default());
    }
    // Once established, Linux and the BSDs send exactly NOP,NOP,TS on every
    // segment (the RFC 7323 Appendix A layout).
    if let Ok(&[k0, k1, k2, k3, v0, v1, v2, v3, e0, e1, e2, e3]) = <&[u8; 12]>::try_from(opts) {
        if u32::from_le_bytes([k0, k1, k2, k3]) != NOP_NOP_TS {
            return None;
        }
        return Some(TcpOptions {
            timestamps: Some(Timestamps {
                tsval: u32::from_be_bytes([v0, v1, v2, v3]),
                tsecr: u32::from_be_bytes([e0, e1, e2, e3]),
            }),
            ..TcpOptions::default()
        });
    }
    // The Linux SYN and SYN-ACK: mss, sackOK, TS, nop, wscale; or with SACK
    // off: mss, nop, nop, TS, nop, wscale.
    if let Ok(
        &[
            KIND_MSS,
            LEN_MSS,
            m0,
            m1,
            p0,
            p1,
            p2,
            p3,
            v0,
            v1,
            v2,
            v3,
            e0,
            e1,
            e2,
            e3,
            w0,
            w1,
            w2,
            shift,
        ],
    ) = <&[u8; 20]>::try_from(opts)
    {
        let middle = u32::from_le_bytes([p0, p1, p2, p3]);
        if (middle != SACKOK_TS && middle != NOP_NOP_TS) || [w0, w1, w2] != NOP_WS {
            return None;
        }
        return Some(TcpOptions {
            mss: Some(u16::from_be_bytes([m0, m1])),
            window_scale: Some(shift),
            sack_permitted: middle == SACKOK_TS,
            timestamps: Some(Timestamps {
                tsval: u32::from_be_bytes([v0, v1, v2, v3]),
                tsecr: u32::from_be_bytes([e0, e1, e2, e3]),
            }),
            sack: SackBlocks::new(),
            user_timeout: None,
        });
    }
    None
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
#[inline]
pub(crate) fn parse_general(opts: &[u8]) -> Result<TcpOptions, WireError> {
    let mut out = TcpOptions::default();
    let mut rest = opts;
    while let Some((&kind, tail)) = rest.split_first() {
        match kind {
            KIND_EOL => break,
            KIND_NOP => {
                rest = tail;
                continue;
            }
            _ => {}
        }
        let (&len, tail) = tail.split_first().ok_or(WireError::BadOptionLength)?;
        // `len` counts the kind and length bytes; the body is the rest.
        let body_len = usize::from(len)
            .checked_sub(2)
            .ok_or(WireError::BadOptionLength)?;
        let (body, tail) = tail
            .split_at_checked(body_len)
            .ok_or(WireError::BadOptionLength)?;
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
                if len != LEN_SACK_PERMITTED {
                    return Err(WireError::BadOptionLength);
                }
                out.sack_permitted = true;
            }
            KIND_SACK => {
                if body.is_empty() || body.len() % 8 != 0 || body.len() > 8 * MAX_SACK_BLOCKS {
                    return Err(WireError::BadOptionLength);
                }
                out.sack.clear();
                let mut blocks = body;
                while let Some((block, r)) = blocks.split_first_chunk::<8>() {
                    let [l0, l1, l2, l3, r0, r1, r2, r3] = *block;
                    out.sack.push(
                        u32::from_be_bytes([l0, l1, l2, l3]),
                        u32::from_be_bytes([r0, r1, r2, r3]),
                    );
                    blocks = r;
                }
            }
            KIND_TIMESTAMPS => {
                let [v0, v1, v2, v3, e0, e1, e2, e3]: [u8; LEN_TIMESTAMPS as usize - 2] =
                    body.try_into().map_err(|_| WireError::BadOptionLength)?;
                out.timestamps = Some(Timestamps {
                    tsval: u32::from_be_bytes([v0, v1, v2, v3]),
                    tsecr: u32::from_be_bytes([e0, e1, e2, e3]),
                });
            }
            KIND_UTO => {
                let b: [u8; LEN_UTO as usize - 2] =
                    body.try_into().map_err(|_| WireError::BadOptionLength)?;
                out.user_timeout = Some(UserTimeout::from_wire(b));
            }
            _ => {}
        }
        rest = tail;
    }
    Ok(out)
}

/// The big-endian-domain checksum contribution of four bytes (two 16-bit
/// words; a 32-bit word is congruent to the sum of its halves).
#[inline]
fn word_sum(b: [u8; 4]) -> u64 {
    u64::from(u32::from_be_bytes(b))
}

/// Writes one option layout into a TCP header. Each emit path is
/// instantiated once per writer (see `with_writer!`),
/// so the fixed layouts compile to straight-line stores with constant
/// lengths.
pub(crate) trait OptionsWriter: Copy {
    /// The bytes the options take: [`TcpOptions::wire_len`].
    fn len(self) -> usize;

    /// Writes the options in the Linux layout into `out`, which must be
    /// exactly `self.len()` bytes long (the caller makes it so; any other
    /// length yields `BufferTooSmall` rather than a panic). Returns the
    /// unfolded (big-endian-domain) checksum sum of the bytes written,
    /// computed from the values rather than read back.
    ///
    /// Layout (Linux `tcp_options_write`): MSS; then SACK-Permitted+TS or
    /// NOP,NOP,TS or NOP,NOP,SACK-Permitted; then NOP,WS; then NOP,NOP,SACK.
    /// Every option other than NOP carries its length (WF-07), NOPs do the
    /// padding, so the total is a multiple of 4 and no EOL is ever emitted:
    /// there are no bytes after an EOL that could be non-zero (WF-03).
    fn write(self, out: &mut [u8]) -> Result<u64, WireError>;
}

/// No option: a 20-byte header.
#[derive(Clone, Copy)]
pub(crate) struct NoOptions;

impl OptionsWriter for NoOptions {
    #[inline(always)]
    fn len(self) -> usize {
        0
    }
    #[inline(always)]
    fn write(self, out: &mut [u8]) -> Result<u64, WireError> {
        if !out.is_empty() {
            return Err(WireError::BufferTooSmall);
        }
        Ok(0)
    }
}

/// NOP, NOP, TS (12 bytes), on every established segment.
#[derive(Clone, Copy)]
pub(crate) struct TimestampsOnly(pub(crate) Timestamps);

impl OptionsWriter for TimestampsOnly {
    #[inline(always)]
    fn len(self) -> usize {
        12
    }
    #[inline(always)]
    fn write(self, out: &mut [u8]) -> Result<u64, WireError> {
        let ts = self.0;
        let o: &mut [u8; 12] = out.try_into().map_err(|_| WireError::BufferTooSmall)?;
        let head = [KIND_NOP, KIND_NOP, KIND_TIMESTAMPS, LEN_TIMESTAMPS];
        o[0..4].copy_from_slice(&head);
        o[4..8].copy_from_slice(&ts.tsval.to_be_bytes());
        o[8..12].copy_from_slice(&ts.tsecr.to_be_bytes());
        Ok(word_sum(head) + u64::from(ts.tsval) + u64::from(ts.tsecr))
    }
}

/// MSS, SACK-Permitted or NOP NOP, TS, NOP, WS (20 bytes): a SYN or
/// SYN-ACK.
#[derive(Clone, Copy)]
pub(crate) struct SynOptions {
    mss: u16,
    sack_permitted: bool,
    ts: Timestamps,
    shift: u8,
}

impl OptionsWriter for SynOptions {
    #[inline(always)]
    fn len(self) -> usize {
        20
    }
    #[inline(always)]
    fn write(self, out: &mut [u8]) -> Result<u64, WireError> {
        let SynOptions {
            mss,
            sack_permitted,
            ts,
            shift,
        } = self;
        let o: &mut [u8; 20] = out.try_into().map_err(|_| WireError::BufferTooSmall)?;
        let m = mss.to_be_bytes();
        let a = [KIND_MSS, LEN_MSS, m[0], m[1]];
        let b = if sack_permitted {
            [
                KIND_SACK_PERMITTED,
                LEN_SACK_PERMITTED,
                KIND_TIMESTAMPS,
                LEN_TIMESTAMPS,
            ]
        } else {
            [KIND_NOP, KIND_NOP, KIND_TIMESTAMPS, LEN_TIMESTAMPS]
        };
        let c = [KIND_NOP, KIND_WS, LEN_WS, shift];
        o[0..4].copy_from_slice(&a);
        o[4..8].copy_from_slice(&b);
        o[8..12].copy_from_slice(&ts.tsval.to_be_bytes());
        o[12..16].copy_from_slice(&ts.tsecr.to_be_bytes());
        o[16..20].copy_from_slice(&c);
        Ok(word_sum(a) + word_sum(b) + u64::from(ts.tsval) + u64::from(ts.tsecr) + word_sum(c))
    }
}

/// Any other combination, written four bytes at a time; carries
/// [`TcpOptions::wire_len`] (which may exceed 40: the caller checks).
#[derive(Clone, Copy)]
pub(crate) struct GeneralOptions<'a>(pub(crate) &'a TcpOptions, pub(crate) usize);

impl OptionsWriter for GeneralOptions<'_> {
    #[inline(always)]
    fn len(self) -> usize {
        self.1
    }
    #[inline(always)]
    fn write(self, out: &mut [u8]) -> Result<u64, WireError> {
        write_general(self.0, out)
    }
}

/// How a set of options will be written.
pub(crate) enum Layout<'a> {
    Empty(NoOptions),
    Timestamps(TimestampsOnly),
    Syn(SynOptions),
    General(GeneralOptions<'a>),
}

impl Layout<'_> {
    /// Classifies `opts`.
    #[inline(always)]
    pub(crate) fn of(opts: &TcpOptions) -> Layout<'_> {
        if !opts.sack.is_empty() || opts.user_timeout.is_some() {
            return Layout::General(GeneralOptions(opts, opts.wire_len()));
        }
        match (
            opts.mss,
            opts.sack_permitted,
            opts.timestamps,
            opts.window_scale,
        ) {
            (None, false, None, None) => Layout::Empty(NoOptions),
            (None, false, Some(ts), None) => Layout::Timestamps(TimestampsOnly(ts)),
            (Some(mss), sack_permitted, Some(ts), Some(shift)) => Layout::Syn(SynOptions {
                mss,
                sack_permitted,
                ts,
                shift,
            }),
            _ => Layout::General(GeneralOptions(opts, opts.wire_len())),
        }
    }
}

/// Evaluates `$body` with `$w` bound to the [`OptionsWriter`] for
/// `$opts`, once per layout, so that `$body` (a call to a generic function)
/// is compiled separately for each.
macro_rules! with_writer {
    ($opts:expr, $w:ident => $body:expr) => {
        match $crate::options::Layout::of($opts) {
            $crate::options::Layout::Empty($w) => $body,
            $crate::options::Layout::Timestamps($w) => $body,
            $crate::options::Layout::Syn($w) => $body,
            $crate::options::Layout::General($w) => $body,
        }
    };
}
pub(crate) use with_writer;

/// Every other combination, four bytes at a time.
#[inline(never)]
fn write_general(opts: &TcpOptions, out: &mut [u8]) -> Result<u64, WireError> {
    let mut w = Writer {
        out,
        pos: 0,
        sum: 0,
    };
    if let Some(mss) = opts.mss {
        let m = mss.to_be_bytes();
        w.put([KIND_MSS, LEN_MSS, m[0], m[1]])?;
    }
    if let Some(ts) = opts.timestamps {
        if opts.sack_permitted {
            w.put([
                KIND_SACK_PERMITTED,
                LEN_SACK_PERMITTED,
                KIND_TIMESTAMPS,
                LEN_TIMESTAMPS,
            ])?;
        } else {
            w.put([KIND_NOP, KIND_NOP, KIND_TIMESTAMPS, LEN_TIMESTAMPS])?;
        }
        w.put(ts.tsval.to_be_bytes())?;
        w.put(ts.tsecr.to_be_bytes())?;
    } else if opts.sack_permitted {
        w.put([KIND_NOP, KIND_NOP, KIND_SACK_PERMITTED, LEN_SACK_PERMITTED])?;
    }
    if let Some(shift) = opts.window_scale {
        w.put([KIND_NOP, KIND_WS, LEN_WS, shift])?;
    }
    if !opts.sack.is_empty() {
        // At most 2 + 8 * 4 = 34: SackBlocks holds four blocks.
        let len = (2 + 8 * opts.sack.len()) as u8;
        w.put([KIND_NOP, KIND_NOP, KIND_SACK, len])?;
        for &(l, r) in opts.sack.as_slice() {
            w.put(l.to_be_bytes())?;
            w.put(r.to_be_bytes())?;
        }
    }
    if let Some(uto) = opts.user_timeout {
        let [u0, u1] = uto.to_wire();
        w.put([KIND_UTO, LEN_UTO, u0, u1])?;
    }
    if w.pos != w.out.len() {
        return Err(WireError::BufferTooSmall);
    }
    Ok(w.sum)
}

struct Writer<'a> {
    out: &'a mut [u8],
    pos: usize,
    sum: u64,
}

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: [u8; 4]) -> Result<(), WireError> {
        let end = self.pos + 4;
        self.out
            .get_mut(self.pos..end)
            .ok_or(WireError::BufferTooSmall)?
            .copy_from_slice(&bytes);
        self.pos = end;
        self.sum += word_sum(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `o`, checking the returned checksum sum against the bytes.
    fn emit(o: &TcpOptions) -> Vec<u8> {
        let mut buf = vec![0u8; o.wire_len()];
        let sum = crate::options::with_writer!(o, w => {
            assert_eq!(w.len(), o.wire_len());
            w.write(&mut buf).unwrap()
        });
        assert_eq!(
            crate::checksum::fold(sum),
            crate::checksum::fold(crate::checksum::sum(&buf, 0)),
            "{o:?}"
        );
        buf
    }

    /// WF-18 (RFC 5482 2): kind 28, length 4, the granularity bit and 15
    /// bits; emitted only when set, read back as written; seconds when the
    /// value fits, minutes beyond; a wrong length is rejected.
    #[test]
    fn wf18_user_timeout_option() {
        assert!(!emit(&TcpOptions::default()).contains(&KIND_UTO));
        let ten_minutes = UserTimeout::from_secs(600);
        assert_eq!((ten_minutes.minutes, ten_minutes.value), (false, 600));
        let day = UserTimeout::from_secs(86_400);
        assert_eq!((day.minutes, day.value, day.secs()), (true, 1440, 86_400));
        let o = TcpOptions {
            mss: Some(1460),
            user_timeout: Some(day),
            ..TcpOptions::default()
        };
        let b = emit(&o);
        assert_eq!(&b[4..], &[28, 4, 0x85, 0xa0]);
        assert_eq!(parse(&b), Ok(o));
        assert_eq!(parse(&[28, 3, 0, 1]), Err(WireError::BadOptionLength));
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
            user_timeout: None,
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
        let w = |o: &TcpOptions, out: &mut [u8]| crate::options::with_writer!(o, w => w.write(out));
        assert_eq!(w(&o, &mut [0u8; 3]), Err(WireError::BufferTooSmall));
        assert_eq!(w(&o, &mut [0u8; 5]), Err(WireError::BufferTooSmall));
        let ts = TcpOptions {
            timestamps: Some(Timestamps { tsval: 1, tsecr: 2 }),
            ..Default::default()
        };
        assert_eq!(w(&ts, &mut [0u8; 11]), Err(WireError::BufferTooSmall));
        assert_eq!(
            w(&TcpOptions::default(), &mut [0u8; 1]),
            Err(WireError::BufferTooSmall)
        );
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
    fn fast_paths_agree_with_general_loop() {
        let templates: [&[u8]; 4] = [
            &[],
            &[1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8],
            &[
                2, 4, 5, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7,
            ],
            &[
                2, 4, 5, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7,
            ],
        ];
        let values = [0u8, 1, 2, 3, 4, 5, 8, 10, 0x7f, 0xff];
        let mut hits = 0;
        for t in templates {
            assert_eq!(parse_fast(t).map(Ok), Some(parse_general(t)));
            // Every single-byte change either leaves the fast path or
            // decodes exactly as the general loop does.
            for i in 0..t.len() {
                for v in values {
                    let mut b = t.to_vec();
                    b[i] = v;
                    if let Some(o) = parse_fast(&b) {
                        assert_eq!(Ok(o), parse_general(&b), "{b:?}");
                        hits += 1;
                    }
                }
            }
        }
        assert!(hits > 100);
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
