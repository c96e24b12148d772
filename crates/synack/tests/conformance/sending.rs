//! The sending side of data transfer (RFC-CHECKLIST.md section 3.E): Nagle
//! (DT-03, DT-04), sender-side SWS avoidance (DT-05), a peer that shrinks
//! its window (DT-08), zero-window probing (DT-09, TM-07) and
//! packetization with PSH (DT-11).

use crate::harness::*;
use core::time::Duration;
use std::net::SocketAddr;
use synack::{Config, Event, InitialWindow, State};

/// The scripts below count segments against RFC 5681's initial window of 3
/// segments (for MSS 1460), not the default 10 of RFC 6928: the windows,
/// not the initial window, are what they test.
fn iw3() -> Config {
    let mut c = conf();
    c.initial_window = InitialWindow::Rfc5681;
    c
}

/// A passive connection whose peer offers `window` (unscaled) in its SYN
/// and its third ACK.
fn established_with_peer_window(window: u16) -> Harness {
    let mut h = Harness::new(iw3());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).win(window));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1).win(window));
    h.expect_none();
    h.take_events();
    h.accept().expect("accept");
    assert_eq!(h.info().unwrap().snd_wnd, u32::from(window));
    h
}

/// The scripted peer as a receiver with window `window`: it takes the part
/// of every emitted segment that starts at or before its RCV.NXT (`nxt`,
/// relative to ISS) and acknowledges each segment with its RCV.NXT. The
/// clock runs from deadline to deadline until `limit` has passed. Returns
/// the peer's RCV.NXT.
fn receive(h: &mut Harness, mut nxt: u32, window: u16, limit: Duration) -> u32 {
    let end = h.now + limit;
    loop {
        let segs = h.drain();
        if segs.is_empty() {
            match h.ep.poll_timeout() {
                Some(t) if t <= end => {
                    h.advance_to(t.max(h.now));
                    continue;
                }
                _ => {
                    h.advance_to(end);
                    return nxt;
                }
            }
        }
        for s in segs {
            let end_seq = s.rseq + s.payload.len() as u32;
            if s.rseq <= nxt && nxt < end_seq {
                nxt = end_seq;
            }
            h.inject(seg(ACK).seq(1).ack(i64::from(nxt)).win(window));
        }
    }
}

// ---- Nagle -----------------------------------------------------------------

/// DT-03 (SHLD-7, RFC 9293 3.7.4): a small write with nothing outstanding
/// goes at once; further small writes while it is unacknowledged are held
/// (no timer sends them, however long the wait short of the RTO) until the
/// ACK comes, and then leave as one segment with one PSH.
#[test]
fn dt_03_nagle_holds_small_write_until_ack() {
    let mut h = Harness::passive_established(iw3());
    h.send(b"first-10-b").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(10));
    h.send(b"0123456789").unwrap();
    h.expect_none();
    h.send(b"abcdefghij").unwrap();
    h.expect_none();
    h.advance(millis(999));
    h.expect_none();
    assert_eq!(h.info().unwrap().send_queue, 30);
    h.inject(seg(ACK).seq(1).ack(11));
    let s = h.expect(out(ACK | PSH).seq(11).ack(1).len(20));
    assert_eq!(&s.payload[..], b"0123456789abcdefghij");
    h.expect_none();
}

/// DT-03 (SHLD-7): Nagle holds only less than a full segment. With 10 bytes
/// outstanding, a 1500-byte write sends its full 1460-byte segment at once
/// and holds the 40-byte rest; the ACK of the first 10 bytes does not
/// release it while the full segment is still unacknowledged, the ACK of
/// everything does.
#[test]
fn dt_03_nagle_sends_full_segments_holds_the_rest() {
    let mut h = Harness::passive_established(iw3());
    h.send(&bytes(10)).unwrap();
    h.expect(out(ACK | PSH).seq(1).len(10));
    h.send(&bytes(1500)).unwrap();
    h.expect(out(ACK).seq(11).len(1460));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(11));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(1471));
    h.expect(out(ACK | PSH).seq(1471).len(40));
    h.expect_none();
}

/// Opens a second passive connection on the harness's listener, from the
/// peer's port `port`; it becomes the current peer.
fn second_connection(h: &mut Harness, port: u16) -> usize {
    let engine = h.peer().engine;
    let peer = SocketAddr::new(h.peer().peer.ip(), port);
    let i = h.add_peer(engine, peer, 2_000_000_000);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    h.take_events();
    h.accept().expect("accept");
    i
}

/// DT-04 (MUST-17, API-09): Nagle can be turned off on one connection:
/// there both 10-byte writes go out at once, while another connection of
/// the same endpoint still holds its second one; turned back on, the first
/// connection holds again.
#[test]
fn dt_04_nodelay_is_per_connection() {
    let mut h = Harness::passive_established(iw3());
    let b = second_connection(&mut h, CLIENT_PORT + 1);
    h.switch(0);
    h.set_nodelay();
    h.send(b"aaaaaaaaaa").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(10));
    h.send(b"bbbbbbbbbb").unwrap();
    h.expect(out(ACK | PSH).seq(11).ack(1).len(10));
    h.expect_none();

    // The other connection keeps Nagle.
    h.switch(b);
    h.send(b"cccccccccc").unwrap();
    let s = h.expect(out(ACK | PSH).seq(1).ack(1).len(10));
    assert_eq!(s.src, h.peer().engine);
    assert_eq!(s.dst, h.peer().peer);
    h.send(b"dddddddddd").unwrap();
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(11));
    h.expect(out(ACK | PSH).seq(11).len(10));

    // Back on for the first connection.
    h.switch(0);
    h.inject(seg(ACK).seq(1).ack(21));
    h.ep.set_nodelay(h.conn(), false).unwrap();
    h.send(b"eeeeeeeeee").unwrap();
    h.expect(out(ACK | PSH).seq(21).len(10));
    h.send(b"ffffffffff").unwrap();
    h.expect_none();
}

// ---- Sender-side SWS avoidance ----------------------------------------------

/// DT-05 (MUST-38, RFC 9293 3.8.6.2.1): with data in flight and a large
/// backlog, a window that opens 10 bytes at a time draws no small segment:
/// the engine waits until a full segment fits (rule 1) or, as here with a
/// peer whose largest window was 2000 bytes, until half of that largest
/// window does (rule 3, Fs = 1/2): one 1000-byte segment after 100 window
/// updates. As `tcb/output.rs` implements it, rule 3 applies with data in
/// flight too: the RFC's bracketed condition SND.NXT = SND.UNA, which
/// Nagle would impose, is not applied to window-limited data.
#[test]
fn dt_05_sender_sws_small_window_steps_with_data_in_flight() {
    let mut h = established_with_peer_window(2000);
    h.send(&bytes(20_000)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    // 540 bytes of window left, less than half of 2000: held.
    h.expect_none();
    // The peer's application has not read: the right edge stays at 2001.
    // Nothing is in flight now, and the engine sends what fits (see
    // `dt_05_nothing_in_flight_sends_the_usable_window_at_once`).
    h.inject(seg(ACK).seq(1).ack(1461).win(540));
    h.expect(out(ACK).seq(1461).len(540));
    h.expect_none();
    // Now the peer's application reads 10 bytes at a time and the peer
    // (without receiver SWS avoidance) announces each one.
    for k in 1..100u16 {
        h.inject(seg(ACK).seq(1).ack(1461).win(540 + 10 * k));
        h.expect_none();
    }
    h.inject(seg(ACK).seq(1).ack(1461).win(1540));
    h.expect(out(ACK).seq(2001).len(1000));
    h.expect_none();
}

/// DT-05 (MUST-38) with a peer whose window has been large: steps of 10
/// bytes are held until a full segment fits (rule 1); then exactly one
/// 1460-byte segment is sent.
#[test]
fn dt_05_sender_sws_full_segment_rule() {
    let mut h = established_with_peer_window(8000);
    h.send(&bytes(50_000)).unwrap();
    // cwnd (3 segments) allows 4380 bytes.
    for i in 0..3 {
        h.expect(out(ACK).seq(1 + 1460 * i).len(1460));
    }
    h.expect_none();
    // The peer ACKs the first segment but its application reads nothing:
    // the right edge stays at 8001. cwnd has grown to 4 segments: two more
    // full segments go (in flight 1461..7301, 700 bytes of window left).
    h.inject(seg(ACK).seq(1).ack(1461).win(6540));
    h.expect(out(ACK).seq(4381).len(1460));
    h.expect(out(ACK).seq(5841).len(1460));
    h.expect_none();
    // One more segment ACKed, right edge kept: cwnd would allow two
    // segments, the window only 700 bytes.
    h.inject(seg(ACK).seq(1).ack(2921).win(5080));
    // Usable by the window is now 700 bytes: held (700 < 1460 and
    // 700 < 8000 / 2), and so is every 10-byte step below a full segment.
    h.expect_none();
    for k in 1..76u16 {
        h.inject(seg(ACK).seq(1).ack(2921).win(5080 + 10 * k));
        h.expect_none();
    }
    // Usable 700 + 760 = 1460: a full segment.
    h.inject(seg(ACK).seq(1).ack(2921).win(5840));
    h.expect(out(ACK).seq(7301).len(1460));
    h.expect_none();
}

/// DT-05 (MUST-38), what the engine does when nothing is in flight: no ACK
/// will come to clock a later send, so it sends what the usable window
/// allows at once, small or not. `tcb/output.rs` documents this as taking
/// the role of the RFC's override timer (RFC 9293 3.8.6.2.1 rule 4, which
/// suggests 0.1-1 s): the override here fires immediately. Once that
/// segment is in flight, further small openings are held again.
#[test]
fn dt_05_nothing_in_flight_sends_the_usable_window_at_once() {
    let mut h = established_with_peer_window(8000);
    h.send(&bytes(50_000)).unwrap();
    for i in 0..3 {
        h.expect(out(ACK).seq(1 + 1460 * i).len(1460));
    }
    // Everything ACKed; the peer's application has read nothing, so the
    // right edge stays at 8001 and the window is 3620.
    h.inject(seg(ACK).seq(1).ack(4381).win(3620));
    h.expect(out(ACK).seq(4381).len(1460));
    h.expect(out(ACK).seq(5841).len(1460));
    // 700 left, with data in flight: held.
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(7301).win(700));
    // Nothing in flight: the 700 bytes go at once, with no timer.
    let t = h.now;
    let s = h.expect(out(ACK).seq(7301).len(700));
    assert_eq!(s.at, t);
    h.expect_none();
    // The peer's buffer is full; it ACKs with window 0, then opens 10 bytes.
    h.inject(seg(ACK).seq(1).ack(8001).win(0));
    h.expect_none();
    h.inject(seg(ACK).seq(1).ack(8001).win(10));
    h.expect(out(ACK).seq(8001).len(10));
    h.expect_none();
    // With those 10 bytes in flight, 10-byte openings are held.
    for k in 2..10u16 {
        h.inject(seg(ACK).seq(1).ack(8001).win(10 * k));
        h.expect_none();
    }
}

// ---- Window shrinking ------------------------------------------------------

/// DT-08 (MUST-34, SHLD-15, SHLD-16): the peer pulls its right edge back
/// behind SND.NXT. No new data is sent past the new edge (nor at all: the
/// usable window is negative), the connection goes on, and the timeout
/// retransmits from SND.UNA only as far as the window reaches (the engine
/// does not use MAY-7); when the window opens again the transfer resumes.
#[test]
fn dt_08_shrunk_window_no_new_data_retransmit_within_it() {
    let mut h = Harness::passive_established(iw3());
    let data = bytes(20_000);
    h.send(&data).unwrap();
    for i in 0..3 {
        h.expect(out(ACK).seq(1 + 1460 * i).len(1460));
    }
    // Right edge from 65536 back to 1461 + 1000 = 2461 (SND.NXT is 4381).
    h.inject(seg(ACK).seq(1).ack(1461).win(1000));
    h.expect_none();
    assert_eq!(h.state(), State::Established);
    // The same window announced again changes nothing.
    h.inject(seg(ACK).seq(1).ack(1461).win(1000));
    h.expect_none();
    // The retransmission timer restarted with the ACK of new data.
    h.advance(secs(1) - millis(1));
    h.expect_none();
    h.advance(millis(1));
    let s = h.expect(out(ACK).seq(1461).len(1000));
    assert_eq!(&s.payload[..], &data[1460..2460]);
    h.expect_none();
    assert_eq!(h.state(), State::Established);
    // The peer takes it and opens its window: the rest follows.
    h.inject(seg(ACK).seq(1).ack(2461).win(65535));
    let nxt = receive(&mut h, 2461, 65535, secs(5));
    assert_eq!(nxt, 20_001);
    assert_eq!(h.info().unwrap().send_queue, 0);
}

/// DT-08 (SHLD-17, MUST-35): the window shrinks to zero with 2920 bytes
/// sent beyond the new edge. The engine probes the zero window and, while
/// the peer answers every probe, never times the connection out for the
/// data beyond the edge: still ESTABLISHED after an hour, past both the
/// user timeout (5 min) and the retransmission limit.
#[test]
fn dt_08_window_shrunk_to_zero_no_timeout() {
    let mut h = Harness::passive_established(iw3());
    h.send(&bytes(20_000)).unwrap();
    for i in 0..3 {
        h.expect(out(ACK).seq(1 + 1460 * i).len(1460));
    }
    h.inject(seg(ACK).seq(1).ack(1461).win(0));
    h.expect_none();
    let t0 = h.now;
    let mut probes = 0;
    while h.now < t0 + secs(3600) {
        let t = h.ep.poll_timeout().expect("a timer stays armed");
        h.advance_to(t);
        for s in h.drain() {
            // MUST-35: probed "in the standard way", one octet at SND.UNA.
            assert_eq!((s.rseq, s.payload.len()), (1461, 1), "{}", describe(&s));
            probes += 1;
            h.inject(seg(ACK).seq(1).ack(1461).win(0));
        }
        assert_eq!(h.state(), State::Established);
    }
    assert!(probes > 20, "{probes} probes in an hour");
    assert!(
        !h.take_events()
            .iter()
            .any(|e| matches!(e, Event::Closed { .. }))
    );
}

// ---- Zero-window probing ---------------------------------------------------

/// Sends 6000 bytes, 4380 of which go out, and has the peer ACK them with a
/// zero window 100 ms later. Returns the time of that ACK.
fn zero_window_after_4380() -> (Harness, synack::Instant) {
    let mut h = Harness::passive_established(iw3());
    h.send(&bytes(6000)).unwrap();
    for i in 0..3 {
        h.expect(out(ACK).seq(1 + 1460 * i).len(1460));
    }
    h.advance(millis(100));
    h.inject(seg(ACK).seq(1).ack(4381).win(0));
    h.expect_none();
    let t0 = h.now;
    (h, t0)
}

/// Runs the zero-window episode for `dur`: every probe is a single octet at
/// SND.UNA (4381) and is answered by an ACK of 4381 with window 0. Returns
/// the probe times relative to `t0`.
fn answer_probes(h: &mut Harness, t0: synack::Instant, dur: Duration) -> Vec<Duration> {
    let mut at = Vec::new();
    while h.now < t0 + dur {
        let t = h.ep.poll_timeout().expect("the persist timer stays armed");
        h.advance_to(t.min(t0 + dur));
        for s in h.drain() {
            assert_eq!((s.rseq, s.payload.len()), (4381, 1), "{}", describe(&s));
            assert_eq!(s.flags, ACK);
            at.push(s.at.saturating_since(t0));
            h.inject(seg(ACK).seq(1).ack(4381).win(0));
        }
        assert_eq!(h.state(), State::Established);
    }
    at
}

/// DT-09, TM-07 (MUST-35, MUST-36, MUST-37, SHLD-29, SHLD-30): data queued
/// and the peer's window zero: nothing for one RTO, then a one-octet probe;
/// the interval doubles with every probe up to the 120 s RTO cap; while
/// the peer ACKs the probes (keeping its window closed) the connection
/// lives on for an hour of virtual time; when the window opens, the queued
/// data is delivered.
#[test]
fn dt_09_zero_window_probes_back_off_and_never_abort() {
    let (mut h, t0) = zero_window_after_4380();
    let rto = h.info().unwrap().rto;
    assert_eq!(rto, secs(1));
    h.advance(rto - millis(1));
    h.expect_none();
    let at = answer_probes(&mut h, t0, secs(3600));
    assert_eq!(at[0], rto, "first probe after one RTO");
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(&gaps[..8], &[2, 4, 8, 16, 32, 64, 120, 120]);
    assert!(gaps.iter().all(|&g| g <= 120), "capped: {gaps:?}");
    assert!(at.len() > 30);
    assert_eq!(
        h.ep.counters().window_probes,
        at.len() as u64,
        "TCPWinProbe counts every probe"
    );
    assert!(
        !h.take_events()
            .iter()
            .any(|e| matches!(e, Event::Closed { .. }))
    );
    // The window opens; the peer discarded every probe octet, so it wants
    // 4381 onwards. The 1620 queued bytes arrive (here within the capped
    // RTO; see `dt_09_transfer_resumes_promptly_when_window_opens`).
    h.inject(seg(ACK).seq(1).ack(4381).win(65535));
    let nxt = receive(&mut h, 4381, 65535, secs(130));
    assert_eq!(nxt, 6001);
    assert_eq!(h.state(), State::Established);
}

/// DT-09 (MUST-36): when the window reopens, transfer resumes: the peer,
/// which discarded the probe octet at its zero window, receives the queued
/// data without waiting for a backed-off retransmission timer (after an
/// hour of probing, 120 s).
#[test]
fn dt_09_transfer_resumes_promptly_when_window_opens() {
    let (mut h, t0) = zero_window_after_4380();
    let probes = answer_probes(&mut h, t0, secs(3600));
    assert!(probes.len() > 30);
    h.inject(seg(ACK).seq(1).ack(4381).win(65535));
    let nxt = receive(&mut h, 4381, 65535, secs(1));
    assert_eq!(nxt, 6001, "all queued data within a second");
}

// ---- Packetization and PSH -------------------------------------------------

/// Acknowledges everything each round until the engine stops sending;
/// returns every data segment in order.
fn ack_rounds(h: &mut Harness) -> Vec<Seg> {
    let mut all: Vec<Seg> = Vec::new();
    for _ in 0..50 {
        let segs = h.drain();
        let Some(last) = segs.last() else { break };
        let next = last.rseq + last.payload.len() as u32;
        all.extend(segs);
        h.inject(seg(ACK).seq(1).ack(i64::from(next)));
    }
    all
}

/// Checks that `segs` carry `data` from relative sequence 1 on, in order,
/// as full 1460-byte segments but the last, with PSH on the last only.
fn check_packetized(segs: &[Seg], data: &[u8]) {
    assert!(!segs.is_empty());
    let mut next = 1u32;
    for (i, s) in segs.iter().enumerate() {
        let last = i == segs.len() - 1;
        assert_eq!(s.rseq, next, "in order: {}", describe(s));
        assert_eq!(
            &s.payload[..],
            &data[(next - 1) as usize..][..s.payload.len()]
        );
        if last {
            assert_eq!(s.flags, ACK | PSH, "PSH on the last: {}", describe(s));
        } else {
            assert_eq!(s.payload.len(), 1460, "full-sized: {}", describe(s));
            assert_eq!(s.flags, ACK, "no PSH before the last: {}", describe(s));
        }
        next += s.payload.len() as u32;
    }
    assert_eq!(next as usize - 1, data.len());
}

/// DT-11 (MUST-60, MUST-61, SHLD-28): a 10 kB write leaves as full-sized
/// segments (Eff.snd.MSS = 1460), PSH only on the last (1240 bytes), and
/// nothing is held once the ACKs are in: no timer is needed (the clock
/// never moves) and the send queue drains.
#[test]
fn dt_11_large_write_full_segments_psh_on_last() {
    let mut h = Harness::passive_established(iw3());
    let t0 = h.now;
    let data = bytes(10_000);
    assert_eq!(h.send(&data), Ok(10_000));
    let segs = ack_rounds(&mut h);
    check_packetized(&segs, &data);
    assert_eq!(segs.len(), 7);
    assert_eq!(segs[6].payload.len(), 1240);
    assert!(segs.iter().all(|s| s.at == t0));
    assert_eq!(h.info().unwrap().send_queue, 0);
    h.advance(secs(10));
    h.expect_none();
}

/// DT-11 (SHLD-27, SHLD-28): ten 1000-byte SENDs queued before the engine
/// transmits are packetized across the write boundaries into full-sized
/// segments, and their ten PUSHes collapse into one PSH on the last
/// segment.
#[test]
fn dt_11_pushes_collapsed_across_writes() {
    let mut h = Harness::passive_established(iw3());
    let data = bytes(10_000);
    let c = h.conn();
    for chunk in data.chunks(1000) {
        assert_eq!(h.ep.send(c, chunk), Ok(1000));
    }
    h.pump();
    let segs = ack_rounds(&mut h);
    check_packetized(&segs, &data);
}

/// DT-11 (MUST-60): a write smaller than a segment is not held waiting for
/// more data when nothing is outstanding: it leaves at once, pushed.
#[test]
fn dt_11_small_write_not_held() {
    let mut h = Harness::passive_established(iw3());
    let t0 = h.now;
    h.send(b"x").unwrap();
    let s = h.expect(out(ACK | PSH).seq(1).len(1));
    assert_eq!(s.at, t0);
}

/// DT-02 (RFC 9293 3.8, RFC 5681 2): what is in flight never exceeds the
/// peer's window: with a window of 3,000 bytes and 20,000 to send, every
/// point of an ACK-clocked transfer keeps SND.NXT - SND.UNA <= 3,000; and
/// at the start the flight is cwnd-limited (three segments, `iw3`).
#[test]
fn dt_02_flight_within_the_peer_window_and_cwnd() {
    let mut h = established_with_peer_window(3000);
    h.send(&bytes(20_000)).unwrap();
    let mut acked = 1i64;
    let mut rounds = 0;
    loop {
        let sent = h.drain();
        let i = h.info().unwrap();
        let flight = i.snd_nxt.0.wrapping_sub(i.snd_una.0);
        assert!(flight <= 3000, "in flight {flight} > the window");
        let Some(last) = sent.last() else {
            break;
        };
        acked = i64::from(last.rseq) + last.payload.len() as i64;
        h.inject(seg(ACK).seq(1).ack(acked).win(3000));
        rounds += 1;
        assert!(rounds < 100);
    }
    assert_eq!(acked, 20_001, "everything sent in the end");
    // A wide window: now cwnd is the limit, three segments at first, and
    // each ACK lets out no more than cwnd allows.
    let mut h = established_with_peer_window(65535);
    h.send(&bytes(40_000)).unwrap();
    for _ in 0..4 {
        let sent = h.drain();
        let i = h.info().unwrap();
        let flight = i.snd_nxt.0.wrapping_sub(i.snd_una.0);
        assert!(flight <= i.cwnd, "in flight {flight} > cwnd {}", i.cwnd);
        assert!(
            flight + 1460 > i.cwnd,
            "cwnd-limited: {flight} of {}",
            i.cwnd
        );
        let last = sent.last().expect("sent");
        let una = i64::from(last.rseq) + last.payload.len() as i64;
        h.inject(seg(ACK).seq(1).ack(una).win(65535));
    }
}

/// TM-08 (RFC 9293 3.8.6.2.1): the SWS override. Data held back because
/// the usable window is small is never held past the moment nothing is
/// left in flight: then it goes at once, well inside the 0.1-1.0 s the
/// RFC allows the override timer (no timer is needed, as no ACK would
/// come to release it).
#[test]
fn tm_08_sws_override_sends_held_data_when_the_flight_is_acknowledged() {
    let mut h = established_with_peer_window(2000);
    h.send(&bytes(1460 + 540)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    // 540 left of the window: held while the first segment is in flight.
    h.expect_none();
    h.advance(millis(50));
    h.expect_none();
    // The flight is acknowledged without opening the window: the held
    // 540 bytes go now, not at a timer.
    h.inject(seg(ACK).seq(1).ack(1461).win(540));
    let s = h.expect(out(ACK | PSH).seq(1461).len(540));
    assert_eq!(s.at, h.now);
}

/// DT-11 with `Config::psh_on_bursts` (Linux's PSH on every GSO packet,
/// on in the linux script profile): of a run of segments sent back to
/// back, the last of each packet Linux would build carries PSH. Without
/// an RTT the packet is as large as can be, so a burst of ten has PSH on
/// its tenth only; with a 100 ms RTT and IW10 Linux's pacing rate makes
/// packets of two segments, so every second one is pushed. A single
/// segment is never pushed by the option (only by emptying the queue).
/// Off (the default), PSH marks only the segment that empties the queue.
#[test]
fn dt_11_psh_on_bursts_option() {
    let pushed = |segs: &[Seg]| -> Vec<u32> {
        segs.iter()
            .filter(|s| s.flags.contains(synack_wire::TcpFlags::PSH))
            .map(|s| s.rseq)
            .collect()
    };
    let mss = 1460u32;
    let at = |k: u32| 1 + k * mss;
    for on in [false, true] {
        let mut cfg = conf();
        cfg.initial_window = InitialWindow::Rfc6928;
        cfg.psh_on_bursts = on;

        // The handshake took no time: one packet for the whole burst.
        let mut h = Harness::passive_established(cfg.clone());
        h.send(&vec![7u8; 20 * mss as usize]).unwrap();
        let segs = h.drain();
        assert_eq!(segs.len(), 10);
        assert_eq!(pushed(&segs), if on { vec![at(9)] } else { vec![] });

        // 100 ms RTT: packets of two segments.
        let mut h = Harness::new(cfg);
        h.enter_syn_received();
        h.advance(Duration::from_millis(100));
        h.enter_established_passive();
        h.send(&vec![7u8; 20 * mss as usize]).unwrap();
        let segs = h.drain();
        assert_eq!(segs.len(), 10);
        let every_second: Vec<u32> = (1..10).step_by(2).map(at).collect();
        assert_eq!(pushed(&segs), if on { every_second } else { vec![] });
        // One segment freed, one sent: not pushed.
        h.advance(Duration::from_millis(100));
        h.inject(seg(ACK).seq(1).ack(i64::from(at(1))));
        let segs = h.drain();
        assert_eq!(segs.len(), 2, "one freed, one grown");
        assert_eq!(pushed(&segs), if on { vec![at(11)] } else { vec![] });
    }
}

/// MUST-16 with a user cap (Linux's `TCP_MAXSEG`): a listener's cap makes
/// its SYN-ACK offer at most that MSS and its children send no more; a
/// connection's cap set before its SYN leaves does the same for an active
/// open; set later it lowers the MSS in use. The bounds are Linux's. A
/// SYN-ACK sent as a cookie is capped the same way.
#[test]
fn user_mss_caps_offered_and_used_mss() {
    use synack::{Error, SynCookieMode};
    // Passive: the listener's cap.
    let mut h = Harness::new(conf());
    let l = h.listen();
    assert_eq!(
        h.ep.set_listener_max_segment(l, Some(87)),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        h.ep.set_listener_max_segment(l, Some(32_768)),
        Err(Error::InvalidArgument)
    );
    h.ep.set_listener_max_segment(l, Some(1100)).unwrap();
    h.inject(seg(SYN).seq(0).mss(1300));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(s.options.mss, Some(1100));
    h.enter_established_passive();
    let i = h.info().unwrap();
    assert_eq!((i.mss, i.advertised_mss), (1100, 1100));
    h.send(&bytes(3000)).unwrap();
    h.expect(out(ACK).seq(1).len(1100));

    // Active: capped right after connect, before the SYN leaves.
    let mut h = Harness::new(conf());
    h.active_layout();
    let (local, remote) = (h.peer().engine, h.peer().peer);
    let c = h.ep.connect(h.now, local, remote).unwrap();
    h.peer_mut().conn = Some(c);
    h.ep.set_max_segment(c, Some(1000)).unwrap();
    h.pump();
    let s = h.expect(out(SYN).seq(0));
    assert_eq!(s.options.mss, Some(1000));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.info().unwrap().mss, 1000);
    // Later: the MSS in use goes down.
    h.ep.set_max_segment(c, Some(500)).unwrap();
    h.send(&bytes(1200)).unwrap();
    h.expect(out(ACK).seq(1).len(500));
    assert_eq!(h.info().unwrap().mss, 500);

    // A cookie SYN-ACK offers the listener's cap too.
    let mut cfg = conf();
    cfg.syn_cookies = SynCookieMode::Always;
    let mut h = Harness::new(cfg);
    let l = h.listen();
    h.ep.set_listener_max_segment(l, Some(1200)).unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(s.options.mss, Some(1200));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().mss, 1200);
}
