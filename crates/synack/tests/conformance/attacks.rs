//! The attack paths of the seed: the split handshake, SYN cookies end to
//! end, and SYNs and RSTs against TIME-WAIT (RFC 6191, SM-06).

use crate::harness::*;
use std::net::SocketAddr;
use synack::{Config, ConnId, Event, OpenKind, SeqNum, State, SynCookieMode};

// ---- split handshake -------------------------------------------------------

/// Split handshake, step one: in SYN-SENT a bare SYN (no ACK) moves to
/// SYN-RECEIVED with `<SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>` (CE-07).
fn split_to_syn_received() -> (Harness, ConnId) {
    let mut h = Harness::active_syn_sent(conf());
    let c = h.conn();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.expect_none();
    assert_eq!(h.state(), State::SynReceived);
    assert!(h.take_events().is_empty());
    (h, c)
}

/// Split handshake: an ACK of exactly ISS+1 completes it, and the
/// application is told the open was simultaneous, both in the event and in
/// STATUS, so it can tell this path apart from a normal active open.
#[test]
fn split_handshake_ack_of_iss_plus_1_is_simultaneous_open() {
    let (mut h, c) = split_to_syn_received();
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    assert_eq!(h.state(), State::Established);
    assert_eq!(h.info().unwrap().how, OpenKind::Simultaneous);
    h.expect_events(&[Event::Connected {
        conn: c,
        how: OpenKind::Simultaneous,
    }]);
}

/// Split handshake: an ACK of anything but ISS+1 gets `<SEQ=SEG.ACK><RST>`
/// and the connection does not reach ESTABLISHED.
#[test]
fn split_handshake_bad_ack_gets_rst_no_established() {
    let (mut h, c) = split_to_syn_received();
    for ack in [0, 2, -5, 1 << 20] {
        h.inject(seg(ACK).seq(1).ack(ack));
        h.expect(out(RST).seq(ack).abs_ack(0).len(0));
        h.expect_none();
        assert_eq!(h.state(), State::SynReceived);
    }
    assert!(h.take_events().is_empty(), "no Connected event");
    // The genuine ACK still completes it afterwards.
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_events(&[Event::Connected {
        conn: c,
        how: OpenKind::Simultaneous,
    }]);
}

// ---- SYN cookies -----------------------------------------------------------

fn cookie_cfg() -> Config {
    let mut c = conf();
    c.syn_cookies = SynCookieMode::Always;
    c
}

/// SYN cookies (RFC 4987 3.6, CE-16): SYN ⇒ SYN-ACK whose ISN is a valid
/// cookie, no state kept; the third ACK creates an ESTABLISHED connection in
/// the accept queue, opened `Cookie`, with the MSS from the table.
#[test]
fn syn_cookie_valid_ack_creates_connection() {
    let mut h = Harness::new(cookie_cfg());
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).win(30000));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1).win(65535));
    h.expect_none();
    assert_eq!(s.options.mss, Some(1460));
    assert_eq!(h.ep.connection_count(), 0, "stateless");
    assert_eq!(h.ep.syn_queue_len(l), Some(0));
    assert_eq!(h.ep.counters().syncookies_sent, 1);

    h.advance(millis(30));
    h.inject(seg(ACK).seq(1).ack(1).win(30000));
    h.expect_none();
    h.expect_events(&[Event::Accepted { listener: l }]);
    h.accept().unwrap();
    let i = h.info().unwrap();
    assert_eq!(i.state, State::Established);
    assert_eq!(i.how, OpenKind::Cookie);
    assert_eq!(i.mss, 1460);
    assert_eq!(i.snd_wnd, 30000);
    assert_eq!((i.iss, i.irs), (SeqNum(s.seq), SeqNum(IRS)));
    assert_eq!(h.ep.counters().syncookies_recv, 1);
    h.send(&bytes(2000)).unwrap();
    h.expect(out(ACK).seq(1).ack(1).len(1460));
}

/// SYN cookies: the peer's MSS is rounded down to the family's table
/// (v4 {536, 1300, 1440, 1460}, v6 {1220, 1420, 1440, 8940}).
#[test]
fn syn_cookie_mss_from_table() {
    for (v6, offered, want) in [
        (false, Some(1400), 1300),
        (false, None, 536),
        (false, Some(9000), 1460),
        (true, Some(1500), 1440),
        (true, None, 1220),
    ] {
        let mut h = if v6 {
            Harness::new_v6(cookie_cfg())
        } else {
            Harness::new(cookie_cfg())
        };
        h.listen();
        let mut syn = seg(SYN).seq(0);
        if let Some(m) = offered {
            syn = syn.mss(m);
        }
        h.inject(syn);
        h.expect(out(SYN | ACK).seq(0).ack(1));
        h.inject(seg(ACK).seq(1).ack(1));
        h.accept().unwrap();
        assert_eq!(h.info().unwrap().mss, want, "v6={v6} offered={offered:?}");
        h.send(&bytes(3 * usize::from(want))).unwrap();
        h.expect(out(ACK).seq(1).len(usize::from(want)));
    }
}

/// SYN cookies: ACK numbers off by one, garbage, a wrong client ISN or an
/// expired cookie get `<SEQ=SEG.ACK><RST>`, count SyncookiesFailed, and
/// create nothing.
#[test]
fn syn_cookie_bad_ack_gets_rst_and_counts_failure() {
    let mut h = Harness::new(cookie_cfg());
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    let mut failed = 0;
    for (seq, ack) in [(1, 2), (1, 0), (2, 1), (0, 1)] {
        h.inject(seg(ACK).seq(seq).ack(ack));
        h.expect(out(RST).seq(ack).abs_ack(0));
        failed += 1;
        assert_eq!(h.ep.counters().syncookies_failed, failed);
    }
    h.inject(seg(ACK).seq(1).abs_ack(0x1234_5678));
    h.expect(out(RST).abs_seq(0x1234_5678));
    assert_eq!(h.ep.counters().syncookies_failed, failed + 1);
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert!(h.take_events().is_empty());
    assert_eq!(h.ep.counters().syncookies_recv, 0);

    // A cookie is good for at most two minutes.
    h.advance(secs(180));
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(RST).seq(1));
    assert_eq!(h.ep.counters().syncookies_failed, failed + 2);
    assert_eq!(h.ep.accept_queue_len(l), Some(0));
}

/// SYN cookies are judged by what they do, not by the engine's own check:
/// a cookie is bound to the 4-tuple and the client ISN it was made for (a
/// copy replayed from another port, or with another SEQ, is refused), and
/// a genuine one made a minute ago is still accepted.
#[test]
fn syn_cookie_bound_to_its_connection_and_good_for_a_while() {
    let mut h = Harness::new(cookie_cfg());
    let l = h.listen();
    h.inject(seg(SYN).seq(0).mss(1440));
    let cookie = h.expect(out(SYN | ACK).seq(0).ack(1)).seq;
    // Another client port replays the same numbers: a forgery.
    let engine = h.peer().engine;
    h.add_peer(engine, SocketAddr::from((PEER_V4, 40009)), IRS);
    h.peer_mut().iss = Some(cookie);
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect(out(RST).seq(1));
    assert_eq!(h.ep.counters().syncookies_failed, 1);
    // The right client with another client ISN: refused too.
    h.switch(0);
    h.inject(seg(ACK).seq(2).ack(1));
    h.expect(out(RST).seq(1));
    assert_eq!(h.ep.counters().syncookies_failed, 2);
    assert_eq!(h.ep.connection_count(), 0);
    // The genuine ACK, 70 s later (past a minute boundary): accepted,
    // with the MSS the cookie carried.
    h.advance(secs(70));
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_none();
    h.expect_events(&[Event::Accepted { listener: l }]);
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().mss, 1440);
    assert_eq!(h.ep.counters().syncookies_recv, 1);
}

/// SYN cookies with timestamps: window scale and SACK-permitted ride in the
/// SYN-ACK's TSval and come back in the third ACK's TSecr.
#[test]
fn syn_cookie_with_timestamps_recovers_wscale_and_sack() {
    let mut cfg = cookie_cfg();
    cfg.sack = true;
    let shift = cfg.window_shift();
    let mut h = Harness::new(cfg);
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).ws(7).sack_perm().ts(1000, 0));
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    let ts = s.options.timestamps.expect("TS answered");
    assert_eq!(ts.tsecr, 1000);
    assert_eq!(s.options.window_scale, Some(shift));
    assert!(s.options.sack_permitted);
    h.inject(seg(ACK).seq(1).ack(1).ts(1001, ts.tsval));
    h.accept().unwrap();
    let i = h.info().unwrap();
    assert_eq!(i.wscale, Some((7, shift)));
    assert!(i.timestamps && i.sack);
    assert_eq!(i.mss, 1448, "1460 less the 12 bytes of timestamps");
}

/// By default (`WhenQueueFull`) cookies are used only once the SYN queue is
/// full (RFC 4987 4, CE-15).
#[test]
fn syn_cookie_only_when_syn_queue_full_by_default() {
    let mut h = Harness::new(conf());
    let engine = h.peer().engine;
    h.listener = Some(h.ep.listen(engine, 1).unwrap());
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.ep.counters().syncookies_sent, 0);
    h.add_peer(engine, SocketAddr::from((PEER_V4, 40001)), 9);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(h.ep.counters().syncookies_sent, 1);
    assert_eq!(h.ep.connection_count(), 1);
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().how, OpenKind::Cookie);
}

// ---- TIME-WAIT ---------------------------------------------------------------

/// SM-06 (RFC 6191, no timestamps): a SYN with SEQ > RCV.NXT reopens a
/// TIME-WAIT 4-tuple through the listener, with an ISS beyond the old
/// SND.NXT.
#[test]
fn sm_06_time_wait_newer_syn_reopens() {
    let mut h = Harness::time_wait(conf());
    let old_snd_nxt = SeqNum(h.iss()).add(2);
    let l = h.listener.unwrap();
    h.take_events();
    h.advance(secs(1));
    h.reincarnate(IRS + 100_000);
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.expect_none();
    assert!(
        SeqNum(h.iss()).gt(old_snd_nxt),
        "new ISS beyond the old SND.NXT"
    );
    assert_eq!(h.ep.time_wait_count(), 0);
    h.inject(seg(ACK).seq(1).ack(1));
    h.expect_events(&[Event::Accepted { listener: l }]);
    h.accept().unwrap();
    assert_eq!(h.state(), State::Established);
}

/// SM-06: an old SYN (SEQ =< RCV.NXT) in TIME-WAIT gets an ACK of the old
/// connection and is dropped; TIME-WAIT stays.
#[test]
fn sm_06_time_wait_old_syn_gets_ack_and_is_dropped() {
    let mut h = Harness::time_wait(conf());
    for off in [2, 1, -1000] {
        h.inject(seg(SYN).seq(off).mss(1460));
        h.expect(out(ACK).seq(2).ack(2).len(0));
    }
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
    assert_eq!(h.ep.connection_count(), 0);
}

/// SM-06 with timestamps (RFC 6191 2): the previous incarnation used them.
/// TSval > TS.Recent ⇒ accept, whatever the SEQ; TSval = TS.Recent and
/// SEQ > RCV.NXT ⇒ accept; a new SYN without timestamps and SEQ > RCV.NXT ⇒
/// accept; anything else ⇒ no new connection.
#[test]
fn sm_06_time_wait_rfc6191_with_timestamps() {
    let ts_recent = 100;
    for (tsval, seq_off, accept) in [
        (Some(200), -1000i64, true),
        (Some(ts_recent), 50, true),
        (Some(ts_recent), 2, false),
        (Some(50), 5000, false),
        (None, 50, true),
        (None, 2, false),
    ] {
        let mut h = Harness::new(conf());
        h.peer_syn_opts.timestamps = Some(Timestamps {
            tsval: ts_recent,
            tsecr: 0,
        });
        h.enter_syn_received();
        h.enter_established_passive();
        assert!(h.info().unwrap().timestamps);
        h.shutdown().unwrap();
        h.expect(out(FIN | ACK).seq(1).ack(1));
        h.inject(seg(FIN | ACK).seq(1).ack(2));
        h.expect(out(ACK).seq(2).ack(2));
        assert_eq!(h.ep.time_wait_count(), 1);
        h.take_events();

        // SEQ = old IRS + seq_off: the new incarnation's IRS.
        let mut syn = seg(SYN).seq(0).mss(1460);
        if let Some(v) = tsval {
            syn = syn.ts(v, 0);
        }
        let case = format!("TSval {tsval:?} SEQ RCV.NXT{:+}", seq_off - 2);
        let old_iss = h.iss();
        h.reincarnate(IRS.wrapping_add(seq_off as u32));
        h.inject(syn);
        let s = h.next();
        h.expect_none();
        if accept {
            assert_eq!(s.flags, SYN | ACK, "{case}");
            assert_eq!(s.ack, IRS.wrapping_add(seq_off as u32) + 1, "{case}");
            assert_eq!(h.ep.time_wait_count(), 0, "{case}");
        } else {
            assert_eq!(s.flags, ACK, "{case}");
            assert_eq!(s.seq, old_iss + 2, "{case}");
            assert_eq!(h.ep.time_wait_count(), 1, "{case}");
            assert_eq!(h.ep.connection_count(), 0, "{case}");
        }
    }
}

/// SM-06: without a listener a new SYN cannot reopen the TIME-WAIT
/// 4-tuple of an active closer: it gets the old connection's ACK.
#[test]
fn sm_06_time_wait_syn_without_listener_gets_ack() {
    let mut h = Harness::active_established(conf());
    h.shutdown().unwrap();
    h.expect(out(FIN | ACK).seq(1).ack(1));
    h.inject(seg(FIN | ACK).seq(1).ack(2));
    h.expect(out(ACK).seq(2).ack(2));
    assert_eq!(h.ep.time_wait_count(), 1);
    h.inject(seg(SYN).seq(100_000).mss(1460));
    h.expect(out(ACK).seq(2).ack(2));
    h.expect_none();
    assert_eq!(h.ep.time_wait_count(), 1);
    // And the application cannot reopen it either while it lasts.
    let (l, r) = (h.peer().engine, h.peer().peer);
    assert_eq!(
        h.ep.connect(h.now, l, r),
        Err(synack::Error::AddrInUse),
        "OPEN in TIME-WAIT: connection already exists"
    );
}
