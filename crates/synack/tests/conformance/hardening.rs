//! Regression tests for the engine's hardening: every discard has a named
//! reason, no bound is passed by a side door, no connection is left
//! without a timer while it waits for its peer. Each test failed before
//! the fix it pins.

use crate::harness::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack::{DropReason, Error, Event, IcmpError, IcmpErrorKind, SeqNum, State, SynCookieMode};

/// CE-03 (RFC 9293 3.10.7.2; Linux drops it too): a SYN that also carries
/// FIN opens nothing: no SYN-ACK, no half-open connection, a named drop.
#[test]
fn ce_03_syn_fin_to_a_listener_is_dropped() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    h.inject(seg(SYN | FIN).seq(0).mss(1460));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    assert_eq!(h.ep.counters().dropped(DropReason::SynFin), 1);
    // A plain SYN from the same peer still opens.
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
}

/// DT-09, MUST-36: data queued during the handshake meets a SYN-ACK with a
/// zero window. The connection must keep a timer (the persist timer) and
/// probe the window after one RTO; before the fix the SYN-ACK cleared the
/// timer and the connection waited forever for a window update.
#[test]
fn dt_09_zero_window_syn_ack_arms_the_persist_timer() {
    let mut h = Harness::active_syn_sent(conf());
    h.send(b"0123456789").unwrap();
    h.expect_none();
    h.advance(millis(100));
    h.inject(seg(SYN | ACK).seq(0).ack(1).win(0).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.state, State::Established);
    let rto = i.rto;
    assert!(
        i.timer.is_some(),
        "no timer with data queued and the window shut"
    );
    h.advance(rto - millis(1));
    h.expect_none();
    h.advance(millis(1));
    // The probe: one byte past the closed window (RFC 9293 3.8.6.1).
    h.expect(out(ACK).seq(1).ack(1).len(1));
    h.inject(seg(ACK).seq(1).ack(1).win(1000));
    h.expect(out(ACK | PSH).seq(1).ack(1).len(10));
}

/// CE-15, CE-16: with the connection table full the listener answers with
/// cookies, and a returning cookie ACK must not create a connection past
/// `Config::max_connections` (before the fix every cookie ACK inserted a
/// TCB, without limit).
#[test]
fn ce_16_cookie_acks_respect_the_connection_limit() {
    let mut cfg = conf();
    cfg.max_connections = 1;
    cfg.syn_cookies = SynCookieMode::WhenQueueFull;
    let mut h = Harness::new(cfg);
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    assert_eq!(h.ep.connection_count(), 1);
    for i in 1..=3u16 {
        let engine = h.peers[0].engine;
        h.add_peer(
            engine,
            SocketAddr::from(([198, 18, 0, 1], 41000 + i)),
            7_000 * u32::from(i),
        );
        h.inject(seg(SYN).seq(0).mss(1460));
        h.expect(out(SYN | ACK).seq(0).ack(1));
        assert_eq!(h.ep.counters().syncookies_sent, u64::from(i));
        h.inject(seg(ACK).seq(1).ack(1));
        h.expect_none();
        assert_eq!(
            h.ep.connection_count(),
            1,
            "cookie ACK {i} passed the bound"
        );
    }
    assert_eq!(h.ep.counters().dropped(DropReason::ConnectionLimit), 3);
    assert_eq!(h.ep.accept_queue_len(l), Some(0));
}

/// RT-11 (RFC 6298 section 5): after repeated backoffs SRTT and RTTVAR are
/// forgotten, so the first sample after recovery initialises them per
/// (2.2) instead of being smoothed into the stale estimate.
#[test]
fn rt_11_estimate_cleared_after_repeated_backoffs() {
    let mut cfg = conf();
    cfg.timestamps = false;
    let mut h = Harness::passive_established(cfg);
    h.set_nodelay();
    // An estimate from the handshake and a first exchange of 300 ms.
    h.send(b"a").unwrap();
    h.expect(out(ACK | PSH).seq(1).len(1));
    h.advance(millis(300));
    h.inject(seg(ACK).seq(1).ack(2));
    assert!(h.info().unwrap().srtt.is_some());
    // Then four timeouts in a row: 1, 2, 4, 8 s.
    h.send(b"b").unwrap();
    h.expect(out(ACK | PSH).seq(2).len(1));
    let mut rto = h.info().unwrap().rto;
    for _ in 0..4 {
        h.advance(rto);
        h.expect(out(ACK | PSH).seq(2).len(1));
        rto *= 2;
    }
    assert_eq!(
        h.info().unwrap().srtt,
        None,
        "estimate kept after 4 backoffs"
    );
    // The retransmitted byte is ACKed (no sample: Karn), then fresh data
    // measures 40 ms: SRTT = 40, RTTVAR = 20, as for a first sample.
    h.inject(seg(ACK).seq(1).ack(3));
    h.send(b"c").unwrap();
    h.expect(out(ACK | PSH).seq(3).len(1));
    h.advance(millis(40));
    h.inject(seg(ACK).seq(1).ack(4));
    let i = h.info().unwrap();
    assert_eq!((i.srtt, i.rttvar), (Some(millis(40)), Some(millis(20))));
}

/// CE-14 (MUST-44, MUST-45): an active OPEN without a local address gets
/// one from the stack before its SYN (the first configured address of the
/// remote's family) and keeps it for every segment; with none of that
/// family the OPEN fails.
#[test]
fn ce_14_unspecified_local_address_is_chosen_by_the_stack() {
    let mut cfg = conf();
    let v6: IpAddr = "2001:db8::2".parse().unwrap();
    cfg.local_addrs = vec![
        v6,
        IpAddr::V4(Ipv4Addr::new(198, 18, 0, 7)),
        IpAddr::V4(ENGINE_V4),
    ];
    let mut h = Harness::new(cfg);
    let remote = SocketAddr::from((PEER_V4, SERVER_PORT));
    let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
    let c = h.ep.connect(h.now, unspecified, remote).unwrap();
    let chosen = h.ep.info(c).unwrap().local;
    assert_eq!(chosen.ip(), IpAddr::V4(Ipv4Addr::new(198, 18, 0, 7)));
    assert_ne!(chosen.port(), 0);
    h.add_peer(chosen, remote, 5);
    h.peer_mut().conn = Some(c);
    h.pump();
    let syn = h.expect(out(SYN).seq(0));
    assert_eq!(syn.src, chosen);
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    h.send(b"x").unwrap();
    assert_eq!(h.expect(out(ACK | PSH).seq(1).len(1)).src, chosen);
    // No IPv6 remote can be reached without an IPv6 address, and the
    // other way round.
    let mut h = Harness::new(conf());
    let r = h.ep.connect(
        h.now,
        SocketAddr::from(([0u16; 8], 0)),
        "[2001:db8::1]:80".parse().unwrap(),
    );
    assert_eq!(r, Err(Error::AddrNotAvailable));
}

/// SM-13: text after the peer's FIN is ignored, and counted as such, in the
/// full TCB and in the compact TIME-WAIT entry alike.
#[test]
fn sm_13_text_after_fin_is_a_named_drop() {
    let mut h = Harness::close_wait(conf());
    h.inject(seg(ACK | PSH).seq(2).ack(1).len(50));
    h.expect(out(ACK).seq(1).ack(2));
    assert_eq!(h.ep.counters().dropped(DropReason::TextAfterFin), 1);
    let mut h = Harness::time_wait(conf());
    h.inject(seg(ACK | PSH).seq(2).ack(2).len(50));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.counters().dropped(DropReason::TextAfterFin), 1);
}

/// SA-14 (RFC 9293 3.10.7.4): the part of an out-of-order segment past the
/// right edge of the window is trimmed, and counted.
#[test]
fn sa_14_octets_past_the_window_are_a_named_drop() {
    let mut h = Harness::passive_established(small_window(1000));
    h.inject(seg(ACK).seq(501).ack(1).len(800));
    let s = h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(s.window, 1000);
    assert_eq!(h.ep.counters().dropped(DropReason::BeyondWindow), 1);
    // The first 500 fill the gap; only 500 of the 800 were held.
    h.inject(seg(ACK).seq(1).ack(1).len(500));
    h.expect(out(ACK).seq(1).ack(1001));
    assert_eq!(h.recv_all().len(), 1000);
}

/// A full TIME-WAIT table recycles its oldest entry, and says so (Linux's
/// TCPTimeWaitOverflow).
#[test]
fn time_wait_overflow_is_counted() {
    let mut cfg = conf();
    cfg.max_time_wait = 1;
    let mut h = Harness::time_wait(cfg);
    assert_eq!(h.ep.counters().time_wait_overflow, 0);
    // A second connection through to TIME-WAIT evicts the first.
    let engine = h.peers[0].engine;
    h.add_peer(engine, SocketAddr::from(([198, 18, 0, 1], 40001)), 3_000);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    h.shutdown().unwrap();
    h.expect(out(FIN | ACK).seq(1).ack(1));
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
    assert_eq!(h.ep.counters().time_wait_overflow, 1);
}

/// IP-05 (RFC 1191): a fragmentation-needed error without a next-hop MTU
/// (an old router's zero) changes nothing, and is counted.
#[test]
fn ip_05_fragmentation_needed_without_mtu_is_a_named_drop() {
    let mut h = Harness::passive_established(conf());
    h.send(&bytes(3000)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    h.expect(out(ACK).seq(1461).len(1460));
    let (local, remote) = (h.peer().engine, h.peer().peer);
    let iss = h.iss();
    h.ep.handle_icmp_error(
        h.now,
        IcmpError {
            local,
            remote,
            seq: SeqNum(iss.wrapping_add(1)),
            kind: IcmpErrorKind::FragmentationNeeded { mtu: 0 },
        },
    );
    h.pump();
    h.expect_none();
    assert_eq!(h.info().unwrap().mss, 1460);
    assert_eq!(h.ep.counters().dropped(DropReason::IcmpNoMtu), 1);
    assert!(
        h.take_events()
            .iter()
            .all(|e| !matches!(e, Event::Closed { .. }))
    );
}

/// DT-09, DT-10 (found by the endpoint fuzzer): the peer acknowledges the
/// zero-window probe octet and opens its window in the same ACK (its
/// application read in the meantime). The octet was taken, so the rest
/// follows from SND.UNA = ISS + 2. Before the fix the window update took
/// the probe back first, SND.NXT fell one behind SND.UNA, and the queued
/// bytes either stalled with no timer or went out one place early.
#[test]
fn dt_10_probe_octet_acked_with_the_window_opening() {
    let mut h = Harness::active_syn_sent(conf());
    h.send(b"0123456789").unwrap();
    h.advance(millis(100));
    h.inject(seg(SYN | ACK).seq(0).ack(1).win(0).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    let rto = h.info().unwrap().rto;
    h.advance(rto);
    let probe = h.expect(out(ACK).seq(1).ack(1).len(1));
    assert_eq!(probe.payload, b"0");
    h.inject(seg(ACK).seq(1).ack(2).win(65535));
    let rest = h.expect(out(ACK | PSH).seq(2).ack(1).len(9));
    assert_eq!(
        rest.payload, b"123456789",
        "the bytes after the probe octet"
    );
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.snd_nxt, i.snd_una.add(9));
    h.inject(seg(ACK).seq(1).ack(11).win(65535));
    let i = h.info().unwrap();
    assert_eq!(
        (i.snd_una, i.snd_nxt, i.send_queue),
        (i.snd_nxt, i.iss.add(11), 0)
    );
}

/// SHLD-3 (found by the endpoint fuzzer): the peer's SYN-ACK carries data
/// and FIN, and the application closes without reading. The peer gets a
/// RST, and the TCB goes with its unread bytes: before the fix it stayed
/// in CLOSED for a `recv` that could never come, one leaked TCB per such
/// connection.
#[test]
fn shld_3_close_with_unread_data_frees_the_connection() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.inject(
        seg(SYN | ACK | FIN)
            .seq(0)
            .ack(1)
            .mss(1460)
            .data(b"twenty-three bytes here"),
    );
    h.expect(out(ACK).seq(1).ack(25));
    assert_eq!(h.state(), State::CloseWait);
    h.close().unwrap();
    h.expect(out(RST).seq(1));
    assert!(h.ep.info(c).is_none(), "the TCB is kept after close");
    assert_eq!(h.ep.connection_count(), 0);
    assert!(h.ep.connections().next().is_none());
}

/// The accept queue's length and `accept` agree (found by the endpoint
/// fuzzer): a child the application closed through its traced handle
/// before accepting it completes, closes and is compacted into TIME-WAIT;
/// it leaves the accept queue then, so `accept` does not come back empty
/// while the queue claims one.
#[test]
fn a_child_in_time_wait_leaves_the_accept_queue() {
    let mut cfg = conf();
    cfg.trace_states = true;
    let mut h = Harness::passive_syn_received(cfg);
    let l = h.listener.unwrap();
    let child = h
        .take_events()
        .into_iter()
        .find_map(|e| match e {
            Event::StateChanged(s) if s.to == State::SynReceived => Some(s.conn),
            _ => None,
        })
        .expect("the child's birth is traced");
    h.ep.close(child).unwrap();
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(FIN | ACK).seq(1).ack(1));
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
    assert_eq!(h.ep.accept_queue_len(l), Some(0));
    assert_eq!(h.ep.accept(l), None);
}

/// The delivery rate `ConnInfo` reports (as `tcp_info` does) is measured
/// whatever the ISS: before the fix the first round's end was sequence
/// number 0, which lies "ahead" of half of all ISSs, so on those
/// connections no round ever ended and the rate stayed 0. Sixteen
/// connections (sixteen ISSs): each sends 10 segments, acknowledged
/// 100 ms later, and reports 146,000 bytes per second.
#[test]
fn delivery_rate_is_measured_for_every_iss() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    let mut halves = [0, 0];
    for port in 0..16u16 {
        let engine = h.peer().engine;
        let peer = SocketAddr::new(h.peer().peer.ip(), 41_000 + port);
        h.add_peer(engine, peer, 1_000 * u32::from(port));
        h.inject(seg(SYN).seq(0).mss(1460));
        h.expect(out(SYN | ACK).seq(0).ack(1));
        h.inject(seg(ACK).seq(1).ack(1));
        h.take_events();
        let c = h.ep.accept(l).expect("accept");
        h.peer_mut().conn = Some(c);
        halves[(h.iss() >> 31) as usize] += 1;
        h.send(&bytes(14_600)).unwrap();
        assert_eq!(h.drain().len(), 10);
        h.advance(millis(100));
        h.inject(seg(ACK).seq(1).ack(14_601));
        let i = h.info().unwrap();
        assert_eq!(i.delivery_rate, 146_000, "ISS {:#x}", h.iss());
    }
    assert!(
        halves[0] > 0 && halves[1] > 0,
        "both halves of the ISS space: {halves:?}"
    );
}

/// WF-07 (found by the endpoint fuzzer): a segment never exceeds the
/// MTU. The last 536 bytes and the FIN went out as one record (537
/// octets of sequence space); retransmitted while the connection reports
/// a SACK block (12 option bytes), the payload room is 524. Before the
/// fix the record was cut at 524 + 1, the FIN's octet counted as if it
/// stayed, but the FIN went to the tail: 525 bytes of payload, a 577-byte
/// datagram on a 576-byte MTU.
#[test]
fn wf_07_retransmitted_fin_record_fits_the_mtu_beside_sack_blocks() {
    let mut cfg = conf();
    cfg.mtu = 576;
    // The timeout's path (a tail loss probe would resend the tail with
    // the FIN, which fits).
    cfg.tail_loss_probe = false;
    let mut h = Harness::new(cfg);
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).sack_perm());
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().expect("accept");
    let c = h.conn();
    h.ep.send(c, &bytes(536)).unwrap();
    h.ep.shutdown(c).unwrap();
    h.pump();
    h.expect(out(ACK | PSH | FIN).seq(1).len(536));
    // Data from the peer out of order: our segments carry a SACK block.
    h.inject(seg(ACK).seq(101).ack(1).len(10));
    let dup = h.next();
    assert_eq!(dup.options.sack.as_slice().len(), 1, "{}", describe(&dup));
    let rto = h.info().unwrap().rto;
    h.advance(rto);
    let again = h.drain();
    assert!(!again.is_empty(), "the timeout resends");
    for s in &again {
        assert!(
            s.raw.len() <= 576,
            "{}-byte datagram: {}",
            s.raw.len(),
            describe(s)
        );
    }
    assert_eq!(again[0].payload.len(), 524, "{}", describe(&again[0]));
    assert!(
        !again[0].has(FIN),
        "the FIN goes with the tail: {}",
        describe(&again[0])
    );
}
