//! ICMP errors about our segments (checklist rows IP-01 .. IP-06; RFC 9293
//! 3.9.2.2, RFC 5927, RFC 1191).

use crate::harness::*;
use synack::{CloseReason, Event, IcmpError, IcmpErrorKind, SeqNum, SoftError, State};

fn error(h: &Harness, rel_seq: u32, kind: IcmpErrorKind) -> IcmpError {
    IcmpError {
        local: h.peer().engine,
        remote: h.peer().peer,
        seq: SeqNum(h.iss()).add(rel_seq),
        kind,
    }
}

/// Hands the error to the engine and collects what it emits.
fn icmp(h: &mut Harness, rel_seq: u32, kind: IcmpErrorKind) {
    let e = error(h, rel_seq, kind);
    let now = h.now;
    h.ep.handle_icmp_error(now, e);
    h.pump();
}

/// IP-01 (MUST-54, RFC 5927): an error is acted on only if the quoted
/// sequence number lies in [SND.UNA, SND.NXT).
#[test]
fn ip_01_icmp_outside_the_window_is_ignored() {
    let mut h = Harness::active_syn_sent(conf());
    icmp(&mut h, 5000, IcmpErrorKind::PortUnreachable);
    assert_eq!(h.state(), State::SynSent);
    icmp(&mut h, 0, IcmpErrorKind::PortUnreachable);
    assert_eq!(h.state(), State::Closed);
}

/// IP-04 (SHLD-26): port unreachable for our SYN fails the open at once,
/// as a refusal, long before the SYN timeout.
#[test]
fn ip_04_port_unreachable_refuses_an_open() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.take_events();
    icmp(&mut h, 0, IcmpErrorKind::PortUnreachable);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Refused,
    }]);
}

/// IP-03 (MUST-56, SHLD-25): soft errors never abort an established
/// connection; the application hears of them.
#[test]
fn ip_03_soft_errors_reported_not_fatal() {
    let mut h = Harness::active_established(conf());
    let c = h.conn();
    h.send(&bytes(100)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(100));
    h.take_events();
    for kind in [
        IcmpErrorKind::NetUnreachable,
        IcmpErrorKind::HostUnreachable,
        IcmpErrorKind::SourceRouteFailed,
        IcmpErrorKind::TimeExceeded,
        IcmpErrorKind::ParameterProblem,
        IcmpErrorKind::PortUnreachable,
    ] {
        icmp(&mut h, 1, kind);
        assert_eq!(h.state(), State::Established, "{kind:?}");
        assert!(
            h.take_events().contains(&Event::SoftError {
                conn: c,
                error: SoftError::Icmp(kind)
            }),
            "{kind:?}"
        );
    }
}

/// An open that times out after host-unreachable errors says so.
#[test]
fn ip_03_open_timing_out_after_host_unreachable_reports_it() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    icmp(&mut h, 0, IcmpErrorKind::HostUnreachable);
    assert_eq!(h.state(), State::SynSent);
    h.advance(secs(400));
    h.drain();
    assert!(h.saw(Event::Closed {
        conn: c,
        reason: CloseReason::HostUnreachable
    }));
}

/// IP-05 (RFC 1191): fragmentation needed with MTU 1400 lowers the payload
/// to 1360 bytes and resends what was in flight at the new size.
#[test]
fn ip_05_fragmentation_needed_lowers_the_mss() {
    let mut h = Harness::active_established(conf());
    h.set_nodelay();
    h.send(&bytes(1460)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(1460));
    icmp(&mut h, 1, IcmpErrorKind::FragmentationNeeded { mtu: 1400 });
    assert_eq!(h.info().unwrap().mss, 1360);
    h.expect(out(ACK).seq(1).ack(1).len(1360));
}

/// IP-06 (RFC 8201): an ICMPv6 packet-too-big lowers the MSS to what the
/// reported MTU carries (MTU - 60), resends at the new size, and never
/// goes below the IPv6 minimum MTU of 1280 however small the report.
#[test]
fn ip_06_packet_too_big_lowers_the_mss_not_below_1280() {
    let mut h = Harness::new_v6(conf());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1440));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    h.set_nodelay();
    h.send(&bytes(1440)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(1440));
    icmp(&mut h, 1, IcmpErrorKind::PacketTooBig { mtu: 1400 });
    assert_eq!(h.info().unwrap().mss, 1340);
    h.expect(out(ACK).seq(1).ack(1).len(1340));
    h.expect(out(ACK | PSH).seq(1341).ack(1).len(100));
    h.expect_none();
    // A report below the minimum is taken as 1280 (RFC 8200 5).
    icmp(&mut h, 1, IcmpErrorKind::PacketTooBig { mtu: 600 });
    assert_eq!(h.info().unwrap().mss, 1220);
    let a = h.expect(out(ACK).seq(1).ack(1).len(1220));
    let b = h.expect(out(ACK | PSH).seq(1221).ack(1).len(220));
    h.expect_none();
    assert_eq!(a.raw.len(), 1280, "a full segment fills the minimum MTU");
    assert!(b.raw.len() < 1280);
}

/// IP-07 (RFC 4821 7.2, RFC 2923 2.1): a black hole. A full-sized
/// segment times out three times in a row (R1, `soft_retransmits`) and no
/// ICMP error ever comes: the path MTU falls to 1,064 bytes, so the third
/// retransmission carries 1,024 bytes and the rest follows; the path
/// takes it and the transfer goes on at the new size. Counted as
/// TCPMTUBlackholes. With detection off the segment keeps its size.
#[test]
fn ip_07_black_hole_falls_back_to_a_smaller_mss() {
    for detect in [true, false] {
        let mut cfg = conf();
        cfg.pmtu_blackhole_detection = detect;
        let mut h = Harness::active_established(cfg);
        h.set_nodelay();
        h.send(&bytes(1460)).unwrap();
        h.expect(out(ACK | PSH).seq(1).ack(1).len(1460));
        // Timeouts at 1, 3 and 7 s (RTO 1 s doubling): the first two resend
        // the whole segment.
        for _ in 0..2 {
            let (_, at) = h.info().unwrap().timer.unwrap();
            h.advance_to(at);
            let r = h.next();
            assert_eq!((r.rseq, r.payload.len()), (1, 1460));
        }
        let (_, at) = h.info().unwrap().timer.unwrap();
        h.advance_to(at);
        if detect {
            assert_eq!(h.info().unwrap().mss, 1024);
            let r = h.next();
            assert_eq!((r.rseq, r.payload.len()), (1, 1024));
            assert_eq!(h.ep.counters().pmtu_blackholes, 1);
            // The small segment gets through; the rest follows at 1,024.
            h.inject(seg(ACK).seq(1).ack(1025));
            let r = h.next();
            assert_eq!((r.rseq, r.payload.len()), (1025, 436));
        } else {
            assert_eq!(h.info().unwrap().mss, 1460);
            let r = h.next();
            assert_eq!((r.rseq, r.payload.len()), (1, 1460));
            assert_eq!(h.ep.counters().pmtu_blackholes, 0);
        }
    }
}

/// API-07 (MUST-47, SHLD-20): asynchronous error reports can be turned
/// off per connection. With them off, a net-unreachable error and three
/// timeouts (R1) raise no `SoftError`, and the connection lives on; on
/// again, the next error is reported.
#[test]
fn api_07_error_reports_can_be_turned_off() {
    let mut h = Harness::active_established(conf());
    let c = h.conn();
    h.ep.set_error_reports(c, false).unwrap();
    h.send(&bytes(100)).unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(100));
    h.take_events();
    icmp(&mut h, 1, IcmpErrorKind::NetUnreachable);
    for _ in 0..3 {
        let (_, at) = h.info().unwrap().timer.unwrap();
        h.advance_to(at);
    }
    assert!(
        !h.take_events()
            .iter()
            .any(|e| matches!(e, Event::SoftError { .. })),
        "no report while reports are off"
    );
    assert_eq!(h.state(), State::Established);
    h.ep.set_error_reports(c, true).unwrap();
    icmp(&mut h, 1, IcmpErrorKind::HostUnreachable);
    assert!(h.take_events().contains(&Event::SoftError {
        conn: c,
        error: SoftError::Icmp(IcmpErrorKind::HostUnreachable)
    }));
}

/// IP-09 (RFC 9293 3.7.5, RFC 2675): a peer MSS of 65,535 means "as large
/// as the path allows": on a 9,000-byte jumbo link, segments are sized by
/// the MTU (8,960 bytes of payload over IPv4), never past it.
#[test]
fn ip_09_mss_65535_is_bounded_by_the_mtu() {
    let mut cfg = conf();
    cfg.mtu = 9000;
    let mut h = Harness::new(cfg);
    h.listen();
    h.inject(seg(SYN).seq(0).mss(65535));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.take_events();
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().mss, 8960);
    h.send(&bytes(20_000)).unwrap();
    let s = h.next();
    assert_eq!(s.payload.len(), 8960);
    assert!(s.raw.len() <= 9000);
}
