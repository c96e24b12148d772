//! RFC 9293 section 3.10, state by state. Every event of 3.10.1-3.10.8 in
//! every state has a packet-level test: here, or in the checklist-row test
//! named in this table.
//!
//! | 3.10 event | state(s) | test |
//! |---|---|---|
//! | OPEN | CLOSED, passive | `open_passive_enters_listen` |
//! | OPEN | CLOSED, active | `handshake::ce_01_*`, `open_active_errors` |
//! | OPEN | LISTEN, active | `open_active_from_listening_port` |
//! | OPEN | all others | `open_in_existing_connection_is_refused`, `attacks::sm_06_time_wait_syn_without_listener_gets_ack` |
//! | SEND | CLOSED | `send_receive_close_on_closed_connection` |
//! | SEND | SYN-SENT, SYN-RECEIVED | `send_in_syn_sent_waits_for_established`, `send_in_syn_received_waits_for_established` |
//! | SEND | ESTABLISHED, CLOSE-WAIT | `send_in_established_and_close_wait` |
//! | SEND | FIN-WAIT-1/2, CLOSING, LAST-ACK, TIME-WAIT | `send_after_close_is_refused` |
//! | RECEIVE | CLOSED | `send_receive_close_on_closed_connection` |
//! | RECEIVE | SYN-SENT, SYN-RECEIVED | `receive_before_established_would_block` |
//! | RECEIVE | ESTABLISHED, FIN-WAIT-1/2 | `receive_in_established_and_fin_waits` |
//! | RECEIVE | CLOSE-WAIT | `close::sm_03_passive_close` |
//! | RECEIVE | CLOSING, LAST-ACK, TIME-WAIT | `receive_after_peer_fin_reports_closing` |
//! | CLOSE | CLOSED | `send_receive_close_on_closed_connection` |
//! | CLOSE | LISTEN | `close_listener_resets_its_half_open_children`, `close_listener_can_drop_half_open_children_silently`, `close::sm_10_abort_without_rst` |
//! | CLOSE | SYN-SENT | `close_in_syn_sent_deletes_silently` |
//! | CLOSE | SYN-RECEIVED | `close_in_syn_received_sends_fin_once_established` |
//! | CLOSE | ESTABLISHED | `close::sm_01_*` |
//! | CLOSE | FIN-WAIT-1/2 | `close_again_sends_no_second_fin` |
//! | CLOSE | CLOSE-WAIT | `close::sm_03_passive_close` |
//! | CLOSE | CLOSING, LAST-ACK, TIME-WAIT | `close_again_sends_no_second_fin` |
//! | ABORT | every state | `close::sm_10_*` |
//! | STATUS | every state | `status_reports_each_state` |
//! | SEGMENT ARRIVES | CLOSED | `close::sm_09_*` |
//! | SEGMENT ARRIVES | LISTEN | `handshake::ce_03_*`, `ce_10_*`, `ce_12_*` |
//! | SEGMENT ARRIVES | SYN-SENT | `handshake::ce_04_*` .. `ce_07_*`, `syn_sent_neither_syn_nor_rst_dropped` |
//! | SEGMENT ARRIVES | SYN-RECEIVED | `handshake::ce_08_*`, `ce_09_*`, `attacks::split_*`, `syn_received_*` |
//! | SEGMENT ARRIVES | ESTABLISHED | `established_data_and_ack`, `security::sa_*`, `close::sm_03_*`, `sm_07_*` |
//! | SEGMENT ARRIVES | FIN-WAIT-1 | `close::sm_02_*`, `fin_wait_1_receives_data` |
//! | SEGMENT ARRIVES | FIN-WAIT-2 | `close::sm_02_fin_wait_2_receives_data_then_fin` |
//! | SEGMENT ARRIVES | CLOSE-WAIT | `close_wait_fin_retransmission_reacked`, `close::sm_13_*` |
//! | SEGMENT ARRIVES | CLOSING | `close::sm_02_fin_wait_1_to_closing_to_time_wait`, `closing_ignores_ack_not_covering_fin` |
//! | SEGMENT ARRIVES | LAST-ACK | `close::sm_03_passive_close`, `last_ack_waits_for_ack_of_fin` |
//! | SEGMENT ARRIVES | TIME-WAIT | `close::sm_05_*`, `close::sm_07_valid_rst_in_time_wait`, `attacks::sm_06_*`, `time_wait_ack_needs_no_answer` |
//! | TIMEOUT | USER | `timeouts::sm_14_*` |
//! | TIMEOUT | RETRANSMISSION | `timeouts::rto_resends_front_of_queue_with_backoff`, `handshake::ce_11_*` |
//! | TIMEOUT | TIME-WAIT | `close::sm_05_*` |

use crate::harness::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack::{CloseReason, Error, Event, OpenKind, State};

// ---- OPEN (3.10.1) -------------------------------------------------------

/// OPEN, passive, in CLOSED: LISTEN; nothing is sent until a SYN comes.
#[test]
fn open_passive_enters_listen() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    h.pump();
    h.expect_none();
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    h.inject(seg(SYN).seq(0));
    h.expect(out(SYN | ACK).seq(0).ack(1));
}

/// OPEN, active, in CLOSED: an unspecified remote socket, or no room for a
/// new connection, is an error and sends nothing.
#[test]
fn open_active_errors() {
    let mut cfg = conf();
    cfg.max_connections = 1;
    let mut h = Harness::new(cfg);
    h.active_layout();
    let local = h.peer().engine;
    for remote in [
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80),
        SocketAddr::new(IpAddr::V4(PEER_V4), 0),
    ] {
        assert_eq!(
            h.ep.connect(h.now, local, remote),
            Err(Error::InvalidAddress)
        );
    }
    h.connect().unwrap();
    h.expect(out(SYN).seq(0));
    let other = SocketAddr::new(IpAddr::V4(PEER_V4), 81);
    assert_eq!(h.ep.connect(h.now, local, other), Err(Error::LimitReached));
    h.pump();
    h.expect_none();
}

/// OPEN, active, from a port that has a LISTEN: the SYN goes out from that
/// port and the listener keeps listening (the engine keeps the passive
/// record and makes a new active one).
#[test]
fn open_active_from_listening_port() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    let local = h.peer().engine;
    let remote = SocketAddr::new(IpAddr::V4(PEER_V4), 9999);
    h.add_peer(local, remote, 5);
    h.connect().unwrap();
    h.expect(out(SYN).seq(0).to(remote));
    h.switch(0);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.ep.syn_queue_len(l), Some(1));
}

/// OPEN in SYN-SENT, ESTABLISHED, CLOSE-WAIT ...: "connection already
/// exists".
#[test]
fn open_in_existing_connection_is_refused() {
    let mut h = Harness::active_syn_sent(conf());
    let (l, r) = (h.peer().engine, h.peer().peer);
    assert_eq!(h.ep.connect(h.now, l, r), Err(Error::AddrInUse));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.ep.connect(h.now, l, r), Err(Error::AddrInUse));
    h.inject(seg(FIN | ACK).seq(1).ack(1));
    h.expect(out(ACK).seq(1).ack(2));
    assert_eq!(h.state(), State::CloseWait);
    assert_eq!(h.ep.connect(h.now, l, r), Err(Error::AddrInUse));
    h.pump();
    h.expect_none();
}

// ---- SEND (3.10.2), RECEIVE (3.10.3), CLOSE (3.10.4) ------------------------

/// SEND, RECEIVE and CLOSE on a connection that does not exist (any more):
/// "connection does not exist".
#[test]
fn send_receive_close_on_closed_connection() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.inject(seg(RST).seq(1));
    assert_eq!(h.state(), State::Closed);
    let mut buf = [0u8; 4];
    assert_eq!(h.ep.send(c, b"x"), Err(Error::NotConnected));
    assert_eq!(h.ep.recv(c, &mut buf), Err(Error::NotConnected));
    assert_eq!(h.ep.shutdown(c), Err(Error::NotConnected));
    assert_eq!(h.ep.close(c), Err(Error::NotConnected));
    h.ep.abort(c);
    h.pump();
    h.expect_none();
}

/// SEND in SYN-SENT: queued, and sent with the ACK that completes the
/// handshake ("Data or controls that were queued for transmission MAY be
/// included").
#[test]
fn send_in_syn_sent_waits_for_established() {
    let mut h = Harness::active_syn_sent(conf());
    assert_eq!(h.send(b"early"), Ok(5));
    h.expect_none();
    h.advance(secs(1));
    h.expect(out(SYN).seq(0).len(0));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK | PSH).seq(1).ack(1).len(5));
    h.expect_none();
}

/// SEND in SYN-RECEIVED (reached by crossing SYNs): queued until
/// ESTABLISHED.
#[test]
fn send_in_syn_received_waits_for_established() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.send(b"early"), Ok(5));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(ACK | PSH).seq(1).ack(1).len(5));
}

/// SEND in ESTABLISHED and CLOSE-WAIT: segmentized, each with the
/// piggybacked ACK = RCV.NXT.
#[test]
fn send_in_established_and_close_wait() {
    let mut h = Harness::passive_established(conf());
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(10));
    h.expect(out(ACK).seq(1).ack(11));
    h.send(&bytes(2000)).unwrap();
    h.expect(out(ACK).seq(1).ack(11).len(1460));
    h.inject(seg(ACK).seq(11).ack(1461));
    h.expect(out(ACK | PSH).seq(1461).ack(11).len(540));
    h.inject(seg(FIN | ACK).seq(11).ack(2001));
    h.expect(out(ACK).seq(2001).ack(12));
    assert_eq!(h.state(), State::CloseWait);
    h.send(b"after").unwrap();
    h.expect(out(ACK | PSH).seq(2001).ack(12).len(5));
}

/// SEND in FIN-WAIT-1, FIN-WAIT-2, CLOSING, LAST-ACK: "connection closing"
/// (`BrokenPipe`); in TIME-WAIT the handle is already closed.
#[test]
fn send_after_close_is_refused() {
    for mut h in [
        Harness::fin_wait_1(conf()),
        Harness::fin_wait_2(conf()),
        Harness::closing(conf()),
        Harness::last_ack(conf()),
    ] {
        let state = h.state();
        assert_eq!(h.send(b"x"), Err(Error::BrokenPipe), "{state}");
        assert_eq!(h.ep.send_capacity(h.conn()), 0);
        h.expect_none();
    }
    let mut h = Harness::time_wait(conf());
    assert_eq!(h.send(b"x"), Err(Error::NotConnected));
    h.expect_none();
}

/// RECEIVE in SYN-SENT and SYN-RECEIVED: nothing yet (`WouldBlock`).
#[test]
fn receive_before_established_would_block() {
    let mut h = Harness::active_syn_sent(conf());
    let mut buf = [0u8; 8];
    assert_eq!(h.recv(&mut buf), Err(Error::WouldBlock));
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.state(), State::SynReceived);
    assert_eq!(h.recv(&mut buf), Err(Error::WouldBlock));
    h.expect_none();
}

/// RECEIVE in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2 returns queued data;
/// reading a full window reopens it with a window update (the
/// acknowledgment the RFC asks for when data is taken).
#[test]
fn receive_in_established_and_fin_waits() {
    let mut h = Harness::new(small_window(2000));
    h.enter_syn_received();
    h.enter_established_passive();
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(2000));
    h.expect(out(ACK).seq(1).ack(2001).win(0));
    assert_eq!(h.recv_all(), bytes(2000));
    h.expect(out(ACK).seq(1).ack(2001).win(2000));

    for mut h in [Harness::fin_wait_1(conf()), Harness::fin_wait_2(conf())] {
        let state = h.state();
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(10));
        h.expect(out(ACK).seq(2).ack(11));
        assert_eq!(h.recv_all(), bytes(10), "{state}");
    }
}

/// RECEIVE in CLOSING and LAST-ACK: nothing more will come: end of stream.
/// (In TIME-WAIT the handle is closed once everything was read.)
#[test]
fn receive_after_peer_fin_reports_closing() {
    for mut h in [Harness::closing(conf()), Harness::last_ack(conf())] {
        let mut buf = [0u8; 8];
        assert_eq!(h.recv(&mut buf), Ok(0));
        assert!(h.ep.is_eof(h.conn()));
    }
    let mut h = Harness::time_wait(conf());
    let mut buf = [0u8; 8];
    assert_eq!(h.recv(&mut buf), Err(Error::NotConnected));
}

/// CLOSE in LISTEN: the listener goes; its half-open children are reset
/// (`<SEQ=SND.NXT><CTL=RST>`), and its port is closed.
#[test]
fn close_listener_resets_its_half_open_children() {
    let mut h = Harness::passive_syn_received(conf());
    let l = h.listener.unwrap();
    h.ep.close_listener(l).unwrap();
    h.pump();
    h.expect(out(RST).seq(1).abs_ack(0));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    h.advance(secs(10));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(RST).seq(1));
}

/// CLOSE in LISTEN with `Config::reset_half_open_on_listener_close` off
/// (Linux's way): the half-open child goes silently, sends nothing more
/// (no SYN-ACK retransmission), and the peer's next segment draws the RST
/// of a closed port.
#[test]
fn close_listener_can_drop_half_open_children_silently() {
    let mut cfg = conf();
    cfg.reset_half_open_on_listener_close = false;
    let mut h = Harness::passive_syn_received(cfg);
    let l = h.listener.unwrap();
    h.ep.close_listener(l).unwrap();
    h.pump();
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    h.advance(secs(10));
    h.expect_none();
    h.inject(seg(ACK | PSH).seq(1).ack(1));
    h.expect(out(RST).seq(1));
    h.expect_none();
}

/// CLOSE in SYN-SENT: the TCB is deleted and nothing is sent.
#[test]
fn close_in_syn_sent_deletes_silently() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.close().unwrap();
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Aborted,
    }]);
    h.advance(secs(10));
    h.expect_none();
    // A late SYN-ACK finds no TCB.
    h.inject(seg(SYN | ACK).seq(0).ack(1));
    h.expect(out(RST).seq(1));
}

/// CLOSE in SYN-RECEIVED (crossing SYNs): the FIN is queued until the
/// handshake completes and then sent with SEQ = ISS+1 (the RFC's "queue for
/// processing after entering ESTABLISHED state" branch, which the engine
/// takes). The ACK of our SYN must not be mistaken for the ACK of the FIN.
#[test]
fn close_in_syn_received_sends_fin_once_established() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.shutdown().unwrap();
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(FIN | ACK).seq(1).ack(1));
    h.expect_none();
    assert_eq!(h.state(), State::FinWait1);
    h.inject(seg(ACK).seq(1).ack(2));
    assert_eq!(h.state(), State::FinWait2);
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
}

/// CLOSE in SYN-RECEIVED, SYN-ACK lost: the SYN-ACK is what gets
/// retransmitted, never a FIN that the peer could not place.
#[test]
fn close_in_syn_received_retransmits_syn_ack_first() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.shutdown().unwrap();
    h.advance(secs(3) - millis(1));
    // One retransmission in that time (at 1 s; the next is due at 3 s),
    // and it is the SYN-ACK.
    let sent = h.drain();
    assert_eq!(
        sent.len(),
        1,
        "{:#?}",
        sent.iter().map(describe).collect::<Vec<_>>()
    );
    for s in sent {
        assert_eq!(
            (s.flags, s.rseq, s.rack),
            (SYN | ACK, 0, 1),
            "{}",
            describe(&s)
        );
    }
}

/// CLOSE again in FIN-WAIT-1/2, CLOSING, LAST-ACK: accepted, but no second
/// FIN. (RFC 9293 allows "ok" for FIN-WAIT-1/2; for CLOSING and LAST-ACK it
/// says "error: connection closing" — the engine answers `Ok` there too,
/// and sends nothing.)
#[test]
fn close_again_sends_no_second_fin() {
    for mut h in [
        Harness::fin_wait_1(conf()),
        Harness::fin_wait_2(conf()),
        Harness::closing(conf()),
        Harness::last_ack(conf()),
    ] {
        let state = h.state();
        h.shutdown().unwrap();
        h.close().unwrap();
        h.expect_none();
        assert_eq!(h.state(), state);
    }
    let mut h = Harness::time_wait(conf());
    assert_eq!(h.shutdown(), Err(Error::NotConnected));
    h.expect_none();
}

// ---- STATUS (3.10.6) ---------------------------------------------------------

/// STATUS in every state that has a TCB the application can name.
#[test]
fn status_reports_each_state() {
    let h = Harness::active_syn_sent(conf());
    assert_eq!(h.state(), State::SynSent);
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN).seq(0));
    assert_eq!(h.state(), State::SynReceived);
    for (h, want) in [
        (Harness::passive_established(conf()), State::Established),
        (Harness::fin_wait_1(conf()), State::FinWait1),
        (Harness::fin_wait_2(conf()), State::FinWait2),
        (Harness::close_wait(conf()), State::CloseWait),
        (Harness::closing(conf()), State::Closing),
        (Harness::last_ack(conf()), State::LastAck),
    ] {
        let i = h.info().unwrap();
        assert_eq!(i.state, want);
        assert_eq!(i.state.name(), want.to_string());
        assert_eq!((i.local, i.remote), (h.peer().engine, h.peer().peer));
    }
    // TIME-WAIT lives in the endpoint's table; LISTEN in its listener.
    let h = Harness::time_wait(conf());
    assert_eq!(h.ep.time_wait_count(), 1);
    assert!(h.info().is_none());
}

// ---- SEGMENT ARRIVES (3.10.7) --------------------------------------------------

/// SYN-SENT, fifth step: a segment with neither SYN nor RST (and no ACK) is
/// dropped.
#[test]
fn syn_sent_neither_syn_nor_rst_dropped() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(NONE).seq(0).len(5));
    h.inject(seg(FIN).seq(0));
    h.inject(seg(PSH).seq(0).len(1));
    h.expect_none();
    assert_eq!(h.state(), State::SynSent);
    assert!(h.take_events().is_empty());
}

/// SYN-RECEIVED: an unacceptable segment gets `<SEQ=SND.NXT><ACK=RCV.NXT>`;
/// a segment without ACK is dropped; a third ACK carrying data and FIN
/// establishes, delivers and goes on to CLOSE-WAIT.
#[test]
fn syn_received_segment_processing() {
    let mut h = Harness::passive_syn_received(conf());
    h.inject(seg(ACK).seq(1 << 30).ack(1));
    h.expect(out(ACK).seq(1).ack(1));
    h.inject(seg(FIN).seq(1));
    h.inject(seg(PSH).seq(1).len(5));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 1);
    assert_eq!(h.ep.accept_queue_len(h.listener.unwrap()), Some(0));

    h.inject(seg(ACK | PSH | FIN).seq(1).ack(1).len(20));
    h.expect(out(ACK).seq(1).ack(22));
    h.accept().unwrap();
    assert_eq!(h.state(), State::CloseWait);
    assert_eq!(h.recv_all(), bytes(20));
    assert!(h.ep.is_eof(h.conn()));
}

/// SYN-RECEIVED reached by crossing SYNs: OpenKind is remembered and its
/// ACK completes as CE-07/the split handshake test.
#[test]
fn syn_received_simultaneous_records_origin() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN).seq(0));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.info().unwrap().how, OpenKind::Simultaneous);
}

/// ESTABLISHED: in-order data is delivered and acknowledged; an ACK of our
/// data frees it.
#[test]
fn established_data_and_ack() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.send(b"ping").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(4));
    h.inject(seg(ACK | PSH).seq(1).ack(5).data(b"pong"));
    h.expect(out(ACK).seq(5).ack(5));
    h.expect_none();
    assert_eq!(h.recv_all(), b"pong");
    assert_eq!(h.info().unwrap().send_queue, 0);
    assert!(h.take_events().contains(&Event::Readable { conn: c }));
}

/// FIN-WAIT-1: data from the peer is still delivered, and acknowledged
/// with SEQ past our FIN.
#[test]
fn fin_wait_1_receives_data() {
    let mut h = Harness::fin_wait_1(conf());
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(30));
    h.expect(out(ACK).seq(2).ack(31));
    assert_eq!(h.state(), State::FinWait1);
    assert_eq!(h.recv_all(), bytes(30));
}

/// CLOSE-WAIT: a retransmission of the peer's FIN is acknowledged again;
/// the state does not change.
#[test]
fn close_wait_fin_retransmission_reacked() {
    let mut h = Harness::close_wait(conf());
    h.inject(seg(FIN | ACK).seq(1).ack(1));
    h.expect(out(ACK).seq(1).ack(2));
    h.expect_none();
    assert_eq!(h.state(), State::CloseWait);
}

/// CLOSING: an ACK that does not cover our FIN is ignored.
#[test]
fn closing_ignores_ack_not_covering_fin() {
    let mut h = Harness::closing(conf());
    h.inject(seg(ACK).seq(2).ack(1));
    h.expect_none();
    assert_eq!(h.state(), State::Closing);
    // Our FIN is still retransmitted.
    h.advance(secs(1));
    h.expect(out(FIN | ACK).seq(1).ack(2));
}

/// LAST-ACK: only the ACK of our FIN closes; a retransmitted FIN from the
/// peer is acknowledged again.
#[test]
fn last_ack_waits_for_ack_of_fin() {
    let mut h = Harness::last_ack(conf());
    h.inject(seg(ACK).seq(2).ack(1));
    h.expect_none();
    assert_eq!(h.state(), State::LastAck);
    h.inject(seg(FIN | ACK).seq(1).ack(1));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.state(), State::LastAck);
    h.advance(secs(1));
    h.expect(out(FIN | ACK).seq(1).ack(2));
    h.inject(seg(ACK).seq(2).ack(2));
    assert_eq!(h.state(), State::Closed);
}

/// TIME-WAIT: a bare ACK at RCV.NXT needs no answer; anything carrying
/// sequence space, or out of the window, gets the ACK.
#[test]
fn time_wait_ack_needs_no_answer() {
    let mut h = Harness::time_wait(conf());
    h.inject(seg(ACK).seq(2).ack(2));
    h.expect_none();
    h.inject(seg(ACK).seq(1 << 30).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
}
