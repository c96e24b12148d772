//! The sender's scoreboard (RFC 2018 5 and 8: LR-01), IsLost (LR-02),
//! RFC 6675 recovery from entry to exit (LR-03 to LR-05), and the
//! duplicate-ACK path of a peer without SACK (RFC 5681, RFC 6582: LR-08).

use super::*;

// ---- the sender's scoreboard -----------------------------------------------

/// LR-01 (RFC 2018 5 and 8, RFC 6675 5.1). Ten segments; the peer SACKs
/// 2-4: the scoreboard counts them, fast recovery retransmits segment 0
/// (PRR allows one segment), and the SACKed data stays in the send queue.
/// Then the peer falls silent: each timeout (1 s after that ACK, then 2 s
/// later) retransmits the left edge, segment 0, with its original bytes,
/// and only it. When its ACK comes, still SACKing 2-4, slow start sends
/// segment 1 and then segment 5: the SACKed segments are skipped.
#[test]
fn lr_01_rto_retransmits_the_left_edge_sacked_data_kept() {
    let mut h = sack_peer(newreno());
    let t0 = h.now;
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(2, 5)]);
    assert_eq!(sent(&mut h), [0]);
    let i = h.info().unwrap();
    assert_eq!((i.sacked, i.send_queue), (3, 10 * MSS));
    let rto_at = t0 + RTT + secs(1);
    assert_eq!(i.timer, Some((Timer::Retransmit, rto_at)));
    h.advance_to(rto_at - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.next();
    assert_eq!((index(&s), s.at), (0, rto_at));
    assert_eq!(s.payload, original(&h, 1));
    h.expect_none();
    assert_eq!(h.ep.counters().timeouts, 1);
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Loss);
    assert_eq!((i.sacked, i.send_queue), (3, 10 * MSS));
    // Backed off to 2 s: the left edge again, still only it.
    h.advance(secs(2) - us(1));
    h.expect_none();
    h.advance(us(1));
    assert_eq!(sent(&mut h), [0]);
    assert_eq!(h.ep.counters().timeouts, 2);
    assert_eq!(h.info().unwrap().send_queue, 10 * MSS);
    h.advance(RTT);
    sack_ack(&mut h, at(1), &[segs(2, 5)]);
    assert_eq!(sent(&mut h), [1, 5], "SACKed segments skipped");
}

/// The scripted peer as a plain receiver (no SACK blocks): it keeps every
/// segment it gets and, one RTT after each batch, acknowledges
/// cumulatively; when nothing comes the clock runs to the next timer.
/// Every segment must carry the bytes of its original transmission.
/// Returns once segment `n` is acknowledged.
fn plain_peer_until(h: &mut Harness, have: &mut [bool], n: usize) {
    for _ in 0..100 {
        let got = h.drain();
        for s in &got {
            assert_eq!(s.payload, original(h, s.rseq), "{}", describe(s));
            have[index(s)] = true;
        }
        let next = have.iter().position(|&x| !x).unwrap_or(n);
        if got.is_empty() {
            let (_, when) = timer(h).expect("data outstanding, a timer runs");
            h.advance_to(when);
            continue;
        }
        h.advance(RTT);
        ack(h, at(next));
        if next == n {
            return;
        }
    }
    panic!("segment {n} never acknowledged");
}

/// LR-01 and RT-10 (RFC 2018 8): the receiver may renege. Segments 1-4
/// SACKed, segment 0 retransmitted; then the ACK of segment 0 comes
/// without them: the SACK marks are dropped (sack_reneging counts it) and
/// nothing was freed. Segments 1-4 are now unacknowledged and were sent
/// before the retransmission just delivered, so they are lost (RACK) and
/// go again, from segment 1, with their original bytes, until everything
/// is cumulatively acknowledged.
#[test]
fn lr_01_reneging_sacked_range_retransmitted() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 5)]);
    assert_eq!(sent(&mut h), [0]);
    assert_eq!(h.info().unwrap().sacked, 4);
    h.advance(RTT);
    ack(&mut h, at(1));
    assert_eq!(h.ep.counters().sack_reneging, 1);
    let i = h.info().unwrap();
    assert_eq!((i.sacked, i.send_queue), (0, 9 * MSS));
    let got = h.drain();
    let first: Vec<usize> = got.iter().map(index).collect();
    assert_eq!(first.first(), Some(&1), "{first:?}");
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    let mut have = [false; 10];
    have[0] = true;
    for s in &got {
        assert_eq!(s.payload, original(&h, s.rseq));
        have[index(s)] = true;
    }
    let next = have.iter().position(|&x| !x).unwrap();
    h.advance(RTT);
    ack(&mut h, at(next));
    plain_peer_until(&mut h, &mut have, 10);
    assert_eq!(h.info().unwrap().send_queue, 0);
    h.advance(secs(60));
    h.expect_none();
}

/// LR-02 (RFC 6675 4, IsLost): a hole with more than 2·SMSS SACKed above
/// it is lost. Ten segments; one duplicate ACK whose single block covers
/// the three segments after the hole (the byte rule): the hole is
/// retransmitted at once, and nothing else goes.
#[test]
fn lr_02_hole_under_three_sacked_segments_retransmitted_at_once() {
    let mut h = sack_peer(conf());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    let t = h.now;
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    let s = h.next();
    assert_eq!((index(&s), s.at), (0, t));
    h.expect_none();
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
    assert_eq!(h.ep.counters().sack_recovery, 1);
    h.advance(millis(50));
    h.expect_none();
}

/// LR-02, the other side: two segments SACKed above a hole (2·SMSS, not
/// more, and fewer than DupThresh) do not make it lost on arrival: nothing
/// is retransmitted until RACK's reordering window has passed (LR-09).
#[test]
fn lr_02_two_sacked_segments_do_not_retransmit_at_once() {
    let mut h = sack_peer(conf());
    write(&mut h, 0, 4, 4);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 3)]);
    h.expect_none();
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Disorder);
    assert_eq!(h.ep.counters().sack_recovery, 0);
}

/// LR-02 and LR-10 (RFC 8985 6.2 step 3, RFC 2018 4): segments SACKed by
/// one ACK are delivered together, whatever the order of its blocks (most
/// recent first, as receivers send them): that is no reordering. One ACK
/// (its two predecessors were lost) SACKs 5, 3 and 1: no reordering is
/// seen, and with three discontiguous SACKed ranges above it (IsLost's
/// DupThresh rule; reo_wnd 0) segment 0 is retransmitted at once.
#[test]
fn lr_02_blocks_of_one_ack_are_not_reordering() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(5, 6), segs(3, 4), segs(1, 2)]);
    let got = sent(&mut h);
    assert!(!h.info().unwrap().reordering_seen);
    assert_eq!(h.ep.counters().sack_reorder, 0);
    assert_eq!(got.first(), Some(&0), "{got:?}");
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
}

// ---- RFC 6675 recovery ---------------------------------------------------------

/// LR-03 (RFC 6675 5, steps 4.1-4.3) and LR-05 (5 (A)). Ten segments in
/// flight (FlightSize 14600) fill the peer's window, two more wait;
/// segments 0 and 9 are lost. One ACK SACKs 1-3: recovery starts,
/// ssthresh = FlightSize/2 = 7300 (NewReno), exactly one segment goes,
/// the first lost one. The ACK of it and of 1-8 (below RecoveryPoint =
/// 14601) keeps the episode open and segment 9, now lost, goes at once;
/// the ACK of RecoveryPoint ends it with cwnd = ssthresh, and the waiting
/// data goes.
#[test]
fn lr_03_recovery_entry_and_exit_at_recovery_point() {
    let mut h = established_window(newreno(), true, false, 14600);
    write(&mut h, 0, 12, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    assert_eq!(sent(&mut h), [0]);
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Recovery);
    assert_eq!(i.ssthresh, 7300);
    assert!(i.cwnd < 14600, "sending slows at once (PRR): {}", i.cwnd);
    let c = h.ep.counters();
    assert_eq!((c.sack_recovery, c.fast_retrans), (1, 1));
    // The retransmission arrives: ACK 9, one short of RecoveryPoint (the
    // window's right edge stays).
    h.advance(RTT);
    sack_ack_window(&mut h, at(9), &[], 1460);
    assert_eq!(sent(&mut h), [9]);
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
    h.advance(RTT);
    sack_ack_window(&mut h, at(10), &[], 14600);
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Open);
    assert_eq!((i.cwnd, i.ssthresh), (7300, 7300));
    assert_eq!(sent(&mut h), [10, 11]);
    assert_eq!(h.ep.counters().sack_recovery, 1);
}

/// LR-03 (RFC 6675 5 step 4.2, RFC 5681 eq. 4): ssthresh is half the
/// FlightSize, the data sent and not cumulatively acknowledged (14600
/// bytes), however much of it was SACKed (or duplicate-ACKed) before the
/// loss was detected. With SACK, three duplicate ACKs SACKing one segment
/// each; without SACK, three duplicate ACKs. NewReno: 7300 either way.
#[test]
fn lr_03_ssthresh_is_half_the_flight_size() {
    let mut got = Vec::new();
    for sack in [true, false] {
        let mut h = established(newreno(), sack, false);
        write(&mut h, 0, 10, 10);
        h.advance(RTT);
        for k in 2..=4 {
            if sack {
                sack_ack(&mut h, at(0), &[segs(1, k)]);
            } else {
                ack(&mut h, at(0));
            }
        }
        assert_eq!(sent(&mut h), [0], "SACK {sack}");
        assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
        got.push((sack, h.info().unwrap().ssthresh));
    }
    assert_eq!(got, [(true, 7300), (false, 7300)]);
}

/// LR-04 (RFC 6675 4 NextSeg, 5 (C)): four holes in one window
/// (segments 0, 2, 4 and 6 of 10). The peer ACKs each segment that
/// arrives, SACK blocks most recent first; at the third ACK recovery
/// starts and the application writes ten more segments. Every hole is
/// retransmitted, once, in order, within the round trip of those ACKs,
/// and new data goes only after the last of them (PRR may let one new
/// segment follow in the same round: ssthresh is half of FlightSize, 5
/// segments, and the pipe is 4 by the last ACK); the ACK of the first
/// retransmission then lets more new data go.
#[test]
fn lr_04_four_holes_repaired_within_one_rtt_before_new_data() {
    let mut h = sack_peer(newreno());
    let t0 = h.now;
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    let (b1, b3, b5) = (segs(1, 2), segs(3, 4), segs(5, 6));
    let acks: [Vec<(i64, i64)>; 6] = [
        vec![b1],
        vec![b3, b1],
        vec![b5, b3, b1],
        vec![segs(7, 8), b5, b3, b1],
        vec![segs(7, 9), b5, b3, b1],
        vec![segs(7, 10), b5, b3, b1],
    ];
    let mut out = Vec::new();
    for (n, blocks) in acks.iter().enumerate() {
        sack_ack(&mut h, at(0), blocks);
        if n == 2 {
            assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
            h.send(&bytes(10 * MSS)).unwrap();
        }
        out.extend(h.drain());
        h.advance(millis(1));
    }
    assert!(out.iter().all(|s| s.at < t0 + 2 * RTT));
    let got: Vec<usize> = out.iter().map(index).collect();
    assert_eq!(got[..4], [0, 2, 4, 6], "every hole once, in order, first");
    assert!(
        got[4..].iter().all(|&k| k >= 10),
        "then only new data: {got:?}"
    );
    assert!(
        got.len() <= 5,
        "PRR allows one new segment at most: {got:?}"
    );
    // The first retransmission is acknowledged: now new data.
    h.advance_to(t0 + 2 * RTT + millis(2));
    sack_ack(&mut h, at(2), &[segs(7, 10), b5, b3]);
    let got = sent(&mut h);
    assert!(!got.is_empty() && got.iter().all(|&k| k >= 10), "{got:?}");
    assert_eq!(h.ep.counters().sack_recovery, 1);
}

/// LR-04 (RFC 6675 4 NextSeg rule 4, 5 step 4.3): the rescue
/// retransmission waits until HighACK passes RescueRxt, which entry sets
/// to the end of the first retransmission. Segments 0 and 9 of 10 lost,
/// nothing more to send: while 4-8 are SACKed, nothing is sent, neither
/// segment 0 again nor segment 9. The ACK of segment 0's retransmission
/// then lets segment 9 go.
#[test]
fn lr_04_rescue_waits_for_the_first_retransmission_to_be_acked() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    assert_eq!(sent(&mut h), [0]);
    for k in 5..=9 {
        h.advance(millis(1));
        sack_ack(&mut h, at(0), &[segs(1, k)]);
        assert_eq!(sent(&mut h), Vec::<usize>::new(), "after SACK of {k}");
    }
    h.advance(RTT);
    ack(&mut h, at(9));
    assert_eq!(sent(&mut h), [9]);
}

/// LR-04 (RFC 6675 4 NextSeg rule 4), the same defect in its plainest
/// form: four segments, one lost; the duplicate ACK SACKing the other
/// three makes the hole lost, and it is retransmitted exactly once.
#[test]
fn lr_04_single_hole_retransmitted_once() {
    let mut h = sack_peer(conf());
    write(&mut h, 0, 4, 4);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    assert_eq!(sent(&mut h), [0]);
}

/// LR-05 (RFC 6675 5.1), with SACK. Recovery starts (segment 0 of 10
/// lost, 1-3 SACKed), its retransmission is lost too, and the
/// retransmission timer expires: RecoveryPoint becomes HighData,
/// recovery gives way to the timeout's (Loss), segment 0 goes again and
/// then, as slow start allows, the unSACKed tail. Duplicate ACKs below
/// RecoveryPoint (segment 4 lost once more) start no new fast recovery:
/// no fast retransmission is counted, ssthresh stays. The ACK of
/// everything ends the episode.
#[test]
fn lr_05_rto_during_recovery_then_duplicate_acks_start_nothing() {
    // No probe in recovery, so that the timeout comes as RFC 8985 has it.
    let mut cfg = newreno();
    cfg.recovery_tail_probe = false;
    let mut h = sack_peer(cfg);
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    assert_eq!(sent(&mut h), [0]);
    let (kind, when) = timer(&h).unwrap();
    assert_eq!(kind, Timer::Retransmit);
    h.advance_to(when);
    assert_eq!(sent(&mut h), [0]);
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Loss);
    let ssthresh = i.ssthresh;
    h.advance(RTT);
    ack(&mut h, at(4));
    assert_eq!(sent(&mut h), [4, 5]);
    h.advance(RTT);
    for k in 6..=8 {
        sack_ack(&mut h, at(4), &[segs(5, k)]);
        let got = sent(&mut h);
        assert!(got.iter().all(|&s| s >= 4), "{got:?}");
        let i = h.info().unwrap();
        assert_eq!(i.recovery, RecoveryState::Loss);
        assert_eq!(i.ssthresh, ssthresh);
        h.advance(millis(1));
    }
    let c = h.ep.counters();
    assert_eq!((c.sack_recovery, c.fast_retrans), (1, 1));
    h.advance(RTT);
    ack(&mut h, at(10));
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Open);
}

/// LR-05 and LR-08 without SACK (RFC 6582 3.2 step 1): ten segments time
/// out (recover = segment 10); the ACK of segment 0 and then three
/// duplicate ACKs below recover trigger no fast retransmit of segment 1
/// (reno_recovery stays 0, ssthresh stays). Past recover, a new loss is
/// repaired on the third duplicate ACK again.
#[test]
fn lr_05_no_fast_retransmit_below_recover_after_timeout_newreno() {
    let mut h = established(newreno(), false, false);
    let t0 = h.now;
    write(&mut h, 0, 20, 10);
    assert_eq!(timer(&h), Some((Timer::Retransmit, t0 + secs(1))));
    h.advance(secs(1));
    assert_eq!(sent(&mut h), [0]);
    h.advance(RTT);
    ack(&mut h, at(1));
    assert_eq!(sent(&mut h), [1, 2], "slow start after the timeout");
    let ssthresh = h.info().unwrap().ssthresh;
    for _ in 0..3 {
        h.advance(millis(1));
        ack(&mut h, at(1));
    }
    let got = sent(&mut h);
    assert!(!got.contains(&1), "no fast retransmit: {got:?}");
    assert_eq!(h.ep.counters().reno_recovery, 0);
    assert_eq!(h.info().unwrap().ssthresh, ssthresh);
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Loss);
    // Everything sent before the timeout arrived after all.
    h.advance(RTT);
    ack(&mut h, at(10));
    let got = sent(&mut h);
    assert!(got.len() >= 2 && got[0] == 10, "{got:?}");
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Open);
    // Segment 11 is lost; segment 10 and those after 11 arrive.
    h.advance(RTT);
    ack(&mut h, at(11));
    h.drain();
    for n in 1..=3 {
        ack(&mut h, at(11));
        let got = sent(&mut h);
        assert_eq!(got.contains(&11), n == 3, "duplicate ACK {n}: {got:?}");
    }
    assert_eq!(h.ep.counters().reno_recovery, 1);
}

/// CC-05 (RFC 5681 3.1), as met in timeout recovery (LR-05): after a
/// timeout cwnd is one segment and slow start doubles it per round trip,
/// also when the flight that timed out was application-limited (4
/// segments under a window of 10): the ACK of the retransmitted segment
/// 0 makes cwnd 2 segments, and segments 1 and 2 go.
#[test]
fn rto_slow_start_after_an_application_limited_flight() {
    let mut h = established(newreno(), false, false);
    write(&mut h, 0, 4, 4);
    h.advance(secs(1));
    assert_eq!(sent(&mut h), [0]);
    assert_eq!(h.info().unwrap().cwnd, 1460);
    h.advance(RTT);
    ack(&mut h, at(1));
    assert_eq!(h.info().unwrap().cwnd, 2920);
    assert_eq!(sent(&mut h), [1, 2]);
}

/// LR-08 (RFC 8985 4, RFC 5681 3.2, RFC 6582): without SACK there is no
/// RACK and no probe: the timer after a flight is the retransmission
/// timer, two duplicate ACKs change nothing, the third retransmits
/// segment 0 at once. A partial ACK (segment 5 was lost too) retransmits
/// segment 5 at once; the ACK of everything sent ends recovery with cwnd
/// = ssthresh.
#[test]
fn lr_08_without_sack_third_duplicate_ack_and_partial_acks() {
    let mut h = established(newreno(), false, false);
    let t0 = h.now;
    write(&mut h, 0, 10, 10);
    assert_eq!(timer(&h), Some((Timer::Retransmit, t0 + secs(1))));
    h.advance(RTT);
    for _ in 0..2 {
        ack(&mut h, at(0));
        h.expect_none();
        assert_eq!(timer(&h), Some((Timer::Retransmit, t0 + secs(1))));
    }
    let t = h.now;
    ack(&mut h, at(0));
    let s = h.next();
    assert_eq!((index(&s), s.at), (0, t));
    h.expect_none();
    let c = h.ep.counters();
    assert_eq!((c.reno_recovery, c.sack_recovery, c.loss_probes), (1, 0, 0));
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
    // Segments 4, 6-9 arrive: more duplicate ACKs.
    for _ in 0..5 {
        ack(&mut h, at(0));
    }
    let got = sent(&mut h);
    assert!(
        !got.contains(&5),
        "segment 5 is not known lost yet: {got:?}"
    );
    h.advance(RTT);
    ack(&mut h, at(5));
    assert_eq!(sent(&mut h), [5], "partial ACK");
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
    h.advance(RTT);
    ack(&mut h, at(10));
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Open);
    assert_eq!(i.cwnd, i.ssthresh);
    assert_eq!(h.ep.counters().reno_recovery, 1);
}

/// LR-03, LR-04 (RFC 6937 3: the fast retransmission goes whatever PRR's
/// count): ACKs that arrive together are processed before anything is
/// sent. The first starts recovery (three segments SACKed above segment
/// 0, so RACK marks it lost at once); the second, in the same batch,
/// delivers one more, and PRR's count for it (ssthresh - pipe: nothing)
/// must not take back the allowance for the retransmission, which has not
/// gone yet. Before the fix it did, and segment 0 waited for a timeout.
#[test]
fn lr_04_batched_acks_keep_the_fast_retransmission() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    let win = h.info().unwrap().snd_wnd.min(65535) as u16;
    let mut batch = Vec::new();
    for k in [4, 5] {
        let mut o = TcpOptions::default();
        let iss = h.iss();
        assert!(o.sack.push(
            iss.wrapping_add(at(1) as u32),
            iss.wrapping_add(at(k) as u32)
        ));
        batch.push(h.build(&seg(ACK).seq(1).ack(at(0)).opts(o).win(win)));
    }
    for pkt in &batch {
        h.ep.handle_packet(h.now, pkt);
    }
    h.pump();
    assert_eq!(sent(&mut h), [0], "the fast retransmission");
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
}
