//! Retransmission timer management (RFC-CHECKLIST.md section 3.F): Karn's
//! algorithm (RT-05) and when the timer starts, stops and restarts
//! (RT-06). Backoff and R1/R2 are in `timeouts`.

use crate::harness::*;
use core::time::Duration;
use synack::Timer;

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

/// A passive connection with timestamps negotiated: the peer's SYN and
/// third ACK carry them (TSval 100, 101).
fn established_with_timestamps() -> Harness {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).ts(100, 0));
    let sa = h.expect(out(SYN | ACK).seq(0).ack(1));
    let v = sa.options.timestamps.expect("timestamps negotiated").tsval;
    h.inject(seg(ACK).seq(1).ack(1).ts(101, v));
    h.expect_none();
    h.take_events();
    h.accept().expect("accept");
    assert!(h.info().unwrap().timestamps);
    h
}

/// The TSval an emitted segment carries.
fn tsval(s: &Seg) -> u32 {
    s.options.timestamps.expect("TSopt on every segment").tsval
}

/// Sends `n` more bytes at `seq` and checks that, unanswered, they are
/// retransmitted exactly `rto` later and not before.
#[track_caller]
fn retransmitted_after(h: &mut Harness, seq: i64, n: usize, rto: Duration) {
    let t = h.now;
    h.send(&bytes(n)).unwrap();
    h.expect(out(ACK | PSH).seq(seq).len(n));
    assert_eq!(h.info().unwrap().timer, Some((Timer::Retransmit, t + rto)));
    h.advance(rto - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.expect(out(ACK | PSH).seq(seq).len(n));
    assert_eq!(s.at, t + rto);
}

/// RT-05 (MUST-18, RFC 6298 section 3, Karn's algorithm): without
/// timestamps, an ACK that arrives after its segment was retransmitted
/// cannot say which copy it acknowledges, so it gives no RTT sample: SRTT
/// and RTTVAR are unchanged and the backed-off RTO (2 s) stays for the
/// next data, which is retransmitted exactly 2 s after it was sent. (A
/// sample of 2.9 s would have made the RTO 3.2625 s.) The first segment
/// sent once and acknowledged does give a sample, and the RTO collapses
/// back to the 1 s floor.
#[test]
fn rt_05_karn_no_sample_from_retransmitted_segment() {
    let mut h = Harness::passive_established(conf());
    let before = h.info().unwrap();
    assert_eq!(before.srtt, Some(Duration::ZERO), "handshake sample");
    let t0 = h.now;
    h.send(&bytes(100)).unwrap();
    h.expect(out(ACK | PSH).seq(1).len(100));
    h.advance(secs(1));
    let s = h.expect(out(ACK | PSH).seq(1).len(100));
    assert_eq!(s.at, t0 + secs(1));
    h.advance(millis(1900));
    h.expect_none();
    // The ACK of the first copy, 2.9 s after it was sent.
    h.inject(seg(ACK).seq(1).ack(101));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!((i.srtt, i.rttvar), (before.srtt, before.rttvar));
    assert_eq!(i.rto, secs(2));
    assert_eq!(i.timer, None, "everything acknowledged");
    // The next data: its timeout is the backed-off 2 s, and it is lost too.
    retransmitted_after(&mut h, 101, 100, secs(2));
    // Its ACK comes after the retransmission as well: no sample either.
    h.advance(millis(500));
    h.inject(seg(ACK).seq(1).ack(201));
    let i = h.info().unwrap();
    assert_eq!((i.srtt, i.rttvar), (before.srtt, before.rttvar));
    // A segment sent once, ACKed 300 ms later: a sample (RTTVAR = 300/4,
    // SRTT = 300/8 after the handshake's 0) and the backoff is over.
    h.send(&bytes(100)).unwrap();
    h.expect(out(ACK | PSH).seq(201).len(100));
    h.advance(millis(300));
    h.inject(seg(ACK).seq(1).ack(301));
    let i = h.info().unwrap();
    assert_eq!(i.srtt, Some(us(37_500)));
    assert_eq!(i.rttvar, Some(us(75_000)));
    assert_eq!(i.rto, secs(1));
    retransmitted_after(&mut h, 301, 100, secs(1));
}

/// RT-05 (MUST-18, RFC 6298 section 3; RFC 7323 section 4): with
/// timestamps the echoed TSecr says which copy an ACK answers, so a late
/// ACK of a retransmitted segment does give a sample, measured from the
/// copy it names: the original (sent at t0; ACK at t0 + 2.9 s ⇒ R =
/// 2.9 s) or the retransmission (sent at t0 + 1 s ⇒ R = 1.9 s). The RTO
/// follows RFC 6298 (2.3) from SRTT 0, RTTVAR 0 (the handshake's sample):
/// RTO = R/8 + 4·R/4, and the next data times out at exactly that RTO.
#[test]
fn rt_05_timestamps_resolve_the_ambiguity() {
    // (which copy the ACK echoes, R, SRTT, RTTVAR, RTO) in microseconds.
    let cases: [(usize, u64, u64, u64, u64); 2] = [
        (0, 2_900_000, 362_500, 725_000, 3_262_500),
        (1, 1_900_000, 237_500, 475_000, 2_137_500),
    ];
    for (copy, r, srtt, rttvar, rto) in cases {
        let mut h = established_with_timestamps();
        assert_eq!(h.info().unwrap().srtt, Some(Duration::ZERO));
        let t0 = h.now;
        h.send(&bytes(100)).unwrap();
        let first = h.expect(out(ACK | PSH).seq(1).len(100));
        h.advance(secs(1));
        let second = h.expect(out(ACK | PSH).seq(1).len(100));
        assert_eq!(tsval(&second), tsval(&first) + 1000, "1 ms TS clock");
        h.advance(millis(1900));
        h.expect_none();
        let echoed = tsval([&first, &second][copy]);
        h.inject(seg(ACK).seq(1).ack(101).ts(2000, echoed));
        h.expect_none();
        let i = h.info().unwrap();
        assert_eq!(h.now - us(r), [t0, t0 + secs(1)][copy]);
        assert_eq!(i.srtt, Some(us(srtt)), "copy {copy}");
        assert_eq!(i.rttvar, Some(us(rttvar)), "copy {copy}");
        assert_eq!(i.rto, us(rto), "copy {copy}");
        retransmitted_after(&mut h, 101, 100, us(rto));
    }
}

/// RT-06 (RFC 6298 5.1): the timer starts when data is sent and is not
/// running; data sent while it runs does not restart it. Two small writes
/// (Nagle off) 500 ms apart: the retransmission comes 1 s after the
/// first, not after the second.
#[test]
fn rt_06_timer_started_by_first_send_only() {
    let mut h = Harness::passive_established(conf());
    h.set_nodelay();
    let t0 = h.now;
    h.send(&bytes(10)).unwrap();
    h.expect(out(ACK | PSH).seq(1).len(10));
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::Retransmit, t0 + secs(1)))
    );
    h.advance(millis(500));
    h.send(&bytes(10)).unwrap();
    h.expect(out(ACK | PSH).seq(11).len(10));
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::Retransmit, t0 + secs(1)))
    );
    h.advance(millis(500) - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.expect(out(ACK | PSH).seq(1));
    assert_eq!(s.at, t0 + secs(1));
}

/// RT-06 (RFC 6298 5.2): when all outstanding data is acknowledged the
/// timer stops: after a partial ACK and then a full one, nothing is ever
/// retransmitted.
#[test]
fn rt_06_timer_stops_when_all_data_acked() {
    let mut h = Harness::passive_established(conf());
    h.send(&bytes(2920)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    h.expect(out(ACK | PSH).seq(1461).len(1460));
    h.advance(millis(200));
    h.inject(seg(ACK).seq(1).ack(1461));
    assert!(h.info().unwrap().timer.is_some(), "data still outstanding");
    h.advance(millis(200));
    h.inject(seg(ACK).seq(1).ack(2921));
    h.expect_none();
    assert_eq!(h.info().unwrap().timer, None);
    h.advance(secs(600));
    h.expect_none();
    assert_eq!(h.info().unwrap().retransmits, 0);
}

/// RT-06 (RFC 6298 5.3): an ACK of new data restarts the timer. Two
/// segments sent at t0; the first is ACKed at t0 + 600 ms, so the second
/// is retransmitted one RTO (1 s, the floor) after that ACK, at
/// t0 + 1.6 s, and not at t0 + 1 s when the timer would first have fired.
#[test]
fn rt_06_partial_ack_restarts_timer() {
    let mut h = Harness::passive_established(conf());
    let t0 = h.now;
    h.send(&bytes(2920)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    h.expect(out(ACK | PSH).seq(1461).len(1460));
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::Retransmit, t0 + secs(1)))
    );
    h.advance(millis(600));
    h.inject(seg(ACK).seq(1).ack(1461));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.rto, secs(1));
    assert_eq!(i.timer, Some((Timer::Retransmit, t0 + millis(1600))));
    h.advance(millis(1000) - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.expect(out(ACK | PSH).seq(1461).len(1460));
    assert_eq!(s.at, t0 + millis(1600));
}

/// RT-06 (RFC 6298 5.3): only an ACK of new data restarts the timer. Two
/// duplicate ACKs and a data segment from the peer that acknowledges
/// nothing new, all before the RTO, leave it alone: the retransmission
/// comes 1 s after the original transmission.
#[test]
fn rt_06_duplicate_acks_do_not_restart_timer() {
    let mut h = Harness::passive_established(conf());
    let t0 = h.now;
    h.send(&bytes(2920)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    h.expect(out(ACK | PSH).seq(1461).len(1460));
    h.advance(millis(300));
    h.inject(seg(ACK).seq(1).ack(1));
    h.advance(millis(300));
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    h.advance(millis(300));
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(100));
    h.expect(out(ACK).seq(2921).ack(101).len(0));
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::Retransmit, t0 + secs(1)))
    );
    h.advance(millis(100) - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.expect(out(ACK).seq(1).ack(101).len(1460));
    assert_eq!(s.at, t0 + secs(1));
}
