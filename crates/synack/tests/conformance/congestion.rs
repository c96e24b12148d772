//! Congestion control (RFC-CHECKLIST.md section 3.G, CC-01 .. CC-14): the
//! initial window, slow start and congestion avoidance, the response to a
//! timeout, duplicate ACKs, fast retransmit and limited transmit, NewReno
//! partial ACKs, one reduction per window, the idle restart, the window
//! after a path MTU change, and CUBIC's decrease and growth (RFC 5681, RFC
//! 6928, RFC 3042, RFC 6582, RFC 9438).
//!
//! Short exchanges are scripted segment by segment. Longer ones run
//! against [`Pipe`]: the scripted peer as a receiver behind a path of a
//! fixed round-trip time that acknowledges every segment one RTT after it
//! was sent (with SACK blocks when SACK was negotiated), loses what the
//! test says, while the application keeps the send buffer full. Counting
//! the segments sent in each round trip then shows the window at the
//! packet level.

use crate::harness::*;
use core::time::Duration;
use std::collections::VecDeque;
use synack::cc::Algorithm;
use synack::{
    Config, ConnInfo, IcmpError, IcmpErrorKind, InitialWindow, Instant, RecoveryState, SeqNum,
};

/// The MSS of these scripts (the peer offers 1460, the engine's MTU is
/// 1500, no timestamps).
const MSS: u32 = 1460;

/// The start, relative to ISS, of the `k`-th full-sized segment (from 0).
fn at(k: u32) -> u32 {
    1 + k * MSS
}

fn config(alg: Algorithm, iw: InitialWindow) -> Config {
    let mut c = conf();
    c.congestion_control = alg;
    c.initial_window = iw;
    c
}

fn newreno() -> Config {
    config(Algorithm::NewReno, InitialWindow::Rfc6928)
}

fn rfc5681() -> Config {
    config(Algorithm::Cubic, InitialWindow::Rfc5681)
}

/// What the peer puts on its SYN: MSS 1460, and SACK-permitted and a
/// window scale if asked.
fn peer_opts(sack: bool, wscale: Option<u8>) -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        sack_permitted: sack,
        window_scale: wscale,
        ..TcpOptions::default()
    }
}

/// A passive connection whose handshake took `rtt` (the third ACK comes
/// `rtt` after the SYN-ACK, which gives the engine its first RTT sample),
/// accepted.
fn established(cfg: Config, opts: TcpOptions, rtt: Duration) -> Harness {
    let mut h = Harness::new(cfg);
    h.peer_syn_opts = opts;
    h.listen();
    h.inject(seg(SYN).seq(0).opts(opts));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.advance(rtt);
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    h.take_events();
    h.accept().expect("accept");
    h
}

/// Every segment emitted so far carries data: their (SEQ - ISS, length).
#[track_caller]
fn data(segs: &[Seg]) -> Vec<(u32, u32)> {
    segs.iter()
        .map(|s| {
            assert!(!s.payload.is_empty(), "a data segment: {}", describe(s));
            (s.rseq, s.payload.len() as u32)
        })
        .collect()
}

/// A large write; returns the data segments it releases at once.
fn write_big(h: &mut Harness) -> Vec<(u32, u32)> {
    h.send(&bytes(200_000)).unwrap();
    data(&h.drain())
}

/// `n` back-to-back full segments from `from` (relative to ISS), of `mss`.
fn run_of(from: u32, n: u32, mss: u32) -> Vec<(u32, u32)> {
    (0..n).map(|k| (from + k * mss, mss)).collect()
}

fn info(h: &Harness) -> ConnInfo {
    h.info().expect("the connection exists")
}

// ---- CC-01, CC-02: the initial window ------------------------------------------

/// CC-01 (RFC 6928 2, the default): a large write right after the
/// handshake sends IW = min(10·MSS, max(2·MSS, 14600)) = 10 segments of
/// 1460 before any ACK, then nothing until an ACK (or the RTO) comes;
/// the handshake left cwnd at exactly IW (CC-02: the SYN-ACK and its ACK
/// do not grow it), on the passive and the active side.
#[test]
fn cc_01_iw10_by_default() {
    let mut passive = Harness::passive_established(conf());
    let mut active = Harness::active_established(conf());
    for h in [&mut passive, &mut active] {
        assert_eq!(info(h).cwnd, 14_600, "CC-02: the handshake grows nothing");
        assert_eq!(write_big(h), run_of(1, 10, MSS));
        h.advance(millis(999));
        h.expect_none();
    }
}

/// CC-01 (RFC 5681 3.1 equation 1, MUST; RFC 6928 2): the initial window
/// by SMSS, counted in segments released by a large write before the
/// first ACK. RFC 5681: 2 segments above 2190 bytes, 3 up to 2190, 4 up to
/// 1095. RFC 6928: min(10·MSS, max(2·MSS, 14600)) bytes, in whole
/// segments (for MSS 2000, 7 segments fill 14000 of the 14600 bytes; the
/// rest waits, as a partial segment would be silly-window sending).
#[test]
fn cc_01_initial_window_by_mss() {
    // (peer MSS, our MTU, RFC 5681 segments, RFC 6928 segments)
    let cases: [(u16, u16, u32, u32); 6] = [
        (1460, 1500, 3, 10),
        (2190, 9000, 3, 6),
        (2191, 9000, 2, 6),
        (1095, 1500, 4, 10),
        (1000, 1500, 4, 10),
        (8960, 9000, 2, 2),
    ];
    for (mss, mtu, segs_5681, segs_6928) in cases {
        for (iw, segs) in [
            (InitialWindow::Rfc5681, segs_5681),
            (InitialWindow::Rfc6928, segs_6928),
        ] {
            let mut c = config(Algorithm::Cubic, iw);
            c.mtu = mtu;
            let mut h = Harness::new(c);
            h.listen();
            h.inject(seg(SYN).seq(0).mss(mss));
            h.expect(out(SYN | ACK).seq(0).ack(1));
            h.inject(seg(ACK).seq(1).ack(1));
            h.take_events();
            h.accept().unwrap();
            let m = u32::from(mss);
            let iw_bytes = match iw {
                InitialWindow::Rfc5681 => segs_5681 * m,
                _ => (10 * m).min((2 * m).max(14_600)),
            };
            assert_eq!(info(&h).cwnd, iw_bytes, "MSS {mss} {iw:?}");
            assert_eq!(write_big(&mut h), run_of(1, segs, m), "MSS {mss} {iw:?}");
        }
    }
}

/// CC-02 (RFC 5681 3.1, MUST): when the SYN-ACK had to be retransmitted,
/// the initial window is one segment: a large write sends one segment, and
/// slow start goes on from there (its ACK releases two).
#[test]
fn cc_02_lost_syn_ack_gives_one_segment_rfc5681() {
    let mut h = Harness::passive_syn_received(rfc5681());
    h.advance(secs(1));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().unwrap();
    assert_eq!(info(&h).cwnd, MSS);
    assert_eq!(write_big(&mut h), run_of(1, 1, MSS));
    h.inject(seg(ACK).seq(1).ack(i64::from(at(1))));
    assert_eq!(data(&h.drain()), run_of(at(1), 2, MSS));
}

/// CC-02 (RFC 5681 3.1, MUST), active side: a lost SYN, sent again after
/// the 1 s RTO, leaves an initial window of one segment.
#[test]
fn cc_02_lost_syn_gives_one_segment_rfc5681() {
    let mut h = Harness::active_syn_sent(rfc5681());
    h.advance(secs(1));
    h.expect(out(SYN).seq(0));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(info(&h).cwnd, MSS);
    assert_eq!(write_big(&mut h), run_of(1, 1, MSS));
}

/// CC-02 with IW10 (RFC 6928 2: "refrain from resetting the initial window
/// to 1 segment, unless there have been more than one SYN or SYN/ACK
/// retransmissions"): one SYN-ACK retransmission keeps 10 segments, two
/// give one; likewise two SYN retransmissions on the active side.
#[test]
fn cc_02_iw10_resets_only_after_two_retransmissions() {
    for (retransmissions, segs) in [(1u32, 10u32), (2, 1)] {
        let mut h = Harness::passive_syn_received(conf());
        for k in 0..retransmissions {
            h.advance(secs(1 << k));
            h.expect(out(SYN | ACK).seq(0).ack(1));
        }
        h.inject(seg(ACK).seq(1).ack(1));
        h.take_events();
        h.accept().unwrap();
        assert_eq!(
            write_big(&mut h),
            run_of(1, segs, MSS),
            "{retransmissions} SYN-ACK retransmissions"
        );
    }
    let mut h = Harness::active_syn_sent(conf());
    h.advance(secs(1));
    h.expect(out(SYN).seq(0));
    h.advance(secs(2));
    h.expect(out(SYN).seq(0));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(write_big(&mut h), run_of(1, 1, MSS));
}

// ---- CC-03: slow start ------------------------------------------------------

/// CC-03 (MUST-19, RFC 5681 3.1 equation 2 with byte counting): ssthresh
/// starts "arbitrarily high", and in slow start each ACK grows cwnd by the
/// bytes it newly acknowledges, at most one SMSS. A peer that acknowledges
/// the first segment 100 bytes at a time (ACK division: 15 ACKs) gains the
/// sender 1460 bytes of window, not 15 segments: cwnd goes 14600 + 100 per
/// ACK, and exactly two more full segments leave (the 1460 bytes freed and
/// the 1460 grown), the second only with the last ACK. Both algorithms.
#[test]
fn cc_03_ack_division_grows_by_bytes_acked() {
    for alg in [Algorithm::NewReno, Algorithm::Cubic] {
        let mut h = Harness::passive_established(config(alg.clone(), InitialWindow::Rfc6928));
        assert_eq!(info(&h).ssthresh, u32::MAX, "{alg:?}: initial ssthresh");
        assert_eq!(write_big(&mut h), run_of(1, 10, MSS));
        let mut sent = Vec::new();
        let mut acked = 0;
        while acked < MSS {
            acked = (acked + 100).min(MSS);
            h.inject(seg(ACK).seq(1).ack(i64::from(1 + acked)));
            sent.extend(data(&h.drain()));
            assert_eq!(info(&h).cwnd, 14_600 + acked, "{alg:?} after {acked} bytes");
            // New data sent so far: at most what was acknowledged twice over.
            let bytes: u32 = sent.iter().map(|s| s.1).sum();
            assert!(bytes <= 2 * acked, "{alg:?}: {bytes} bytes for {acked}");
        }
        assert_eq!(sent, run_of(at(10), 2, MSS), "{alg:?}");
    }
}

/// CC-03 (RFC 5681 3.1, RFC 3465 with L = 1 SMSS): a stretch ACK of five
/// segments grows cwnd by one SMSS, not five: six segments leave (five
/// freed, one grown).
#[test]
fn cc_03_stretch_ack_grows_by_one_smss() {
    for alg in [Algorithm::NewReno, Algorithm::Cubic] {
        let mut h = Harness::passive_established(config(alg.clone(), InitialWindow::Rfc6928));
        assert_eq!(write_big(&mut h), run_of(1, 10, MSS));
        h.inject(seg(ACK).seq(1).ack(i64::from(at(5))));
        assert_eq!(info(&h).cwnd, 14_600 + MSS, "{alg:?}");
        assert_eq!(data(&h.drain()), run_of(at(10), 6, MSS), "{alg:?}");
    }
}

// ---- CC-06, CC-07: duplicate ACKs ---------------------------------------------

/// No segment in `segs` is a retransmission: all start at or after `from`.
#[track_caller]
fn all_new(segs: &[(u32, u32)], from: u32) {
    assert!(
        segs.iter().all(|s| s.0 >= from),
        "a retransmission in {segs:?}"
    );
}

/// CC-06 (RFC 5681 2 and 3.2; peer without SACK): what counts as a
/// duplicate ACK, and fast retransmit on exactly the third. Ten segments
/// are in flight and the first is lost. Between the real duplicates come a
/// window update (same ACK, new window) and a data segment (same ACK,
/// carrying 100 bytes): neither counts, so nothing is retransmitted on
/// them (were they counted, the data segment would be the third). The
/// third real duplicate brings the retransmission of SND.UNA and recovery,
/// with ssthresh = max(FlightSize/2, 2·SMSS) for NewReno, FlightSize
/// being the engine's pipe before that ACK (RFC 6675), and 0.7 of it for
/// CUBIC (RFC 9438 4.6). The ACK of everything ends recovery with cwnd =
/// ssthresh (step 6; CUBIC's first avoidance ACK may add a fraction of a
/// segment): that many segments leave at once.
#[test]
fn cc_06_fast_retransmit_on_third_duplicate_ack() {
    for alg in [Algorithm::NewReno, Algorithm::Cubic] {
        let mut h = Harness::passive_established(config(alg.clone(), InitialWindow::Rfc6928));
        assert_eq!(write_big(&mut h), run_of(1, 10, MSS));
        // Duplicate 1.
        h.inject(seg(ACK).seq(1).ack(1));
        all_new(&data(&h.drain()), at(10));
        // A window update is not a duplicate ACK.
        h.inject(seg(ACK).seq(1).ack(1).win(60_000));
        all_new(&data(&h.drain()), at(10));
        // Nor is an ACK that carries data; the engine acknowledges the data.
        h.inject(seg(ACK | PSH).seq(1).ack(1).win(60_000).len(100));
        let segs = h.drain();
        let ack = segs.last().expect("the data is acknowledged");
        assert_eq!((ack.rack, ack.payload.len()), (101, 0));
        all_new(&data(&segs[..segs.len() - 1]), at(10));
        assert_eq!(
            info(&h).ssthresh,
            u32::MAX,
            "{alg:?}: no fast retransmit yet"
        );
        // Duplicate 2 (the window is now 60000).
        h.inject(seg(ACK).seq(101).ack(1).win(60_000));
        all_new(&data(&h.drain()), at(10));
        assert_eq!(h.ep.counters().fast_retrans, 0);
        assert_eq!(
            info(&h).ssthresh,
            u32::MAX,
            "{alg:?}: no fast retransmit yet"
        );
        // Duplicate 3: fast retransmit.
        let pipe = info(&h).in_flight;
        h.inject(seg(ACK).seq(101).ack(1).win(60_000));
        h.expect(out(ACK).seq(1).ack(101).len(1460));
        all_new(&data(&h.drain()), at(10));
        let i = info(&h);
        assert_eq!(i.recovery, RecoveryState::Recovery, "{alg:?}");
        let ssthresh = match alg {
            Algorithm::NewReno => (pipe / 2).max(2 * MSS),
            _ => (pipe * 7 / 10).max(2 * MSS),
        };
        assert_eq!(i.ssthresh, ssthresh, "{alg:?}");
        assert_eq!(h.ep.counters().reno_recovery, 1);
        // The peer reports every other segment it held before the hole
        // with a duplicate ACK, and the retransmission fills the hole: a
        // full ACK of everything sent before recovery (RFC 6582 `recover`).
        let recover = i.snd_nxt.0.wrapping_sub(h.iss());
        for _ in 3..(recover - 1) / MSS - 1 {
            h.inject(seg(ACK).seq(101).ack(1).win(60_000));
        }
        h.drain();
        h.inject(seg(ACK).seq(101).ack(i64::from(recover)).win(60_000));
        let i = info(&h);
        assert_eq!(i.recovery, RecoveryState::Open, "{alg:?}");
        assert_eq!(i.ssthresh, ssthresh, "{alg:?}");
        if matches!(alg, Algorithm::NewReno) {
            assert_eq!(i.cwnd, ssthresh, "RFC 5681 3.2 step 6");
        } else {
            assert!((ssthresh..ssthresh + MSS).contains(&i.cwnd), "{}", i.cwnd);
        }
        all_new(&data(&h.drain()), recover);
        assert!(info(&h).in_flight <= i.cwnd);
    }
}

/// CC-06 (RFC 5681 3.2 step 2: "When [RFC3042] is in use, additional data
/// sent in limited transmit MUST NOT be included in this calculation"):
/// ten segments in flight, the first lost, the second and third duplicate
/// ACKs each let one new segment out (CC-07); on the third duplicate ACK
/// ssthresh = 10/2 = 5 segments for NewReno (0.7 · 10 = 7 for CUBIC), not
/// half of the twelve then outstanding.
#[test]
fn cc_06_ssthresh_excludes_limited_transmit() {
    for (alg, ssthresh) in [(Algorithm::NewReno, 5 * MSS), (Algorithm::Cubic, 7 * MSS)] {
        let mut h = Harness::passive_established(config(alg.clone(), InitialWindow::Rfc6928));
        assert_eq!(write_big(&mut h), run_of(1, 10, MSS));
        for k in 0..2 {
            h.inject(seg(ACK).seq(1).ack(1));
            assert_eq!(data(&h.drain()), run_of(at(10 + k), 1, MSS), "{alg:?}");
        }
        h.inject(seg(ACK).seq(1).ack(1));
        h.expect(out(ACK).seq(1).len(1460));
        h.expect_none();
        assert_eq!(info(&h).ssthresh, ssthresh, "{alg:?}");
    }
}

/// CC-07 (RFC 3042, RFC 5681 3.2 step 1; peer without SACK): with an
/// initial window of 4 segments (RFC 5681, MSS 1000) filled and the first
/// segment lost, the first and second duplicate ACKs each send one new
/// segment and leave cwnd as it was; the third brings the fast
/// retransmission.
#[test]
fn cc_07_limited_transmit() {
    let mut h = Harness::new(rfc5681());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1000));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().unwrap();
    assert_eq!(write_big(&mut h), run_of(1, 4, 1000));
    for k in 0..2 {
        h.inject(seg(ACK).seq(1).ack(1));
        assert_eq!(info(&h).cwnd, 4000, "cwnd unchanged");
        assert_eq!(info(&h).ssthresh, u32::MAX);
        assert_eq!(data(&h.drain()), run_of(4001 + 1000 * k, 1, 1000));
    }
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(ACK).seq(1).len(1000));
    h.expect_none();
    assert_eq!(info(&h).recovery, RecoveryState::Recovery);
}

/// CC-07 with SACK (RFC 5681 3.2 step 1, RFC 3042 2: "only if the
/// duplicate ACK carries new SACK information"): the same four segments,
/// the first lost, a 100 ms path. A duplicate ACK SACKing segment 2 sends
/// one new segment; the same ACK again (no new information) sends nothing;
/// one SACKing segment 3 as well sends one more; cwnd stays 4000
/// throughout.
#[test]
fn cc_07_limited_transmit_with_sack_needs_new_information() {
    let opts = TcpOptions {
        mss: Some(1000),
        sack_permitted: true,
        ..TcpOptions::default()
    };
    let mut h = established(rfc5681(), opts, millis(100));
    assert!(info(&h).sack);
    assert_eq!(write_big(&mut h), run_of(1, 4, 1000));
    h.advance(millis(100));
    let block = |h: &Harness, end: u32| [(h.abs_seq(1001), h.abs_seq(end))];
    h.inject(seg(ACK).seq(1).ack(1).sack(&block(&h, 2001)));
    assert_eq!(info(&h).cwnd, 4000, "cwnd unchanged");
    assert_eq!(data(&h.drain()), run_of(4001, 1, 1000));
    h.inject(seg(ACK).seq(1).ack(1).sack(&block(&h, 2001)));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(1).sack(&block(&h, 3001)));
    assert_eq!(info(&h).cwnd, 4000, "cwnd unchanged");
    assert_eq!(data(&h.drain()), run_of(5001, 1, 1000));
    let i = info(&h);
    assert_eq!((i.cwnd, i.ssthresh), (4000, u32::MAX));
    assert_eq!(h.ep.counters().fast_retrans, 0);
}

// ---- CC-10, CC-11 --------------------------------------------------------------

/// Sends `n` bytes and acknowledges every data segment as it comes, until
/// everything is acknowledged (no time passes).
fn transfer(h: &mut Harness, n: usize) {
    h.send(&bytes(n)).unwrap();
    loop {
        let segs = h.drain();
        if segs.is_empty() {
            break;
        }
        for (seq, len) in data(&segs) {
            h.inject(seg(ACK).seq(1).ack(i64::from(seq + len)));
        }
    }
    assert_eq!(info(h).in_flight, 0);
}

/// CC-10 (RFC 5681 4.1, SHOULD): after a transfer that grew cwnd past the
/// initial window, the connection goes idle. After 500 ms (less than the
/// 1 s RTO) a large write may use the whole cwnd; after 5 s (more than an
/// RTO) it starts again from at most the initial window: 10 segments.
#[test]
fn cc_10_idle_restart() {
    for (idle, restart) in [(millis(500), false), (secs(5), true)] {
        let mut h = Harness::passive_established(conf());
        transfer(&mut h, 40 * MSS as usize);
        let i = info(&h);
        assert_eq!(i.rto, secs(1));
        assert!(i.cwnd >= 20 * MSS, "{}", i.cwnd);
        h.advance(idle);
        let expected = if restart {
            10
        } else {
            i.cwnd.min(i.snd_wnd) / MSS
        };
        assert_eq!(
            write_big(&mut h),
            run_of(at(40), expected, MSS),
            "idle {idle:?}"
        );
        if restart {
            assert_eq!(info(&h).cwnd, 14_600);
        }
    }
}

/// CC-10 with `Config::slow_start_after_idle` off (Linux's
/// `tcp_slow_start_after_idle = 0`): after 5 s idle the write still uses
/// the whole cwnd grown before.
#[test]
fn cc_10_idle_restart_can_be_turned_off() {
    let mut cfg = conf();
    cfg.slow_start_after_idle = false;
    let mut h = Harness::passive_established(cfg);
    transfer(&mut h, 40 * MSS as usize);
    let i = info(&h);
    assert!(i.cwnd >= 20 * MSS, "{}", i.cwnd);
    h.advance(secs(5));
    assert_eq!(
        write_big(&mut h),
        run_of(at(40), i.cwnd.min(i.snd_wnd) / MSS, MSS)
    );
    assert_eq!(info(&h).cwnd, i.cwnd);
}

/// CC-11 (RFC 5681 3.1, SHOULD; RFC 1191): an ICMP fragmentation-needed
/// for MTU 1000 arrives with ten 1460-byte segments (14600 bytes) in
/// flight. The MSS becomes 960, cwnd is scaled by 960/1460 to 9600, and
/// what is resent before the next ACK is at most 9600 bytes in segments of
/// at most 960: the bytes in flight never exceed the 14600 before it.
#[test]
fn cc_11_pmtu_change_scales_cwnd() {
    for alg in [Algorithm::NewReno, Algorithm::Cubic] {
        let mut h = Harness::passive_established(config(alg.clone(), InitialWindow::Rfc6928));
        assert_eq!(write_big(&mut h), run_of(1, 10, MSS));
        let before = info(&h);
        assert_eq!((before.cwnd, before.in_flight), (14_600, 14_600));
        let err = IcmpError {
            local: h.peer().engine,
            remote: h.peer().peer,
            seq: SeqNum(h.abs_seq(1)),
            kind: IcmpErrorKind::FragmentationNeeded { mtu: 1000 },
        };
        let now = h.now;
        h.ep.handle_icmp_error(now, err);
        h.pump();
        let i = info(&h);
        assert_eq!((i.mss, i.cwnd), (960, 9600), "{alg:?}");
        let sent = data(&h.drain());
        assert!(!sent.is_empty());
        assert_eq!(sent[0].0, 1, "{alg:?}: resent from SND.UNA");
        assert!(sent.iter().all(|s| s.1 <= 960), "{alg:?}: {sent:?}");
        let bytes: u32 = sent.iter().map(|s| s.1).sum();
        assert!(bytes <= 9600, "{alg:?}: {bytes} bytes resent");
        assert!(info(&h).in_flight <= before.in_flight);
        assert!(info(&h).in_flight <= 9600);
    }
}

// ---- The pipe ------------------------------------------------------------------

/// One transmission of data by the engine, as the pipe saw it.
#[derive(Clone, Copy, Debug)]
struct Tx {
    at: Instant,
    /// SEQ - ISS.
    seq: u32,
    /// Sequence space: payload, plus one for a FIN.
    len: u32,
    /// Its start is below the highest sequence number sent before it.
    retrans: bool,
    /// The path lost it.
    lost: bool,
}

/// An ACK of the scripted peer on its way: when it arrives, the ACK number
/// and the SACK blocks (relative to ISS).
type PeerAck = (Instant, u32, Vec<(u32, u32)>);

/// Decides which transmissions the path loses.
type Lose = Box<dyn FnMut(&Tx, &Harness) -> bool>;

fn lose_nothing() -> Lose {
    Box::new(|_, _| false)
}

/// Loses the next transmission starting at each of `seqs` (relative to
/// ISS; a number twice loses the retransmission too).
fn lose_at(seqs: &[u32]) -> Lose {
    let mut left = seqs.to_vec();
    Box::new(move |tx, _| match left.iter().position(|&s| s == tx.seq) {
        Some(i) => {
            left.remove(i);
            true
        }
        None => false,
    })
}

/// Loses the first new segment sent once `cond` holds.
fn lose_next_new_when(cond: impl Fn(&Harness) -> bool + 'static) -> Lose {
    let mut done = false;
    Box::new(move |tx, h| {
        let lose = !done && !tx.retrans && cond(h);
        done |= lose;
        lose
    })
}

/// The scripted peer as a receiver at the end of a path whose round trip
/// is `rtt`: each data segment that is not lost arrives and is
/// acknowledged at once, the ACK reaching the engine `rtt` after the
/// segment left (no delayed ACKs; SACK blocks for what is held above a
/// hole, most recent first, when SACK is in use). With `bulk` the
/// application keeps the send buffer full, so the sender is limited by its
/// windows only.
///
/// With a `gap`, the path has a bottleneck that delivers at most one
/// segment per `gap`: the ACKs of a burst come spaced by it rather than
/// all in the same microsecond. (Segments sent in the same microsecond
/// carry the same transmit time, and RACK, RFC 8985 6.2, then orders them
/// by sequence number: a retransmission sent just after new data in the
/// same instant would count as sent before it.)
struct Pipe {
    rtt: Duration,
    gap: Duration,
    /// When the last ACK is due.
    last_ack: Instant,
    sack: bool,
    /// The window field of the peer's ACKs.
    win: u16,
    /// The peer's RCV.NXT, relative to ISS.
    nxt: u32,
    /// Data held above RCV.NXT: (start, end, when it last grew).
    ooo: Vec<(u32, u32, u64)>,
    arrivals: u64,
    /// ACKs on their way.
    acks: VecDeque<PeerAck>,
    lose: Lose,
    bulk: bool,
    chunk: Vec<u8>,
    /// The end of the highest data sent.
    high: u32,
    /// Every transmission of data, in order.
    txs: Vec<Tx>,
    /// The connection as it was before the last event (an ACK arriving, a
    /// timer) the pipe let happen.
    before: Option<ConnInfo>,
}

impl Pipe {
    fn new(h: &Harness, rtt: Duration) -> Pipe {
        Pipe {
            rtt,
            gap: Duration::ZERO,
            last_ack: h.now,
            sack: info(h).sack,
            win: 65535,
            nxt: 1,
            ooo: Vec::new(),
            arrivals: 0,
            acks: VecDeque::new(),
            lose: lose_nothing(),
            bulk: true,
            chunk: bytes(64 * 1024),
            high: 1,
            txs: Vec::new(),
            before: None,
        }
    }

    /// The receiver takes [start, end) and says what it would acknowledge.
    fn arrive(&mut self, start: u32, end: u32) -> (u32, Vec<(u32, u32)>) {
        self.arrivals += 1;
        if start <= self.nxt {
            self.nxt = self.nxt.max(end);
            // Out-of-order data the new segment reaches moves in.
            while let Some(i) = self.ooo.iter().position(|r| r.0 <= self.nxt) {
                self.nxt = self.nxt.max(self.ooo[i].1);
                self.ooo.remove(i);
            }
        } else {
            let (mut s, mut e) = (start, end);
            self.ooo.retain(|&(a, b, _)| {
                let overlaps = a <= e && b >= s;
                if overlaps {
                    s = s.min(a);
                    e = e.max(b);
                }
                !overlaps
            });
            self.ooo.push((s, e, self.arrivals));
        }
        let mut blocks = Vec::new();
        if self.sack {
            let mut held = self.ooo.clone();
            held.sort_by_key(|r| core::cmp::Reverse(r.2));
            blocks = held.iter().take(4).map(|r| (r.0, r.1)).collect();
        }
        (self.nxt, blocks)
    }

    /// Takes what the engine emitted: data segments go down the path.
    fn capture(&mut self, h: &mut Harness) {
        for s in h.drain() {
            let len = s.payload.len() as u32 + u32::from(s.has(FIN));
            if len == 0 {
                continue;
            }
            let mut tx = Tx {
                at: s.at,
                seq: s.rseq,
                len,
                retrans: s.rseq < self.high,
                lost: false,
            };
            self.high = self.high.max(s.rseq + len);
            tx.lost = (self.lose)(&tx, h);
            self.txs.push(tx);
            if !tx.lost {
                let (ack, blocks) = self.arrive(tx.seq, tx.seq + len);
                let due = (s.at + self.rtt).max(self.last_ack + self.gap);
                self.last_ack = due;
                self.acks.push_back((due, ack, blocks));
            }
        }
    }

    fn refill(&mut self, h: &mut Harness) {
        if !self.bulk {
            return;
        }
        let c = h.conn();
        while let Ok(n) = h.ep.send(c, &self.chunk) {
            if n < self.chunk.len() {
                break;
            }
        }
        h.pump();
        h.events.clear();
    }

    /// Lets the next event (an ACK arriving or a timer) at or before
    /// `limit` happen; false if there is none.
    fn step(&mut self, h: &mut Harness, limit: Instant) -> bool {
        self.refill(h);
        self.capture(h);
        let ack_at = self.acks.front().map(|a| a.0);
        let next = match (ack_at, h.ep.poll_timeout()) {
            (Some(a), Some(t)) => Some(a.min(t)),
            (a, t) => a.or(t),
        };
        let Some(next) = next.filter(|&n| n <= limit) else {
            return false;
        };
        self.before = h.info();
        h.advance_to(next.max(h.now));
        self.capture(h);
        if ack_at.is_some_and(|a| a <= h.now) {
            let (_, ack, blocks) = self.acks.pop_front().unwrap();
            let abs: Vec<(u32, u32)> = blocks
                .iter()
                .map(|&(l, r)| (h.abs_seq(l), h.abs_seq(r)))
                .collect();
            h.inject(seg(ACK).seq(1).ack(i64::from(ack)).win(self.win).sack(&abs));
            self.capture(h);
        }
        true
    }

    /// Runs until `t`.
    fn run_until(&mut self, h: &mut Harness, t: Instant) {
        while self.step(h, t) {}
        if h.now < t {
            h.advance_to(t);
        }
        self.capture(h);
    }

    /// Runs until `cond` holds (checked after every event), at most until
    /// `limit`; panics if it never does.
    #[track_caller]
    fn run_until_cond(&mut self, h: &mut Harness, limit: Instant, cond: impl Fn(&Harness) -> bool) {
        while !cond(h) {
            assert!(self.step(h, limit), "not reached by {limit}");
        }
    }

    /// Data segments sent in each of `n` round trips from `from`.
    fn rounds(&self, from: Instant, n: u32) -> Vec<usize> {
        (0..n)
            .map(|k| {
                let (a, b) = (from + self.rtt * k, from + self.rtt * (k + 1));
                self.txs.iter().filter(|t| a <= t.at && t.at < b).count()
            })
            .collect()
    }

    /// The retransmissions: (time, SEQ - ISS).
    fn retransmissions(&self) -> Vec<(Instant, u32)> {
        self.txs
            .iter()
            .filter(|t| t.retrans)
            .map(|t| (t.at, t.seq))
            .collect()
    }
}

// ---- CC-04, CC-05: congestion avoidance and the timeout ---------------------------

/// CC-04 (RFC 5681 3.1 equation 3, MUST): in congestion avoidance cwnd
/// grows by at most one SMSS per RTT. NewReno (byte counting: exactly one
/// SMSS per cwnd of bytes acknowledged) on a 100 ms path with every segment
/// acknowledged: one loss in the second flight puts the connection in
/// avoidance after fast recovery; from then on, each round trip carries
/// the previous one's count of segments plus zero or one, and cwnd sampled
/// once per round trip moves by zero or one SMSS, growing by 8 to 10 SMSS
/// over ten round trips.
#[test]
fn cc_04_avoidance_grows_one_segment_per_rtt() {
    let rtt = millis(100);
    let mut h = established(newreno(), peer_opts(false, None), rtt);
    let mut p = Pipe::new(&h, rtt);
    p.lose = lose_at(&[at(14)]);
    let limit = h.now + secs(5);
    p.run_until_cond(&mut h, limit, |h| {
        h.ep.counters().reno_recovery == 1 && info(h).recovery == RecoveryState::Open
    });
    let t0 = h.now;
    let i = info(&h);
    assert_eq!(i.cwnd, i.ssthresh, "avoidance from ssthresh");
    let mut cwnds = vec![i.cwnd];
    for k in 1..=11 {
        p.run_until(&mut h, t0 + rtt * k);
        cwnds.push(info(&h).cwnd);
    }
    for w in cwnds.windows(2) {
        assert!(
            w[1] == w[0] || w[1] == w[0] + MSS,
            "cwnd per RTT: {cwnds:?}"
        );
    }
    let grown = (cwnds[11] - cwnds[1]) / MSS;
    assert!((8..=10).contains(&grown), "{cwnds:?}");
    let counts = p.rounds(t0, 11);
    for w in counts[1..].windows(2) {
        assert!(
            w[1] == w[0] || w[1] == w[0] + 1,
            "segments per RTT: {counts:?}"
        );
    }
    assert!(counts[10] >= counts[1] + 8, "{counts:?}");
    assert_eq!(h.ep.counters().timeouts, 0);
    assert_eq!(info(&h).ssthresh, i.ssthresh, "no further reduction");
}

/// CC-05 (MUST-19, RFC 5681 3.1 equation 4; RFC 9438 4.8): a blackhole at
/// cwnd 20. The initial 10 segments are acknowledged after 100 ms, which
/// takes cwnd to 20 and sends 20 more; the path then loses everything
/// until the retransmission timer fires, 1 s after the last ACK. The
/// timeout sends exactly one segment, SND.UNA, and sets ssthresh from the
/// 20 segments in flight: 10 for NewReno (FlightSize/2), 14 for CUBIC (β =
/// 0.7). If that retransmission is lost as well, the second timeout (2 s
/// later) again sends one segment and keeps ssthresh. Then, with the path
/// delivering, slow start doubles per round trip up to ssthresh: 1, 2, 4,
/// 8 segments, then ssthresh, and avoidance adds at most one per round trip.
#[test]
fn cc_05_timeout_loss_window_then_slow_start_to_ssthresh() {
    for (alg, ssthresh) in [(Algorithm::NewReno, 10u32), (Algorithm::Cubic, 14)] {
        for timeouts in [1u64, 2] {
            let rtt = millis(100);
            let cfg = config(alg.clone(), InitialWindow::Rfc6928);
            let mut h = established(cfg, peer_opts(false, None), rtt);
            let mut p = Pipe::new(&h, rtt);
            p.lose =
                Box::new(move |tx, h| h.ep.counters().timeouts < timeouts && tx.seq > 10 * MSS);
            let t_ack = h.now + rtt;
            p.run_until(&mut h, t_ack);
            let i = info(&h);
            assert_eq!((i.cwnd, i.in_flight), (20 * MSS, 20 * MSS), "{alg:?}");
            let mut rto_at = t_ack + secs(1);
            for k in 1..=timeouts {
                p.run_until(&mut h, rto_at - Duration::from_micros(1));
                assert_eq!(h.ep.counters().timeouts, k - 1);
                let sent = p.txs.len();
                p.run_until(&mut h, rto_at);
                assert_eq!(h.ep.counters().timeouts, k, "{alg:?}: timeout {k}");
                let txs = &p.txs[sent..];
                assert_eq!(
                    txs.len(),
                    1,
                    "{alg:?}: one segment after timeout {k}: {txs:?}"
                );
                assert_eq!((txs[0].at, txs[0].seq, txs[0].len), (rto_at, at(10), MSS));
                let i = info(&h);
                assert_eq!((i.cwnd, i.ssthresh), (MSS, ssthresh * MSS), "{alg:?} {k}");
                rto_at = rto_at + secs(2);
            }
            let t = h.now;
            p.run_until(&mut h, t + rtt * 8);
            let counts = p.rounds(t, 8);
            let s = ssthresh as usize;
            assert_eq!(counts[..5], [1, 2, 4, 8, s], "{alg:?}: {counts:?}");
            for w in counts[4..].windows(2) {
                assert!(w[1] == w[0] || w[1] == w[0] + 1, "{alg:?}: {counts:?}");
            }
            assert_eq!(h.ep.counters().timeouts, timeouts);
            assert_eq!(info(&h).ssthresh, ssthresh * MSS);
        }
    }
}

// ---- CC-08, CC-09: recovery --------------------------------------------------------

/// CC-08 (RFC 6582 3.2; peer without SACK, NewReno): segments 2, 5 and 8
/// of the initial window are lost on a 100 ms path. The third duplicate
/// ACK (at 100 ms) retransmits segment 2; its ACK, one RTT later, is a
/// partial ACK and retransmits segment 5; that one's partial ACK
/// retransmits segment 8: three retransmissions exactly one RTT apart, no
/// timeout, one recovery episode with one ssthresh reduction (half the
/// flight), and the full ACK leaves cwnd = ssthresh. The engine restarts
/// the retransmission timer on every partial ACK (RFC 6298 5.3; RFC 6582
/// section 4's Slow-but-Steady variant).
#[test]
fn cc_08_newreno_partial_acks_one_rtt_apart() {
    let rtt = millis(100);
    let mut h = established(newreno(), peer_opts(false, None), rtt);
    let t0 = h.now;
    let mut p = Pipe::new(&h, rtt);
    p.lose = lose_at(&[at(1), at(4), at(7)]);
    let mut ssthresh = vec![];
    while p.step(&mut h, t0 + secs(2)) {
        let s = info(&h).ssthresh;
        if ssthresh.last() != Some(&s) {
            ssthresh.push(s);
        }
        if h.ep.counters().reno_recovery == 1 && info(&h).recovery == RecoveryState::Open {
            break;
        }
    }
    assert_eq!(
        p.retransmissions(),
        [
            (t0 + rtt, at(1)),
            (t0 + rtt * 2, at(4)),
            (t0 + rtt * 3, at(7))
        ]
    );
    let c = h.ep.counters();
    assert_eq!((c.timeouts, c.reno_recovery), (0, 1));
    assert_eq!(ssthresh.len(), 2, "one reduction: {ssthresh:?}");
    let i = info(&h);
    assert_eq!(h.now, t0 + rtt * 4, "the full ACK");
    assert_eq!(i.cwnd, i.ssthresh);
    p.run_until(&mut h, t0 + secs(3));
    assert_eq!(p.retransmissions().len(), 3);
    assert_eq!(h.ep.counters().timeouts, 0);
}

/// CC-08 (RFC 6582 3.2 step 5: on a partial ACK, "retransmit the first
/// unacknowledged segment"): NewReno without SACK on a 100 ms path, five
/// of the ten initial segments lost (2, 4, 6, 8, 10). The third duplicate
/// ACK retransmits segment 2 at 100 ms, and each partial ACK, one round
/// trip after the retransmission before it, retransmits the next hole at
/// once: five retransmissions exactly one RTT apart, then the full ACK,
/// no timeout, one reduction.
#[test]
fn cc_08_every_partial_ack_retransmits_the_next_hole() {
    let rtt = millis(100);
    let mut h = established(newreno(), peer_opts(false, None), rtt);
    let t0 = h.now;
    let mut p = Pipe::new(&h, rtt);
    let holes = [at(1), at(3), at(5), at(7), at(9)];
    p.lose = lose_at(&holes);
    p.run_until(&mut h, t0 + secs(2));
    let expected: Vec<(Instant, u32)> = (1..=5)
        .map(|k| (t0 + rtt * k, holes[k as usize - 1]))
        .collect();
    assert_eq!(p.retransmissions(), expected);
    let c = h.ep.counters();
    assert_eq!((c.timeouts, c.reno_recovery), (0, 1));
}

/// CC-08 (RFC 6582 3.2 step 5: "For the first partial ACK that arrives
/// during fast recovery, also reset the retransmit timer", the Impatient
/// variant of section 4): NewReno without SACK on a 300 ms path (RTO 1 s),
/// five of the ten initial segments lost (2, 4, 6, 8, 10). Fast recovery
/// repairs one hole per round trip; the first partial ACK restarts the
/// timer, later ones do not, so the timer fires 1 s after the first
/// partial ACK, before the fifth hole is repaired (which would take until
/// 1.2 s after it).
#[test]
fn cc_08_impatient_timer_restarts_on_first_partial_ack_only() {
    let rtt = millis(300);
    let mut h = established(newreno(), peer_opts(false, None), rtt);
    assert_eq!(info(&h).rto, secs(1));
    let t0 = h.now;
    let mut p = Pipe::new(&h, rtt);
    p.lose = lose_at(&[at(1), at(3), at(5), at(7), at(9)]);
    let iss = h.iss();
    p.run_until_cond(&mut h, t0 + secs(2), |h| {
        info(h).recovery == RecoveryState::Recovery && info(h).snd_una.0.wrapping_sub(iss) > at(1)
    });
    let first_partial = h.now;
    assert_eq!(first_partial, t0 + rtt * 2);
    p.run_until(&mut h, first_partial + secs(1) - Duration::from_micros(1));
    assert_eq!(h.ep.counters().timeouts, 0);
    assert_eq!(info(&h).recovery, RecoveryState::Recovery, "holes left");
    p.run_until(&mut h, first_partial + secs(1));
    assert_eq!(h.ep.counters().timeouts, 1);
}

/// CC-09 (RFC 5681 4.3, MUST): one reduction per window of data. With SACK
/// (RACK-TLP, RFC 6675 recovery) and CUBIC on a 100 ms path, segments 3
/// and 7 of the second flight are both lost: both are retransmitted in a
/// single recovery episode, ssthresh is set once, to 0.7 of the flight
/// when the first loss was detected, and no timeout occurs. NewReno alike,
/// with half the flight.
#[test]
fn cc_09_two_losses_in_one_window_reduce_once() {
    for alg in [Algorithm::Cubic, Algorithm::NewReno] {
        let rtt = millis(100);
        let cfg = config(alg.clone(), InitialWindow::Rfc6928);
        let mut h = established(cfg, peer_opts(true, None), rtt);
        let t0 = h.now;
        let mut p = Pipe::new(&h, rtt);
        p.gap = Duration::from_micros(100);
        p.lose = lose_at(&[at(12), at(16)]);
        let mut entry = None;
        let mut ssthresh = vec![];
        while p.step(&mut h, t0 + secs(2)) {
            let i = info(&h);
            if entry.is_none() && i.recovery == RecoveryState::Recovery {
                entry = p.before;
            }
            if ssthresh.last() != Some(&i.ssthresh) {
                ssthresh.push(i.ssthresh);
            }
            if h.ep.counters().sack_recovery == 1 && i.recovery == RecoveryState::Open {
                break;
            }
        }
        let flight = entry.expect("recovery").in_flight;
        let expected = match alg {
            Algorithm::NewReno => flight / 2,
            _ => flight * 7 / 10,
        };
        assert_eq!(ssthresh, [u32::MAX, expected], "{alg:?}: flight {flight}");
        let rtx: Vec<u32> = p.retransmissions().iter().map(|r| r.1).collect();
        assert_eq!(rtx, [at(12), at(16)], "{alg:?}");
        let c = h.ep.counters();
        assert_eq!((c.timeouts, c.sack_recovery), (0, 1), "{alg:?}");
    }
}

/// CC-09 (RFC 5681 4.3: "the loss of a retransmission ... should be taken
/// as two indications of congestion and, therefore, cwnd (and ssthresh)
/// MUST be lowered twice"): with SACK and CUBIC on a 100 ms path, segment
/// 13 is lost, and so is its first retransmission. When the second loss
/// is found (by RACK or by the timer), ssthresh is reduced a second time.
#[test]
fn cc_09_lost_retransmission_reduces_again() {
    let rtt = millis(100);
    let mut h = established(conf(), peer_opts(true, None), rtt);
    let t0 = h.now;
    let mut p = Pipe::new(&h, rtt);
    p.gap = Duration::from_micros(100);
    p.lose = lose_at(&[at(12), at(12)]);
    let mut ssthresh = vec![];
    while p.step(&mut h, t0 + secs(5)) {
        let s = info(&h).ssthresh;
        if ssthresh.last() != Some(&s) {
            ssthresh.push(s);
        }
        if p.retransmissions().len() >= 2 && info(&h).recovery == RecoveryState::Open {
            break;
        }
    }
    let rtx: Vec<u32> = p.retransmissions().iter().map(|r| r.1).collect();
    assert_eq!(rtx, [at(12), at(12)]);
    assert_eq!(ssthresh.len(), 3, "two reductions: {ssthresh:?}");
    assert!(ssthresh[2] < ssthresh[1], "{ssthresh:?}");
}

// ---- CC-12 .. CC-14: CUBIC -----------------------------------------------------------

/// RFC 9438's constants: C (4.1.1, 5) and α_cubic = 3(1 − β)/(1 + β) with
/// β = 0.7 (4.3).
const C: f64 = 0.4;
const ALPHA: f64 = 9.0 / 17.0;

fn segs(bytes: u32) -> f64 {
    f64::from(bytes) / f64::from(MSS)
}

/// A CUBIC connection (the default algorithm) with SACK and a window scale
/// on a path of round trip `rtt`, whose bottleneck spaces a burst's ACKs by
/// `gap`; a 1 MiB send buffer kept full.
fn cubic_path(rtt: Duration, gap: Duration) -> (Harness, Pipe) {
    let mut c = conf();
    c.send_buffer = 1 << 20;
    let h = established(c, peer_opts(true, Some(7)), rtt);
    assert_eq!(info(&h).congestion_control, "cubic");
    let mut p = Pipe::new(&h, rtt);
    p.gap = gap;
    (h, p)
}

/// Runs until the next SACK recovery episode starts; returns the
/// connection as it was just before (cwnd and the flight at the
/// congestion event).
fn until_recovery(h: &mut Harness, p: &mut Pipe, limit: Instant) -> ConnInfo {
    let n = h.ep.counters().sack_recovery;
    p.run_until_cond(h, limit, |h| h.ep.counters().sack_recovery > n);
    p.before.expect("a state before")
}

/// Runs until the episode ends; returns when (the start of CUBIC's next
/// avoidance stage: the ACK that ends recovery is its first).
fn until_open(h: &mut Harness, p: &mut Pipe, limit: Instant) -> Instant {
    p.run_until_cond(h, limit, |h| info(h).recovery == RecoveryState::Open);
    h.now
}

/// ssthresh = window · β_cubic (RFC 9438 4.6; the window is cwnd for a
/// loss, the flight for a timeout), to the byte.
#[track_caller]
fn assert_beta(ssthresh: u32, flight: u32) {
    let want = 0.7 * f64::from(flight);
    assert!(
        (f64::from(ssthresh) - want).abs() < 1.0 && ssthresh >= 2 * MSS,
        "ssthresh {ssthresh}, flight {flight}"
    );
}

/// RFC 9438's window t seconds into an avoidance stage that began at
/// `epoch` segments, in segments: the cubic curve W_cubic(t) = C(t − K)³ +
/// W_max (4.2) or, where it is ahead, the Reno-friendly W_est (4.3), which
/// grows by α_cubic per round trip until it reaches `prior` (cwnd_prior)
/// and by one segment per round trip after.
#[derive(Clone, Copy, Debug)]
struct Curve {
    w_max: f64,
    epoch: f64,
    prior: f64,
    rtt: f64,
}

impl Curve {
    fn k(&self) -> f64 {
        ((self.w_max - self.epoch) / C).max(0.0).cbrt()
    }
    fn w_cubic(&self, t: f64) -> f64 {
        C * (t - self.k()).powi(3) + self.w_max
    }
    fn w_est(&self, rounds: f64) -> f64 {
        let to_prior = ((self.prior - self.epoch) / ALPHA).max(0.0);
        if rounds < to_prior {
            self.epoch + ALPHA * rounds
        } else {
            self.epoch + ALPHA * to_prior + (rounds - to_prior)
        }
    }
    fn at(&self, t: f64) -> f64 {
        self.w_cubic(t)
            .max(self.w_est(t / self.rtt))
            .max(self.epoch)
    }
}

/// A first loss in slow start, found at a window of about 100 segments:
/// the first new segment sent once cwnd reached 50 is lost, and the
/// SACKs of what follows it show the loss one round trip later. Returns
/// the connection before the congestion event and the start of the
/// avoidance stage after the episode.
fn first_loss(h: &mut Harness, p: &mut Pipe) -> (ConnInfo, Instant) {
    let limit = h.now + secs(30);
    p.lose = lose_next_new_when(|h| info(h).cwnd >= 50 * MSS);
    let b = until_recovery(h, p, limit);
    let w = segs(b.cwnd);
    assert!(
        (80.0..=130.0).contains(&w),
        "the loss is found at {w} segments"
    );
    // RFC 9438 4.6 reduces from cwnd here (the section allows it where
    // cwnd cannot outgrow what is used); in this cwnd-limited transfer it
    // is the flight give or take a segment.
    assert!(
        b.cwnd.abs_diff(b.in_flight) <= 2 * MSS,
        "{} {}",
        b.cwnd,
        b.in_flight
    );
    assert_beta(info(h).ssthresh, b.cwnd);
    let e = until_open(h, p, limit);
    (b, e)
}

/// CC-12 (RFC 9438 4.6, 4.7): CUBIC's multiplicative decrease and fast
/// convergence, on a 100 ms path with every segment acknowledged. A loss
/// found at a window of about 100 segments sets ssthresh to 0.7 of the
/// flight, and recovery ends with cwnd = ssthresh, W_max = that window. A
/// second loss, halfway back towards it (cwnd about 85, below W_max), sets
/// ssthresh to 0.7 of that flight again, and W_max to 0.85 of that window
/// (fast convergence): two seconds into the next avoidance stage cwnd is
/// on the curve towards 0.85 · W (about 72 segments), well below the one
/// towards W itself (about 83).
#[test]
fn cc_12_cubic_beta_and_fast_convergence() {
    let rtt = millis(100);
    let (mut h, mut p) = cubic_path(rtt, Duration::from_micros(10));
    let (b1, e1) = first_loss(&mut h, &mut p);
    let s1 = info(&h).ssthresh;
    let i = info(&h);
    assert!(
        (s1..s1 + MSS).contains(&i.cwnd),
        "cwnd {} ssthresh {s1}",
        i.cwnd
    );
    assert_eq!(h.ep.counters().timeouts, 0);

    // The second loss, once cwnd is halfway from ssthresh back to W_max.
    let half = (s1 + b1.cwnd) / 2;
    p.lose = lose_next_new_when(move |h| info(h).cwnd >= half);
    let b2 = until_recovery(&mut h, &mut p, e1 + secs(20));
    assert!(b2.cwnd < b1.cwnd, "below W_max: {} {}", b2.cwnd, b1.cwnd);
    let s2 = info(&h).ssthresh;
    assert_beta(s2, b2.cwnd);
    let e2 = until_open(&mut h, &mut p, e1 + secs(20));

    let w2 = segs(b2.cwnd);
    let fast = Curve {
        w_max: 0.85 * w2,
        epoch: segs(s2),
        prior: w2,
        rtt: 0.1,
    };
    let slow = Curve { w_max: w2, ..fast };
    let t = 2.0;
    p.run_until(&mut h, e2 + Duration::from_secs_f64(t));
    let cwnd = segs(info(&h).cwnd);
    let (want, other) = (fast.at(t), slow.at(t));
    assert!(other - want > 5.0, "{want} {other}");
    assert!(
        (cwnd - want).abs() < 2.0,
        "cwnd {cwnd}: with fast convergence {want}, without {other}"
    );
    assert_eq!(h.ep.counters().timeouts, 0);
}

/// CC-13 (RFC 9438 4.2, 4.4, 4.5): after a loss at W_max ≈ 100 segments
/// on a 100 ms path, cwnd follows W_cubic(t) = 0.4(t − K)³ + W_max with K
/// = ∛((W_max − cwnd_epoch)/0.4) ≈ 4.2 s: concave up to W_max, reached at
/// about K, flat around it, convex after, and the Reno-friendly W_est
/// where that is ahead (from about 5.7 s). Sampled over eight seconds,
/// within two segments.
#[test]
fn cc_13_cubic_growth_follows_the_curve() {
    let rtt = millis(100);
    let (mut h, mut p) = cubic_path(rtt, Duration::from_micros(10));
    let (b, e) = first_loss(&mut h, &mut p);
    let curve = Curve {
        w_max: segs(b.cwnd),
        epoch: segs(info(&h).ssthresh),
        prior: segs(b.cwnd),
        rtt: 0.1,
    };
    let k = curve.k();
    assert!((3.5..5.0).contains(&k), "K = {k}");
    let mut last = 0.0;
    for t in [0.5, 1.0, 2.0, 3.0, 4.0, k, 5.0, 6.0, 7.0, 8.0] {
        p.run_until(&mut h, e + Duration::from_secs_f64(t));
        let cwnd = segs(info(&h).cwnd);
        let want = curve.at(t);
        assert!(
            (cwnd - want).abs() < 2.0,
            "t = {t}: cwnd {cwnd}, curve {want}"
        );
        assert!(cwnd >= last, "t = {t}: never decreasing");
        last = cwnd;
        if t == k {
            assert!((cwnd - curve.w_max).abs() < 2.0, "W_max at K: {cwnd}");
        }
    }
    assert_eq!(h.ep.counters().sack_recovery, 1);
    assert_eq!(h.ep.counters().timeouts, 0);
}

/// CC-13 (RFC 9438 5.8: t "MUST NOT include" application-limited
/// periods): early in the avoidance stage after a loss at about 100
/// segments (once the buffer has drained, about a second in, where the
/// curve still climbs steeply), the application slows to 5 segments per round trip for
/// three seconds. cwnd does not grow meanwhile, and when the application
/// fills the buffer again cwnd goes on along the curve from where it was
/// (about a second in) instead of jumping to where three more seconds
/// would put it.
#[test]
fn cc_13_application_limited_time_is_not_on_the_curve() {
    let rtt = millis(100);
    let (mut h, mut p) = cubic_path(rtt, Duration::from_micros(10));
    let (b, e) = first_loss(&mut h, &mut p);
    let curve = Curve {
        w_max: segs(b.cwnd),
        epoch: segs(info(&h).ssthresh),
        prior: segs(b.cwnd),
        rtt: 0.1,
    };
    p.run_until(&mut h, e + millis(100));
    // The application stops filling the buffer; what it holds drains.
    p.bulk = false;
    p.run_until_cond(&mut h, e + secs(5), |h| {
        let i = info(h);
        i.send_queue as u32 == i.snd_nxt.since(i.snd_una)
    });
    let ran = h.now.saturating_since(e).as_secs_f64();
    let pause = h.now;
    let mut cwnds = vec![];
    for k in 1..=30 {
        h.send(&bytes(5 * MSS as usize)).unwrap();
        p.run_until(&mut h, pause + rtt * k);
        cwnds.push(info(&h).cwnd);
    }
    // The ACKs of the last full window still count (one round trip).
    assert_eq!(
        cwnds[1], cwnds[29],
        "no growth while application-limited: {cwnds:?}"
    );
    p.bulk = true;
    let resume = h.now;
    p.run_until(&mut h, resume + millis(500));
    let cwnd = segs(info(&h).cwnd);
    let (want, jumped) = (curve.at(ran + 0.5), curve.at(ran + 3.5));
    assert!(
        jumped - want > 5.0,
        "{want} {jumped} (pause at {ran} s, K = {} s)",
        curve.k()
    );
    assert!(
        (cwnd - want).abs() < 2.5,
        "cwnd {cwnd}: {want} without the pause, {jumped} with it"
    );
}

/// Runs `n` round trips, a round ending when everything sent at its start
/// is acknowledged (as RFC 9406 counts them); returns cwnd in segments
/// after each.
fn run_rounds(h: &mut Harness, p: &mut Pipe, n: usize, limit: Instant) -> Vec<f64> {
    let mut out = vec![];
    for _ in 0..n {
        let end = info(h).snd_nxt;
        p.run_until_cond(h, limit, |h| !info(h).snd_una.lt(end));
        out.push(segs(info(h).cwnd));
    }
    out
}

/// CC-14 (RFC 9438 4.3): on a 1 ms path the cubic curve hardly moves in a
/// tenth of a second, and cwnd follows the Reno-friendly estimate instead:
/// after a loss at about 100 segments it grows by α = 9/17 segment per
/// round trip from 0.7 of it until it reaches the window of the loss
/// (cwnd_prior), then by one segment per round trip (α = 1). Checked over
/// 100 round trips, within two segments, and well above W_cubic.
#[test]
fn cc_14_reno_friendly_region_on_a_short_path() {
    let rtt = millis(1);
    let (mut h, mut p) = cubic_path(rtt, Duration::from_micros(1));
    let (b, e) = first_loss(&mut h, &mut p);
    let curve = Curve {
        w_max: segs(b.cwnd),
        epoch: segs(info(&h).ssthresh),
        prior: segs(b.cwnd),
        rtt: 0.001,
    };
    let cwnds = run_rounds(&mut h, &mut p, 100, e + secs(1));
    for (r, &cwnd) in cwnds.iter().enumerate() {
        let rounds = (r + 1) as f64;
        let want = curve.w_est(rounds);
        assert!(
            (cwnd - want).abs() < 2.0,
            "round {rounds}: cwnd {cwnd}, W_est {want}"
        );
    }
    let t = h.now.saturating_since(e).as_secs_f64();
    assert!(t < 0.2, "{t}");
    assert!(cwnds[99] > curve.w_cubic(t) + 30.0, "{cwnds:?}");
    assert!(cwnds[99] > curve.prior + 30.0, "α = 1 past cwnd_prior");
}

/// CC-14 (RFC 9438 4.8) and CC-12 (ssthresh by β after a timeout): after a
/// first loss (W_max ≈ 100) and a second of avoidance on a 100 ms path,
/// the path goes black until the retransmission timer fires. The timeout
/// sets ssthresh to 0.7 of the flight and cwnd to one segment, and slow
/// start climbs back to ssthresh. The first avoidance stage after it
/// starts from W_max = cwnd_epoch with K = 0: growth is convex from there
/// (or Reno-friendly, where W_est is ahead), not a concave climb towards
/// the W_max of the earlier loss.
#[test]
fn cc_14_after_timeout_growth_is_convex_from_the_new_window() {
    let rtt = millis(100);
    let (mut h, mut p) = cubic_path(rtt, Duration::from_micros(10));
    let (b1, e1) = first_loss(&mut h, &mut p);
    p.run_until(&mut h, e1 + secs(1));
    p.lose = Box::new(|_, h| h.ep.counters().timeouts == 0);
    p.run_until_cond(&mut h, e1 + secs(10), |h| h.ep.counters().timeouts == 1);
    let before = p.before.unwrap();
    let i = info(&h);
    assert_eq!(i.recovery, RecoveryState::Loss);
    assert_beta(i.ssthresh, before.in_flight);
    assert_eq!(i.cwnd, MSS, "the loss window");
    let ssthresh = i.ssthresh;
    p.run_until_cond(&mut h, e1 + secs(20), |h| info(h).cwnd >= ssthresh);
    let e = h.now;
    let c = h.ep.counters();
    assert_eq!((c.timeouts, c.spurious_rtos, c.loss_undo), (1, 0, 0));
    let w0 = segs(ssthresh);
    let after = Curve {
        w_max: w0,
        epoch: w0,
        prior: segs(before.cwnd),
        rtt: 0.1,
    };
    let old = Curve {
        w_max: segs(b1.cwnd),
        ..after
    };
    for t in [1.0, 2.0, 3.0] {
        p.run_until(&mut h, e + Duration::from_secs_f64(t));
        let cwnd = segs(info(&h).cwnd);
        let want = after.at(t);
        assert!(
            (cwnd - want).abs() < 2.0,
            "t = {t}: cwnd {cwnd}, expected {want} (concave: {})",
            old.at(t)
        );
        assert!(old.at(t) - cwnd > 5.0, "t = {t}: {}", old.at(t));
    }
    assert_eq!(h.ep.counters().timeouts, 1);
}
