//! Timestamps on the receiving side (RFC 7323): PAWS (SA-10), which
//! segments move TS.Recent (SA-11), a segment without the option on a
//! connection that negotiated it (SA-12), and the 24-day rule (SA-13).
//! The peer's SYN carries TSval 1000; its later segments carry the TSvals
//! the scripts give.

use crate::harness::*;
use synack::{Config, DropReason, State};

/// A passive connection with timestamps, past quick-ACK mode is not
/// needed: every script here looks at ACKs sent at once.
fn ts_established(cfg: Config) -> Harness {
    let mut h = Harness::new(cfg);
    h.peer_syn_opts.timestamps = Some(Timestamps {
        tsval: 1000,
        tsecr: 0,
    });
    h.enter_syn_received();
    h.enter_established_passive();
    assert!(h.info().unwrap().timestamps);
    h
}

fn tsecr(s: &Seg) -> u32 {
    s.options
        .timestamps
        .expect("timestamps on every segment")
        .tsecr
}

fn dropped(h: &Harness, r: DropReason) -> u64 {
    h.ep.counters().dropped(r)
}

/// SA-10 (RFC 7323 5.3 R1): an in-window segment whose TSval is older
/// than TS.Recent is an old duplicate: answered with an ACK that does not
/// move, not delivered, counted. The next segment with a current TSval
/// is taken as usual.
#[test]
fn sa_10_paws_rejects_an_old_duplicate() {
    let mut h = ts_established(conf());
    h.inject(seg(ACK).seq(1).ack(1).ts(2000, 0).data(b"new"));
    h.expect(out(ACK).ack(4));
    let before = dropped(&h, DropReason::Paws);
    h.inject(seg(ACK).seq(4).ack(1).ts(1500, 0).data(b"old"));
    let a = h.expect(out(ACK).ack(4).len(0));
    assert_eq!(tsecr(&a), 2000, "TS.Recent unchanged");
    h.expect_none();
    assert_eq!(dropped(&h, DropReason::Paws), before + 1);
    assert_eq!(h.recv_all(), b"new");
    h.inject(seg(ACK).seq(4).ack(1).ts(2001, 0).data(b"yes"));
    h.expect(out(ACK).ack(7));
    assert_eq!(h.recv_all(), b"yes");
}

/// SA-10: a RST is not judged by its timestamp (RFC 7323 5.3, R1 applies
/// to non-RST segments only): an exact RST with an old TSval resets.
#[test]
fn sa_10_rst_with_an_old_timestamp_still_resets() {
    let mut h = ts_established(conf());
    h.inject(seg(ACK).seq(1).ack(1).ts(2000, 0).data(b"abc"));
    h.expect(out(ACK).ack(4));
    h.inject(seg(RST).seq(4).ts(1, 0));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
}

/// SA-11 (RFC 7323 4.3): TS.Recent moves only with a segment that starts
/// at or before the last ACK sent. An out-of-order segment with a newer
/// TSval does not move it (the duplicate ACK echoes the older one); the
/// segment that fills the gap does.
#[test]
fn sa_11_out_of_order_timestamps_do_not_move_ts_recent() {
    let mut h = ts_established(conf());
    h.inject(seg(ACK).seq(1).ack(1).ts(2000, 0).len(100));
    let a = h.expect(out(ACK).ack(101));
    assert_eq!(tsecr(&a), 2000);
    h.inject(seg(ACK).seq(201).ack(1).ts(2002, 0).len(100));
    let a = h.expect(out(ACK).ack(101));
    assert_eq!(tsecr(&a), 2000, "out of order: TSecr does not jump");
    h.inject(seg(ACK).seq(101).ack(1).ts(2001, 0).len(100));
    let a = h.expect(out(ACK).ack(301));
    assert_eq!(tsecr(&a), 2001, "the segment that filled the gap");
}

/// SA-11 with delayed ACKs: after quick-ACK mode, two segments arrive one
/// after the other and one ACK covers both; it echoes the TSval of the
/// first (the earliest unacknowledged, RFC 7323 4.3), since the second
/// starts past the last ACK sent.
#[test]
fn sa_11_delayed_ack_echoes_the_earliest_unacknowledged_segment() {
    let mut h = ts_established(conf());
    let mut seq = 1i64;
    for k in 0..16 {
        h.inject(seg(ACK).seq(seq).ack(1).ts(2000 + k, 0).len(1000));
        seq += 1000;
        h.expect(out(ACK).ack(seq));
    }
    h.inject(seg(ACK).seq(seq).ack(1).ts(3000, 0).len(1000));
    h.expect_none();
    h.inject(seg(ACK).seq(seq + 1000).ack(1).ts(3001, 0).len(1000));
    let a = h.expect(out(ACK).ack(seq + 2000));
    assert_eq!(tsecr(&a), 3000);
}

/// SA-12 (RFC 7323 3.2): on a connection that negotiated timestamps, a
/// segment without the option is dropped silently (no ACK, no data) and
/// the connection lives on; a RST without it is still taken.
#[test]
fn sa_12_missing_timestamp_dropped_silently() {
    let mut h = ts_established(conf());
    let before = dropped(&h, DropReason::MissingTimestamp);
    h.inject(seg(ACK | PSH).seq(1).ack(1).no_ts().data(b"bare"));
    h.expect_none();
    assert_eq!(dropped(&h, DropReason::MissingTimestamp), before + 1);
    assert_eq!(h.info().unwrap().recv_queue, 0);
    assert_eq!(h.state(), State::Established);
    h.inject(seg(ACK | PSH).seq(1).ack(1).data(b"with"));
    h.expect(out(ACK).ack(5));
    assert_eq!(h.recv_all(), b"with");
    h.inject(seg(RST).seq(5).no_ts());
    assert_eq!(h.state(), State::Closed);
}

/// SA-13 (RFC 7323 5.5): after 24 days without an update TS.Recent is
/// invalid, so a segment with a "smaller" TSval (the peer's clock may
/// have wrapped) is accepted, and its TSval becomes TS.Recent.
#[test]
fn sa_13_ts_recent_invalid_after_24_days_idle() {
    let mut h = ts_established(conf());
    h.inject(seg(ACK).seq(1).ack(1).ts(0x7000_0000, 0).data(b"a"));
    h.expect(out(ACK).ack(2));
    // Within 24 days the same TSval is still an old duplicate.
    h.advance(secs(23 * 24 * 3600));
    h.inject(seg(ACK).seq(2).ack(1).ts(5, 0).data(b"b"));
    h.expect(out(ACK).ack(2));
    assert_eq!(h.recv_all(), b"a");
    h.advance(secs(2 * 24 * 3600));
    h.inject(seg(ACK).seq(2).ack(1).ts(5, 0).data(b"b"));
    let a = h.expect(out(ACK).ack(3));
    assert_eq!(tsecr(&a), 5);
    assert_eq!(h.recv_all(), b"b");
}

/// Timestamps are on by default (the SYN-ACK answers the peer's).
#[test]
fn sa_11_timestamps_on_by_default() {
    assert!(Config::default().timestamps);
    let h = ts_established(conf());
    let syn_ack = h.log.iter().find(|s| s.flags == (SYN | ACK)).unwrap();
    assert_eq!(tsecr(syn_ack), 1000);
}

/// `Config::linux_ack_checks` (the linux script profile): a segment whose
/// ACK acknowledges data never sent is dropped without an answer, and its
/// newer TSval does not become TS.Recent, so the peer's next segment is
/// taken. Without the option: the RFC 5961 challenge ACK, echoing the new
/// TSval (RFC 7323 5.3 takes it before the ACK check), after which PAWS
/// rejects the peer's genuine next segment as old.
#[test]
fn sa_11_linux_ack_checks() {
    for linux in [false, true] {
        let mut cfg = Config::default();
        cfg.linux_ack_checks = linux;
        let mut h = ts_established(cfg);
        h.inject(seg(FIN | ACK).seq(1).ack(9999).ts(200_000, 0));
        if linux {
            h.expect_none();
        } else {
            let s = h.expect(out(ACK).seq(1).ack(1));
            assert_eq!(tsecr(&s), 200_000);
        }
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(100).ts(1001, 0));
        let s = h.expect(out(ACK).seq(1).ack(if linux { 101 } else { 1 }));
        assert_eq!(tsecr(&s), if linux { 1001 } else { 200_000 });
    }
}
