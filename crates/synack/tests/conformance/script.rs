//! The script language of the harness: segments to inject (`In`, built
//! with `seg`), captured segments (`Seg`) and expectations (`Exp`, built
//! with `out`), with sequence numbers relative to the ISNs.

#![allow(dead_code)]

use crate::harness::bytes;
use std::net::SocketAddr;
use synack::Instant;
use synack_wire::{SackBlocks, TcpFlags, TcpOptions, Timestamps};

pub const SYN: TcpFlags = TcpFlags::SYN;
pub const ACK: TcpFlags = TcpFlags::ACK;
pub const FIN: TcpFlags = TcpFlags::FIN;
pub const RST: TcpFlags = TcpFlags::RST;
pub const PSH: TcpFlags = TcpFlags::PSH;
pub const URG: TcpFlags = TcpFlags::URG;
pub const ECE: TcpFlags = TcpFlags::ECE;
pub const CWR: TcpFlags = TcpFlags::CWR;
pub const NONE: TcpFlags = TcpFlags::NONE;

/// A sequence or acknowledgment number as a script writes it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Num {
    Rel(i64),
    Abs(u32),
}

/// A segment to inject, built field by field.
#[derive(Clone, Debug)]
pub struct In {
    pub(crate) flags: TcpFlags,
    pub(crate) seq: Num,
    pub(crate) ack: Option<Num>,
    pub(crate) window: u16,
    pub(crate) urgent: u16,
    pub(crate) options: TcpOptions,
    pub(crate) raw_options: Option<Vec<u8>>,
    pub(crate) ip_options: Option<Vec<u8>>,
    pub(crate) reserved: u8,
    pub(crate) payload: Vec<u8>,
    pub(crate) src: Option<SocketAddr>,
    pub(crate) dst: Option<SocketAddr>,
    pub(crate) bad_checksum: bool,
    /// No Timestamps option even on a connection that negotiated them.
    pub(crate) no_ts: bool,
    /// The IP header's TOS / traffic class byte (its low two bits are the
    /// ECN field).
    pub(crate) tos: u8,
}

/// A segment with these flags, SEQ = IRS + 0, no ACK number, window 65535.
pub fn seg(flags: TcpFlags) -> In {
    In {
        flags,
        seq: Num::Rel(0),
        ack: None,
        window: 65535,
        urgent: 0,
        options: TcpOptions::default(),
        raw_options: None,
        ip_options: None,
        reserved: 0,
        payload: Vec::new(),
        src: None,
        dst: None,
        bad_checksum: false,
        no_ts: false,
        tos: 0,
    }
}

impl In {
    /// SEQ = IRS + `off` (offsets may be negative; arithmetic wraps).
    pub fn seq(mut self, off: i64) -> Self {
        self.seq = Num::Rel(off);
        self
    }
    pub fn abs_seq(mut self, seq: u32) -> Self {
        self.seq = Num::Abs(seq);
        self
    }
    /// ACK = ISS + `off`.
    pub fn ack(mut self, off: i64) -> Self {
        self.ack = Some(Num::Rel(off));
        self
    }
    pub fn abs_ack(mut self, ack: u32) -> Self {
        self.ack = Some(Num::Abs(ack));
        self
    }
    pub fn win(mut self, w: u16) -> Self {
        self.window = w;
        self
    }
    pub fn urgent(mut self, up: u16) -> Self {
        self.urgent = up;
        self
    }
    pub fn opts(mut self, o: TcpOptions) -> Self {
        self.options = o;
        self
    }
    pub fn mss(mut self, mss: u16) -> Self {
        self.options.mss = Some(mss);
        self
    }
    pub fn ws(mut self, shift: u8) -> Self {
        self.options.window_scale = Some(shift);
        self
    }
    pub fn sack_perm(mut self) -> Self {
        self.options.sack_permitted = true;
        self
    }
    /// SACK blocks (RFC 2018 3), `(left, right)` in absolute sequence
    /// numbers (see `Harness::abs_seq` for ISS-relative ones); at most 4.
    pub fn sack(mut self, blocks: &[(u32, u32)]) -> Self {
        let mut b = SackBlocks::new();
        for &(left, right) in blocks {
            assert!(b.push(left, right), "at most 4 SACK blocks");
        }
        self.options.sack = b;
        self
    }
    pub fn ts(mut self, tsval: u32, tsecr: u32) -> Self {
        self.options.timestamps = Some(Timestamps { tsval, tsecr });
        self
    }
    /// Option bytes exactly as given (padded with zeros to 4 bytes).
    pub fn raw_opts(mut self, b: &[u8]) -> Self {
        self.raw_options = Some(b.to_vec());
        self
    }
    /// IPv4 options exactly as given (padded with zeros to 4 bytes).
    pub fn ip_opts(mut self, b: &[u8]) -> Self {
        self.ip_options = Some(b.to_vec());
        self
    }
    /// The four reserved bits of byte 12.
    pub fn reserved(mut self, bits: u8) -> Self {
        self.reserved = bits & 0x0F;
        self
    }
    pub fn data(mut self, d: &[u8]) -> Self {
        self.payload = d.to_vec();
        self
    }
    /// `n` bytes of payload.
    pub fn len(mut self, n: usize) -> Self {
        self.payload = bytes(n);
        self
    }
    pub fn from(mut self, a: SocketAddr) -> Self {
        self.src = Some(a);
        self
    }
    pub fn to(mut self, a: SocketAddr) -> Self {
        self.dst = Some(a);
        self
    }
    pub fn bad_checksum(mut self) -> Self {
        self.bad_checksum = true;
        self
    }
    /// Marked Congestion Experienced on the way (RFC 3168: ECN field 11).
    pub fn ce(mut self) -> Self {
        self.tos = 0b11;
        self
    }
    /// Leaves the Timestamps option out on a connection that negotiated
    /// it (the harness adds one otherwise).
    pub fn no_ts(mut self) -> Self {
        self.no_ts = true;
        self
    }
}

/// One captured datagram, decoded.
#[derive(Clone, Debug)]
pub struct Seg {
    /// When it was emitted (virtual time).
    pub at: Instant,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ttl: u8,
    pub seq: u32,
    pub ack: u32,
    /// SEQ - ISS and ACK - IRS of the connection it belongs to (absolute
    /// when the 4-tuple is not a scripted peer).
    pub rseq: u32,
    pub rack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    /// The urgent pointer field (meaningful with URG).
    pub urgent: u16,
    /// The IP header's ECN field (0 Not-ECT, 2 ECT(0), 3 CE).
    pub ecn: u8,
    pub options: TcpOptions,
    pub payload: Vec<u8>,
    pub raw: Vec<u8>,
}

impl Seg {
    pub fn has(&self, f: TcpFlags) -> bool {
        self.flags.contains(f)
    }
}

/// What a test expects of the next emitted segment. Unset fields are not
/// checked; flags are compared exactly.
#[derive(Clone, Debug, Default)]
pub struct Exp {
    pub(crate) flags: Option<TcpFlags>,
    pub(crate) seq: Option<Num>,
    pub(crate) ack: Option<Num>,
    pub(crate) window: Option<u16>,
    pub(crate) len: Option<usize>,
    pub(crate) dst: Option<SocketAddr>,
}

/// Expect a segment with exactly these flags.
pub fn out(flags: TcpFlags) -> Exp {
    Exp {
        flags: Some(flags),
        ..Exp::default()
    }
}

impl Exp {
    /// SEQ = ISS + `off`.
    pub fn seq(mut self, off: i64) -> Self {
        self.seq = Some(Num::Rel(off));
        self
    }
    pub fn abs_seq(mut self, v: u32) -> Self {
        self.seq = Some(Num::Abs(v));
        self
    }
    /// ACK = IRS + `off`.
    pub fn ack(mut self, off: i64) -> Self {
        self.ack = Some(Num::Rel(off));
        self
    }
    pub fn abs_ack(mut self, v: u32) -> Self {
        self.ack = Some(Num::Abs(v));
        self
    }
    pub fn win(mut self, w: u16) -> Self {
        self.window = Some(w);
        self
    }
    /// Payload length.
    pub fn len(mut self, n: usize) -> Self {
        self.len = Some(n);
        self
    }
    pub fn to(mut self, a: SocketAddr) -> Self {
        self.dst = Some(a);
        self
    }
}

pub(crate) fn resolve(n: Num, base: u32) -> u32 {
    match n {
        Num::Rel(o) => base.wrapping_add(o as u32),
        Num::Abs(a) => a,
    }
}

pub fn flags_str(f: TcpFlags) -> String {
    let names = [
        (TcpFlags::SYN, "S"),
        (TcpFlags::FIN, "F"),
        (TcpFlags::RST, "R"),
        (TcpFlags::PSH, "P"),
        (TcpFlags::ACK, "."),
        (TcpFlags::URG, "U"),
        (TcpFlags::ECE, "E"),
        (TcpFlags::CWR, "W"),
    ];
    let s: String = names
        .iter()
        .filter(|(b, _)| f.contains(*b))
        .map(|(_, n)| *n)
        .collect();
    if s.is_empty() { "none".into() } else { s }
}

/// A tcpdump-like line.
pub fn describe(s: &Seg) -> String {
    format!(
        "{} {} > {} [{}] seq {} (rel {}) ack {} (rel {}) win {} len {} {:?}",
        s.at,
        s.src,
        s.dst,
        flags_str(s.flags),
        s.seq,
        s.rseq,
        s.ack,
        s.rack,
        s.window,
        s.payload.len(),
        s.options
    )
}
