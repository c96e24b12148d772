//! The state machine and closing (RFC-CHECKLIST.md section 3.C, rows SM-*).
//! Timer-driven rows (SM-14, SM-15) are in `timeouts`; SYN in TIME-WAIT
//! (SM-06) is in `attacks`.

use crate::harness::*;
use synack::{CloseReason, Config, Error, Event, State, Timer};

/// SM-01: CLOSE in ESTABLISHED queues the FIN behind all queued data (FIN
/// seq = last data byte + 1), enters FIN-WAIT-1, refuses further SENDs, and
/// retransmits the FIN at the RTO until it is acknowledged.
#[test]
fn sm_01_close_sends_fin_after_queued_data_and_retransmits_it() {
    let mut h = Harness::passive_established(conf());
    let data = bytes(10_000);
    assert_eq!(h.send(&data), Ok(10_000));
    h.shutdown().unwrap();
    assert_eq!(h.state(), State::FinWait1);
    assert_eq!(h.send(b"more"), Err(Error::BrokenPipe));

    // Acknowledge data as it comes, never the FIN.
    let mut next = 1u32;
    let mut fin_at = None;
    for _ in 0..50 {
        let segs = h.drain();
        if segs.is_empty() {
            break;
        }
        for s in &segs {
            assert!(fin_at.is_none(), "nothing after the FIN: {}", describe(s));
            assert_eq!(s.rseq, next, "in order, no gaps: {}", describe(s));
            assert_eq!(
                &s.payload[..],
                &data[(next - 1) as usize..][..s.payload.len()]
            );
            next += s.payload.len() as u32;
            if s.has(FIN) {
                fin_at = Some(next);
            }
        }
        h.inject(seg(ACK).seq(1).ack(i64::from(next)));
    }
    assert_eq!(fin_at, Some(10_001), "FIN right after the last data byte");
    assert_eq!(h.state(), State::FinWait1);

    // The FIN was not acknowledged: it comes again at the RTO, then with
    // backoff.
    let t0 = h.now;
    h.advance(secs(1));
    let s = h.expect(out(FIN | ACK).seq(10_001).ack(1).len(0));
    assert_eq!(s.at, t0 + secs(1));
    h.advance(secs(2));
    h.expect(out(FIN | ACK).seq(10_001).ack(1).len(0));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(10_002));
    h.expect_none();
    assert_eq!(h.state(), State::FinWait2);
    h.advance(secs(10));
    h.expect_none();
}

/// SM-02: FIN-WAIT-1 ⇒ FIN-WAIT-2 when our FIN is acknowledged.
#[test]
fn sm_02_fin_wait_1_to_fin_wait_2() {
    let mut h = Harness::fin_wait_1(conf());
    h.inject(seg(ACK).seq(1).ack(2));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.state, State::FinWait2);
    assert_eq!(i.snd_una, synack::SeqNum(h.iss()).add(2));
    assert!(h.take_events().is_empty(), "the handle stays open");
}

/// SM-02: FIN-WAIT-1 ⇒ CLOSING on the peer's FIN when ours is not yet
/// acknowledged; CLOSING ⇒ TIME-WAIT on the ACK of our FIN.
#[test]
fn sm_02_fin_wait_1_to_closing_to_time_wait() {
    let mut h = Harness::closing(conf());
    let c = h.conn();
    // The peer's FIN was "connection closing" to the user.
    h.expect_events(&[Event::Readable { conn: c }]);
    h.inject(seg(ACK).seq(2).ack(2));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Normal,
    }]);
}

/// SM-02: FIN-WAIT-1 ⇒ TIME-WAIT directly on a FIN that also acknowledges
/// ours.
#[test]
fn sm_02_fin_wait_1_to_time_wait_on_fin_ack() {
    let mut h = Harness::fin_wait_1(conf());
    let c = h.conn();
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
    assert_eq!(h.ep.connection_count(), 0);
    h.expect_events(&[
        Event::Readable { conn: c },
        Event::Closed {
            conn: c,
            reason: CloseReason::Normal,
        },
    ]);
}

/// SM-02: FIN-WAIT-2 keeps receiving data, and its FIN ⇒ TIME-WAIT after
/// the data has been read.
#[test]
fn sm_02_fin_wait_2_receives_data_then_fin() {
    let mut h = Harness::fin_wait_2(conf());
    let c = h.conn();
    h.inject(seg(ACK | PSH).seq(1).ack(2).len(300));
    h.expect(out(ACK).seq(2).ack(301));
    h.inject(seg(FIN | ACK).seq(301).ack(2));
    h.expect(out(ACK).seq(2).ack(302));
    h.expect_none();
    // The TIME-WAIT table answers for the 4-tuple at once; the unread data
    // keeps the handle readable (closed) until the application has it.
    assert_eq!(h.ep.time_wait_count(), 1);
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.state(), State::Closed);
    assert_eq!(h.recv_all(), bytes(300));
    assert!(h.info().is_none());
    assert_eq!(h.ep.time_wait_count(), 1);
    assert!(h.saw(Event::Readable { conn: c }));
}

/// SM-03: passive close. The peer's data+FIN is ACKed (ack = FIN seq + 1),
/// CLOSE-WAIT, the application reads the data then end-of-stream, may still
/// send, and its CLOSE sends a FIN (LAST-ACK); the ACK of that FIN closes.
#[test]
fn sm_03_passive_close() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.inject(seg(ACK | PSH | FIN).seq(1).ack(1).len(100));
    h.expect(out(ACK).seq(1).ack(102));
    h.expect_none();
    assert_eq!(h.state(), State::CloseWait);
    h.expect_events(&[Event::Readable { conn: c }]);
    let mut buf = [0u8; 1000];
    assert_eq!(h.recv(&mut buf), Ok(100));
    assert_eq!(&buf[..100], &bytes(100)[..]);
    assert_eq!(h.recv(&mut buf), Ok(0), "end of stream after the data");
    assert!(h.ep.is_eof(c));

    h.send(b"late").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(102).len(4));
    h.inject(seg(ACK).seq(102).ack(5));
    h.expect_none();
    h.shutdown().unwrap();
    h.expect(out(FIN | ACK).seq(5).ack(102));
    assert_eq!(h.state(), State::LastAck);
    h.inject(seg(ACK).seq(102).ack(6));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Normal,
    }]);
    assert_eq!(
        h.ep.time_wait_count(),
        0,
        "the passive closer does not wait"
    );
    h.advance(secs(600));
    h.expect_none();
}

/// SM-04: simultaneous close. Crossing FINs: both sides FIN-WAIT-1, then
/// CLOSING, then TIME-WAIT (RFC 9293 figure 13).
#[test]
fn sm_04_simultaneous_close() {
    let mut h = Harness::passive_established(conf());
    h.shutdown().unwrap();
    h.expect(out(FIN | ACK).seq(1).ack(1));
    // The peer's FIN crossed ours: it does not acknowledge it.
    h.inject(seg(FIN | ACK).seq(1).ack(1));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.state(), State::Closing);
    // Now the peer's ACK of our FIN.
    h.inject(seg(ACK).seq(2).ack(2));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
}

/// SM-05 (MUST-13): TIME-WAIT lasts 2 x MSL. With MSL = 2 min (the RFC's
/// figure; the engine's default MSL is 30 s, a choice RFC 9293 3.4.2
/// allows): a retransmitted FIN at +200 s is ACKed and restarts the timer,
/// the entry is gone 240 s after that, and then the CLOSED rules apply.
#[test]
fn sm_05_time_wait_lasts_2msl_and_fin_restarts_it() {
    let mut cfg = conf();
    cfg.msl = secs(120);
    let mut h = Harness::time_wait(cfg);
    let t0 = h.now;
    h.advance(secs(200));
    assert_eq!(h.ep.time_wait_count(), 1);
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    h.advance_to(t0 + secs(240));
    assert_eq!(h.ep.time_wait_count(), 1, "restarted at +200 s");
    h.advance_to(t0 + secs(440) - millis(1));
    assert_eq!(h.ep.time_wait_count(), 1);
    h.advance_to(t0 + secs(440));
    assert_eq!(h.ep.time_wait_count(), 0);
    h.expect_none();
    // No TCB now: data gets <SEQ=SEG.ACK><CTL=RST>.
    h.inject(seg(ACK | PSH).seq(2).ack(2).len(10));
    h.expect(out(RST).seq(2).abs_ack(0));
}

/// SM-05: with the default configuration TIME-WAIT lasts exactly
/// 2 x `Config::msl`.
#[test]
fn sm_05_time_wait_default_duration() {
    let mut h = Harness::time_wait(conf());
    let t0 = h.now;
    let two_msl = 2 * conf().msl;
    h.advance_to(t0 + two_msl - millis(1));
    assert_eq!(h.ep.time_wait_count(), 1);
    h.advance_to(t0 + two_msl);
    assert_eq!(h.ep.time_wait_count(), 0);
    h.expect_none();
}

/// Builds a connection in the named state; returns the harness and RCV.NXT
/// (relative to IRS).
fn in_state(s: State) -> (Harness, i64) {
    match s {
        State::Established => (Harness::passive_established(conf()), 1),
        State::FinWait1 => (Harness::fin_wait_1(conf()), 1),
        State::FinWait2 => (Harness::fin_wait_2(conf()), 1),
        State::CloseWait => (Harness::close_wait(conf()), 2),
        State::Closing => (Harness::closing(conf()), 2),
        State::LastAck => (Harness::last_ack(conf()), 2),
        _ => unreachable!(),
    }
}

/// SM-07: a RST at RCV.NXT in ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and
/// CLOSE-WAIT resets the connection ("connection reset" to the user, queues
/// flushed), and in CLOSING and LAST-ACK just closes it. Nothing is emitted
/// then or later; SEND and RECEIVE fail.
#[test]
fn sm_07_valid_rst_in_each_state() {
    for state in [
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
    ] {
        let (mut h, rcv_nxt) = in_state(state);
        let c = h.conn();
        if state.can_send() {
            // Queued and in-flight data is flushed too.
            h.send(&bytes(3000)).unwrap();
            h.drain();
        }
        h.take_events();
        h.inject(seg(RST).seq(rcv_nxt));
        h.expect_none();
        assert_eq!(h.state(), State::Closed, "{state}");
        h.expect_events(&[Event::Closed {
            conn: c,
            reason: CloseReason::Reset,
        }]);
        let mut buf = [0u8; 10];
        assert!(h.ep.recv(c, &mut buf).is_err(), "{state}: RECEIVE fails");
        assert!(h.ep.send(c, b"x").is_err(), "{state}: SEND fails");
        h.advance(secs(300));
        h.expect_none();
    }
}

/// SM-07: a RST at RCV.NXT in TIME-WAIT deletes it (RFC 9293 3.10.7.4; RFC
/// 1337's alternative is not taken).
#[test]
fn sm_07_valid_rst_in_time_wait() {
    let mut h = Harness::time_wait(conf());
    h.inject(seg(RST).seq(2));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 0);
    // CLOSED rules from now on.
    h.inject(seg(ACK).seq(2).ack(2));
    h.expect(out(RST).seq(2));
}

/// SM-07: counters: resets from ESTABLISHED and CLOSE-WAIT are EstabResets.
#[test]
fn sm_07_estab_resets_counted() {
    let (mut h, n) = in_state(State::Established);
    h.inject(seg(RST).seq(n));
    assert_eq!(h.ep.counters().estab_resets, 1);
    let (mut h, n) = in_state(State::CloseWait);
    h.inject(seg(RST).seq(n));
    assert_eq!(h.ep.counters().estab_resets, 1);
}

/// SM-08 (MUST-12): the application tells a normal close from an abort:
/// after a FIN, RECEIVE returns end-of-stream; after a RST, the connection
/// closes with `CloseReason::Reset` and RECEIVE fails instead of returning
/// end-of-stream.
#[test]
fn sm_08_fin_and_rst_are_distinguishable() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.inject(seg(FIN | ACK).seq(1).ack(1));
    h.expect(out(ACK).seq(1).ack(2));
    let mut buf = [0u8; 8];
    assert_eq!(h.recv(&mut buf), Ok(0));
    assert!(h.ep.is_eof(c));
    assert!(
        !h.take_events()
            .iter()
            .any(|e| matches!(e, Event::Closed { .. })),
        "a FIN does not close the handle"
    );

    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.inject(seg(RST).seq(1));
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Reset,
    }]);
    assert!(!h.ep.is_eof(c));
    assert!(h.ep.recv(c, &mut buf).is_err());
}

/// SM-09: no TCB. A segment without ACK gets
/// `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>` (SYN and FIN count in
/// SEG.LEN); one with ACK gets `<SEQ=SEG.ACK><CTL=RST>`; a RST gets nothing.
#[test]
fn sm_09_closed_port_answers_with_exact_rst() {
    for v6 in [false, true] {
        let mut h = if v6 {
            Harness::new_v6(conf())
        } else {
            Harness::new(conf())
        };
        h.inject(seg(SYN).seq(0));
        h.expect(out(RST | ACK).abs_seq(0).ack(1).win(0).len(0));
        h.inject(seg(SYN).seq(0).len(10));
        h.expect(out(RST | ACK).abs_seq(0).ack(11));
        h.inject(seg(FIN).seq(5));
        h.expect(out(RST | ACK).abs_seq(0).ack(6));
        h.inject(seg(SYN | FIN).seq(0).len(3));
        h.expect(out(RST | ACK).abs_seq(0).ack(5));
        h.inject(seg(NONE).seq(7).len(20));
        h.expect(out(RST | ACK).abs_seq(0).ack(27));
        h.inject(seg(NONE).seq(-1));
        h.expect(out(RST | ACK).abs_seq(0).ack(-1));
        h.inject(seg(ACK).seq(3).abs_ack(0x1234_5678));
        h.expect(out(RST).abs_seq(0x1234_5678).abs_ack(0));
        h.inject(seg(ACK | FIN | PSH).seq(3).abs_ack(42).len(9));
        h.expect(out(RST).abs_seq(42).abs_ack(0));
        h.inject(seg(SYN | ACK).seq(3).abs_ack(43));
        h.expect(out(RST).abs_seq(43));
        // Never answer a RST.
        h.inject(seg(RST).seq(0));
        h.inject(seg(RST | ACK).seq(0).abs_ack(9));
        h.expect_none();
        assert_eq!(h.ep.counters().out_rsts, 9);
    }
}

/// SM-10: ABORT in SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2 and
/// CLOSE-WAIT sends `<SEQ=SND.NXT><CTL=RST>`, flushes everything and tells
/// the user; nothing follows.
#[test]
fn sm_10_abort_sends_rst_in_synchronized_states() {
    // (state, the harness, SND.NXT relative to ISS)
    let mut cases: Vec<(State, Harness, i64)> = Vec::new();
    let mut h = Harness::passive_established(conf());
    h.send(&bytes(100)).unwrap();
    h.expect(out(ACK | PSH).seq(1).len(100));
    cases.push((State::Established, h, 101));
    cases.push((State::FinWait1, Harness::fin_wait_1(conf()), 2));
    cases.push((State::FinWait2, Harness::fin_wait_2(conf()), 2));
    cases.push((State::CloseWait, Harness::close_wait(conf()), 1));
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    cases.push((State::SynReceived, h, 1));
    for (state, mut h, snd_nxt) in cases {
        assert_eq!(h.state(), state);
        let c = h.conn();
        h.take_events();
        h.abort();
        h.expect(out(RST).seq(snd_nxt).abs_ack(0).len(0));
        h.expect_none();
        assert_eq!(h.state(), State::Closed);
        h.expect_events(&[Event::Closed {
            conn: c,
            reason: CloseReason::Aborted,
        }]);
        assert_eq!(h.ep.send(c, b"x"), Err(Error::NotConnected));
        h.advance(secs(300));
        h.expect_none();
    }
}

/// SM-10: the RST of an ABORT carries SND.NXT, the highest sequence number
/// sent, even while a retransmission timeout has the engine resending from
/// SND.UNA (RFC 9293 3.10.5).
#[test]
fn sm_10_abort_after_timeout_uses_highest_seq_sent() {
    let mut h = Harness::passive_established(conf());
    h.send(&bytes(4380)).unwrap();
    h.expect(out(ACK).seq(1).ack(1).len(1460));
    h.expect(out(ACK).seq(1461).ack(1).len(1460));
    h.expect(out(ACK | PSH).seq(2921).ack(1).len(1460));
    h.advance(secs(1));
    h.expect(out(ACK).seq(1).len(1460));
    h.expect_none();
    h.abort();
    h.expect(out(RST).seq(4381));
}

/// SM-10: ABORT in LISTEN, SYN-SENT, CLOSING and LAST-ACK deletes the
/// connection without a RST. (In TIME-WAIT the application's handle is
/// already closed; the entry is the endpoint's.)
#[test]
fn sm_10_abort_without_rst() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    h.ep.close_listener(l).unwrap();
    h.pump();
    h.expect_none();
    // The port is closed now.
    h.inject(seg(SYN).seq(0));
    h.expect(out(RST | ACK).abs_seq(0).ack(1));

    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.abort();
    h.expect_none();
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Aborted,
    }]);
    h.advance(secs(10));
    h.expect_none();

    for mut h in [Harness::closing(conf()), Harness::last_ack(conf())] {
        let c = h.conn();
        h.take_events();
        h.abort();
        h.expect_none();
        assert_eq!(h.state(), State::Closed);
        h.expect_events(&[Event::Closed {
            conn: c,
            reason: CloseReason::Aborted,
        }]);
        h.advance(secs(10));
        h.expect_none();
    }

    let mut h = Harness::time_wait(conf());
    h.abort();
    h.expect_none();
}

/// SM-13: once the peer's FIN has arrived (CLOSE-WAIT, CLOSING, LAST-ACK,
/// TIME-WAIT), text and URG are ignored: nothing is delivered and the ACK
/// stays at FIN+1.
#[test]
fn sm_13_text_after_fin_ignored() {
    for (name, mut h) in [
        ("CLOSE-WAIT", Harness::close_wait(conf())),
        ("CLOSING", Harness::closing(conf())),
        ("LAST-ACK", Harness::last_ack(conf())),
    ] {
        let snd_nxt = i64::from(h.info().unwrap().snd_nxt.0.wrapping_sub(h.iss()));
        h.take_events();
        h.inject(seg(ACK | PSH | URG).seq(2).ack(1).urgent(3).len(50));
        h.expect(out(ACK).seq(snd_nxt).ack(2));
        h.expect_none();
        assert_eq!(h.info().unwrap().recv_queue, 0, "{name}");
        assert!(h.take_events().is_empty(), "{name}");
    }
    let mut h = Harness::time_wait(conf());
    h.inject(seg(ACK | PSH).seq(2).ack(2).len(50));
    h.expect(out(ACK).seq(2).ack(2));
    h.expect_none();
}

/// SM-13 with a FIN in the same segment as later data: the data after the
/// FIN in CLOSE-WAIT is not delivered, and RECEIVE still reports end of
/// stream.
#[test]
fn sm_13_close_wait_receive_reports_eof_not_new_data() {
    let mut h = Harness::close_wait(conf());
    h.inject(seg(ACK | PSH).seq(2).ack(1).len(10));
    h.expect(out(ACK).seq(1).ack(2));
    let mut buf = [0u8; 32];
    assert_eq!(h.recv(&mut buf), Ok(0));
}

/// SM-07 in TIME-WAIT with data still unread (the stream ended with a FIN,
/// the application is still reading): reading after the peer's FIN sends no
/// window update (the peer may have forgotten the connection), and a RST
/// that ends TIME-WAIT early leaves the whole stream readable and the
/// close normal. Found against the Linux kernel: its RST answering a late
/// window update cut off the last of an echo.
#[test]
fn sm_07_time_wait_with_unread_data_survives_a_rst() {
    let mut h = Harness::fin_wait_2(conf());
    let c = h.conn();
    h.inject(seg(FIN | ACK | PSH).seq(1).ack(2).len(3000));
    h.expect(out(ACK).seq(2).ack(3002));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
    // The close is normal, and said so as TIME-WAIT began.
    assert!(h.saw(Event::Closed {
        conn: c,
        reason: CloseReason::Normal
    }));
    let mut first = [0u8; 1000];
    assert_eq!(h.recv(&mut first), Ok(1000));
    h.pump();
    h.expect_none();
    h.take_events();
    h.inject(seg(RST).seq(3002));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 0, "the RST ended TIME-WAIT");
    let rest = h.recv_all();
    assert_eq!(rest.len(), 2000);
    let mut all = first.to_vec();
    all.extend_from_slice(&rest);
    assert_eq!(all, bytes(3000));
    // The RST changes nothing the application sees.
    assert!(
        h.take_events()
            .iter()
            .all(|e| !matches!(e, Event::Closed { .. }))
    );
}

/// SM-11 (SHLD-3, MAY-1): CLOSE while received data is still unread tells
/// the peer its data was lost: `<SEQ=SND.NXT><CTL=RST>` instead of a FIN,
/// and the connection is gone (a later segment from the peer meets the
/// CLOSED rules).
#[test]
fn sm_11_close_with_unread_data_sends_rst() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
    h.expect(out(ACK).seq(1).ack(1001));
    h.send(b"hello").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1001).len(5));
    h.take_events();
    h.close().unwrap();
    h.expect(out(RST).seq(6).abs_ack(0).len(0));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Aborted,
    }]);
    h.inject(seg(ACK | PSH).seq(1001).ack(6).len(10));
    h.expect(out(RST).seq(6).abs_ack(0));
    h.advance(secs(60));
    h.expect_none();
}

/// SM-11 with `Config::rst_with_ack` (the linux profile's choice): the
/// RST that tells the peer its data was lost also acknowledges RCV.NXT.
/// Either way it carries TSopt on a connection that negotiated timestamps
/// (RFC 7323 3.2: SHOULD be sent in a RST).
#[test]
fn sm_11_rst_with_ack_and_timestamps() {
    for with_ack in [false, true] {
        let mut cfg = conf();
        cfg.rst_with_ack = with_ack;
        let mut h = Harness::new(cfg);
        h.peer_syn_opts.timestamps = Some(synack_wire::Timestamps {
            tsval: 1000,
            tsecr: 0,
        });
        h.enter_syn_received();
        h.enter_established_passive();
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
        h.expect(out(ACK).seq(1).ack(1001));
        h.close().unwrap();
        if with_ack {
            h.expect(out(RST | ACK).seq(1).ack(1001).len(0));
        } else {
            h.expect(out(RST).seq(1).abs_ack(0).len(0));
        }
        let rst = h.log.last().expect("the RST");
        assert!(rst.options.timestamps.is_some(), "{rst:?}");
        h.expect_none();
    }
}

/// SM-11 (SHLD-3, MAY-1): after CLOSE with nothing unread a FIN goes out;
/// data that arrives afterwards, in FIN-WAIT-1 or FIN-WAIT-2, is not
/// delivered and draws `<SEQ=SND.NXT><CTL=RST>`. After `shutdown`, which
/// closes only the sending half, the same data is received normally.
#[test]
fn sm_11_data_after_close_draws_rst() {
    for fin_acked in [false, true] {
        let mut h = Harness::passive_established(conf());
        h.close().unwrap();
        h.expect(out(FIN | ACK).seq(1).ack(1));
        let ack = if fin_acked {
            h.inject(seg(ACK).seq(1).ack(2));
            assert_eq!(h.state(), State::FinWait2);
            2
        } else {
            assert_eq!(h.state(), State::FinWait1);
            1
        };
        h.expect_none();
        h.inject(seg(ACK | PSH).seq(1).ack(ack).len(100));
        h.expect(out(RST).seq(2).abs_ack(0).len(0));
        h.expect_none();
        assert_eq!(h.state(), State::Closed, "FIN acked: {fin_acked}");
        h.advance(secs(60));
        h.expect_none();
    }

    let mut h = Harness::fin_wait_2(conf());
    h.inject(seg(ACK | PSH).seq(1).ack(2).len(100));
    h.expect(out(ACK).seq(2).ack(101));
    h.expect_none();
    assert_eq!(h.recv_all(), bytes(100));
    assert_eq!(h.state(), State::FinWait2);
}

/// A connection the application closed (`close`, not `shutdown`), in
/// FIN-WAIT-2 after its FIN was acknowledged, and a peer that never sends
/// its own FIN.
fn orphan_in_fin_wait_2(cfg: Config) -> Harness {
    let mut h = Harness::passive_established(cfg);
    h.close().unwrap();
    h.expect(out(FIN | ACK).seq(1).ack(1));
    h.inject(seg(ACK).seq(1).ack(2));
    h.expect_none();
    assert_eq!(h.state(), State::FinWait2);
    h
}

/// Orphaned FIN-WAIT-2 (issue 9, Linux's `tcp_fin_timeout`): the wait for
/// the peer's FIN is bounded by `Config::fin_wait2_timeout` (60 s by
/// default); then a RST tells the peer, the application hears
/// `FinWait2Timeout`, and the TCB is gone (a late FIN draws a RST from no
/// connection).
#[test]
fn orphan_in_fin_wait_2_is_reset_when_its_wait_runs_out() {
    let mut h = orphan_in_fin_wait_2(conf());
    let c = h.conn();
    let t0 = h.now;
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::FinWait2, t0 + secs(60)))
    );
    h.take_events();
    h.advance(secs(60) - millis(1));
    h.expect_none();
    assert_eq!(h.state(), State::FinWait2);
    h.advance(millis(1));
    h.expect(out(RST).seq(2));
    h.expect_none();
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::FinWait2Timeout,
    }]);
    assert_eq!(h.ep.connection_count(), 0);
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(RST).seq(2));
}

/// The peer's FIN within the wait: TIME-WAIT as usual, and the FIN-WAIT-2
/// timer goes with the state (no RST later).
#[test]
fn orphan_in_fin_wait_2_closes_normally_on_the_peers_fin() {
    let mut h = orphan_in_fin_wait_2(conf());
    h.advance(secs(59));
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
    h.advance(secs(5));
    h.expect_none();
}

/// Only an orphan is timed: after `shutdown` the application can still
/// read and decides how long to wait. A later `close` starts the wait.
#[test]
fn fin_wait_2_after_shutdown_waits_until_close() {
    let mut h = Harness::fin_wait_2(conf());
    h.advance(secs(600));
    h.expect_none();
    assert_eq!(h.state(), State::FinWait2);
    assert_eq!(h.info().unwrap().timer, None);
    h.close().unwrap();
    let t0 = h.now;
    assert_eq!(
        h.info().unwrap().timer,
        Some((Timer::FinWait2, t0 + secs(60)))
    );
    h.advance(secs(60));
    h.expect(out(RST).seq(2));
    assert_eq!(h.ep.connection_count(), 0);
}

/// `fin_wait2_timeout: None` waits for the peer's FIN forever, as RFC 9293
/// itself does; the wait is configurable.
#[test]
fn fin_wait_2_timeout_is_configurable() {
    let mut cfg = conf();
    cfg.fin_wait2_timeout = None;
    let mut h = orphan_in_fin_wait_2(cfg);
    h.advance(secs(3600));
    h.expect_none();
    assert_eq!(h.state(), State::FinWait2);
    let mut cfg = conf();
    cfg.fin_wait2_timeout = Some(secs(5));
    let mut h = orphan_in_fin_wait_2(cfg);
    h.advance(secs(5));
    h.expect(out(RST).seq(2));
}
