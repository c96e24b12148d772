//! Keep-alive (RFC 9293 3.8.4; checklist rows TM-04 to TM-06, API-09's
//! keep-alive controls), at the packet level.

use crate::harness::*;
use synack::{CloseReason, Config, Error, Event, Keepalive, State, Timer};

/// Short settings for the tests: probe after 10 s of silence, every 2 s,
/// give up after 3 unanswered probes.
fn short() -> Keepalive {
    Keepalive::new(secs(10), secs(2), 3).unwrap()
}

/// Nothing until 1 ms before `at`, then exactly one probe at `at`:
/// `<SEQ=SND.NXT-1><ACK=RCV.NXT>` with no data (SND.NXT is ISS+1 here, so
/// the probe's relative SEQ is 0; `ack` is RCV.NXT relative to IRS).
fn expect_probe_at(h: &mut Harness, at: synack::Instant, ack: i64) {
    h.advance_to(at - millis(1));
    h.expect_none();
    h.advance_to(at);
    let p = h.expect(out(ACK).seq(0).ack(ack).len(0));
    assert_eq!(p.at, at);
    h.expect_none();
}

fn keepalive_conf() -> Config {
    let mut cfg = conf();
    cfg.keepalive = Some(short());
    cfg
}

/// TM-04 (MUST-24, MUST-25): keep-alive is off unless asked for: three hours of
/// silence send nothing.
#[test]
fn tm_04_keepalive_is_off_by_default() {
    assert_eq!(Config::default().keepalive, None);
    let mut h = Harness::passive_established(conf());
    h.advance(secs(3 * 3600));
    h.expect_none();
    assert_eq!(h.state(), State::Established);
    assert_eq!(h.ep.counters().keepalive_probes, 0);
}

/// TM-05 (MUST-26, MUST-27) and TM-06 (SHLD-12): a probe is
/// `<SEQ=SND.NXT-1><ACK=RCV.NXT>` with no data, sent only after the idle
/// time, and the peer's ACK starts the idle time again.
#[test]
fn tm_05_probe_after_the_idle_time_and_its_answer_restarts_it() {
    let mut h = Harness::passive_established(keepalive_conf());
    let t0 = h.now;
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::Keepalive, t0 + secs(10)))
    );
    expect_probe_at(&mut h, t0 + secs(10), 1);
    assert_eq!(h.ep.counters().keepalive_probes, 1);
    // The peer answers as RFC 9293 3.10.7.4 has it: an ACK at RCV.NXT.
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    let answered = h.now;
    expect_probe_at(&mut h, answered + secs(10), 1);
    assert_eq!(h.state(), State::Established);
}

/// TM-05: data from the peer is traffic too: the first probe waits for
/// 10 s of silence after it.
#[test]
fn tm_05_received_data_postpones_the_probe() {
    let mut h = Harness::passive_established(keepalive_conf());
    h.advance(secs(8));
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(5));
    h.expect(out(ACK).seq(1).ack(6));
    let heard = h.now;
    expect_probe_at(&mut h, heard + secs(10), 6);
}

/// TM-06 (MUST-29): one lost probe ACK does not end the connection; after
/// `probes` unanswered probes it is reset and the application hears
/// `KeepaliveTimeout`, idle + probes x interval after the last sign of
/// life.
#[test]
fn tm_06_unanswered_probes_reset_the_connection() {
    let mut h = Harness::passive_established(keepalive_conf());
    let c = h.conn();
    h.take_events();
    let t0 = h.now;
    for n in 0..3 {
        h.advance_to(t0 + secs(10) + secs(2) * n);
        h.expect(out(ACK).seq(0).ack(1).len(0));
        h.expect_none();
        assert_eq!(h.state(), State::Established, "after probe {}", n + 1);
    }
    h.advance_to(t0 + secs(16) - millis(1));
    h.expect_none();
    h.advance_to(t0 + secs(16));
    h.expect(out(RST).seq(1));
    h.expect_none();
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::KeepaliveTimeout,
    }]);
    assert_eq!(h.ep.counters().keepalive_probes, 3);
    assert_eq!(h.ep.send(c, b"x"), Err(Error::NotConnected));
}

/// TM-06: the second probe's answer keeps the connection: probing stops
/// and the count starts again.
#[test]
fn tm_06_a_late_answer_keeps_the_connection() {
    let mut h = Harness::passive_established(keepalive_conf());
    let t0 = h.now;
    h.advance_to(t0 + secs(10));
    h.expect(out(ACK).seq(0).len(0));
    h.advance_to(t0 + secs(12));
    h.expect(out(ACK).seq(0).len(0));
    h.inject(seg(ACK).seq(1).ack(1));
    let answered = h.now;
    h.advance_to(answered + secs(10) - millis(1));
    h.expect_none();
    // Three more probes are allowed again before a reset.
    for n in 0..3 {
        h.advance_to(answered + secs(10) + secs(2) * n);
        h.expect(out(ACK).seq(0).len(0));
    }
    assert_eq!(h.state(), State::Established);
}

/// While data is unacknowledged the retransmission timer asks the peer;
/// no probe goes out beside it.
#[test]
fn no_probe_while_data_is_in_flight() {
    let mut h = Harness::passive_established(keepalive_conf());
    h.send(&[7u8; 100]).unwrap();
    h.expect(out(ACK | PSH).seq(1).len(100));
    h.advance(secs(30));
    let sent = h.drain();
    assert!(!sent.is_empty(), "the data is retransmitted");
    for s in &sent {
        assert_eq!((s.rseq, s.payload.len()), (1, 100), "only retransmissions");
    }
    assert_eq!(h.ep.counters().keepalive_probes, 0);
}

/// API-09 (MUST-24, MUST-27): keep-alive is switched per connection, with
/// its own times; out-of-range settings are refused.
#[test]
fn api_09_keepalive_per_connection() {
    let mut h = Harness::passive_established(conf());
    let t0 = h.now;
    h.ep.set_keepalive(h.conn(), Some(short())).unwrap();
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::Keepalive, t0 + secs(10)))
    );
    h.advance(secs(10));
    h.expect(out(ACK).seq(0).len(0));
    h.ep.set_keepalive(h.conn(), None).unwrap();
    assert_eq!(h.info().unwrap().timer, None);
    h.advance(secs(3600));
    h.expect_none();
    assert_eq!(
        Keepalive::new(secs(0), secs(1), 1),
        Err(Error::InvalidArgument)
    );
    let nat = Keepalive::NAT;
    assert_eq!(
        (nat.idle(), nat.interval(), nat.probes()),
        (secs(60), secs(15), 4)
    );
}

/// TM-05 (MUST-28): turned on with the defaults, the first probe waits two
/// hours: nothing at 7,199 s, a probe at 7,200 s.
#[test]
fn tm_05_the_default_idle_time_is_two_hours() {
    let rfc = Keepalive::default();
    assert_eq!(
        (rfc.idle(), rfc.interval(), rfc.probes()),
        (secs(7200), secs(75), 9)
    );
    let mut cfg = conf();
    cfg.keepalive = Some(rfc);
    let mut h = Harness::passive_established(cfg);
    h.advance(secs(7199));
    h.expect_none();
    h.advance(secs(1));
    h.expect(out(ACK).seq(0).ack(1).len(0));
}

/// TM-06 (MAY-6): the stack answers a peer's keep-alive, with or without
/// its garbage octet, by an ACK of what it has, and stays established.
#[test]
fn tm_06_a_peers_probe_is_answered() {
    let mut h = Harness::passive_established(conf());
    h.inject(seg(ACK).seq(0).ack(1));
    h.expect(out(ACK).seq(1).ack(1).len(0));
    h.inject(seg(ACK).seq(0).ack(1).len(1));
    h.expect(out(ACK).seq(1).ack(1).len(0));
    h.expect_none();
    assert_eq!(h.state(), State::Established);
}
