//! SACK and loss recovery (RFC-CHECKLIST.md section 3.H, LR-01 to LR-12,
//! and the SACK rows WF-15 and WF-16 of section 3.A): the blocks the
//! receiver reports (RFC 2018, RFC 2883), and what the sender does with
//! them: the scoreboard, RFC 6675 recovery, RACK's time-based loss
//! detection and tail loss probes (RFC 8985), and undoing a reduction that
//! turned out spurious (RFC 2883, RFC 5682).
//!
//! - `receiver`: the SACK and D-SACK blocks we send (WF-15, WF-16, LR-06,
//!   LR-07);
//! - `rfc6675`: the scoreboard and SACK-based recovery (LR-01 to LR-05),
//!   and the duplicate-ACK path without SACK (LR-08);
//! - `rack_tlp`: RACK's time-based loss detection and reordering window,
//!   tail loss probes and the timers (LR-09 to LR-12);
//! - `undo`: spurious reductions undone by D-SACK and F-RTO.
//!
//! Sender scripts run on a passive connection whose handshake took 100 ms
//! (so SRTT = min RTT = 100 ms and RTO = 1 s), with MSS 1460 and no
//! timestamps; segment `k` of the stream starts at ISS + 1 + 1460·k. The
//! peer's ACKs carry SACK blocks given the same way.

use crate::harness::*;
use core::time::Duration;
use synack::cc::Algorithm;
use synack::{Config, Instant, RecoveryState, Timer};

mod rack_tlp;
mod receiver;
mod rfc6675;
mod undo;

/// The sender's MSS in these scripts (the peer offers 1460, no timestamps).
const MSS: usize = 1460;
/// The path's round-trip time.
const RTT: Duration = Duration::from_millis(100);

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

/// Where segment `k` of the stream starts, relative to ISS (or IRS).
fn at(k: usize) -> i64 {
    1 + (k * MSS) as i64
}

/// The SACK block covering segments `a..b`.
fn segs(a: usize, b: usize) -> (i64, i64) {
    (at(a), at(b))
}

/// The default configuration with NewReno, whose reduction is exactly
/// RFC 5681's (half the flight, at least two segments).
fn newreno() -> Config {
    let mut c = conf();
    c.congestion_control = Algorithm::NewReno;
    c
}

/// A passive connection with a peer that offers SACK-permitted (and
/// timestamps if `ts`); the third ACK comes one RTT after the SYN-ACK.
fn established(cfg: Config, sack: bool, ts: bool) -> Harness {
    established_window(cfg, sack, ts, 65535)
}

/// The same with the peer's window `win` (unscaled).
fn established_window(cfg: Config, sack: bool, ts: bool, win: u16) -> Harness {
    let mut h = Harness::new(cfg);
    h.listen();
    let mut syn = seg(SYN).seq(0).mss(1460).win(win);
    if sack {
        syn = syn.sack_perm();
    }
    if ts {
        syn = syn.ts(100, 0);
    }
    h.inject(syn);
    let sa = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(sa.options.sack_permitted, sack, "SACK-permitted answered");
    h.advance(RTT);
    let mut third = seg(ACK).seq(1).ack(1).win(win);
    if ts {
        let tsval = sa.options.timestamps.expect("timestamps answered").tsval;
        third = third.ts(101, tsval);
    }
    h.inject(third);
    h.expect_none();
    h.take_events();
    h.accept().expect("accept");
    let i = h.info().unwrap();
    assert_eq!(i.sack, sack);
    assert_eq!(i.srtt, Some(RTT));
    assert_eq!(i.min_rtt, Some(RTT));
    assert_eq!(i.rto, secs(1));
    h
}

/// A SACK-permitted peer, no timestamps.
fn sack_peer(cfg: Config) -> Harness {
    established(cfg, true, false)
}

/// An ACK from the peer: cumulative `ack` and the SACK blocks `blocks`
/// (relative to ISS), first block first. Its window is the one the
/// engine has from the peer, so no ACK is a window update.
fn sack_ack(h: &mut Harness, ack: i64, blocks: &[(i64, i64)]) {
    let win = h.info().unwrap().snd_wnd.min(65535) as u16;
    sack_ack_window(h, ack, blocks, win);
}

/// The same with window `win`.
fn sack_ack_window(h: &mut Harness, ack: i64, blocks: &[(i64, i64)], win: u16) {
    let mut o = TcpOptions::default();
    let iss = h.iss();
    for &(l, r) in blocks {
        assert!(
            o.sack
                .push(iss.wrapping_add(l as u32), iss.wrapping_add(r as u32))
        );
    }
    h.inject(seg(ACK).seq(1).ack(ack).opts(o).win(win));
}

/// A plain ACK from the peer (no SACK option), window unchanged.
fn ack(h: &mut Harness, ack: i64) {
    sack_ack(h, ack, &[]);
}

/// Which stream segment an emitted full-sized data segment is.
#[track_caller]
fn index(s: &Seg) -> usize {
    assert_eq!(s.payload.len(), MSS, "a full segment: {}", describe(s));
    assert!(!s.has(SYN) && !s.has(FIN) && !s.has(RST), "{}", describe(s));
    let off = s.rseq.wrapping_sub(1) as usize;
    assert_eq!(off % MSS, 0, "segment boundary: {}", describe(s));
    off / MSS
}

/// The stream segments emitted since the last look, in order.
#[track_caller]
fn sent(h: &mut Harness) -> Vec<usize> {
    h.drain().iter().map(index).collect()
}

/// Writes `n` segments' worth of data and checks that segments
/// `first..first + leave` go out at once, in order.
#[track_caller]
fn write(h: &mut Harness, first: usize, n: usize, leave: usize) {
    h.send(&bytes(n * MSS)).unwrap();
    let want: Vec<usize> = (first..first + leave).collect();
    assert_eq!(sent(h), want, "the flight");
}

/// The original transmission of the segment starting at `rseq`.
fn original(h: &Harness, rseq: u32) -> Vec<u8> {
    h.log
        .iter()
        .find(|s| s.rseq == rseq && !s.payload.is_empty())
        .expect("sent before")
        .payload
        .clone()
}

fn timer(h: &Harness) -> Option<(Timer, Instant)> {
    h.info().unwrap().timer
}
