//! Segment-arrival checks and blind-attack defences (RFC-CHECKLIST.md
//! section 3.D, rows SA-*).

use crate::harness::*;
use synack::{CloseReason, DropReason, Event, SeqNum, State};

/// RCV.WND in the SA-01 scripts.
const WND: i64 = 4000;

/// ESTABLISHED with RCV.WND = 4000 and challenge ACKs unthrottled, the
/// peer's ISN at `irs`.
fn window_4000(irs: u32) -> Harness {
    let mut cfg = small_window(WND as usize);
    cfg.challenge_ack_limit = u16::MAX;
    let mut h = Harness::new(cfg);
    h.peer_mut().irs = irs;
    h.enter_syn_received();
    h.enter_established_passive();
    assert_eq!(h.info().unwrap().rcv_wnd, WND as u32);
    h
}

/// What one probe did: segments out, drops counted as out-of-window, bytes
/// added to the receive queue.
struct Verdict {
    out: Vec<Seg>,
    out_of_window: u64,
    delivered: usize,
}

fn probe(h: &mut Harness, s: In) -> Verdict {
    let before = h.ep.counters().dropped(DropReason::OutOfWindow);
    let queued = h.info().unwrap().recv_queue;
    h.inject(s);
    Verdict {
        out: h.drain(),
        out_of_window: h.ep.counters().dropped(DropReason::OutOfWindow) - before,
        delivered: h.info().unwrap().recv_queue - queued,
    }
}

/// SA-01: RFC 9293 table 6 at the packet level, at both edges of the window,
/// for empty and non-empty segments, with an open and a zero window, and
/// with the window straddling sequence number 0.
#[test]
fn sa_01_acceptability_table_at_packet_level() {
    for irs in [IRS, u32::MAX - 1000] {
        // Zero-length segments, window open: RCV.NXT =< SEG.SEQ < RCV.NXT+WND.
        for (off, ok) in [(0, false), (1, true), (WND, true), (WND + 1, false)] {
            let mut h = window_4000(irs);
            let v = probe(&mut h, seg(ACK).seq(off).ack(1));
            assert_eq!(
                v.out_of_window,
                u64::from(!ok),
                "len 0 at RCV.NXT{:+}",
                off - 1
            );
            if ok {
                assert!(v.out.is_empty());
            } else {
                // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
                assert_eq!(v.out.len(), 1);
                assert_eq!((v.out[0].flags, v.out[0].rseq, v.out[0].rack), (ACK, 1, 1));
            }
        }
        // Data, window open: either end inside the window.
        for (off, len, ok) in [
            (0, 1, false),
            (0, 2, true),
            (1, 10, true),
            (WND, 1, true),
            (WND, 5, true),
            (WND + 1, 1, false),
        ] {
            let mut h = window_4000(irs);
            let v = probe(&mut h, seg(ACK | PSH).seq(off).ack(1).len(len));
            assert_eq!(
                v.out_of_window,
                u64::from(!ok),
                "len {len} at RCV.NXT{:+}",
                off - 1
            );
            // Every case answers with one ACK: unacceptable (step 1),
            // out of order (held back), or new data.
            assert_eq!(v.out.len(), 1, "len {len} at RCV.NXT{:+}", off - 1);
            let new = if ok && off <= 1 {
                (off + len as i64 - 1) as usize
            } else {
                0
            };
            assert_eq!(v.out[0].rack, 1 + new as u32);
            assert_eq!(v.delivered, new);
        }
    }
    // Zero window: only SEG.SEQ = RCV.NXT with no data is acceptable.
    let rcv_nxt = 1 + WND;
    for (off, len, ok) in [
        (rcv_nxt, 0, true),
        (rcv_nxt - 1, 0, false),
        (rcv_nxt + 1, 0, false),
        (rcv_nxt, 1, false),
    ] {
        let mut h = window_4000(IRS);
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(WND as usize));
        h.expect(out(ACK).seq(1).ack(rcv_nxt).win(0));
        assert_eq!(h.info().unwrap().rcv_wnd, 0);
        let v = probe(&mut h, seg(ACK).seq(off).ack(1).len(len));
        assert_eq!(v.out_of_window, u64::from(!ok), "zero window, len {len}");
        assert_eq!(v.out.len(), usize::from(!ok));
        assert_eq!(v.delivered, 0);
        if !ok {
            assert_eq!(
                (v.out[0].rseq, v.out[0].rack, v.out[0].window),
                (1, rcv_nxt as u32, 0)
            );
        }
    }
}

/// SA-02: an unacceptable segment gets `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`
/// and is dropped (old duplicate data is not delivered twice); an
/// unacceptable RST is dropped silently.
#[test]
fn sa_02_unacceptable_segment_gets_ack_rst_gets_nothing() {
    let mut h = Harness::passive_established(conf());
    h.send(b"abc").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(3));
    h.inject(seg(ACK | PSH).seq(1).ack(4).len(100));
    h.expect(out(ACK).seq(4).ack(101));
    assert_eq!(h.recv_all(), bytes(100));
    h.inject(seg(ACK | PSH).seq(1).ack(4).len(100));
    h.expect(out(ACK).seq(4).ack(101).len(0));
    h.expect_none();
    assert!(h.recv_all().is_empty(), "an old duplicate is not delivered");

    let wnd = i64::from(h.info().unwrap().rcv_wnd);
    for off in [100, 101 + wnd + 10, -5000] {
        h.inject(seg(RST).seq(off));
        h.inject(seg(RST | ACK).seq(off).ack(4));
    }
    h.expect_none();
    assert_eq!(h.state(), State::Established);
    assert_eq!(h.ep.counters().dropped(DropReason::RstIgnored), 6);
}

/// SA-03 (MUST-66): with a zero receive window, an ACK still frees the send
/// queue and a RST (even one carrying data, SM-12) still resets.
#[test]
fn sa_03_zero_window_still_processes_ack_and_rst() {
    let mut h = Harness::new(small_window(1000));
    h.enter_syn_received();
    h.enter_established_passive();
    h.send(&bytes(500)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(500));
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
    h.expect(out(ACK).seq(501).ack(1001).win(0));
    assert_eq!(h.info().unwrap().rcv_wnd, 0);
    h.inject(seg(ACK).seq(1001).ack(501));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.snd_una, SeqNum(h.iss()).add(501));
    assert_eq!(i.send_queue, 0);

    let c = h.conn();
    h.take_events();
    h.inject(seg(RST).seq(1001).len(20));
    h.expect_none();
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Reset,
    }]);
}

/// SA-03 (MUST-66): in a zero window, a data segment at RCV.NXT is not
/// acceptable as text, but its ACK field still acknowledges our data; the
/// answer repeats the closed window.
#[test]
fn sa_03_zero_window_data_segment_still_acks() {
    let mut h = Harness::new(small_window(1000));
    h.enter_syn_received();
    h.enter_established_passive();
    h.send(&bytes(500)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(500));
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
    h.expect(out(ACK).seq(501).ack(1001).win(0));
    // More data (a probe, or a sender ignoring the window) that also
    // acknowledges our 500 bytes.
    h.inject(seg(ACK | PSH).seq(1001).ack(501).len(10));
    h.expect(out(ACK).seq(501).ack(1001).win(0));
    let i = h.info().unwrap();
    assert_eq!(i.snd_una, SeqNum(h.iss()).add(501));
    assert_eq!(i.recv_queue, 1000);
}

/// SA-03: a bare RST at RCV.NXT in a zero window resets too.
#[test]
fn sa_03_zero_window_bare_rst() {
    let mut h = Harness::new(small_window(1000));
    h.enter_syn_received();
    h.enter_established_passive();
    h.inject(seg(ACK).seq(1).ack(1).len(1000));
    h.expect(out(ACK).seq(1).ack(1001).win(0));
    h.inject(seg(RST).seq(1001));
    assert_eq!(h.state(), State::Closed);
}

/// SM-12 (SHLD-2): a RST carrying payload is still a RST.
#[test]
fn sm_12_rst_with_payload_resets() {
    let mut h = Harness::passive_established(conf());
    h.inject(seg(RST | ACK).seq(1).ack(1).len(20));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
}

/// SA-04 (RFC 5961 3.2): a RST in the window but not at RCV.NXT gets a
/// challenge ACK and the connection survives; outside the window, silence;
/// exactly at RCV.NXT, reset.
#[test]
fn sa_04_rst_exact_match_rule() {
    let mut h = window_4000(IRS);
    let before = h.ep.counters().challenge_acks;
    h.inject(seg(RST).seq(2));
    h.expect(out(ACK).seq(1).ack(1).len(0));
    h.inject(seg(RST | ACK).seq(WND).ack(1));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.ep.counters().challenge_acks, before + 2);
    assert_eq!(h.ep.counters().dropped(DropReason::RstNotExact), 2);
    h.inject(seg(RST).seq(1 + WND + 10));
    h.inject(seg(RST).seq(1 + WND));
    h.inject(seg(RST).seq(0));
    h.expect_none();
    assert_eq!(h.state(), State::Established);
    // Still fully working.
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(10));
    h.expect(out(ACK).seq(1).ack(11));
    h.inject(seg(RST).seq(11));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
}

/// SA-04 in the other synchronized states that keep a TCB: FIN-WAIT-2 and
/// CLOSE-WAIT.
#[test]
fn sa_04_rst_exact_match_rule_in_closing_states() {
    for (mut h, rcv_nxt, snd_nxt) in [
        (Harness::fin_wait_2(conf()), 1, 2),
        (Harness::close_wait(conf()), 2, 1),
    ] {
        h.inject(seg(RST).seq(rcv_nxt + 1));
        h.expect(out(ACK).seq(snd_nxt).ack(rcv_nxt));
        h.inject(seg(RST).seq(rcv_nxt + 200_000));
        h.expect_none();
        h.inject(seg(RST).seq(rcv_nxt));
        h.expect_none();
        assert_eq!(h.state(), State::Closed);
    }
}

/// SA-04 in TIME-WAIT: RST in the window but not at RCV.NXT ⇒ challenge
/// ACK, entry kept; outside the window ⇒ silence.
#[test]
fn sa_04_rst_exact_match_rule_in_time_wait() {
    let mut h = Harness::time_wait(conf());
    h.inject(seg(RST).seq(3));
    h.expect(out(ACK).seq(2).ack(2));
    h.inject(seg(RST).seq(-100));
    h.inject(seg(RST).seq(2 + 200_000));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
}

/// SA-05 (RFC 5961 4.2): a SYN in a synchronized state, in the window or
/// not, gets a challenge ACK and is dropped; the connection survives. (SYN
/// in a passive SYN-RECEIVED: CE-09; in TIME-WAIT: SM-06 in `attacks`.)
#[test]
fn sa_05_syn_in_synchronized_state_gets_challenge_ack() {
    for (name, mut h, rcv_nxt, snd_nxt) in [
        ("ESTABLISHED", Harness::passive_established(conf()), 1, 1),
        ("FIN-WAIT-2", Harness::fin_wait_2(conf()), 1, 2),
        ("CLOSE-WAIT", Harness::close_wait(conf()), 2, 1),
    ] {
        let state = h.state();
        for off in [rcv_nxt, rcv_nxt + 100, -1, -100_000] {
            h.inject(seg(SYN).seq(off).mss(1460));
            h.expect(out(ACK).seq(snd_nxt).ack(rcv_nxt).len(0));
            h.inject(seg(SYN | ACK).seq(off).ack(snd_nxt).mss(1460));
            h.expect(out(ACK).seq(snd_nxt).ack(rcv_nxt).len(0));
        }
        h.expect_none();
        assert_eq!(h.state(), state, "{name}");
        assert!(h.ep.counters().dropped(DropReason::SynInSynchronized) >= 4);
    }
    // Data still flows afterwards.
    let mut h = Harness::passive_established(conf());
    h.inject(seg(SYN).seq(50).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(5));
    h.expect(out(ACK).seq(1).ack(6));
    assert_eq!(h.recv_all(), bytes(5));
}

/// SA-07 (RFC 5961 7): challenge ACKs are throttled per connection (10 per
/// 5 s by default); another connection keeps its own budget, and the budget
/// comes back after the interval.
#[test]
fn sa_07_challenge_acks_throttled_per_connection() {
    let mut h = Harness::passive_established(conf());
    for i in 0..100 {
        h.inject(seg(RST).seq(2 + i));
        h.advance(millis(10));
    }
    let acks = h.drain();
    assert_eq!(acks.len(), usize::from(h.cfg.challenge_ack_limit));
    assert!(
        acks.iter()
            .all(|s| (s.flags, s.rseq, s.rack) == (ACK, 1, 1))
    );
    assert_eq!(h.ep.counters().dropped(DropReason::ChallengeAckLimited), 90);
    assert_eq!(h.state(), State::Established);

    // A second connection is not affected.
    let engine = h.peer().engine;
    let other = std::net::SocketAddr::from((PEER_V4, 40001));
    h.add_peer(engine, other, 5);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    h.inject(seg(RST).seq(5));
    h.expect(out(ACK).seq(1).ack(1).to(other));

    // The first gets a fresh budget after the interval.
    h.switch(0);
    h.advance(h.cfg.challenge_ack_interval);
    h.inject(seg(RST).seq(3));
    h.expect(out(ACK).seq(1).ack(1));
}

/// SA-08: ACK processing. SND.UNA < SEG.ACK =< SND.NXT advances SND.UNA and
/// frees the queue; a duplicate (SEG.ACK =< SND.UNA) is ignored for SND.UNA
/// but its data is processed; SEG.ACK > SND.NXT ⇒ ACK and drop; no ACK bit
/// ⇒ drop.
#[test]
fn sa_08_ack_classes() {
    let mut h = Harness::passive_established(conf());
    let iss = SeqNum(h.iss());
    h.send(&bytes(300)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(300));

    h.inject(seg(ACK).seq(1).ack(101));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!((i.snd_una, i.send_queue), (iss.add(101), 200));

    // Duplicate ACKs, below and at SND.UNA: SND.UNA stays.
    h.inject(seg(ACK).seq(1).ack(101));
    h.inject(seg(ACK).seq(1).ack(50));
    h.expect_none();
    assert_eq!(h.info().unwrap().snd_una, iss.add(101));
    // ...but the text of a segment with an old ACK is processed.
    h.inject(seg(ACK | PSH).seq(1).ack(50).len(10));
    h.expect(out(ACK).seq(301).ack(11));
    assert_eq!(h.recv_all(), bytes(10));

    // An ACK of something not yet sent: ACK, drop (its text too).
    h.inject(seg(ACK | PSH).seq(11).ack(302).len(10));
    h.expect(out(ACK).seq(301).ack(11));
    h.expect_none();
    assert!(h.recv_all().is_empty());
    assert_eq!(h.info().unwrap().snd_una, iss.add(101));

    // No ACK bit: dropped, text and all, without an answer.
    h.inject(seg(PSH).seq(11).len(10));
    h.expect_none();
    assert!(h.recv_all().is_empty());
    assert_eq!(h.ep.counters().dropped(DropReason::NoAck), 1);

    // Everything acknowledged: queue empty and the retransmission timer off.
    h.inject(seg(ACK).seq(11).ack(301));
    h.expect_none();
    assert_eq!(h.info().unwrap().send_queue, 0);
    h.advance(secs(60));
    h.expect_none();
}

/// SA-08: while data is unacknowledged the retransmission timer runs, and
/// an ACK of part of it restarts the timer (RFC 6298 5.3).
#[test]
fn sa_08_partial_ack_restarts_timer() {
    let mut h = Harness::passive_established(conf());
    h.send(&bytes(2920)).unwrap();
    h.expect(out(ACK).seq(1).len(1460));
    h.expect(out(ACK | PSH).seq(1461).len(1460));
    h.advance(millis(500));
    h.inject(seg(ACK).seq(1).ack(1461));
    h.advance(millis(999));
    h.expect_none();
    h.advance(millis(1));
    h.expect(out(ACK | PSH).seq(1461).ack(1).len(1460));
}

/// SA-09: the send window is taken only from segments that are not older
/// than the last update: (SND.WL1 < SEG.SEQ) or (SND.WL1 = SEG.SEQ and
/// SND.WL2 =< SEG.ACK). A stale reordered ACK with a larger window changes
/// nothing, as the bytes put in flight afterwards show.
#[test]
fn sa_09_stale_ack_does_not_update_window() {
    let mut h = Harness::passive_established(conf());
    h.send(&bytes(10)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(10));
    // Newest: acknowledges everything, window 2 segments.
    h.inject(seg(ACK).seq(1).ack(11).win(2920));
    assert_eq!(h.info().unwrap().snd_wnd, 2920);
    // Stale: same SEQ, older ACK, bigger window.
    h.inject(seg(ACK).seq(1).ack(5).win(60000));
    assert_eq!(h.info().unwrap().snd_wnd, 2920);
    h.expect_none();
    // The congestion window allows three segments; the send window two.
    h.send(&bytes(5000)).unwrap();
    h.expect(out(ACK).seq(11).len(1460));
    h.expect(out(ACK).seq(1471).len(1460));
    h.expect_none();

    // A later SEQ updates even with the same ACK...
    h.inject(seg(ACK | PSH).seq(1).ack(11).win(1460).len(10));
    h.expect(out(ACK).ack(11));
    assert_eq!(h.info().unwrap().snd_wnd, 1460);
    h.inject(seg(ACK).seq(11).ack(11).win(4000));
    assert_eq!(h.info().unwrap().snd_wnd, 4000);
    // ...and an older SEQ never does.
    h.inject(seg(ACK).seq(1).ack(2931).win(60000));
    assert_eq!(h.info().unwrap().snd_wnd, 4000);
}

/// SA-14 (SHLD-31): a segment overlapping old data is trimmed and only its
/// new octets are delivered, once.
#[test]
fn sa_14_overlap_trimmed_new_bytes_delivered_once() {
    let stream = bytes(1000);
    let mut h = Harness::passive_established(conf());
    h.inject(seg(ACK | PSH).seq(1).ack(1).data(&stream[..100]));
    h.expect(out(ACK).seq(1).ack(101));
    assert_eq!(h.recv_all(), &stream[..100]);
    h.inject(seg(ACK | PSH).seq(51).ack(1).data(&stream[50..150]));
    h.expect(out(ACK).seq(1).ack(151));
    assert_eq!(h.recv_all(), &stream[100..150]);
    // Entirely old: nothing new.
    h.inject(seg(ACK | PSH).seq(1).ack(1).data(&stream[..150]));
    h.expect(out(ACK).seq(1).ack(151));
    assert!(h.recv_all().is_empty());
}

/// SA-14: a segment running past the right window edge is cut at the edge
/// and its FIN, now outside the window, is not processed.
#[test]
fn sa_14_fin_beyond_window_trimmed() {
    let mut h = Harness::new(small_window(4000));
    h.enter_syn_received();
    h.enter_established_passive();
    let stream = bytes(4010);
    h.inject(seg(ACK | PSH | FIN).seq(1).ack(1).data(&stream));
    h.expect(out(ACK).seq(1).ack(4001).win(0));
    assert_eq!(h.state(), State::Established, "the FIN lay outside");
    assert_eq!(h.recv_all(), &stream[..4000]);
    h.drain();
    h.inject(seg(ACK | PSH | FIN).seq(4001).ack(1).data(&stream[4000..]));
    h.expect(out(ACK).seq(1).ack(4012));
    assert_eq!(h.state(), State::CloseWait);
    assert_eq!(h.recv_all(), &stream[4000..]);
}

/// SA-14: out-of-order segments are held and delivered when the gap fills.
#[test]
fn sa_14_out_of_order_segments_queued() {
    let stream = bytes(300);
    let mut h = Harness::passive_established(conf());
    h.inject(seg(ACK | PSH).seq(101).ack(1).data(&stream[100..200]));
    h.expect(out(ACK).seq(1).ack(1));
    h.inject(seg(ACK | PSH).seq(1).ack(1).data(&stream[..100]));
    h.expect(out(ACK).seq(1).ack(201));
    assert_eq!(h.recv_all(), &stream[..200]);
}

/// DT-07 with window scaling: the window field is rounded up so the right
/// edge never moves left, which can promise a byte or so more than the free
/// buffer; a peer that fills exactly that window must have every byte taken
/// (dropping the last one would turn the rest of its flight out of order).
#[test]
fn dt_07_scaled_window_rounded_up_is_honoured() {
    let mut h = Harness::new(small_window(70_001));
    h.peer_syn_opts.window_scale = Some(0);
    h.enter_syn_received();
    h.enter_established_passive();
    // Any segment from us now advertises the scaled window.
    h.send(b"x").unwrap();
    let s = h.expect(out(ACK | PSH).seq(1).ack(1).len(1));
    let shift = h.info().unwrap().wscale.expect("window scaling").1;
    assert!(shift >= 1);
    let window = usize::from(s.window) << shift;
    assert!(window > 70_001, "rounded up past the buffer: {window}");
    let mut off = 0;
    while off < window {
        let n = (window - off).min(1000);
        h.inject(seg(ACK).seq(1 + off as i64).ack(2).len(n));
        off += n;
    }
    // The last, short segment may wait for the delayed-ACK timer.
    h.advance(millis(40));
    let acks = h.drain();
    let last = acks.last().expect("ACKs");
    assert_eq!(
        last.rack as usize,
        1 + window,
        "every byte in the window taken"
    );
    assert_eq!(h.info().unwrap().recv_queue, window);
}

/// SA-06 (MAY-12, RFC 5961 5.2): an ACK is acceptable only if
/// SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT, where MAX.SND.WND is the
/// largest (scaled) window the peer ever offered, not the current one.
/// Data whose ACK lies one below that bound is not processed (its text is
/// not delivered, RCV.NXT does not move) and draws an ACK; the same data
/// with the ACK exactly at the bound is an old duplicate ACK, ignored,
/// and the text is taken. Unscaled (MAX.SND.WND = 65535) and with the
/// peer's window scaled by 2^2 (MAX.SND.WND = 262140).
#[test]
fn sa_06_ack_below_max_window_not_processed() {
    for (shift, max_wnd) in [(None, 65_535i64), (Some(2u8), 65_535 << 2)] {
        let mut h = Harness::new(conf());
        h.peer_syn_opts.window_scale = shift;
        h.enter_syn_received();
        h.enter_established_passive();
        assert_eq!(i64::from(h.info().unwrap().snd_wnd), max_wnd);
        // SND.UNA moves to 1001, and the window is now small: the bound
        // must come from the largest window, not this one.
        h.send(&bytes(1000)).unwrap();
        h.drain();
        h.inject(seg(ACK).seq(1).ack(1001).win(250));
        assert_eq!(h.info().unwrap().snd_una.0, h.iss().wrapping_add(1001));
        let lowest = 1001 - max_wnd;
        h.inject(seg(ACK | PSH).seq(1).ack(lowest - 1).win(250).len(100));
        h.expect(out(ACK).seq(1001).ack(1).len(0));
        h.expect_none();
        let i = h.info().unwrap();
        assert_eq!((i.recv_queue, i.rcv_nxt.0), (0, h.irs().wrapping_add(1)));
        assert_eq!(h.ep.counters().dropped(DropReason::AckOutOfRange), 1);

        h.inject(seg(ACK | PSH).seq(1).ack(lowest).win(250).len(100));
        h.expect(out(ACK).seq(1001).ack(101).len(0));
        h.expect_none();
        assert_eq!(h.recv_all(), bytes(100));
        assert_eq!(h.ep.counters().dropped(DropReason::AckOutOfRange), 1);
    }
}
