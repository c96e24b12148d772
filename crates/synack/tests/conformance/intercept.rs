//! Host addresses and interception (issue 13): a host drops what is not
//! addressed to it; an intercepting listener takes any destination its
//! rule names and, in `Decide` mode, holds each SYN for the application.

use crate::harness::*;
use std::net::{IpAddr, SocketAddr};
use synack::{
    AbandonReason, CloseReason, Config, DropReason, Event, Intercept, InterceptMode, OpenKind,
    RequestId,
};

/// A destination that is not the engine's own (in the benchmarking range).
fn foreign() -> SocketAddr {
    "198.19.7.7:443".parse().unwrap()
}

/// The engine knows its address: 198.18.0.2.
fn host() -> Config {
    let mut c = conf();
    c.local_addrs = vec![IpAddr::V4(ENGINE_V4)];
    c
}

/// A harness whose current peer talks to `foreign()`.
fn to_foreign(cfg: Config) -> Harness {
    let mut h = Harness::new(cfg);
    let peer = h.peer().peer;
    h.add_peer(foreign(), peer, IRS);
    h
}

fn requests(h: &mut Harness) -> Vec<RequestId> {
    h.take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::SynRequest { request, .. } => Some(request),
            _ => None,
        })
        .collect()
}

#[test]
fn a_host_drops_segments_for_addresses_it_does_not_have() {
    let mut h = to_foreign(host());
    h.ep.listen("0.0.0.0:443".parse().unwrap(), 8).unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect_none();
    assert_eq!(h.ep.counters().dropped(DropReason::NotLocal), 1);
    // Not even a RST for an ACK to an address that is not ours.
    h.inject(seg(ACK).seq(1).abs_ack(5));
    h.expect_none();
    assert_eq!(h.ep.counters().dropped(DropReason::NotLocal), 2);
    // Its own address on the same port: answered.
    h.switch(0);
    h.ep.listen("0.0.0.0:80".parse().unwrap(), 8).unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
}

#[test]
fn without_configured_addresses_every_destination_is_the_hosts() {
    let mut h = to_foreign(conf());
    h.ep.listen("0.0.0.0:443".parse().unwrap(), 8).unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(s.src, foreign());
}

#[test]
fn a_decided_syn_is_answered_from_the_original_destination() {
    let mut h = to_foreign(host());
    let l =
        h.ep.intercept(Intercept::everything(InterceptMode::Decide), 64)
            .unwrap();
    h.inject(seg(SYN).seq(0).mss(1400).ws(7).sack_perm().ts(100, 0));
    h.expect_none();
    let r = requests(&mut h);
    assert_eq!(r.len(), 1);
    let info = h.ep.syn_request(r[0]).expect("pending");
    assert_eq!(info.listener, l);
    assert_eq!(info.original_dst, foreign());
    assert_eq!(info.peer, h.peer().peer);
    assert_eq!(info.mss, Some(1400));
    assert_eq!(h.ep.syn_request_count(), 1);
    assert_eq!(h.ep.connection_count(), 0, "a pending SYN is no TCB");
    // A retransmission is only counted.
    h.advance(secs(1));
    h.inject(seg(SYN).seq(0).mss(1400).ws(7).sack_perm().ts(1100, 0));
    h.expect_none();
    assert!(requests(&mut h).is_empty());
    assert_eq!(h.ep.syn_request(r[0]).unwrap().syns, 2);
    // Accepted: the SYN-ACK comes from the original destination and
    // honours the client's options.
    let c = h.ep.accept_request(h.now, r[0]).unwrap();
    h.pump();
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(s.src, foreign());
    assert!(s.options.sack_permitted);
    assert!(s.options.window_scale.is_some());
    assert!(s.options.timestamps.is_some());
    assert!(h.ep.syn_request(r[0]).is_none(), "decided");
    h.inject(seg(ACK).seq(1).ack(1));
    let ev = h.take_events();
    assert!(
        ev.contains(&Event::Connected {
            conn: c,
            how: OpenKind::Passive
        }),
        "{ev:?}"
    );
    assert!(
        !ev.iter().any(|e| matches!(e, Event::Accepted { .. })),
        "{ev:?}"
    );
    assert_eq!(h.ep.accept(l), None, "not queued for accept");
    let i = h.ep.info(c).unwrap();
    assert_eq!(i.local, foreign());
    assert_eq!(i.how, OpenKind::Passive);
    // And it carries data.
    h.peer_mut().conn = Some(c);
    h.inject(seg(ACK | PSH).seq(1).ack(1).data(b"hello"));
    assert_eq!(h.recv_all(), b"hello");
}

#[test]
fn a_refused_syn_gets_a_rst_and_an_ignored_one_nothing() {
    let mut h = to_foreign(host());
    h.ep.intercept(Intercept::everything(InterceptMode::Decide), 64)
        .unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    let r = requests(&mut h);
    let info = h.ep.reset_request(r[0]).unwrap();
    assert_eq!(info.original_dst, foreign());
    h.pump();
    let s = h.expect(out(RST | ACK).abs_seq(0).ack(1));
    assert_eq!(s.src, foreign());
    assert_eq!(h.ep.reset_request(r[0]), Err(synack::Error::InvalidHandle));
    // Ignored: silence; the client's next SYN is a new request.
    h.inject(seg(SYN).seq(0).mss(1460));
    let r2 = requests(&mut h);
    assert_eq!(r2.len(), 1);
    assert_ne!(r2[0], r[0]);
    h.ep.ignore_request(r2[0]).unwrap();
    h.pump();
    h.expect_none();
    h.inject(seg(SYN).seq(0).mss(1460));
    assert_eq!(requests(&mut h).len(), 1);
    assert_eq!(h.ep.counters().syn_requests, 3);
}

#[test]
fn a_client_that_gives_up_or_waits_too_long_abandons_its_request() {
    let mut h = to_foreign(host());
    h.ep.intercept(Intercept::everything(InterceptMode::Decide), 64)
        .unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    let r = requests(&mut h);
    // A RST that is not the exact answer to the SYN changes nothing.
    h.inject(seg(RST).seq(100));
    assert!(h.take_events().is_empty());
    assert!(h.ep.syn_request(r[0]).is_some());
    h.inject(seg(RST).seq(1));
    assert_eq!(
        h.take_events(),
        [Event::SynRequestAbandoned {
            request: r[0],
            reason: AbandonReason::Reset
        }]
    );
    assert!(h.ep.syn_request(r[0]).is_none());
    // No decision within the timeout: abandoned, and the timer says when.
    h.inject(seg(SYN).seq(0).mss(1460));
    let r = requests(&mut h);
    let due = h.ep.poll_timeout().expect("a deadline for the request");
    assert_eq!(due, h.now + h.cfg.syn_request_timeout);
    h.advance(h.cfg.syn_request_timeout - millis(1));
    assert!(h.take_events().is_empty());
    h.advance(millis(1));
    assert_eq!(
        h.take_events(),
        [Event::SynRequestAbandoned {
            request: r[0],
            reason: AbandonReason::TimedOut
        }]
    );
    assert_eq!(h.ep.syn_request_count(), 0);
}

#[test]
fn beyond_the_bounds_syns_are_answered_with_cookies() {
    let mut cfg = host();
    cfg.max_syn_requests_per_source = 2;
    let mut h = to_foreign(cfg);
    let l =
        h.ep.intercept(Intercept::everything(InterceptMode::Decide), 64)
            .unwrap();
    let client: IpAddr = h.peer().peer.ip();
    for port in [40001, 40002] {
        h.add_peer(foreign(), SocketAddr::new(client, port), IRS);
        h.inject(seg(SYN).seq(0).mss(1460));
        h.expect_none();
    }
    assert_eq!(requests(&mut h).len(), 2);
    // The third from the same source: a cookie SYN-ACK at once.
    h.add_peer(foreign(), SocketAddr::new(client, 40003), IRS);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.ep.counters().syn_requests_overflow, 1);
    assert_eq!(h.ep.connection_count(), 0, "a cookie keeps no state");
    // Completing it gives an ordinary accepted connection (accept-first).
    h.inject(seg(ACK).seq(1).ack(1));
    assert!(h.take_events().contains(&Event::Accepted { listener: l }));
    let c = h.ep.accept(l).expect("queued");
    assert_eq!(h.ep.info(c).unwrap().local, foreign());
    // Another source still gets its SYN held.
    h.add_peer(foreign(), "198.18.0.77:40000".parse().unwrap(), IRS);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect_none();
    assert_eq!(requests(&mut h).len(), 1);
}

#[test]
fn accept_first_answers_at_once_and_queues_for_accept() {
    let mut h = to_foreign(host());
    let rule = Intercept::new(InterceptMode::AcceptFirst)
        .prefix("198.19.0.0".parse().unwrap(), 16)
        .unwrap()
        .ports(400, 500)
        .unwrap();
    let l = h.ep.intercept(rule, 64).unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(s.src, foreign());
    h.inject(seg(ACK).seq(1).ack(1));
    assert!(h.take_events().contains(&Event::Accepted { listener: l }));
    let c = h.ep.accept(l).unwrap();
    assert_eq!(h.ep.info(c).unwrap().local, foreign());
    // Outside the rule's ports: not intercepted, and not ours either.
    let peer = h.peer().peer;
    h.add_peer("198.19.7.7:501".parse().unwrap(), peer, IRS);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect_none();
    assert_eq!(h.ep.counters().dropped(DropReason::NotLocal), 1);
}

#[test]
fn listeners_come_before_interceptors_and_closing_one_abandons_its_requests() {
    let mut h = to_foreign(host());
    let i =
        h.ep.intercept(Intercept::everything(InterceptMode::Decide), 64)
            .unwrap();
    h.switch(0);
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert!(requests(&mut h).is_empty(), "our own listener took it");
    h.inject(seg(ACK).seq(1).ack(1));
    assert!(h.take_events().contains(&Event::Accepted { listener: l }));
    // A held SYN, then the intercepting listener closes.
    h.switch(1);
    h.inject(seg(SYN).seq(0).mss(1460));
    let r = requests(&mut h);
    h.ep.close_listener(i).unwrap();
    h.pump();
    assert_eq!(
        h.take_events(),
        [Event::SynRequestAbandoned {
            request: r[0],
            reason: AbandonReason::ListenerClosed
        }]
    );
    assert_eq!(
        h.ep.accept_request(h.now, r[0]),
        Err(synack::Error::InvalidHandle)
    );
    // Its destinations are foreign again.
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect_none();
    assert_eq!(h.ep.counters().dropped(DropReason::NotLocal), 1);
}

/// An intercepting listener in Decide mode, a SYN to `foreign()` held
/// and accepted: the SYN-ACK is out, the handshake's ACK not yet in.
fn accepted_request() -> (Harness, synack::ConnId) {
    let mut h = to_foreign(host());
    h.ep.intercept(Intercept::everything(InterceptMode::Decide), 64)
        .unwrap();
    h.inject(seg(SYN).seq(0).mss(1460));
    let r = requests(&mut h);
    let c = h.ep.accept_request(h.now, r[0]).unwrap();
    h.pump();
    h.expect(out(SYN | ACK).seq(0).ack(1));
    (h, c)
}

#[test]
fn an_accepted_request_whose_client_resets_ends_with_closed() {
    let (mut h, c) = accepted_request();
    h.inject(seg(RST).seq(1));
    assert!(h.take_events().contains(&Event::Closed {
        conn: c,
        reason: CloseReason::Reset
    }));
}

/// A connection we intercepted and closed first sits in TIME-WAIT; the
/// client's new SYN on the same 4-tuple (a higher sequence number: RFC
/// 9293 3.6.1, RFC 6191) reopens it through the intercepting listener, as
/// a host's listener would: a new request in Decide mode, not the old
/// connection's ACK (which the client would answer with a RST and wait
/// for its SYN timer). The new connection's ISS lies above the old one's
/// sequence space.
#[test]
fn a_new_syn_reopens_an_intercepted_connection_in_time_wait() {
    let (mut h, c) = accepted_request();
    h.inject(seg(ACK).seq(1).ack(1));
    h.peer_mut().conn = Some(c);
    // We close first: FIN, the client's ACK and FIN, our ACK: TIME-WAIT.
    h.ep.send(c, &[7u8; 100]).unwrap();
    h.ep.close(c).unwrap();
    h.pump();
    let fin = h.expect(out(FIN | ACK | PSH).seq(1).ack(1).len(100));
    let old_end = fin.seq.wrapping_add(101);
    h.inject(seg(FIN | ACK).seq(1).ack(102));
    h.expect(out(ACK).seq(102).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
    h.take_events();
    // The client comes back on the same port with a new ISN.
    h.advance(millis(5));
    h.inject(seg(SYN).seq(100_000).mss(1460));
    h.expect_none();
    let r = requests(&mut h);
    assert_eq!(r.len(), 1, "a new request, not the old connection's ACK");
    assert_eq!(h.ep.time_wait_count(), 0);
    let info = h.ep.syn_request(r[0]).unwrap();
    assert_eq!(info.original_dst, foreign());
    h.ep.accept_request(h.now, r[0]).unwrap();
    h.pump();
    let s = h.next();
    assert_eq!(s.flags, SYN | ACK);
    assert_eq!(s.ack, h.irs().wrapping_add(100_001));
    assert!(
        s.seq.wrapping_sub(old_end) < 1 << 31,
        "ISS {} above the old sequence space (ended at {old_end})",
        s.seq
    );
}
