//! RACK-TLP (RFC 8985): loss by time (LR-09), the reordering window and
//! its D-SACK widening (LR-10), tail loss probes (LR-11), and the timers
//! and the probe's outcome (LR-12).

use super::*;

// ---- RACK ----------------------------------------------------------------------

/// LR-09 (RFC 8985 6.2 step 5): four segments sent at t0, segment 0
/// lost. Two duplicate ACKs SACK segments 1 and 2 at t0 + 100 ms
/// (RACK.rtt 100 ms; reo_wnd = min_RTT/4 = 25 ms, as fewer than three
/// segments are SACKed and no reordering was seen): the reordering timer
/// is armed for t0 + 125 ms, and exactly then segment 0 is retransmitted,
/// without a third duplicate ACK. Segment 3, sent with segment 2 but not
/// before it, is not.
#[test]
fn lr_09_rack_retransmits_after_rtt_plus_reordering_window() {
    let mut h = sack_peer(conf());
    let t0 = h.now;
    write(&mut h, 0, 4, 4);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 2)]);
    h.expect_none();
    let deadline = t0 + RTT + RTT / 4;
    assert_eq!(timer(&h), Some((Timer::Reorder, deadline)));
    sack_ack(&mut h, at(0), &[segs(1, 3)]);
    h.expect_none();
    assert_eq!(timer(&h), Some((Timer::Reorder, deadline)));
    h.advance_to(deadline - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.next();
    assert_eq!((index(&s), s.at), (0, deadline));
    h.expect_none();
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
    assert_eq!(h.ep.counters().sack_recovery, 1);
    h.advance(RTT);
    ack(&mut h, at(4));
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Open);
    h.advance(secs(5));
    h.expect_none();
}

/// Makes the connection see reordering (RFC 8985 6.2 step 3): four
/// segments from `first`, the first SACKed after the second and then
/// delivered without a retransmission, 10 ms later. Returns the next
/// segment index.
fn see_reordering(h: &mut Harness, first: usize) -> usize {
    write(h, first, 4, 4);
    h.advance(RTT);
    sack_ack(h, at(first), &[segs(first + 1, first + 2)]);
    h.advance(millis(10));
    ack(h, at(first + 4));
    h.expect_none();
    assert!(h.info().unwrap().reordering_seen);
    assert_eq!(h.ep.counters().sack_reorder, 1);
    first + 4
}

/// LR-10 (RFC 8985 6.2 step 4): once reordering was seen, reo_wnd is
/// min_RTT/4 = 25 ms even with three segments SACKed. A segment overtaken
/// by the three after it and delivered 10 ms later is not retransmitted:
/// the reordering timer waits until RACK.rtt + 25 ms, and the ACK comes
/// first. (Without the reordering seen, it would have been retransmitted
/// at once: LR-02.)
#[test]
fn lr_10_reordering_window_prevents_spurious_retransmission() {
    let mut h = sack_peer(conf());
    let k = see_reordering(&mut h, 0);
    h.advance(RTT);
    let t1 = h.now;
    write(&mut h, k, 4, 4);
    h.advance(RTT);
    sack_ack(&mut h, at(k), &[segs(k + 1, k + 4)]);
    h.expect_none();
    assert_eq!(timer(&h), Some((Timer::Reorder, t1 + RTT + RTT / 4)));
    h.advance(millis(10));
    ack(&mut h, at(k + 4));
    h.expect_none();
    assert_eq!(timer(&h), None);
    h.advance(secs(5));
    h.expect_none();
    let c = h.ep.counters();
    assert_eq!((c.sack_recovery, c.retrans_segs), (0, 0));
    assert_eq!(h.info().unwrap().retransmits, 0);
}

/// A flight of two after reordering was seen, the first segment overtaken
/// by the second and delivered 40 ms after it: retransmitted spuriously
/// once the 25 ms window has passed. Returns the next segment index.
fn spurious_retransmission(h: &mut Harness, k: usize) -> usize {
    h.advance(RTT);
    write(h, k, 2, 2);
    h.advance(RTT);
    sack_ack(h, at(k), &[segs(k + 1, k + 2)]);
    h.advance(RTT / 4);
    assert_eq!(sent(h), [k], "spurious retransmission");
    h.advance(millis(15));
    ack(h, at(k + 2));
    h.expect_none();
    k + 2
}

/// LR-10 and LR-07 (RFC 8985 6.2 step 4): a D-SACK widens the reordering
/// window. With reordering seen, a segment delivered 40 ms late is
/// retransmitted spuriously (the window is 25 ms); its D-SACK arrives
/// while the next data is in flight and raises reo_wnd_mult to 2. The
/// same 40 ms of reordering is then tolerated: the reordering timer waits
/// RACK.rtt + 50 ms and the late segment's ACK comes first.
#[test]
fn lr_10_dsack_widens_the_reordering_window() {
    let mut h = sack_peer(conf());
    let k = see_reordering(&mut h, 0);
    let k = spurious_retransmission(&mut h, k);
    h.advance(millis(50));
    let t2 = h.now;
    write(&mut h, k, 2, 2);
    h.advance(millis(10));
    sack_ack(&mut h, at(k), &[segs(k - 2, k - 1)]);
    h.expect_none();
    assert_eq!(h.ep.counters().dsack_recv, 1);
    assert_eq!(h.info().unwrap().reorder_window_mult, 2);
    h.advance_to(t2 + RTT);
    sack_ack(&mut h, at(k), &[segs(k + 1, k + 2)]);
    h.expect_none();
    assert_eq!(timer(&h), Some((Timer::Reorder, t2 + RTT + RTT / 2)));
    h.advance(millis(40));
    ack(&mut h, at(k + 2));
    h.expect_none();
    h.advance(secs(5));
    h.expect_none();
    assert_eq!(h.info().unwrap().retransmits, 1);
}

/// LR-10 and LR-07 (RFC 8985 6.2 step 4, RFC 2883): a D-SACK counts and
/// widens the window also when it arrives after everything was
/// acknowledged: the usual case at the end of a request, where the
/// spurious retransmission is the last segment to arrive.
#[test]
fn lr_10_dsack_after_everything_acked_widens_the_window() {
    let mut h = sack_peer(conf());
    let k = see_reordering(&mut h, 0);
    let k = spurious_retransmission(&mut h, k);
    h.advance(millis(60));
    sack_ack(&mut h, at(k), &[segs(k - 2, k - 1)]);
    h.expect_none();
    assert_eq!(h.ep.counters().dsack_recv, 1);
    assert_eq!(h.info().unwrap().reorder_window_mult, 2);
}

// ---- tail loss probes ----------------------------------------------------------

/// LR-11 (RFC 8985 7.2-7.3): the last two of ten segments are lost (two
/// more wait, beyond the peer's 10-segment window). The ACK of the first
/// eight, keeping the window's right edge, arms the probe timer for
/// 2·SRTT = 200 ms (not the 1 s RTO); when it expires the last segment
/// is sent again (the window takes nothing new). Its SACK shows segment
/// 8 missing: RACK marks it lost and recovery repairs it at once. No
/// timeout.
#[test]
fn lr_11_probe_at_two_srtt_recovers_a_lost_tail() {
    let mut h = established_window(conf(), true, false, 14600);
    write(&mut h, 0, 12, 10);
    h.advance(RTT);
    sack_ack_window(&mut h, at(8), &[], 2920);
    h.expect_none();
    let t = h.now;
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + 2 * RTT)));
    h.advance(2 * RTT - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.next();
    assert_eq!((index(&s), s.at), (9, t + 2 * RTT));
    h.expect_none();
    assert_eq!(h.ep.counters().loss_probes, 1);
    assert_eq!(timer(&h).map(|t| t.0), Some(Timer::Retransmit));
    h.advance(RTT);
    sack_ack(&mut h, at(8), &[segs(9, 10)]);
    assert_eq!(sent(&mut h), [8]);
    h.advance(RTT);
    sack_ack_window(&mut h, at(10), &[], 14600);
    assert_eq!(sent(&mut h), [10, 11]);
    let c = h.ep.counters();
    assert_eq!((c.timeouts, c.loss_probes, c.sack_recovery), (0, 1, 1));
}

/// LR-11 (RFC 8985 7.2): the probe timer is armed after new data is sent,
/// for 2·SRTT while more than one segment is in flight: after a flight of
/// four, 200 ms. (The one-segment allowance for a delayed ACK applies to
/// a single segment in flight, not to the first segment of a burst.)
#[test]
fn lr_11_probe_timer_after_a_burst_is_two_srtt() {
    let mut h = sack_peer(conf());
    let t0 = h.now;
    write(&mut h, 0, 4, 4);
    assert_eq!(timer(&h), Some((Timer::LossProbe, t0 + 2 * RTT)));
    h.advance(2 * RTT);
    assert_eq!(sent(&mut h), [3]);
}

/// LR-11 (RFC 8985 7.2): with one segment in flight the probe waits
/// 2·SRTT plus the peer's worst-case delayed ACK
/// (`Config::tlp_max_ack_delay`, 200 ms): 400 ms.
#[test]
fn lr_11_one_segment_in_flight_adds_max_ack_delay() {
    let mut h = sack_peer(conf());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    ack(&mut h, at(9));
    let t = h.now;
    let pto = 2 * RTT + millis(200);
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + pto)));
    h.advance(pto - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.next();
    assert_eq!((index(&s), s.at), (9, t + pto));
}

/// LR-11 (RFC 8985 7.3): the probe is a new segment when one waits and
/// the peer's window takes it, whatever cwnd says. Twenty segments
/// written; the ACK of the first lets two more go and arms the probe for
/// 2·SRTT; everything in flight is then lost: at the probe timeout
/// segment 12 goes, and only it.
#[test]
fn lr_11_probe_sends_new_data_when_available() {
    let mut h = sack_peer(conf());
    write(&mut h, 0, 20, 10);
    h.advance(RTT);
    ack(&mut h, at(1));
    assert_eq!(sent(&mut h), [10, 11]);
    let t = h.now;
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + 2 * RTT)));
    h.advance(2 * RTT);
    let s = h.next();
    assert_eq!((index(&s), s.at), (12, t + 2 * RTT));
    h.expect_none();
    assert_eq!(h.ep.counters().loss_probes, 1);
}

/// LR-11 (RFC 8985 7.2): without an RTT sample the probe timeout is 1 s.
/// An active open whose SYN was retransmitted has none (Karn; no
/// timestamps), and an RTO of 3 s (RFC 6298 5.7): the probe comes 1 s
/// after the data.
#[test]
fn lr_11_probe_after_one_second_without_srtt() {
    let mut h = Harness::new(conf());
    h.active_layout();
    h.connect().unwrap();
    h.expect(out(SYN).seq(0));
    h.advance(secs(1));
    h.expect(out(SYN).seq(0));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460).sack_perm());
    h.expect(out(ACK).seq(1).ack(1));
    h.take_events();
    let i = h.info().unwrap();
    assert!(i.sack);
    assert_eq!((i.srtt, i.rto), (None, secs(3)));
    let t = h.now;
    write(&mut h, 0, 2, 2);
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + secs(1))));
    h.advance(secs(1));
    assert_eq!(sent(&mut h), [1]);
}

/// LR-11 (RFC 8985 7.2): the probe timeout never passes the RTO. With a
/// 200 ms minimum RTO the RTO is 100 + 4·50 = 300 ms; one segment in
/// flight would make the probe wait 2·100 + 200 = 400 ms: it fires at
/// 300 ms, as the probe timer.
#[test]
fn lr_11_probe_timeout_capped_at_rto() {
    let mut cfg = conf();
    cfg.rtt.min_rto = millis(200);
    let mut h = Harness::new(cfg);
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).sack_perm());
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.advance(RTT);
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().rto, millis(300));
    let t = h.now;
    write(&mut h, 0, 1, 1);
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + millis(300))));
    h.advance(millis(300));
    assert_eq!(sent(&mut h), [0]);
    assert_eq!(h.ep.counters().loss_probes, 1);
    assert_eq!(h.ep.counters().timeouts, 0);
}

// ---- one timer at a time, and the probe's outcome -----------------------

/// LR-12 (RFC 8985 8): of the reordering, probe and retransmission timers
/// one runs at a time. The trace, five segments sent at t0: the ACK of
/// segment 0 arms the probe timer (t0 + 300 ms); a SACK of segment 3
/// replaces it by the reordering timer (t0 + 125 ms); when that fires,
/// segment 1 is retransmitted and the retransmission timer (1 s) takes
/// over. The probe's deadline passes without a probe; the ACK of the
/// retransmission restarts the retransmission timer only; once everything
/// is acknowledged no timer runs and nothing more is ever sent.
#[test]
fn lr_12_one_of_reorder_probe_and_retransmission_timers_at_a_time() {
    // RFC 8985's own timers: no probe during recovery (the default's
    // departure from that is checked below).
    let mut cfg = newreno();
    cfg.recovery_tail_probe = false;
    let mut h = sack_peer(cfg);
    let t0 = h.now;
    write(&mut h, 0, 5, 5);
    assert_eq!(timer(&h).map(|t| t.0), Some(Timer::LossProbe));
    h.advance(RTT);
    ack(&mut h, at(1));
    let pto_at = t0 + 3 * RTT;
    assert_eq!(timer(&h), Some((Timer::LossProbe, pto_at)));
    sack_ack(&mut h, at(1), &[segs(3, 4)]);
    h.expect_none();
    let reo_at = t0 + RTT + RTT / 4;
    assert_eq!(timer(&h), Some((Timer::Reorder, reo_at)));
    h.advance_to(reo_at);
    let s = h.next();
    assert_eq!((index(&s), s.at), (1, reo_at));
    h.expect_none();
    let rto_at = reo_at + secs(1);
    assert_eq!(timer(&h), Some((Timer::Retransmit, rto_at)));
    // The probe's old deadline: nothing.
    h.advance_to(pto_at + millis(10));
    h.expect_none();
    assert_eq!(timer(&h), Some((Timer::Retransmit, rto_at)));
    // The retransmission arrives: segment 2 follows under PRR (and
    // segment 4 may go as RFC 6675's rescue retransmission).
    h.advance_to(reo_at + RTT);
    sack_ack(&mut h, at(2), &[segs(3, 4)]);
    let got = sent(&mut h);
    assert!(got == [2] || got == [2, 4], "{got:?}");
    assert_eq!(timer(&h), Some((Timer::Retransmit, reo_at + RTT + secs(1))));
    h.advance(RTT);
    ack(&mut h, at(5));
    assert_eq!(timer(&h), None);
    h.advance(secs(10));
    h.expect_none();
    let c = h.ep.counters();
    assert_eq!((c.loss_probes, c.timeouts), (0, 0));
}

/// LR-12 (RFC 8985 7.4.2): the last of ten segments is lost; the probe
/// (at 2·SRTT + 200 ms, one segment in flight) resends it, the
/// application writes two more segments, and one ACK covers them all
/// with no D-SACK: the probe alone repaired a loss. cwnd is reduced once
/// (NewReno: half the 3 segments then in flight, at least 2 segments,
/// 2920), loss_probe_recovery counts it, and no recovery episode follows.
#[test]
fn lr_12_probe_repair_reduces_cwnd_once() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    ack(&mut h, at(9));
    assert!(h.info().unwrap().cwnd >= 14600);
    h.advance(2 * RTT + millis(200));
    assert_eq!(sent(&mut h), [9]);
    h.advance(millis(10));
    write(&mut h, 10, 2, 2);
    h.advance(RTT);
    ack(&mut h, at(12));
    let i = h.info().unwrap();
    assert_eq!((i.cwnd, i.ssthresh), (2920, 2920));
    assert_eq!(i.recovery, RecoveryState::Open);
    let c = h.ep.counters();
    assert_eq!(
        (c.loss_probe_recovery, c.sack_recovery, c.timeouts),
        (1, 0, 0)
    );
    // The next round grows from there.
    write(&mut h, 12, 2, 2);
    h.advance(RTT);
    ack(&mut h, at(14));
    assert!(h.info().unwrap().cwnd > 2920);
    assert_eq!(h.ep.counters().loss_probe_recovery, 1);
}

/// LR-12 (RFC 8985 7.4.2, TLP_process_ack): an ACK of exactly
/// TLP.end_seq without a D-SACK cannot tell whether the probe repaired a
/// loss (the D-SACK of the original may follow), so the episode stays
/// open; the first ACK beyond TLP.end_seq without a D-SACK settles it as
/// repaired: cwnd is reduced and loss_probe_recovery counts it.
#[test]
fn lr_12_probe_repair_settled_by_an_ack_beyond_end_seq() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    ack(&mut h, at(9));
    h.advance(2 * RTT + millis(200));
    assert_eq!(sent(&mut h), [9]);
    h.advance(RTT);
    ack(&mut h, at(10));
    let cwnd = h.info().unwrap().cwnd;
    assert_eq!(h.ep.counters().loss_probe_recovery, 0);
    write(&mut h, 10, 1, 1);
    h.advance(RTT);
    ack(&mut h, at(11));
    let i = h.info().unwrap();
    assert!(i.cwnd < cwnd, "reduced: {} -> {}", cwnd, i.cwnd);
    assert_eq!(h.ep.counters().loss_probe_recovery, 1);
}

/// LR-11 (RFC 8985 7.3): the probe carries PSH, new data or not. A
/// receiver that holds ACKs for in-order data until its application
/// reads it (Linux, for unpushed data, up to its delayed-ACK timeout)
/// answers a pushed segment as soon as it is read: the probe exists to
/// draw that ACK.
#[test]
fn lr_11_probes_are_pushed() {
    let mut h = sack_peer(conf());
    write(&mut h, 0, 20, 10);
    h.advance(RTT);
    ack(&mut h, at(1));
    let more = h.drain();
    assert!(
        more.iter().all(|s| !s.has(PSH)),
        "segments mid-stream are not pushed"
    );
    h.advance(2 * RTT);
    let probe = h.next();
    assert_eq!(index(&probe), 12);
    assert!(probe.has(PSH), "the new-data probe is pushed");
    // The retransmitted form, once nothing new may go.
    let mut h = established_window(conf(), true, false, 14600);
    write(&mut h, 0, 12, 10);
    h.advance(RTT);
    sack_ack_window(&mut h, at(8), &[], 2920);
    h.advance(2 * RTT);
    let probe = h.next();
    assert_eq!(index(&probe), 9);
    assert!(probe.has(PSH), "the retransmitted probe is pushed");
}

/// LR-11 (RFC 8985 7.2: PTO = 2·SRTT, no floor in the RFC): on a path of
/// 200 µs the probe waits 1 ms, the engine's floor, not the 10 ms older
/// stacks used: every lost flight-ending ACK would otherwise idle a fast
/// sender for the whole floor.
#[test]
fn lr_11_probe_floor_on_a_sub_millisecond_path() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).sack_perm());
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.advance(us(200));
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().expect("accept");
    assert_eq!(h.info().unwrap().srtt, Some(us(200)));
    let t0 = h.now;
    h.send(&bytes(4 * MSS)).unwrap();
    assert_eq!(h.drain().len(), 4);
    assert_eq!(timer(&h), Some((Timer::LossProbe, t0 + millis(1))));
    h.advance(millis(1));
    assert_eq!(sent(&mut h), [3]);
}

// ---- the probe in fast recovery (Config::recovery_tail_probe) -------------

/// The end of an episode whose last ACK is lost: twelve segments written,
/// ten sent; segment 0 is lost and the duplicate ACK SACKing 1-3 starts
/// recovery: its retransmission goes, and PRR's share lets segment 10
/// out with it. The receiver then has everything up to segment 10 and
/// answers with one cumulative ACK, which is lost.
fn recovery_whose_last_ack_is_lost(cfg: Config) -> (Harness, Instant, u32) {
    let mut h = sack_peer(cfg);
    write(&mut h, 0, 12, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    assert_eq!(sent(&mut h), [0, 10]);
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Recovery);
    let now = h.now;
    (h, now, i.ssthresh)
}

/// LR-11, LR-12 and the default's departure from RFC 8985 7.2: in fast
/// recovery, once every segment marked lost has been resent, a probe is
/// armed for 2·SRTT after the last ACK, as outside recovery. When it
/// expires one new segment goes (segment 11), whatever PRR's window says;
/// its ACK covers everything and ends the episode with no timeout and no
/// second reduction. One timer at a time throughout.
#[test]
fn lr_11_probe_in_recovery_replaces_the_timeout_when_the_last_ack_is_lost() {
    let (mut h, t, ssthresh) = recovery_whose_last_ack_is_lost(newreno());
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + 2 * RTT)));
    h.advance(2 * RTT - us(1));
    h.expect_none();
    h.advance(us(1));
    let s = h.next();
    assert_eq!((index(&s), s.at), (11, t + 2 * RTT));
    h.expect_none();
    assert_eq!(timer(&h), Some((Timer::Retransmit, t + 2 * RTT + secs(1))));
    h.advance(RTT);
    ack(&mut h, at(12));
    let i = h.info().unwrap();
    assert_eq!(i.recovery, RecoveryState::Open);
    assert_eq!(i.ssthresh, ssthresh, "no second reduction");
    let c = h.ep.counters();
    assert_eq!((c.loss_probes, c.timeouts, c.sack_recovery), (1, 0, 1));
}

/// The same episode with `recovery_tail_probe` off (RFC 8985 exactly):
/// no probe timer during recovery, and the lost ACK costs the 1 s RTO.
#[test]
fn lr_12_without_the_recovery_probe_only_the_timeout_is_left() {
    let mut cfg = newreno();
    cfg.recovery_tail_probe = false;
    let (mut h, t, _) = recovery_whose_last_ack_is_lost(cfg);
    assert_eq!(timer(&h), Some((Timer::Retransmit, t + secs(1))));
    h.advance(secs(1) - us(1));
    h.expect_none();
    h.advance(us(1));
    assert_eq!(sent(&mut h), [0]);
    assert_eq!(h.ep.counters().timeouts, 1);
}

/// With nothing new to send, the probe in recovery resends the highest
/// segment the receiver has not SACKed: ten segments, all written, 0
/// lost and 1-3 SACKed; only the retransmission goes (there is nothing
/// new for PRR's share), the last ACK is lost, and the probe is segment 9.
#[test]
fn lr_11_probe_in_recovery_resends_the_highest_unsacked_segment() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    sack_ack(&mut h, at(0), &[segs(1, 4)]);
    assert_eq!(sent(&mut h), [0]);
    let t = h.now;
    assert_eq!(timer(&h), Some((Timer::LossProbe, t + 2 * RTT)));
    h.advance(2 * RTT);
    let s = h.next();
    assert_eq!((index(&s), s.at), (9, t + 2 * RTT));
    h.expect_none();
    assert_eq!(h.ep.counters().loss_probes, 1);
    h.advance(RTT);
    ack(&mut h, at(10));
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Open);
}

/// While a segment marked lost still waits to be resent (PRR holds it),
/// recovery has its own work and no probe is armed: ten segments, 0 and
/// 1 lost, three duplicate ACKs SACK 2, 3 and 4 one by one. The third
/// starts recovery, and PRR's share of the one segment it delivered lets
/// only segment 0 go.
#[test]
fn lr_11_no_probe_in_recovery_while_lost_data_waits() {
    let mut h = sack_peer(newreno());
    write(&mut h, 0, 10, 10);
    h.advance(RTT);
    for k in 3..=5 {
        sack_ack(&mut h, at(0), &[segs(2, k)]);
    }
    assert_eq!(sent(&mut h), [0]);
    assert_eq!(h.info().unwrap().recovery, RecoveryState::Recovery);
    assert_eq!(timer(&h).map(|t| t.0), Some(Timer::Retransmit));
}
