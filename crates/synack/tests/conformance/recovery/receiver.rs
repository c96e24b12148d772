//! The receiver's SACK option (RFC 2018, RFC 2883): only for a peer that
//! permitted it (WF-15), blocks in the order and number RFC 2018 asks
//! (WF-16), an immediate ACK for every out-of-order segment (LR-06), and
//! D-SACK blocks for duplicates (LR-07).

use super::*;

/// The SACK blocks of an emitted ACK, relative to IRS.
fn blocks(h: &Harness, s: &Seg) -> Vec<(i64, i64)> {
    let irs = h.irs();
    s.options
        .sack
        .as_slice()
        .iter()
        .map(|&(l, r)| {
            (
                i64::from(l.wrapping_sub(irs)),
                i64::from(r.wrapping_sub(irs)),
            )
        })
        .collect()
}

/// The TCP option bytes of an emitted datagram, from its data offset.
fn option_bytes(s: &Seg) -> usize {
    let ip_len = usize::from(s.raw[0] & 0x0F) * 4;
    usize::from(s.raw[ip_len + 12] >> 4) * 4 - 20
}

/// WF-15 (RFC 2018 sections 2 and 4): a peer whose SYN (passive) or
/// SYN-ACK (active) has no SACK-Permitted never gets a SACK option. The
/// SYN-ACK does not offer it back; an out-of-order segment is answered by
/// a duplicate ACK without SACK blocks, and a duplicate segment by an ACK
/// without a D-SACK. (The active SYN does offer it: SACK is on by
/// default.) No segment but a SYN carries SACK-Permitted.
#[test]
fn wf_15_no_sack_option_unless_peer_permitted() {
    for active in [false, true] {
        let mut h = if active {
            let h = Harness::active_established(conf());
            assert!(h.log[0].has(SYN) && h.log[0].options.sack_permitted);
            h
        } else {
            established(conf(), false, false)
        };
        assert!(!h.info().unwrap().sack);
        h.inject(seg(ACK).seq(at(1)).ack(1).len(MSS));
        let a = h.expect(out(ACK).seq(1).ack(1).len(0));
        assert!(
            a.options.sack.is_empty(),
            "no SACK blocks: {}",
            describe(&a)
        );
        h.inject(seg(ACK).seq(at(0)).ack(1).len(MSS));
        h.expect(out(ACK).seq(1).ack(at(2)).len(0));
        h.inject(seg(ACK).seq(at(0)).ack(1).len(MSS));
        let d = h.expect(out(ACK).seq(1).ack(at(2)).len(0));
        assert!(d.options.sack.is_empty(), "no D-SACK: {}", describe(&d));
        h.expect_none();
        for s in &h.log {
            assert!(s.options.sack.is_empty(), "{}", describe(s));
            if !s.has(SYN) {
                assert!(!s.options.sack_permitted, "{}", describe(s));
            }
        }
        if !active {
            assert!(!h.log[0].options.sack_permitted, "SYN-ACK");
        }
    }
}

/// WF-16 (RFC 2018 sections 3 and 4): five holes. Each out-of-order
/// segment is answered by an ACK whose first block is the one holding
/// that segment, followed by the most recently reported blocks: at most
/// 4 blocks without timestamps and 3 beside them, within the 40 bytes of
/// option space. A segment that joins two blocks is reported as the
/// joined block, first; one that advances the cumulative ACK leaves the
/// remaining blocks, most recent first.
#[test]
fn wf_16_sack_block_order_and_count() {
    for ts in [false, true] {
        let mut h = established(conf(), true, ts);
        let max = if ts { 3 } else { 4 };
        // 100-byte blocks B0..B4 at 101, 301, 501, 701, 901, each after a
        // hole of 100 bytes.
        let b = |k: i64| (101 + 200 * k, 201 + 200 * k);
        let mut peer_ts = 200;
        let mut inject = |h: &mut Harness, seq: i64, len: usize| {
            let mut s = seg(ACK).seq(seq).ack(1).len(len);
            if ts {
                peer_ts += 1;
                s = s.ts(peer_ts, 0);
            }
            h.inject(s);
        };
        for k in 0..5 {
            inject(&mut h, b(k).0, 100);
            let a = h.expect(out(ACK).seq(1).ack(1).len(0));
            let want: Vec<(i64, i64)> = (0..=k).rev().take(max).map(b).collect();
            assert_eq!(blocks(&h, &a), want, "after B{k} (timestamps {ts})");
            assert!(option_bytes(&a) <= 40);
            assert_eq!(a.options.timestamps.is_some(), ts);
        }
        // [201, 301) joins B0 and B1.
        inject(&mut h, 201, 100);
        let a = h.expect(out(ACK).seq(1).ack(1).len(0));
        let want: Vec<(i64, i64)> = [(101, 401), b(4), b(3), b(2)]
            .into_iter()
            .take(max)
            .collect();
        assert_eq!(blocks(&h, &a), want, "joined (timestamps {ts})");
        assert_eq!(option_bytes(&a), if ts { 40 } else { 36 });
        // [1, 101) fills the first hole: ACK 401, the rest most recent first.
        inject(&mut h, 1, 100);
        let a = h.expect(out(ACK).seq(1).ack(401).len(0));
        assert_eq!(blocks(&h, &a), vec![b(4), b(3), b(2)]);
        h.expect_none();
    }
}

/// LR-06 (RFC 5681 4.2, RFC 9293 3.8.6.3 MAY-13) and WF-16: an
/// out-of-order segment is acknowledged at once (no delayed ACK), with
/// SACK blocks; so is one that fills a gap in part (the ACK moves, the
/// remaining block is still reported) or in whole (no SACK option any
/// more). Exactly one ACK per segment; the data reads back in order.
#[test]
fn lr_06_out_of_order_and_gap_filling_segments_acked_at_once() {
    let mut h = sack_peer(conf());
    let stream = bytes(5 * MSS);
    let part = |k: usize| &stream[k * MSS..(k + 1) * MSS];
    let send = |h: &mut Harness, k: usize| {
        h.inject(seg(ACK).seq(at(k)).ack(1).data(part(k)));
    };
    // (segment sent, ACK expected, SACK blocks expected)
    type Step = (usize, usize, Vec<(i64, i64)>);
    let steps: [Step; 5] = [
        (0, 1, vec![]),
        (2, 1, vec![segs(2, 3)]),
        (4, 1, vec![segs(4, 5), segs(2, 3)]),
        (1, 3, vec![segs(4, 5)]),
        (3, 5, vec![]),
    ];
    for (k, acked, want) in steps {
        let t = h.now;
        send(&mut h, k);
        let a = h.expect(out(ACK).seq(1).ack(at(acked)).len(0));
        assert_eq!(a.at, t, "at once");
        assert_eq!(blocks(&h, &a), want, "after segment {k}");
        h.expect_none();
    }
    assert_eq!(h.recv_all(), stream);
}

/// LR-07 (RFC 2883 4.1.2): a duplicate of a segment held out of order is
/// reported in the first SACK block, followed by the block that holds
/// it; once: the next ACK has only the ordinary blocks.
#[test]
fn lr_07_dsack_for_data_held_out_of_order() {
    let mut h = sack_peer(conf());
    let data = |h: &mut Harness, k: usize| {
        h.inject(seg(ACK).seq(at(k)).ack(1).len(MSS));
    };
    data(&mut h, 0);
    h.expect(out(ACK).ack(at(1)).len(0));
    data(&mut h, 3);
    let a = h.expect(out(ACK).ack(at(1)).len(0));
    assert_eq!(blocks(&h, &a), vec![segs(3, 4)]);
    data(&mut h, 3);
    let a = h.expect(out(ACK).ack(at(1)).len(0));
    assert_eq!(blocks(&h, &a), vec![segs(3, 4), segs(3, 4)], "D-SACK first");
    data(&mut h, 1);
    let a = h.expect(out(ACK).ack(at(2)).len(0));
    assert_eq!(blocks(&h, &a), vec![segs(3, 4)], "reported once");
    h.expect_none();
}

/// LR-07 (RFC 2883 4.1.1): a duplicate of data below RCV.NXT (what a
/// spurious retransmission delivers) is reported in a D-SACK block: a
/// whole segment again, alone in the option; a segment partly old,
/// partly new, with the ACK moving past it. Reported once: the next ACK
/// has no SACK option.
#[test]
fn lr_07_dsack_for_old_data() {
    let mut h = sack_peer(conf());
    let data = |h: &mut Harness, k: usize, n: usize| {
        h.inject(seg(ACK).seq(at(k)).ack(1).len(n * MSS));
    };
    data(&mut h, 0, 1);
    h.expect(out(ACK).ack(at(1)).len(0));
    data(&mut h, 0, 1);
    let a = h.expect(out(ACK).ack(at(1)).len(0));
    assert_eq!(blocks(&h, &a), vec![segs(0, 1)], "D-SACK of old data");
    data(&mut h, 1, 1);
    let a = h.expect(out(ACK).ack(at(2)).len(0));
    assert!(a.options.sack.is_empty(), "{}", describe(&a));
    // Segments 1 and 2 together: 1 is old.
    data(&mut h, 1, 2);
    let a = h.expect(out(ACK).ack(at(3)).len(0));
    assert_eq!(blocks(&h, &a), vec![segs(1, 2)], "D-SACK of the old part");
    data(&mut h, 3, 1);
    let a = h.expect(out(ACK).ack(at(4)).len(0));
    assert!(a.options.sack.is_empty());
    h.expect_none();
}

/// LR-07 (RFC 2883 4): a segment that repeats old data and brings the
/// FIN draws an ACK of the FIN with a D-SACK of the repeat; with
/// `Config::fin_clears_dsack` (Linux's way, the linux script profile) the
/// ACK carries none.
#[test]
fn lr_07_dsack_with_fin_and_fin_clears_dsack() {
    for clears in [false, true] {
        let mut cfg = conf();
        cfg.fin_clears_dsack = clears;
        let mut h = sack_peer(cfg);
        h.inject(seg(ACK).seq(at(0)).ack(1).len(MSS));
        h.expect(out(ACK).ack(at(1)).len(0));
        h.inject(seg(ACK | FIN).seq(at(0)).ack(1).len(MSS));
        let a = h.expect(out(ACK).ack(at(1) + 1).len(0));
        if clears {
            assert!(a.options.sack.is_empty(), "{}", describe(&a));
        } else {
            assert_eq!(
                blocks(&h, &a),
                vec![segs(0, 1)],
                "D-SACK with the FIN's ACK"
            );
        }
        h.expect_none();
    }
}

/// LR-07 (RFC 2883): the D-SACKs sent are counted as Linux counts them:
/// TCPDSACKOldSent for a duplicate below RCV.NXT, TCPDSACKOfoSent for a
/// duplicate of data held out of order.
#[test]
fn lr_07_dsacks_sent_are_counted() {
    let mut h = sack_peer(conf());
    for k in [0, 0, 2, 2] {
        h.inject(seg(ACK).seq(at(k)).ack(1).len(MSS));
    }
    assert_eq!(h.drain().len(), 4);
    assert_eq!(h.ep.counters().dsack_old_sent, 1);
    assert_eq!(h.ep.counters().dsack_ofo_sent, 1);
}

/// LR-07 (RFC 2883 4: each duplicate is reported): a burst of needless
/// retransmissions, processed together before anything is sent, draws
/// one ACK with a D-SACK per duplicate segment, not one for the burst:
/// the sender counts them to undo its reduction and widen its reordering
/// window (RFC 8985 6.2; Linux's TCPDSACKRecv).
#[test]
fn lr_07_every_duplicate_of_a_burst_is_reported() {
    let mut h = sack_peer(conf());
    for k in 0..3 {
        h.inject(seg(ACK).seq(at(k)).ack(1).len(MSS));
    }
    h.drain();
    let batch: Vec<Vec<u8>> = (0..3)
        .map(|k| h.build(&seg(ACK).seq(at(k)).ack(1).len(MSS)))
        .collect();
    for pkt in &batch {
        h.ep.handle_packet(h.now, pkt);
    }
    h.pump();
    let acks = h.drain();
    assert_eq!(acks.len(), 3, "one ACK per duplicate");
    for (k, a) in acks.iter().enumerate() {
        assert_eq!(
            blocks(&h, a),
            vec![segs(k, k + 1)],
            "D-SACK of duplicate {k}"
        );
    }
    assert_eq!(h.ep.counters().dsack_old_sent, 3);
}
