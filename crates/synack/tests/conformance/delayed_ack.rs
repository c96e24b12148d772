//! Delayed ACKs (RFC 9293 3.8.6.3, RFC 5681 4.2): TM-01 (at least every
//! second full-sized segment), TM-02 (the timer, always under 500 ms),
//! TM-03 (one ACK for a batch), and the cases acknowledged at once:
//! quick-ACK mode at the start, a filled hole, a FIN, per-connection
//! quick ACKs (API). Scripts run on a passive connection with the
//! default configuration (40 ms delay) unless they say otherwise.

use crate::harness::*;
use synack::{Config, Timer};
use synack_wire::Timestamps;

const MSS: usize = 1460;

/// A passive connection past quick-ACK mode: the first 16 data segments
/// (100 bytes each, the stream `bytes`) are each acknowledged at once.
/// Returns the harness and the next sequence number (relative).
fn past_quick_mode(cfg: Config) -> (Harness, i64) {
    let mut h = Harness::passive_established(cfg);
    let mut seq = 1i64;
    for _ in 0..16 {
        h.inject(seg(ACK).seq(seq).ack(1).len(100));
        seq += 100;
        h.expect(out(ACK).seq(1).ack(seq));
        h.expect_none();
    }
    (h, seq)
}

/// Segments handled one after the other with no transmit between them
/// (a driver's batch), then everything emitted.
fn inject_batch(h: &mut Harness, segs: &[In]) {
    for s in segs {
        let pkt = h.build(s);
        h.ep.handle_packet(h.now, &pkt);
    }
    h.pump();
}

fn timer(h: &Harness) -> Option<(Timer, synack::Instant)> {
    h.info().unwrap().timer
}

/// Quick-ACK mode (as Linux starts a connection): the first 16 data
/// segments are acknowledged at once, even lone small ones; the 17th
/// waits for the timer.
#[test]
fn tm_01_first_sixteen_segments_acknowledged_at_once() {
    let (mut h, seq) = past_quick_mode(conf());
    h.inject(seg(ACK).seq(seq).ack(1).len(100));
    h.expect_none();
    assert_eq!(timer(&h).map(|t| t.0), Some(Timer::DelayedAck));
}

/// TM-02 (MUST-40): a lone segment, nothing after it: no ACK before the
/// configured 40 ms, the ACK exactly then, and no timer left.
#[test]
fn tm_02_lone_segment_acknowledged_when_the_timer_fires() {
    let (mut h, seq) = past_quick_mode(conf());
    let t = h.now;
    h.inject(seg(ACK).seq(seq).ack(1).len(100));
    h.expect_none();
    assert_eq!(timer(&h), Some((Timer::DelayedAck, t + millis(40))));
    h.advance(millis(40) - core::time::Duration::from_micros(1));
    h.expect_none();
    h.advance(core::time::Duration::from_micros(1));
    let a = h.expect(out(ACK).seq(1).ack(seq + 100).len(0));
    assert_eq!(a.at, t + millis(40));
    h.expect_none();
    assert_eq!(timer(&h), None);
    assert_eq!(h.ep.counters().delayed_acks, 1, "DelayedACKs");
}

/// TM-02 (MUST-40): whatever is configured, the delay stays under
/// 500 ms: `delayed_ack` of 2 s acknowledges at 499 ms; 200 ms at 200 ms.
#[test]
fn tm_02_delay_is_always_under_half_a_second() {
    for (set, want) in [(secs(2), millis(499)), (millis(200), millis(200))] {
        let mut cfg = conf();
        cfg.delayed_ack = Some(set);
        let (mut h, seq) = past_quick_mode(cfg);
        let t = h.now;
        h.inject(seg(ACK).seq(seq).ack(1).len(100));
        h.expect_none();
        h.advance(secs(1));
        let a = h.expect(out(ACK).ack(seq + 100));
        assert_eq!(a.at, t + want, "delayed_ack {set:?}");
    }
}

/// TM-01 (SHLD-19): twenty full-sized segments, each handled on its own:
/// an ACK for every second one (ten ACKs), none for the odd ones, and no
/// timer left at the end.
#[test]
fn tm_01_every_second_full_sized_segment() {
    let (mut h, mut seq) = past_quick_mode(conf());
    let mut acks = 0;
    for k in 1..=20 {
        h.inject(seg(ACK).seq(seq).ack(1).len(MSS));
        seq += MSS as i64;
        if k % 2 == 0 {
            h.expect(out(ACK).seq(1).ack(seq).len(0));
            acks += 1;
        }
        h.expect_none();
    }
    assert_eq!(acks, 10);
    assert_eq!(timer(&h), None);
}

/// TM-01: "full-sized" is the largest payload the peer sends: with
/// timestamps its segments carry 1448 bytes, and every second one is
/// still acknowledged.
#[test]
fn tm_01_timestamp_sized_segments_count_as_full() {
    let mut h = Harness::new(conf());
    h.peer_syn_opts.timestamps = Some(Timestamps { tsval: 1, tsecr: 0 });
    h.enter_syn_received();
    h.enter_established_passive();
    assert!(h.info().unwrap().timestamps);
    let mut seq = 1i64;
    for k in 0..16 {
        h.inject(seg(ACK).seq(seq).ack(1).ts(2 + k, 0).len(1448));
        seq += 1448;
        h.expect(out(ACK).ack(seq));
    }
    for k in 1..=6 {
        h.inject(seg(ACK).seq(seq).ack(1).ts(20 + k, 0).len(1448));
        seq += 1448;
        if k % 2 == 0 {
            h.expect(out(ACK).ack(seq).len(0));
        }
        h.expect_none();
    }
}

/// TM-01: half-sized segments are acknowledged every 2·RMSS bytes, so
/// every fourth, once full-sized ones were seen.
#[test]
fn tm_01_small_segments_acknowledged_every_two_full_segments_of_bytes() {
    let (mut h, mut seq) = past_quick_mode(conf());
    h.inject(seg(ACK).seq(seq).ack(1).len(MSS));
    seq += MSS as i64;
    h.inject(seg(ACK).seq(seq).ack(1).len(MSS));
    seq += MSS as i64;
    h.expect(out(ACK).ack(seq));
    for k in 1..=8 {
        h.inject(seg(ACK).seq(seq).ack(1).len(MSS / 2));
        seq += (MSS / 2) as i64;
        if k % 4 == 0 {
            h.expect(out(ACK).ack(seq).len(0));
        }
        h.expect_none();
    }
}

/// TM-03 (MUST-58, MUST-59): ten segments handled in one batch draw one
/// ACK, for the highest sequence number, after all of them.
#[test]
fn tm_03_one_ack_for_a_batch() {
    let (mut h, seq) = past_quick_mode(conf());
    let batch: Vec<In> = (0..10)
        .map(|k| seg(ACK).seq(seq + (k * MSS) as i64).ack(1).len(MSS))
        .collect();
    inject_batch(&mut h, &batch);
    h.expect(out(ACK).seq(1).ack(seq + (10 * MSS) as i64).len(0));
    h.expect_none();
}

/// TM-03 with the stretch bound (`Config::max_ack_stretch`, 16): forty
/// segments in one batch draw ACKs at 16 and 32 segments and one for all
/// forty, in that order; with the bound at 2, one for every second.
#[test]
fn tm_03_a_long_batch_is_acknowledged_every_sixteen_segments() {
    for (stretch, want) in [
        (16usize, vec![16usize, 32, 40]),
        (2, (1..=20).map(|k| 2 * k).collect()),
    ] {
        let mut cfg = conf();
        cfg.max_ack_stretch = stretch as u16;
        let (mut h, seq) = past_quick_mode(cfg);
        let batch: Vec<In> = (0..40)
            .map(|k| seg(ACK).seq(seq + (k * MSS) as i64).ack(1).len(MSS))
            .collect();
        inject_batch(&mut h, &batch);
        let got: Vec<usize> = h
            .drain()
            .iter()
            .map(|s| {
                assert_eq!(s.flags, ACK);
                (s.rack as i64 - seq) as usize / MSS
            })
            .collect();
        assert_eq!(got, want, "max_ack_stretch {stretch}");
    }
}

/// RFC 5681 4.2: after quick-ACK mode, a segment that fills a hole is
/// acknowledged at once (the out-of-order one before it was too).
#[test]
fn tm_01_filled_hole_acknowledged_at_once() {
    let (mut h, seq) = past_quick_mode(conf());
    h.inject(seg(ACK).seq(seq + 100).ack(1).len(100));
    h.expect(out(ACK).ack(seq));
    h.inject(seg(ACK).seq(seq).ack(1).len(100));
    h.expect(out(ACK).ack(seq + 200).len(0));
    h.expect_none();
}

/// A FIN is acknowledged at once, after quick-ACK mode too: the peer's
/// close waits on it.
#[test]
fn tm_01_fin_acknowledged_at_once() {
    let (mut h, seq) = past_quick_mode(conf());
    h.inject(seg(ACK | FIN).seq(seq).ack(1).len(100));
    h.expect(out(ACK).ack(seq + 101).len(0));
    h.expect_none();
}

/// Data we send carries the ACK: a request answered within the delay
/// draws no ACK of its own, and the timer stops.
#[test]
fn tm_02_reply_carries_the_delayed_ack() {
    let (mut h, seq) = past_quick_mode(conf());
    h.inject(seg(ACK | PSH).seq(seq).ack(1).len(100));
    h.expect_none();
    h.advance(millis(10));
    h.send(b"reply").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(seq + 100).len(5));
    h.expect_none();
    assert_ne!(timer(&h).map(|t| t.0), Some(Timer::DelayedAck));
    h.advance(millis(100));
    h.expect_none();
}

/// API (TCP_QUICKACK, lasting): with quick ACKs on, every segment is
/// acknowledged at once; turning them on sends an ACK still owed; off
/// again, the delay returns.
#[test]
fn api_quick_ack_per_connection() {
    let (mut h, mut seq) = past_quick_mode(conf());
    let c = h.conn();
    h.inject(seg(ACK).seq(seq).ack(1).len(100));
    seq += 100;
    h.expect_none();
    assert!(!h.ep.quick_ack(c).unwrap());
    h.ep.set_quick_ack(c, true).unwrap();
    h.pump();
    h.expect(out(ACK).ack(seq).len(0));
    assert!(h.ep.quick_ack(c).unwrap());
    for _ in 0..3 {
        h.inject(seg(ACK).seq(seq).ack(1).len(100));
        seq += 100;
        h.expect(out(ACK).ack(seq).len(0));
    }
    h.ep.set_quick_ack(c, false).unwrap();
    h.inject(seg(ACK).seq(seq).ack(1).len(100));
    h.expect_none();
}

/// `Config::delayed_ack = None`: every segment acknowledged at once.
#[test]
fn tm_01_delayed_acks_off() {
    let mut cfg = conf();
    cfg.delayed_ack = None;
    let (mut h, mut seq) = past_quick_mode(cfg);
    for _ in 0..5 {
        h.inject(seg(ACK).seq(seq).ack(1).len(100));
        seq += 100;
        h.expect(out(ACK).ack(seq).len(0));
    }
}

/// `Config::delayed_fin_ack` (Linux's choice, the linux script profile):
/// a FIN alone after data waits for the delayed-ACK timer (40 ms); a FIN
/// that brings more than a full segment unacknowledged, or one before any
/// data, is acknowledged at once; with the option off (the default) every
/// FIN is acknowledged at once.
#[test]
fn tm_02_delayed_fin_ack_option() {
    for delayed in [false, true] {
        let mut cfg = conf();
        cfg.delayed_fin_ack = delayed;
        // Data first (acknowledged at once in quick-ACK mode), then a
        // lone FIN.
        let mut h = Harness::passive_established(cfg.clone());
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
        h.expect(out(ACK).seq(1).ack(1001));
        h.inject(seg(FIN | ACK).seq(1001).ack(1));
        if delayed {
            h.expect_none();
            h.advance(millis(39));
            h.expect_none();
            h.advance(millis(1));
        }
        h.expect(out(ACK).seq(1).ack(1002));
        h.expect_none();

        // A FIN with a full segment of data: at once either way.
        let mut h = Harness::passive_established(cfg.clone());
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(1000));
        h.expect(out(ACK).seq(1).ack(1001));
        h.inject(seg(FIN | ACK | PSH).seq(1001).ack(1).len(1000));
        h.expect(out(ACK).seq(1).ack(2002));

        // A FIN before any data: at once either way.
        let mut h = Harness::passive_established(cfg);
        h.inject(seg(FIN | ACK).seq(1).ack(1));
        h.expect(out(ACK).seq(1).ack(2));
    }
}

/// A super-segment from the local kernel (`handle_packet_coalesced`:
/// three segments of 1,000 bytes in one datagram) is taken whole and
/// counts as the segments it was built from: acknowledged at once (it is
/// more than two full-sized segments), `InSegs` grows by three, and
/// "full-sized" stays 1,000 bytes, so two later lone segments of 1,000
/// draw an ACK (TM-01, SHLD-19). Had it counted as one 3,000-byte
/// segment, they would wait for the timer.
#[test]
fn tm_01_a_coalesced_super_segment_counts_as_its_segments() {
    let (mut h, mut seq) = past_quick_mode(conf());
    let segs_before = h.ep.counters().in_segs;
    let pkt = h.build(&seg(ACK).seq(seq).ack(1).len(3000));
    h.ep.handle_packet_coalesced(h.now, &pkt, 1000);
    h.pump();
    seq += 3000;
    h.expect(out(ACK).seq(1).ack(seq).len(0));
    h.expect_none();
    assert_eq!(h.ep.counters().in_segs - segs_before, 3, "InSegs");
    h.inject(seg(ACK).seq(seq).ack(1).len(1000));
    seq += 1000;
    h.expect_none();
    h.inject(seg(ACK).seq(seq).ack(1).len(1000));
    seq += 1000;
    h.expect(out(ACK).seq(1).ack(seq).len(0));
    h.expect_none();
    assert_eq!(h.recv_all().len(), 16 * 100 + 5000, "all of it delivered");
}
