//! Urgent data (DT-12; RFC 9293 3.8.5, MUST-30 to MUST-33, MUST-62,
//! MUST-66; RFC 6093): sent with `send_urgent`, kept in the stream, the
//! pointer marking the octet after it; received, tracked as RCV.UP, told
//! to the application once per run and again when the pointer advances,
//! and measured by `urgent_pending`.

use crate::harness::*;
use synack::{Event, State};

/// DT-12, MUST-62: three urgent octets go in one segment with URG and an
/// urgent pointer of 3 (the octet after them); once they are
/// acknowledged, the next data carries no URG.
#[test]
fn dt_12_send_urgent_sets_urg_and_the_pointer_after_the_data() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    assert_eq!(h.ep.send_urgent(c, b"abc"), Ok(3));
    h.pump();
    let s = h.expect(out(ACK | PSH | URG).seq(1).len(3));
    assert_eq!(s.urgent, 3);
    assert_eq!(s.payload, b"abc");
    h.inject(seg(ACK).seq(1).ack(4));
    h.send(b"more").unwrap();
    let s = h.expect(out(ACK | PSH).seq(4).len(4));
    assert!(!s.has(URG));
}

/// DT-12, MUST-31 (any length): 3,000 urgent octets span three
/// segments; each carries URG with the offset from its own sequence
/// number to the octet after the urgent data.
#[test]
fn dt_12_long_urgent_data_points_from_every_segment() {
    let mut h = Harness::passive_established(conf());
    h.set_nodelay();
    let c = h.conn();
    assert_eq!(h.ep.send_urgent(c, &bytes(3000)), Ok(3000));
    h.pump();
    let segs = h.drain();
    assert_eq!(segs.len(), 3);
    let mut seq = 1u32;
    for s in &segs {
        assert!(s.has(URG), "{}", describe(s));
        assert_eq!(s.rseq, seq);
        assert_eq!(u32::from(s.urgent), 3001 - seq);
        seq += s.payload.len() as u32;
    }
    assert_eq!(seq, 3001);
}

/// DT-12 on receipt, MUST-32, MUST-33: a segment with URG and pointer 3
/// raises one `Urgent` event; `urgent_pending` says 3 octets of what is
/// left to read are urgent; the data is read inline, in order, and after
/// the reads pass the pointer nothing is pending. A segment repeating
/// the same pointer raises nothing; one that advances it raises again.
#[test]
fn dt_12_receiver_tracks_rcv_up_and_tells_once_per_run() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.take_events();
    h.inject(seg(ACK | URG).seq(1).ack(1).urgent(3).data(b"abcde"));
    h.expect(out(ACK).ack(6));
    let urgent = |h: &mut Harness| {
        h.take_events()
            .into_iter()
            .filter(|e| matches!(e, Event::Urgent { .. }))
            .count()
    };
    assert_eq!(urgent(&mut h), 1);
    assert_eq!(h.ep.urgent_pending(c), Ok(Some(3)));
    // The same pointer again, from a segment that overlaps what we have
    // and brings two new octets: nothing new to tell.
    h.inject(seg(ACK | URG).seq(3).ack(1).urgent(1).data(b"cdefg"));
    h.expect(out(ACK).ack(8));
    assert_eq!(urgent(&mut h), 0);
    let mut b = [0u8; 2];
    assert_eq!(h.recv(&mut b), Ok(2));
    assert_eq!(&b, b"ab");
    assert_eq!(h.ep.urgent_pending(c), Ok(Some(1)));
    assert_eq!(h.recv(&mut b), Ok(2));
    assert_eq!(&b, b"cd");
    assert_eq!(h.ep.urgent_pending(c), Ok(None));
    // The pointer advances: told again.
    h.inject(seg(ACK | URG).seq(8).ack(1).urgent(2).data(b"hi"));
    h.expect(out(ACK).ack(10));
    assert_eq!(urgent(&mut h), 1);
    assert_eq!(h.ep.urgent_pending(c), Ok(Some(5)));
    assert_eq!(h.recv_all(), b"efghi");
}

/// MUST-33 with the pointer ahead of the data: an ACK with URG whose
/// pointer lies past RCV.NXT announces urgent data that has not arrived;
/// `urgent_pending` counts to the pointer.
#[test]
fn dt_12_pointer_ahead_of_the_data() {
    let mut h = Harness::passive_established(conf());
    let c = h.conn();
    h.take_events();
    h.inject(seg(ACK | URG).seq(1).ack(1).urgent(100));
    assert!(h.take_events().contains(&Event::Urgent { conn: c }));
    assert_eq!(h.ep.urgent_pending(c), Ok(Some(100)));
}

/// MUST-66: with the receive window closed, the URG field is still
/// processed: a full buffer, then a segment at RCV.NXT with URG.
#[test]
fn dt_12_urgent_processed_at_a_zero_window() {
    let mut h = Harness::new(small_window(1000));
    h.enter_syn_received();
    h.enter_established_passive();
    let c = h.conn();
    h.inject(seg(ACK).seq(1).ack(1).len(1000));
    h.expect(out(ACK).ack(1001).win(0));
    h.take_events();
    h.inject(seg(ACK | URG).seq(1001).ack(1).urgent(5).len(10));
    h.expect(out(ACK).ack(1001).win(0));
    assert!(h.take_events().contains(&Event::Urgent { conn: c }));
    assert_eq!(h.ep.urgent_pending(c), Ok(Some(1005)));
}

/// SM-13: after the peer's FIN (CLOSE-WAIT) URG is ignored.
#[test]
fn dt_12_urgent_ignored_after_fin() {
    let mut h = Harness::close_wait(conf());
    assert_eq!(h.state(), State::CloseWait);
    let c = h.conn();
    h.take_events();
    h.inject(seg(ACK | URG).seq(2).ack(1).urgent(5));
    assert!(!h.take_events().contains(&Event::Urgent { conn: c }));
    assert_eq!(h.ep.urgent_pending(c), Ok(None));
}
