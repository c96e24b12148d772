//! Timeouts (RFC 9293 3.10.8): retransmission, R1/R2 (SM-15) and the user
//! timeout (SM-14). TIME-WAIT expiry is SM-05 in `close`; SYN and SYN-ACK
//! retransmission are CE-11 in `handshake`.

use crate::harness::*;
use synack::{CloseReason, Event, SoftError, State};

/// Runs the clock from deadline to deadline until the connection closes or
/// `limit` passes; returns when it closed, relative to the harness start.
fn run_until_closed(h: &mut Harness, limit: core::time::Duration) -> Option<core::time::Duration> {
    let end = h.now + limit;
    loop {
        match h.ep.poll_timeout() {
            Some(t) if t <= end => h.advance_to(t.max(h.now)),
            _ => {
                h.advance_to(end);
                return None;
            }
        }
        if h.state() == State::Closed {
            return Some(h.elapsed());
        }
    }
}

/// RFC 9293 3.10.8 RETRANSMISSION TIMEOUT: the segment at the front of the
/// retransmission queue is sent again (one segment: cwnd is one after a
/// timeout) and the timer restarts, doubled; an ACK then lets the rest
/// follow.
#[test]
fn rto_resends_front_of_queue_with_backoff() {
    let mut h = Harness::passive_established(conf());
    let t0 = h.now;
    h.send(&bytes(4380)).unwrap();
    h.expect(out(ACK).seq(1).ack(1).len(1460));
    h.expect(out(ACK).seq(1461).ack(1).len(1460));
    h.expect(out(ACK | PSH).seq(2921).ack(1).len(1460));
    h.advance(secs(1));
    let s = h.expect(out(ACK).seq(1).ack(1).len(1460));
    assert_eq!(s.at, t0 + secs(1));
    h.expect_none();
    h.advance(secs(2));
    let s = h.expect(out(ACK).seq(1).ack(1).len(1460));
    assert_eq!(s.at, t0 + secs(3));
    h.expect_none();
    assert_eq!(h.info().unwrap().retransmits, 2);
    h.inject(seg(ACK).seq(1).ack(1461));
    h.expect(out(ACK).seq(1461).ack(1).len(1460));
}

/// SM-15 (MUST-20, MUST-21, R2): blackholed data is retransmitted with
/// exponential backoff (capped at the maximum RTO) and the connection is
/// closed with `TimedOut` no earlier than 100 s (by default at the 5-minute
/// user timeout, SM-14, before `Config::max_retransmits` runs out).
#[test]
fn sm_15_r2_closes_not_before_100s() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.send(b"hello").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(5));
    let closed = run_until_closed(&mut h, secs(4 * 3600)).expect("R2 closes");
    assert!(closed >= secs(100), "closed after {closed:?}");
    let times: Vec<u64> = h
        .drain()
        .iter()
        .map(|s| {
            assert_eq!((s.flags, s.rseq, s.payload.len()), (ACK | PSH, 1, 5));
            s.at.saturating_since(START).as_secs()
        })
        .collect();
    assert_eq!(times, [1, 3, 7, 15, 31, 63, 127, 247]);
    let ev = h.take_events();
    assert_eq!(
        ev.last(),
        Some(&Event::Closed {
            conn: c,
            reason: CloseReason::TimedOut,
        })
    );
    // Closing on R2 sends nothing more.
    h.advance(secs(600));
    h.expect_none();
}

/// SM-15: R2 is settable, as a count of retransmissions
/// (`Config::max_retransmits`).
#[test]
fn sm_15_r2_count_is_configurable() {
    let mut cfg = conf();
    cfg.max_retransmits = 3;
    let mut h = Harness::passive_established(cfg);
    h.send(b"x").unwrap();
    h.expect(out(ACK | PSH).seq(1).len(1));
    let closed = run_until_closed(&mut h, secs(600)).unwrap();
    assert_eq!(
        closed,
        secs(15),
        "retransmissions at 1, 3, 7 s; give up at 15 s"
    );
    assert_eq!(h.drain().len(), 3);
}

/// SM-15: while the peer keeps acknowledging, retransmissions do not add up
/// towards R2: the count restarts with every ACK of new data.
#[test]
fn sm_15_progress_resets_the_retransmission_count() {
    let mut cfg = conf();
    cfg.max_retransmits = 3;
    let mut h = Harness::passive_established(cfg);
    h.set_nodelay();
    for i in 0..10i64 {
        h.send(b"y").unwrap();
        h.expect(out(ACK | PSH).seq(1 + i).len(1));
        // Lose it twice; the third copy gets through. (The RTO stays backed
        // off: Karn allows no sample from a retransmitted segment.)
        while h.out.len() < 2 {
            h.advance(secs(1));
            assert_eq!(h.state(), State::Established);
        }
        for s in h.drain() {
            assert_eq!((s.rseq, s.payload.len()), (1 + i as u32, 1));
        }
        h.inject(seg(ACK).seq(1).ack(2 + i));
    }
    assert_eq!(h.state(), State::Established);
}

/// SM-15 (SHLD-9, SHLD-10): R1, at the third retransmission, is reported to
/// the application once, and the connection goes on.
#[test]
fn sm_15_r1_reported_at_third_retransmission() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.send(b"hello").unwrap();
    h.drain();
    h.advance(secs(7) - millis(1));
    assert_eq!(h.drain().len(), 2);
    assert!(h.take_events().is_empty(), "not before R1");
    h.advance(millis(1));
    assert_eq!(h.drain().len(), 1);
    h.expect_events(&[Event::SoftError {
        conn: c,
        error: SoftError::ExcessiveRetransmissions,
    }]);
    h.advance(secs(60));
    assert_eq!(h.state(), State::Established);
    assert!(h.take_events().is_empty(), "reported once");
}

/// SM-15 (MUST-21): R2 may be infinite: with no user timeout a blackholed
/// connection is never closed.
#[test]
fn sm_15_r2_infinite_never_closes() {
    let mut h = Harness::passive_established(conf());
    h.ep.set_user_timeout(h.conn(), None).unwrap();
    h.send(b"hello").unwrap();
    h.drain();
    assert_eq!(run_until_closed(&mut h, secs(48 * 3600)), None);
    assert!(h.drain().len() > 100, "still retransmitting");
}

/// SM-14: the user timeout aborts a connection whose data stays
/// unacknowledged that long ("connection aborted due to user timeout",
/// `TimedOut`): 30 s when set so, about 5 minutes by default.
#[test]
fn sm_14_user_timeout_aborts_on_time() {
    for (timeout, want) in [(Some(secs(30)), secs(30)), (None, secs(300))] {
        let mut h = Harness::passive_established(conf());
        let c = h.conn();
        if let Some(t) = timeout {
            h.ep.set_user_timeout(c, Some(t)).unwrap();
        }
        h.send(b"hello").unwrap();
        h.drain();
        let closed = run_until_closed(&mut h, secs(3600)).expect("user timeout");
        assert!(
            closed >= want && closed <= want + secs(1),
            "timeout {timeout:?}: closed after {closed:?}"
        );
        let ev = h.take_events();
        assert_eq!(
            ev.last(),
            Some(&Event::Closed {
                conn: c,
                reason: CloseReason::TimedOut,
            })
        );
        h.advance(secs(600));
        let after: Vec<_> = h.drain();
        assert!(after.iter().all(|s| s.at.saturating_since(START) <= closed));
    }
}
