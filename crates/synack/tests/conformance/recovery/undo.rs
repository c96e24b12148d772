//! Undoing a reduction shown spurious: D-SACKs for every retransmission
//! of the episode (RFC 2883, RFC 3708; LR-07), and F-RTO after a timeout
//! (RFC 5682).

use super::*;

/// Reordering makes segments 0 and 1 of ten look lost (segments 2-6
/// SACKed before they arrive): recovery halves ssthresh (NewReno, 7300)
/// and both are retransmitted. Returns cwnd and ssthresh from before.
fn spurious_recovery(h: &mut Harness) -> (u32, u32) {
    let before = h.info().unwrap();
    h.advance(RTT);
    let mut rtx = Vec::new();
    for k in 5..=7 {
        sack_ack(h, at(0), &[segs(2, k)]);
        rtx.extend(sent(h).into_iter().filter(|&k| k < 10));
    }
    assert_eq!(rtx, [0, 1], "both holes retransmitted");
    assert_eq!(h.info().unwrap().ssthresh, 7300);
    (before.cwnd, before.ssthresh)
}

/// The D-SACKs of the retransmissions of segments 0 and 1, one by one,
/// ACK `ack`: the first undoes nothing (the other retransmission is not
/// yet shown needless); the second restores cwnd and ssthresh as they
/// were before the episode (dsack_undo, loss_undo).
fn dsacks_undo(h: &mut Harness, ack: i64, before: (u32, u32)) {
    let i = h.info().unwrap();
    assert!(i.cwnd < before.0);
    sack_ack(h, ack, &[segs(0, 1)]);
    let j = h.info().unwrap();
    assert_eq!((j.cwnd, j.ssthresh), (i.cwnd, 7300), "one D-SACK of two");
    assert_eq!(h.ep.counters().dsack_undo, 0);
    sack_ack(h, ack, &[segs(1, 2)]);
    let i = h.info().unwrap();
    assert_eq!((i.cwnd, i.ssthresh), before);
    let c = h.ep.counters();
    assert_eq!((c.dsack_recv, c.dsack_undo, c.loss_undo), (2, 1, 1));
}

/// LR-07 and RFC 2883 / RFC 3708 undo: a recovery caused by reordering
/// (segments 0 and 1 arrive after 2-6; ten more segments wait). The
/// originals' ACK is partial, so new data goes during recovery; the ACK
/// of RecoveryPoint ends it with cwnd reduced. The D-SACKs of both
/// retransmissions then arrive, while new data is in flight: the
/// reduction is undone.
#[test]
fn dsack_for_every_retransmission_undoes_the_reduction() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 20, 10);
    let before = spurious_recovery(&mut h);
    h.advance(millis(5));
    ack(&mut h, at(7));
    let got = sent(&mut h);
    assert!(!got.is_empty() && got.iter().all(|&k| k >= 10), "{got:?}");
    ack(&mut h, at(10));
    h.drain();
    let i = h.info().unwrap();
    assert_eq!((i.recovery, i.ssthresh), (RecoveryState::Open, 7300));
    h.advance(millis(95));
    dsacks_undo(&mut h, at(10), before);
}

/// RFC 2883 / RFC 3708 undo (LR-07): the same spurious recovery when
/// nothing else is sent: the originals' ACK acknowledges everything, and
/// the D-SACKs of both retransmissions arrive after it (their usual
/// order). They undo the reduction all the same.
#[test]
fn dsack_undo_after_everything_acked() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    let before = spurious_recovery(&mut h);
    h.advance(millis(5));
    ack(&mut h, at(10));
    h.expect_none();
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Open);
    h.advance(millis(95));
    dsacks_undo(&mut h, at(10), before);
}

/// F-RTO (RFC 5682, SACK-enhanced as in Linux): the path's delay jumps;
/// the tail loss probe goes, then the retransmission timer expires: cwnd
/// falls to one segment and segment 0 is resent. The next ACK covers
/// segment 1, sent before the timeout and never retransmitted: the
/// timeout was spurious. spurious_rtos counts it, cwnd and ssthresh are
/// restored, and the rest of the flight is never retransmitted.
#[test]
fn frto_ack_of_original_data_undoes_a_spurious_timeout() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    let before = h.info().unwrap();
    let (kind, probe_at) = timer(&h).unwrap();
    assert_eq!(kind, Timer::LossProbe);
    h.advance_to(probe_at);
    assert_eq!(sent(&mut h), [9], "the tail loss probe");
    let (kind, when) = timer(&h).unwrap();
    assert_eq!(kind, Timer::Retransmit);
    h.advance_to(when);
    assert_eq!(sent(&mut h), [0]);
    let i = h.info().unwrap();
    assert_eq!((i.recovery, i.cwnd), (RecoveryState::Loss, 1460));
    assert!(i.ssthresh < before.ssthresh);
    assert_eq!(h.ep.counters().timeouts, 1);
    h.advance(millis(20));
    ack(&mut h, at(2));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Open);
    assert!(i.cwnd >= before.cwnd, "{} restored", i.cwnd);
    assert_eq!(i.ssthresh, before.ssthresh);
    let c = h.ep.counters();
    assert_eq!((c.spurious_rtos, c.loss_undo), (1, 1));
    h.advance(millis(10));
    ack(&mut h, at(10));
    h.advance(secs(10));
    h.expect_none();
    assert_eq!(h.info().unwrap().retransmits, 2);
}
