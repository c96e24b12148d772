//! ECN (RFC 3168; CE-18, CC-15): the handshake's flags, which packets
//! are ECN-capable, the receiver's echo until CWR, and the sender's one
//! reduction per window with CWR after it.

use crate::harness::*;
use synack::{Config, EcnMode, RecoveryState};

const MSS: usize = 1460;

/// A passive connection whose peer's SYN asked for ECN, established.
fn ecn_passive(cfg: Config) -> Harness {
    let mut h = Harness::new(cfg);
    h.listen();
    h.inject(seg(SYN | ECE | CWR).seq(0).mss(1460));
    let sa = h.expect(out(SYN | ACK | ECE).seq(0).ack(1));
    assert_eq!(sa.ecn, 0, "the SYN-ACK is Not-ECT");
    h.advance(millis(100));
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().expect("accept");
    assert!(h.info().unwrap().ecn);
    h
}

/// CE-18 (RFC 3168 6.1.1): a SYN with ECE and CWR is answered with ECE
/// alone, Not-ECT, and ECN is on; a SYN without them gets no ECE; with
/// `EcnMode::Off` neither does one that asks.
#[test]
fn ce_18_syn_ack_agrees_only_to_a_syn_that_asked() {
    let h = ecn_passive(conf());
    assert!(h.info().unwrap().ecn);

    let mut h = Harness::passive_syn_received(conf());
    let sa = h.log.iter().find(|s| s.has(SYN)).unwrap().clone();
    assert!(!sa.has(ECE) && !sa.has(CWR));
    h.enter_established_passive();
    assert!(!h.info().unwrap().ecn);

    let mut cfg = conf();
    cfg.ecn = EcnMode::Off;
    let mut h = Harness::new(cfg);
    h.listen();
    h.inject(seg(SYN | ECE | CWR).seq(0).mss(1460));
    let sa = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert!(!sa.has(ECE));
}

/// CE-18: with `EcnMode::Request` our SYN carries ECE and CWR, Not-ECT;
/// a SYN-ACK with ECE alone turns ECN on, one with both (a peer echoing
/// flags it does not know) does not. The default (`Accept`) asks nothing.
#[test]
fn ce_18_request_mode_asks_in_the_syn() {
    let s = Harness::active_syn_sent(conf());
    let syn = s.log.iter().find(|s| s.has(SYN)).unwrap();
    assert!(!syn.has(ECE) && !syn.has(CWR), "Accept asks nothing");

    for (answer, on) in [(SYN | ACK | ECE, true), (SYN | ACK | ECE | CWR, false)] {
        let mut cfg = conf();
        cfg.ecn = EcnMode::Request;
        let mut h = Harness::new(cfg);
        h.active_layout();
        h.connect().expect("connect");
        let syn = h.expect(out(SYN | ECE | CWR).seq(0));
        assert_eq!(syn.ecn, 0, "the SYN is Not-ECT");
        h.inject(seg(answer).seq(0).ack(1).mss(1460));
        h.expect(out(ACK).seq(1).ack(1));
        assert_eq!(h.info().unwrap().ecn, on, "{answer:?}");
    }
}

/// CC-15 (RFC 3168 6.1.2, 6.1.5, 6.1.6): new data goes out ECT(0); pure
/// ACKs, and the retransmission after a timeout, are Not-ECT.
#[test]
fn cc_15_new_data_ect_acks_and_retransmissions_not() {
    let mut h = ecn_passive(conf());
    h.send(b"hello").unwrap();
    let d = h.expect(out(ACK | PSH).seq(1).len(5));
    assert_eq!(d.ecn, 0b10, "new data is ECT(0)");
    h.inject(seg(ACK).seq(1).ack(1).len(10));
    let a = h.expect(out(ACK).ack(11).len(0));
    assert_eq!(a.ecn, 0, "a pure ACK is Not-ECT");
    h.advance(secs(3));
    let r = h.drain();
    let rtx = r
        .iter()
        .find(|s| s.payload.len() == 5)
        .expect("retransmitted");
    assert_eq!(rtx.ecn, 0, "a retransmission is Not-ECT");
}

/// CC-15 (RFC 3168 6.1.3): a CE-marked segment is acknowledged at once
/// with ECE, and every later segment echoes ECE until one with CWR
/// arrives.
#[test]
fn cc_15_receiver_echoes_ece_until_cwr() {
    let mut h = ecn_passive(conf());
    h.inject(seg(ACK).seq(1).ack(1).len(100).ce());
    h.expect(out(ACK | ECE).ack(101));
    assert_eq!(h.ep.counters().ecn_ce_received, 1);
    h.inject(seg(ACK).seq(101).ack(1).len(100));
    h.expect(out(ACK | ECE).ack(201));
    h.send(b"data").unwrap();
    h.expect(out(ACK | PSH | ECE).seq(1).len(4));
    h.inject(seg(ACK | CWR).seq(201).ack(5).len(100));
    let a = h.expect(out(ACK).ack(301));
    assert!(!a.has(ECE), "CWR ends the echo");
}

/// CC-15 (RFC 3168 6.1.2): an ACK with ECE reduces once: ssthresh falls
/// (CUBIC's 0.7 of the window) and PRR brings the flight down to it, so
/// the ACK of one segment lets one new segment go where slow start would
/// send two; the CWR state lasts until the window then in flight is
/// acknowledged, and a second ECE in it changes nothing. The next new
/// data segment, only it, carries CWR. After the window, a new ECE
/// reduces again.
#[test]
fn cc_15_sender_reduces_once_per_window_and_sets_cwr() {
    let mut h = ecn_passive(conf());
    h.set_nodelay();
    h.send(&bytes(30 * MSS)).unwrap();
    assert_eq!(h.drain().len(), 10, "the initial window");
    let before = h.info().unwrap();
    h.advance(millis(100));
    h.inject(seg(ACK | ECE).seq(1).ack(1 + MSS as i64));
    let after = h.info().unwrap();
    assert_eq!(after.recovery, RecoveryState::Cwr);
    assert_eq!(
        after.ssthresh,
        before.cwnd * 7 / 10 / MSS as u32 * MSS as u32
    );
    assert_eq!(h.ep.counters().ecn_reductions, 1);
    let sent = h.drain();
    assert_eq!(sent.len(), 1, "PRR: one segment for the one delivered");
    assert!(sent[0].has(CWR), "the first new segment carries CWR");
    // A second ECE in the same window: no second reduction, no CWR.
    h.inject(seg(ACK | ECE).seq(1).ack(1 + 2 * MSS as i64));
    assert_eq!(h.ep.counters().ecn_reductions, 1);
    assert_eq!(h.info().unwrap().ssthresh, after.ssthresh);
    let sent = h.drain();
    assert!(sent.iter().all(|s| !s.has(CWR)), "CWR only once");
    // Everything sent so far acknowledged: the window is over.
    let nxt = h.info().unwrap().snd_nxt;
    let rel = nxt.0.wrapping_sub(h.iss()) as i64;
    h.advance(millis(100));
    h.inject(seg(ACK).seq(1).ack(rel));
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Open);
    h.drain();
    h.inject(seg(ACK | ECE).seq(1).ack(rel));
    assert_eq!(h.ep.counters().ecn_reductions, 2);
}

/// Without ECN negotiated, CE marks and ECE flags mean nothing.
#[test]
fn cc_15_without_ecn_marks_are_ignored() {
    let mut h = Harness::passive_established(conf());
    assert!(!h.info().unwrap().ecn);
    h.inject(seg(ACK).seq(1).ack(1).len(100).ce());
    let a = h.expect(out(ACK).ack(101));
    assert!(!a.has(ECE));
    h.send(b"x").unwrap();
    let d = h.expect(out(ACK | PSH).len(1));
    assert_eq!(d.ecn, 0);
    assert_eq!(h.ep.counters().ecn_ce_received, 0);
}
