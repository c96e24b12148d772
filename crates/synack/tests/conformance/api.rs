//! The user interface rows that no other file names (RFC 9293 3.9.1,
//! 3.10): CLOSE and ABORT per state (API-04, API-05) and the per-
//! connection IP parameters (API-08).

use crate::harness::*;
use synack::{CloseReason, Error, Event, State};

/// API-04: CLOSE in ESTABLISHED sends one FIN after the queued data; a
/// second CLOSE in FIN-WAIT-1 sends no second FIN; CLOSE in CLOSE-WAIT
/// sends the FIN and moves to LAST-ACK.
#[test]
fn api_04_close_per_state() {
    let mut h = Harness::passive_established(conf());
    h.send(b"queued").unwrap();
    h.expect(out(ACK | PSH).seq(1).len(6));
    h.close().unwrap();
    h.expect(out(ACK | FIN).seq(7).len(0));
    assert_eq!(h.state(), State::FinWait1);
    let _ = h.close();
    h.expect_none();
    h.advance(secs(10));
    // Retransmissions may carry the data and the FIN together; the FIN
    // itself is always the one at sequence number 7.
    let fin_at = |s: &Seg| s.rseq + s.payload.len() as u32;
    assert!(
        h.log.iter().filter(|s| s.has(FIN)).all(|s| fin_at(s) == 7),
        "one FIN, at one sequence number (retransmitted only)"
    );

    let mut h = Harness::close_wait(conf());
    h.close().unwrap();
    h.expect(out(ACK | FIN).seq(1).ack(2));
    assert_eq!(h.state(), State::LastAck);
}

/// API-04: CLOSE in SYN-SENT deletes the connection: nothing is sent.
#[test]
fn api_04_close_in_syn_sent_deletes() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.close().unwrap();
    h.advance(secs(10));
    assert!(
        h.drain().iter().all(|s| !s.has(FIN)),
        "no FIN from SYN-SENT"
    );
    assert!(h.ep.info(c).is_none() || h.state() == State::Closed);
}

/// API-05: ABORT in ESTABLISHED sends a RST and ends the connection with
/// `Aborted`; a read after it fails.
#[test]
fn api_05_abort_resets() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.take_events();
    h.abort();
    h.expect(out(RST).seq(1));
    assert!(h.take_events().contains(&Event::Closed {
        conn: c,
        reason: CloseReason::Aborted
    }));
    let mut b = [0u8; 4];
    assert!(h.recv(&mut b).is_err());
}

/// API-05: ABORT in SYN-SENT sends nothing (no RST for a connection the
/// peer never saw).
#[test]
fn api_05_abort_in_syn_sent_sends_nothing() {
    let mut h = Harness::active_syn_sent(conf());
    h.abort();
    h.expect_none();
}

/// API-08 (MUST-48, MUST-49, SHLD-21): a connection's DSCP and TTL are
/// set per connection and carried by every segment it sends, data and
/// ACKs and RST alike; changed mid-connection, later segments use the new
/// value. Out-of-range values are refused.
#[test]
fn api_08_dscp_and_ttl_per_connection() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    assert_eq!(h.ep.ttl(c), Ok(64));
    h.ep.set_dscp(c, 46).unwrap();
    h.ep.set_ttl(c, 5).unwrap();
    // The harness checks every datagram's TTL against this.
    h.cfg.ttl = 5;
    assert_eq!((h.ep.dscp(c), h.ep.ttl(c)), (Ok(46), Ok(5)));
    assert_eq!(h.ep.set_dscp(c, 64), Err(Error::InvalidArgument));
    assert_eq!(h.ep.set_ttl(c, 0), Err(Error::InvalidArgument));
    h.send(b"data").unwrap();
    let d = h.expect(out(ACK | PSH).len(4));
    h.inject(seg(ACK).seq(1).ack(5).len(10));
    // Out of order: the duplicate ACK goes through the control queue.
    h.inject(seg(ACK).seq(100).ack(5).len(10));
    let a = h.drain();
    for s in std::iter::once(&d).chain(a.iter()) {
        let tos = s.raw[1];
        assert_eq!((tos >> 2, s.ttl), (46, 5), "{}", describe(s));
    }
    h.ep.set_dscp(c, 10).unwrap();
    h.abort();
    let r = h.expect(out(RST));
    assert_eq!((r.raw[1] >> 2, r.ttl), (10, 5));
}

/// API-01 (RFC 9293 3.10.1, MUST-43): an active OPEN needs a remote
/// socket (unspecified address or port 0: refused, no SYN), and a second
/// OPEN of the same connection says it already exists.
#[test]
fn api_01_open_errors() {
    let mut h = Harness::new(conf());
    h.active_layout();
    let local = h.peer().engine;
    let now = h.now;
    for bad in ["0.0.0.0:80", "198.18.0.1:0"] {
        assert!(
            h.ep.connect(now, local, bad.parse().unwrap()).is_err(),
            "{bad}"
        );
    }
    h.pump();
    h.expect_none();
    h.connect().unwrap();
    h.expect(out(SYN).seq(0));
    let remote = h.peer().peer;
    assert!(
        h.ep.connect(now, local, remote).is_err(),
        "connection already exists"
    );
    h.expect_none();
}

/// API-02 (RFC 9293 3.10.2): SEND in SYN-SENT is queued and goes once the
/// connection is established; SEND after CLOSE is refused.
#[test]
fn api_02_send_queued_before_established_and_refused_after_close() {
    let mut h = Harness::active_syn_sent(conf());
    assert_eq!(h.send(b"early"), Ok(5));
    h.expect_none();
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    let d = h.drain();
    assert!(
        d.iter().any(|s| s.payload == b"early" && s.rseq == 1),
        "the queued data follows the handshake"
    );
    h.close().unwrap();
    assert_eq!(h.send(b"late"), Err(Error::BrokenPipe));
}

/// API-03 (RFC 9293 3.10.3): RECEIVE before data would block; after the
/// peer's data and FIN it returns the data, then the end of the stream.
#[test]
fn api_03_receive_returns_data_then_closing() {
    let mut h = Harness::passive_established(conf());
    let mut b = [0u8; 16];
    assert_eq!(h.recv(&mut b), Err(Error::WouldBlock));
    h.inject(seg(ACK | FIN | PSH).seq(1).ack(1).data(b"last words"));
    h.expect(out(ACK).ack(12));
    assert_eq!(h.state(), State::CloseWait);
    assert_eq!(h.recv(&mut b), Ok(10));
    assert_eq!(&b[..10], b"last words");
    assert_eq!(h.recv(&mut b), Ok(0), "the closing indication");
}

/// API-06 (RFC 9293 3.10.6): STATUS is `info` (state, both sockets,
/// windows, queues, timer), `urgent_pending` and `dscp`; it agrees with
/// what the script did.
#[test]
fn api_06_status_agrees_with_the_connection() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.inject(seg(ACK | URG).seq(1).ack(1).urgent(3).data(b"abcdef"));
    h.expect(out(ACK).ack(7));
    h.send(b"xyz").unwrap();
    h.expect(out(ACK | PSH).len(3));
    let i = h.ep.info(c).unwrap();
    assert_eq!(i.state, State::Established);
    assert_eq!((i.local, i.remote), (h.peer().engine, h.peer().peer));
    assert_eq!((i.recv_queue, i.send_queue), (6, 3));
    assert_eq!(i.snd_wnd, 65535);
    assert!(i.rcv_wnd > 0);
    assert!(
        i.timer.is_some(),
        "the retransmission timer for the 3 bytes"
    );
    assert_eq!(h.ep.urgent_pending(c), Ok(Some(3)));
    assert_eq!(h.ep.dscp(c), Ok(0));
}

/// API-10 (MAY-14): FLUSH drops the queued data right of the send window
/// and keeps what is in flight. With a peer window of 1,000 bytes and
/// 5,000 queued, 1,000 go and FLUSH drops the other 4,000; when the
/// window opens nothing of them appears, and the next SEND continues at
/// sequence number 1,001.
#[test]
fn api_10_flush_drops_unsent_data_and_keeps_synchronization() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).win(1000));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1).win(1000));
    h.take_events();
    h.accept().unwrap();
    let c = h.conn();
    h.send(&bytes(5000)).unwrap();
    h.expect(out(ACK).seq(1).len(1000));
    h.expect_none();
    assert_eq!(h.ep.flush(c), Ok(4000));
    assert_eq!(h.info().unwrap().send_queue, 1000);
    h.inject(seg(ACK).seq(1).ack(1001).win(65535));
    h.expect_none();
    assert_eq!(h.info().unwrap().send_queue, 0);
    h.send(b"after").unwrap();
    let s = h.expect(out(ACK | PSH).seq(1001).len(5));
    assert_eq!(s.payload, b"after");
}

/// A connection's own send buffer size (`set_send_buffer`, like
/// `SO_SNDBUF`): `send` queues at most that much, sent or not; growing it
/// wakes a blocked writer; `None` goes back to `Config::send_buffer`; 0 is
/// refused.
#[test]
fn api_send_buffer_per_connection() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.take_events();
    assert_eq!(
        h.ep.set_send_buffer(c, Some(0)),
        Err(Error::InvalidArgument)
    );
    h.ep.set_send_buffer(c, Some(1000)).unwrap();
    assert_eq!(h.send(&[7; 5000]), Ok(1000));
    assert_eq!(h.send(&[7; 10]), Err(Error::WouldBlock));
    assert_eq!(h.ep.send_capacity(c), 0);
    h.ep.set_send_buffer(c, Some(3000)).unwrap();
    h.pump();
    assert!(h.take_events().contains(&Event::Writable { conn: c }));
    assert_eq!(h.ep.send_capacity(c), 2000);
    assert_eq!(h.send(&[7; 5000]), Ok(2000));
    h.ep.set_send_buffer(c, None).unwrap();
    assert_eq!(
        h.ep.send_capacity(c),
        h.cfg.send_buffer - 3000,
        "back to Config::send_buffer"
    );
}

/// RECEIVE and SEND without the copy (`recv_with`, `send_with`): the
/// reader borrows what is buffered and consumes what it used, the rest
/// stays for the next call; the writer fills room in the send buffer in
/// place and what it wrote goes out as `send`'s would. `WouldBlock` with
/// nothing buffered, `Ok(0)` without calling the reader at the end of the
/// stream, `BrokenPipe` for a writer after `shutdown`.
#[test]
fn api_03_receive_and_send_in_place() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    assert_eq!(
        h.ep.recv_with(c, |_| unreachable!("nothing buffered")),
        Err(Error::WouldBlock)
    );
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(10));
    h.expect(out(ACK).ack(11));
    let want = bytes(10);
    assert_eq!(
        h.ep.recv_with(c, |live| {
            assert_eq!(live, &want[..]);
            4
        }),
        Ok(4)
    );
    assert_eq!(
        h.ep.recv_with(c, |live| {
            assert_eq!(live, &want[4..]);
            live.len()
        }),
        Ok(6)
    );
    // Written in place: goes out as a SEND's data would.
    let n =
        h.ep.send_with(c, 5, |room| {
            room.copy_from_slice(b"hello");
            5
        })
        .unwrap();
    assert_eq!(n, 5);
    h.pump();
    let s = h.expect(out(ACK | PSH).seq(1).ack(11).len(5));
    assert_eq!(&s.payload[..], b"hello");
    // The peer's FIN: the end of the stream, the reader not called.
    h.inject(seg(FIN | ACK).seq(11).ack(6));
    h.drain();
    assert_eq!(h.ep.recv_with(c, |_| unreachable!("end of stream")), Ok(0));
    h.ep.shutdown(c).unwrap();
    assert_eq!(h.ep.send_with(c, 5, |_| 5), Err(Error::BrokenPipe));
}

/// `SO_RCVBUF` per connection (`set_listener_recv_buffer`,
/// `set_recv_buffer`): a listener's size is its children's, offered in the
/// SYN-ACK and followed by the window; growing it announces the larger
/// window at once; shrinking it never takes back window already offered
/// (RFC 9293 SHLD-14); zero is refused.
#[test]
fn per_connection_receive_buffer() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    assert_eq!(
        h.ep.set_listener_recv_buffer(l, Some(0)),
        Err(Error::InvalidArgument)
    );
    h.ep.set_listener_recv_buffer(l, Some(3000)).unwrap();
    h.inject(seg(SYN).seq(0).mss(1000));
    h.expect(out(SYN | ACK).seq(0).ack(1).win(3000));
    h.enter_established_passive();
    let c = h.conn();
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
    h.expect(out(ACK).ack(1001).win(2000));
    // Grown: the larger window goes out at once.
    h.ep.set_recv_buffer(c, Some(10_000)).unwrap();
    h.pump();
    h.expect(out(ACK).ack(1001).win(9000));
    // Shrunk below what is buffered plus offered: the edge stays.
    h.ep.set_recv_buffer(c, Some(1500)).unwrap();
    h.pump();
    h.expect_none();
    h.inject(seg(ACK | PSH).seq(1001).ack(1).len(1000));
    let a = h.expect(out(ACK).ack(2001));
    assert_eq!(a.window, 8000, "the offered edge holds");
    assert_eq!(
        h.ep.set_recv_buffer(c, Some(0)),
        Err(Error::InvalidArgument)
    );
}
