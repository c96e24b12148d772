//! Connection establishment (RFC-CHECKLIST.md section 3.B, rows CE-*).

use crate::harness::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack::{CloseReason, DropReason, Error, Event, OpenKind, Secret, SeqNum, State};

/// CE-01: active OPEN sends one `<SEQ=ISS><CTL=SYN>` carrying the
/// configured options, with SND.UNA = ISS and SND.NXT = ISS+1 in SYN-SENT.
#[test]
fn ce_01_active_open_sends_syn_with_configured_options() {
    let mut h = Harness::new(conf());
    h.active_layout();
    h.connect().unwrap();
    // The window of a SYN is never scaled (RFC 7323 2.2).
    let s = h.expect(out(SYN).seq(0).abs_ack(0).win(65535).len(0));
    h.expect_none();
    assert_eq!(s.options.mss, Some(1460));
    assert_eq!(s.options.window_scale, Some(h.cfg.window_shift()));
    let ts = s.options.timestamps.expect("timestamps offered");
    assert_eq!(ts.tsecr, 0, "TSecr is zero when ACK is off (RFC 7323 3.2)");
    assert!(s.options.sack_permitted, "SACK is on in the default config");
    let i = h.info().unwrap();
    assert_eq!(i.state, State::SynSent);
    assert_eq!(i.iss, SeqNum(h.iss()));
    assert_eq!(i.snd_una, SeqNum(h.iss()));
    assert_eq!(i.snd_nxt, SeqNum(h.iss()).add(1));
    assert_eq!(i.how, OpenKind::Active);
    assert_eq!(h.ep.counters().active_opens, 1);

    // With the extensions configured the other way round.
    let mut cfg = conf();
    cfg.timestamps = false;
    cfg.window_scaling = false;
    cfg.sack = true;
    let mut h = Harness::new(cfg);
    h.active_layout();
    h.connect().unwrap();
    let s = h.expect(out(SYN).seq(0));
    assert_eq!(s.options.mss, Some(1460));
    assert_eq!(s.options.window_scale, None);
    assert_eq!(s.options.timestamps, None);
    assert!(s.options.sack_permitted);
}

/// RFC 6528's ISN, computed here with the `siphasher` crate and nothing of
/// the engine's: M = the 4 µs clock, F = SipHash-2-4 over the two sockets
/// (family tag, address, port in network order), keyed by the subkey the
/// engine documents (SipHash-2-4-128 of the secret over the label
/// "synack isn rfc6528"); the ISN is M + the low 32 bits of F.
fn rfc6528_isn(
    secret: [u8; 16],
    now: synack::Instant,
    local: SocketAddr,
    remote: SocketAddr,
) -> u32 {
    use siphasher::sip::SipHasher24;
    use siphasher::sip128::{Hasher128, SipHasher24 as SipHasher24x128};
    use std::hash::Hasher;
    let k = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
    let mut d = SipHasher24x128::new_with_keys(k(&secret[..8]), k(&secret[8..]));
    d.write(b"synack isn rfc6528");
    let (k0, k1) = d.finish128().as_u64();
    let mut f = SipHasher24::new_with_keys(k0, k1);
    for s in [local, remote] {
        match s.ip() {
            IpAddr::V4(a) => {
                f.write(&[4]);
                f.write(&a.octets());
            }
            IpAddr::V6(a) => {
                f.write(&[6]);
                f.write(&a.octets());
            }
        }
        f.write(&s.port().to_be_bytes());
    }
    let m = (now.micros() / 4) as u32;
    m.wrapping_add(f.finish() as u32)
}

/// CE-02: ISN = M + F(4-tuple, secret), M a 4 µs clock, checked against an
/// independent computation of RFC 6528's formula: the same 4-tuple Δt
/// later starts Δt/4 further on; another 4-tuple or another secret gives
/// an unrelated ISN.
#[test]
fn ce_02_isn_is_4us_clock_plus_keyed_hash() {
    let mut h = Harness::new(conf());
    h.active_layout();
    let (local, remote) = (h.peer().engine, h.peer().peer);
    h.connect().unwrap();
    let first = h.expect(out(SYN)).seq;
    assert_eq!(first, rfc6528_isn(SECRET, h.now, local, remote));
    // ABORT in SYN-SENT sends nothing and frees the 4-tuple.
    h.abort();
    h.expect_none();

    let dt_us = 7_654_320u64;
    h.advance(core::time::Duration::from_micros(dt_us));
    h.reincarnate(IRS);
    h.connect().unwrap();
    let second = h.expect(out(SYN)).seq;
    assert_eq!(second.wrapping_sub(first), (dt_us / 4) as u32);

    // Another remote port: the offset F differs, so the ISN is not the
    // clock-predicted continuation of the first.
    let other = SocketAddr::new(remote.ip(), 81);
    h.add_peer(local, other, IRS);
    h.connect().unwrap();
    let third = h.expect(out(SYN)).seq;
    assert_eq!(third, rfc6528_isn(SECRET, h.now, local, other));
    assert_ne!(third, second, "F depends on the 4-tuple");

    // Another secret: another ISN for the same 4-tuple and time, from the
    // engine itself.
    let mut cfg_h = Harness::new(conf());
    cfg_h.ep = synack::Endpoint::new(conf(), Secret::from_bytes([0x42; 16]), cfg_h.now);
    cfg_h.active_layout();
    cfg_h.connect().unwrap();
    let keyed = cfg_h.expect(out(SYN)).seq;
    assert_eq!(keyed, rfc6528_isn([0x42; 16], cfg_h.now, local, remote));
    assert_ne!(keyed, rfc6528_isn(SECRET, cfg_h.now, local, remote));

    // IPv6 sockets hash the same way.
    let mut h6 = Harness::new_v6(conf());
    h6.active_layout();
    let (l6, r6) = (h6.peer().engine, h6.peer().peer);
    h6.connect().unwrap();
    assert_eq!(h6.expect(out(SYN)).seq, rfc6528_isn(SECRET, h6.now, l6, r6));
}

/// CE-03: LISTEN + SYN ⇒ `<SEQ=ISS><ACK=SEG.SEQ+1><CTL=SYN,ACK>` and a
/// half-open child in SYN-RECEIVED.
#[test]
fn ce_03_listen_syn_gets_syn_ack() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).win(30000));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1).win(65535).len(0));
    h.expect_none();
    assert_eq!(s.options.mss, Some(1460));
    // The SYN offered no window scaling, timestamps or SACK: the SYN-ACK
    // offers none either.
    assert_eq!(s.options.window_scale, None);
    assert_eq!(s.options.timestamps, None);
    assert!(!s.options.sack_permitted);
    assert_eq!(h.ep.syn_queue_len(l), Some(1));
    assert_eq!(h.ep.counters().passive_opens, 1);
    assert!(h.take_events().is_empty(), "a half-open child is invisible");
}

/// CE-03: a RST to a listener is ignored.
#[test]
fn ce_03_listen_rst_ignored() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(RST).seq(0));
    h.inject(seg(RST | ACK).seq(0).abs_ack(12345));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.ep.counters().dropped(DropReason::RstIgnored), 2);
}

/// CE-03: any ACK-bearing segment to a listener ⇒ `<SEQ=SEG.ACK><CTL=RST>`.
#[test]
fn ce_03_listen_ack_gets_rst() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(ACK).seq(0).abs_ack(0xDEAD_BEEF));
    h.expect(out(RST).abs_seq(0xDEAD_BEEF).abs_ack(0).win(0));
    h.inject(seg(ACK | PSH).seq(0).abs_ack(7).len(10));
    h.expect(out(RST).abs_seq(7).abs_ack(0));
    h.inject(seg(FIN | ACK).seq(0).abs_ack(u32::MAX));
    h.expect(out(RST).abs_seq(u32::MAX).abs_ack(0));
    // A SYN-ACK is ACK-bearing too.
    h.inject(seg(SYN | ACK).seq(0).abs_ack(99));
    h.expect(out(RST).abs_seq(99).abs_ack(0));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
}

/// CE-03: anything else (no SYN, no ACK, no RST) at a listener is dropped.
#[test]
fn ce_03_listen_other_segments_dropped() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    h.inject(seg(NONE).seq(0).len(10));
    h.inject(seg(FIN).seq(0));
    h.inject(seg(PSH).seq(0).len(1));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    assert_eq!(h.ep.counters().dropped(DropReason::ListenUnexpected), 3);
}

/// CE-04: in SYN-SENT an ACK with SEG.ACK =< ISS or > SND.NXT gets
/// `<SEQ=SEG.ACK><CTL=RST>` and changes nothing; with RST set it is just
/// dropped; ACK = ISS+1 is acceptable.
#[test]
fn ce_04_syn_sent_bad_ack_gets_rst() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN | ACK).seq(0).ack(0).mss(1460));
    h.expect(out(RST).seq(0).abs_ack(0));
    h.inject(seg(SYN | ACK).seq(0).ack(2).mss(1460));
    h.expect(out(RST).seq(2).abs_ack(0));
    h.inject(seg(SYN | ACK).seq(0).ack(-1000).mss(1460));
    h.expect(out(RST).seq(-1000));
    h.inject(seg(ACK).seq(0).ack(5));
    h.expect(out(RST).seq(5));
    // Unacceptable ACK with RST: drop, no RST in reply.
    h.inject(seg(RST | ACK).seq(0).ack(2));
    h.expect_none();
    assert_eq!(h.state(), State::SynSent);
    assert_eq!(h.info().unwrap().snd_una, SeqNum(h.iss()));
    assert!(h.take_events().is_empty());

    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.state(), State::Established);
}

/// CE-05: a RST with an acceptable ACK in SYN-SENT refuses the connection.
#[test]
fn ce_05_syn_sent_rst_with_acceptable_ack_refuses() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.inject(seg(RST | ACK).seq(0).ack(1));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Refused,
    }]);
    assert_eq!(Error::ConnectionRefused.to_string(), "connection refused");
    assert_eq!(h.ep.counters().attempt_fails, 1);
    h.advance(secs(10));
    h.expect_none();
    assert_eq!(h.ep.send(c, b"x"), Err(Error::NotConnected));
}

/// CE-05: a RST without ACK in SYN-SENT is dropped; the SYN is still
/// retransmitted at the RTO.
#[test]
fn ce_05_syn_sent_bare_rst_ignored() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(RST).seq(0));
    h.expect_none();
    assert_eq!(h.state(), State::SynSent);
    assert!(h.take_events().is_empty());
    h.advance(secs(1));
    let s = h.expect(out(SYN).seq(0));
    assert_eq!(s.at, START + secs(1));
}

/// CE-06: a SYN-ACK carrying 100 bytes: IRS = SEG.SEQ, SND.UNA = SEG.ACK,
/// SND.WND = SEG.WND (unscaled), ESTABLISHED, one ACK of IRS+101, and the
/// data delivered.
#[test]
fn ce_06_syn_ack_with_data_establishes_and_delivers() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.inject(seg(SYN | ACK).seq(0).ack(1).win(5000).mss(1460).len(100));
    h.expect(out(ACK).seq(1).ack(101));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.state, State::Established);
    assert_eq!(i.irs, SeqNum(IRS));
    assert_eq!(i.rcv_nxt, SeqNum(IRS).add(101));
    assert_eq!(i.snd_una, SeqNum(h.iss()).add(1));
    assert_eq!(i.snd_wnd, 5000);
    h.expect_events(&[
        Event::Connected {
            conn: c,
            how: OpenKind::Active,
        },
        Event::Readable { conn: c },
    ]);
    assert_eq!(h.recv_all(), bytes(100));
}

/// CE-06: a SYN-ACK carrying a FIN: ESTABLISHED then CLOSE-WAIT at once,
/// with RCV.NXT past the FIN.
#[test]
fn ce_06_syn_ack_with_fin() {
    let mut h = Harness::active_syn_sent(conf());
    h.inject(seg(SYN | ACK | FIN).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(2));
    h.expect_none();
    assert_eq!(h.state(), State::CloseWait);
    assert!(h.ep.is_eof(h.conn()));
}

/// CE-07 (MUST-10): crossing SYNs. A bare SYN in SYN-SENT ⇒ SYN-RECEIVED
/// and `<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>` with the same ISS; the peer's
/// SYN-ACK then completes the open (RFC 9293 figure 7, line 6).
#[test]
fn ce_07_simultaneous_open_crossing_syns() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.inject(seg(SYN).seq(0).mss(1460).win(20000));
    h.expect(out(SYN | ACK).seq(0).ack(1).win(65535));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.state, State::SynReceived);
    assert_eq!(i.how, OpenKind::Simultaneous);
    assert_eq!(i.irs, SeqNum(IRS));
    assert!(h.take_events().is_empty());

    // Figure 7 line 6: <SEQ=IRS><ACK=ISS+1><CTL=SYN,ACK>.
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460).win(20000));
    h.expect_none();
    let i = h.info().unwrap();
    assert_eq!(i.state, State::Established);
    assert_eq!(i.snd_una, SeqNum(h.iss()).add(1));
    assert_eq!(i.rcv_nxt, SeqNum(IRS).add(1));
    assert_eq!(i.snd_wnd, 20000);
    h.expect_events(&[Event::Connected {
        conn: c,
        how: OpenKind::Simultaneous,
    }]);
    // And data flows.
    h.send(b"hello").unwrap();
    h.expect(out(ACK | PSH).seq(1).ack(1).len(5));
}

/// CE-08: SYN-RECEIVED: an unacceptable third ACK gets
/// `<SEQ=SEG.ACK><CTL=RST>` and leaves the child half-open; ACK = ISS+1
/// establishes it and `accept` returns it.
#[test]
fn ce_08_syn_received_ack_checks() {
    let mut h = Harness::passive_syn_received(conf());
    let l = h.listener.unwrap();
    h.inject(seg(ACK).seq(1).ack(0));
    h.expect(out(RST).seq(0).abs_ack(0));
    h.inject(seg(ACK).seq(1).ack(2));
    h.expect(out(RST).seq(2).abs_ack(0));
    h.expect_none();
    assert_eq!(h.ep.syn_queue_len(l), Some(1));
    assert_eq!(h.ep.accept_queue_len(l), Some(0));
    assert!(h.accept().is_none());

    h.inject(seg(ACK).seq(1).ack(1).win(12345));
    h.expect_none();
    h.expect_events(&[Event::Accepted { listener: l }]);
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    h.accept().expect("accept returns the connection");
    let i = h.info().unwrap();
    assert_eq!(i.state, State::Established);
    assert_eq!(i.how, OpenKind::Passive);
    assert_eq!(i.snd_wnd, 12345);
    assert_eq!(i.snd_una, SeqNum(h.iss()).add(1));
}

/// CE-09 (MUST-11): a RST in a passively opened SYN-RECEIVED returns to
/// LISTEN silently: the child goes, nothing is retransmitted, the listener
/// still accepts.
#[test]
fn ce_09_passive_syn_received_rst_returns_to_listen() {
    let mut h = Harness::passive_syn_received(conf());
    let l = h.listener.unwrap();
    h.inject(seg(RST).seq(1));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    assert!(h.take_events().is_empty(), "the user need not be informed");
    h.advance(secs(30));
    h.expect_none();

    h.reincarnate(IRS + 5000);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_events(&[Event::Accepted { listener: l }]);
}

/// CE-09: a new SYN in a passively opened SYN-RECEIVED also returns it to
/// LISTEN (RFC 9293 3.10.7.4, fourth step). (A retransmission of the
/// original SYN instead gets the SYN-ACK again.)
#[test]
fn ce_09_passive_syn_received_syn_returns_to_listen() {
    let mut h = Harness::passive_syn_received(conf());
    let l = h.listener.unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(SYN).seq(10).mss(1460));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    assert!(h.take_events().is_empty());
    h.advance(secs(30));
    h.expect_none();
}

/// CE-09: a RST in SYN-RECEIVED reached by an active OPEN (crossing SYNs)
/// is "connection refused".
#[test]
fn ce_09_simultaneous_syn_received_rst_refuses() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(RST).seq(1));
    h.expect_none();
    assert_eq!(h.state(), State::Closed);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::Refused,
    }]);
    h.advance(secs(30));
    h.expect_none();
}

/// CE-10: data on a SYN is kept, acknowledged, and delivered exactly once
/// after ESTABLISHED. The engine acknowledges it in the SYN-ACK
/// (ACK = IRS+101; RFC 9293 allows either IRS+1 or IRS+101).
#[test]
fn ce_10_data_on_syn_delivered_once_after_established() {
    let mut h = Harness::new(conf());
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).len(100));
    h.expect(out(SYN | ACK).seq(0).ack(101));
    h.expect_none();
    assert!(
        h.take_events().is_empty(),
        "nothing delivered before ESTABLISHED"
    );
    h.inject(seg(ACK).seq(101).ack(1));
    h.expect_none();
    h.expect_events(&[Event::Accepted { listener: l }]);
    let c = h.accept().unwrap();
    h.expect_events(&[Event::Readable { conn: c }]);
    assert_eq!(h.recv_all(), bytes(100));
    let mut buf = [0u8; 10];
    assert_eq!(h.recv(&mut buf), Err(Error::WouldBlock));
}

/// CE-11 (MUST-22, MUST-23): SYNs at t = 0, 1, 3, 7, 15, 31, 63 s (RTO 1 s,
/// doubled each time), and connect gives up no earlier than 3 minutes, with
/// `TimedOut`.
#[test]
fn ce_11_syn_retransmission_backoff_and_r2_of_3_minutes() {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.advance_to(START + secs(180));
    assert_eq!(h.state(), State::SynSent, "R2 for a SYN is at least 3 min");
    let times: Vec<u64> = h
        .drain()
        .iter()
        .map(|s| {
            assert_eq!(s.flags, SYN);
            assert_eq!(s.rseq, 0, "the same ISS every time");
            s.at.saturating_since(START).as_secs()
        })
        .collect();
    assert_eq!(times, [1, 3, 7, 15, 31, 63, 127]);
    assert!(h.take_events().is_empty());
    h.advance(secs(3600));
    assert_eq!(h.state(), State::Closed);
    h.expect_events(&[Event::Closed {
        conn: c,
        reason: CloseReason::TimedOut,
    }]);
    assert_eq!(h.ep.counters().attempt_fails, 1);
}

/// CE-11: the passive side retransmits its SYN-ACK with the same backoff
/// when the third ACK is lost, and the handshake still completes.
#[test]
fn ce_11_syn_ack_retransmitted_with_backoff() {
    let mut h = Harness::passive_syn_received(conf());
    h.advance(secs(8));
    let times: Vec<u64> = h
        .drain()
        .iter()
        .map(|s| {
            assert_eq!((s.flags, s.rseq, s.rack), (SYN | ACK, 0, 1));
            s.at.saturating_since(START).as_secs()
        })
        .collect();
    assert_eq!(times, [1, 3, 7]);
    h.enter_established_passive();
}

/// CE-12 (MUST-57, MUST-63): SYNs to broadcast or multicast addresses, or
/// from them, get no answer; OPEN to them is refused with no SYN sent.
#[test]
fn ce_12_broadcast_and_multicast_rejected() {
    let mut h = Harness::new(conf());
    h.ep.listen(SocketAddr::from(([0, 0, 0, 0], SERVER_PORT)), 8)
        .unwrap();
    let bcast = SocketAddr::from(([255, 255, 255, 255], SERVER_PORT));
    let mcast = SocketAddr::from(([224, 0, 0, 1], SERVER_PORT));
    let msrc = SocketAddr::from(([224, 0, 0, 5], CLIENT_PORT));
    h.inject(seg(SYN).seq(0).to(bcast));
    h.inject(seg(SYN).seq(0).to(mcast));
    h.inject(seg(SYN).seq(0).from(msrc));
    // Not even a RST for an ACK-bearing segment from a multicast source.
    h.inject(seg(ACK).seq(0).abs_ack(1).from(msrc));
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(h.ep.counters().dropped(DropReason::BadAddress), 4);

    for remote in [mcast, bcast] {
        let r =
            h.ep.connect(h.now, SocketAddr::new(IpAddr::V4(ENGINE_V4), 0), remote);
        assert_eq!(r, Err(Error::InvalidAddress));
    }
    h.pump();
    h.expect_none();

    let mut h = Harness::new_v6(conf());
    h.ep.listen(
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), SERVER_PORT),
        8,
    )
    .unwrap();
    let all_nodes = SocketAddr::new("ff02::1".parse().unwrap(), SERVER_PORT);
    h.inject(seg(SYN).seq(0).to(all_nodes));
    h.inject(
        seg(SYN)
            .seq(0)
            .from(SocketAddr::new("ff02::2".parse().unwrap(), CLIENT_PORT)),
    );
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    let r =
        h.ep.connect(h.now, SocketAddr::new(IpAddr::V6(ENGINE_V6), 0), all_nodes);
    assert_eq!(r, Err(Error::InvalidAddress));
    h.pump();
    h.expect_none();
}

/// CE-13 (MUST-41, MUST-42): LISTEN on a port that has a connection in
/// SYN-SENT is allowed and disturbs nothing; the listener's child gets its
/// remote socket from the SYN.
#[test]
fn ce_13_listen_beside_syn_sent_connection() {
    let mut h = Harness::active_syn_sent(conf());
    let local = h.peer().engine;
    let l = h.ep.listen(local, 8).expect("LISTEN beside SYN-SENT");
    h.listener = Some(l);
    // A second passive OPEN on the same socket is an error, not a change.
    assert_eq!(h.ep.listen(local, 8), Err(Error::AddrInUse));

    let other = SocketAddr::new(IpAddr::V4(PEER_V4), 40001);
    h.add_peer(local, other, 77);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1).to(other));
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    h.expect_events(&[Event::Accepted { listener: l }]);
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().remote, other);
    assert_eq!(h.info().unwrap().local, local);

    // The first connection did not notice.
    h.switch(0);
    assert_eq!(h.state(), State::SynSent);
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.state(), State::Established);
}

/// CE-14 (MUST-43..45): every segment of a connection leaves from one local
/// address: the one the SYN was sent to (passive, multihomed wildcard
/// listener) or the one given to OPEN (active). An unspecified one is
/// chosen from `Config::local_addrs` (see `hardening.rs`); with none
/// configured, the OPEN fails before any SYN.
#[test]
fn ce_14_one_local_address_per_connection() {
    let mut h = Harness::new(conf());
    let l =
        h.ep.listen(SocketAddr::from(([0, 0, 0, 0], SERVER_PORT)), 8)
            .unwrap();
    h.listener = Some(l);
    let second = SocketAddr::from(([198, 18, 0, 3], SERVER_PORT));
    for (i, engine) in [h.peers[0].engine, second].into_iter().enumerate() {
        let peer = SocketAddr::from(([198, 18, 0, 1], 40000 + i as u16));
        h.add_peer(engine, peer, 1000 * i as u32);
        h.inject(seg(SYN).seq(0).mss(1460));
        h.expect(out(SYN | ACK).seq(0).ack(1));
        h.inject(seg(ACK).seq(1).ack(1));
        h.accept().unwrap();
        h.send(b"data").unwrap();
        h.expect(out(ACK | PSH).seq(1).ack(1).len(4));
        h.shutdown().unwrap();
        h.expect(out(FIN | ACK).seq(5).ack(1));
    }
    for s in &h.log {
        assert!(
            h.peers.iter().any(|p| p.engine == s.src && p.peer == s.dst),
            "{s:?} left from an address other than its connection's"
        );
    }

    let unspecified = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let r = h.ep.connect(h.now, unspecified, h.peers[0].peer);
    assert_eq!(r, Err(Error::AddrNotAvailable));
    h.pump();
    h.expect_none();
    let local = SocketAddr::from(([198, 18, 0, 3], 50001));
    let remote = SocketAddr::from(([198, 18, 0, 1], 80));
    h.add_peer(local, remote, 5);
    h.connect().unwrap();
    h.expect(out(SYN).seq(0));
    h.inject(seg(SYN | ACK).seq(0).ack(1).mss(1460));
    h.expect(out(ACK).seq(1).ack(1));
    h.send(b"x").unwrap();
    let s = h.expect(out(ACK | PSH).seq(1).ack(1).len(1));
    assert_eq!(s.src, local);
}
