//! What the engine emits and accepts on the wire (RFC-CHECKLIST.md section
//! 3.A, rows WF-*). Parsing and emitting as such are tested in
//! `synack-wire`; these tests are about the engine's segments and the
//! engine's reaction to odd ones. Every captured segment also passes the
//! harness's structural checks (see `harness`).

use crate::harness::*;
use synack::{DropReason, State};

fn harness(v6: bool) -> Harness {
    if v6 {
        Harness::new_v6(conf())
    } else {
        Harness::new(conf())
    }
}

/// Acknowledges, one ACK per segment, everything the engine sends, until it
/// stops or `rounds` bursts have passed; returns what it sent.
fn ack_everything(h: &mut Harness, rounds: usize) -> Vec<Seg> {
    let mut all = Vec::new();
    for _ in 0..rounds {
        let segs = h.drain();
        if segs.is_empty() {
            break;
        }
        let pseq = i64::from(h.info().unwrap().rcv_nxt.0.wrapping_sub(h.irs()));
        for s in &segs {
            let end = i64::from(s.rseq) + s.payload.len() as i64 + i64::from(s.has(FIN));
            h.inject(seg(ACK).seq(pseq).ack(end));
        }
        all.extend(segs);
    }
    all
}

/// WF-01 (MUST-2): the checksum of every emitted segment verifies under an
/// independent checksummer, over the IPv4 and the IPv6 pseudo-header, for
/// odd and even payloads, with and without options.
#[test]
fn wf_01_every_emitted_checksum_verifies() {
    for v6 in [false, true] {
        let mut h = harness(v6);
        h.peer_syn_opts.timestamps = Some(Timestamps { tsval: 1, tsecr: 0 });
        h.enter_syn_received();
        h.enter_established_passive();
        h.set_nodelay();
        for n in [1, 2, 3, 1000, 1001] {
            h.send(&bytes(n)).unwrap();
        }
        ack_everything(&mut h, 10);
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(7));
        h.shutdown().unwrap();
        // Also a RST (with TSopt, RFC 7323 3.2) and a reply from no
        // connection (an ACK to the listener draws a bare RST).
        h.abort();
        h.inject(
            seg(ACK)
                .seq(0)
                .ack(5)
                .from(std::net::SocketAddr::new(h.peer().peer.ip(), 5555)),
        );
        let log = h.log.clone();
        assert!(log.len() >= 10, "{} segments", log.len());
        assert!(log.iter().any(|s| s.payload.len() & 1 == 1));
        assert!(
            log.iter()
                .any(|s| s.payload.len() & 1 == 0 && !s.payload.is_empty())
        );
        assert!(log.iter().any(|s| s.options.timestamps.is_some()));
        assert!(log.iter().any(|s| s.options.is_empty()));
        assert!(
            log.iter()
                .any(|s| s.flags.rst() && s.options.timestamps.is_some())
        );
        for s in &log {
            check_datagram(&s.raw, h.cfg.ttl);
        }
    }
}

/// WF-02 and `Endpoint::handle_packet_verified`: a datagram whose checksum
/// the caller vouches for (the local kernel through TUN offloads) is not
/// summed again, so even a wrong checksum field passes; every other check
/// still holds (a malformed header is still dropped). Through
/// `handle_packet` the same datagram is dropped.
#[test]
fn verified_input_skips_only_the_checksum() {
    for v6 in [false, true] {
        let mut h = harness(v6);
        h.enter_syn_received();
        h.enter_established_passive();
        let pkt = h.build(&seg(ACK | PSH).seq(1).ack(1).len(10).bad_checksum());
        h.inject_raw(&pkt);
        h.expect_none();
        assert_eq!(h.ep.counters().dropped(DropReason::BadChecksum), 1);
        h.ep.handle_packet_verified(h.now, &pkt);
        h.pump();
        h.expect(out(ACK).seq(1).ack(11));
        assert_eq!(h.recv_all(), bytes(10));
        // A data offset past the end is malformed, verified or not.
        let mut bad = h.build(&seg(ACK).seq(11).ack(1));
        let ip_len = if v6 {
            40
        } else {
            usize::from(bad[0] & 0x0f) * 4
        };
        bad[ip_len + 12] = 0xf0;
        h.ep.handle_packet_verified(h.now, &bad);
        h.pump();
        h.expect_none();
        assert_eq!(h.ep.counters().dropped(DropReason::MalformedTcp), 1);
    }
}

/// WF-02 (MUST-3): a segment with a bad checksum is discarded silently: no
/// ACK, no RST, no state change, whatever it carries.
#[test]
fn wf_02_bad_checksum_silently_discarded() {
    for v6 in [false, true] {
        let mut h = harness(v6);
        h.enter_syn_received();
        h.enter_established_passive();
        let rcv_nxt = h.info().unwrap().rcv_nxt;
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(10).bad_checksum());
        h.inject(seg(RST).seq(1).bad_checksum());
        h.inject(seg(FIN | ACK).seq(1).ack(1).bad_checksum());
        h.inject(
            seg(SYN)
                .seq(0)
                .bad_checksum()
                .from(std::net::SocketAddr::new(h.peer().peer.ip(), 4444)),
        );
        h.expect_none();
        assert_eq!(h.ep.counters().dropped(DropReason::BadChecksum), 4);
        assert_eq!(h.ep.counters().in_errs, 4);
        assert_eq!(h.ep.connection_count(), 1);
        let i = h.info().unwrap();
        assert_eq!((i.state, i.rcv_nxt), (State::Established, rcv_nxt));
        // The connection is alive and RCV.NXT did not move.
        h.inject(seg(ACK | PSH).seq(1).ack(1).len(10));
        h.expect(out(ACK).seq(1).ack(11));
        assert_eq!(h.recv_all(), bytes(10));
    }
}

/// WF-03: reserved bits are ignored on receipt (and zero on everything sent,
/// which the harness checks on capture).
#[test]
fn wf_03_reserved_bits_ignored_on_receive() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).reserved(0xF));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1).reserved(0x5));
    h.accept().unwrap();
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(10).reserved(0xA));
    let s = h.expect(out(ACK).seq(1).ack(11));
    assert_eq!(h.recv_all(), bytes(10));
    let tcp = &s.raw[20..];
    assert_eq!(tcp[12] & 0x0F, 0);
    assert_eq!(usize::from(tcp[12] >> 4) * 4, 20 + s.options.wire_len());
}

/// WF-04 (MUST-4, MUST-5, MUST-64): EOL, NOP and MSS are understood at any
/// alignment; what follows EOL is ignored; a data segment carrying NOP/EOL
/// is accepted.
#[test]
fn wf_04_options_at_any_alignment() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(
        seg(SYN)
            .seq(0)
            .raw_opts(&[1, 2, 4, 0x04, 0xB0, 1, 1, 0, 0xAA, 0xBB, 0xCC, 0xDD]),
    );
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().mss, 1200);
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(10).raw_opts(&[1, 1, 1, 0]));
    h.expect(out(ACK).seq(1).ack(11));
    assert_eq!(h.recv_all(), bytes(10));
    h.send(&bytes(5000)).unwrap();
    let segs = ack_everything(&mut h, 10);
    assert_eq!(segs.iter().map(|s| s.payload.len()).max(), Some(1200));
    assert_eq!(segs.iter().map(|s| s.payload.len()).sum::<usize>(), 5000);
}

/// WF-05 (MUST-6, MUST-50): an unknown TCP option is skipped by its length,
/// and an unknown IPv4 option is ignored.
#[test]
fn wf_05_unknown_options_ignored() {
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(
        seg(SYN)
            .seq(0)
            .raw_opts(&[253, 6, 1, 2, 3, 4, 2, 4, 0x05, 0x00]),
    );
    let s = h.expect(out(SYN | ACK).seq(0).ack(1));
    assert_eq!(s.options.mss, Some(1460));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().mss, 1280);

    // An experimental IP option (RFC 4727, type 94) on every packet.
    let ipo = [0x5E, 4, 0, 0];
    let mut h = Harness::new(conf());
    h.listen();
    h.inject(seg(SYN).seq(0).mss(1460).ip_opts(&ipo));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1).ip_opts(&ipo));
    h.accept().unwrap();
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(33).ip_opts(&ipo));
    h.expect(out(ACK).seq(1).ack(34));
    assert_eq!(h.recv_all(), bytes(33));
}

/// WF-06 (MUST-7): an illegal option length (0, 1, past the header end, or
/// wrong for a known kind) drops the segment: no crash, no reply, no bogus
/// MSS in use.
#[test]
fn wf_06_illegal_option_length_dropped() {
    let mut h = Harness::new(conf());
    h.listen();
    let bad: [&[u8]; 6] = [
        &[2, 0, 0, 0],
        &[2, 1, 0, 0],
        &[1, 1, 2, 8],
        &[2, 3, 5, 0],
        &[8, 10, 0, 0],
        &[1, 2, 4, 0x05, 0xB4, 2, 0, 0],
    ];
    for o in bad {
        h.inject(seg(SYN).seq(0).raw_opts(o));
    }
    h.expect_none();
    assert_eq!(h.ep.connection_count(), 0);
    assert_eq!(
        h.ep.counters().dropped(DropReason::MalformedTcp),
        bad.len() as u64
    );
    h.inject(seg(SYN).seq(0).mss(1460));
    h.expect(out(SYN | ACK).seq(0).ack(1));
    h.inject(seg(ACK).seq(1).ack(1));
    h.accept().unwrap();
    assert_eq!(h.info().unwrap().mss, 1460);
    // In ESTABLISHED too: dropped, RCV.NXT unchanged, no answer.
    h.inject(seg(ACK | PSH).seq(1).ack(1).len(10).raw_opts(&[2, 0, 0, 0]));
    h.expect_none();
    assert_eq!(h.info().unwrap().recv_queue, 0);
}

/// WF-07 (MUST-65, MUST-68): MSS appears on SYN and SYN-ACK and nowhere
/// else, over a whole connection with other options in use.
#[test]
fn wf_07_mss_only_on_syn() {
    for active in [false, true] {
        let mut h = Harness::new(conf());
        h.peer_syn_opts.timestamps = Some(Timestamps { tsval: 5, tsecr: 0 });
        if active {
            h.enter_syn_sent();
            let o = h.peer_syn_opts;
            h.inject(seg(SYN | ACK).seq(0).ack(1).opts(o));
        } else {
            h.enter_syn_received();
            h.enter_established_passive();
        }
        h.send(&bytes(4000)).unwrap();
        ack_everything(&mut h, 10);
        h.inject(seg(ACK | PSH).seq(1).ack(4001).len(5));
        h.shutdown().unwrap();
        h.inject(seg(FIN | ACK).seq(6).ack(4002));
        let log = h.log.clone();
        assert!(log.len() > 5);
        for s in &log {
            assert_eq!(s.options.mss.is_some(), s.has(SYN), "{}", describe(s));
            if !s.has(SYN) {
                assert!(s.options.timestamps.is_some(), "TS on every segment");
            }
        }
    }
}

/// WF-08 (MUST-14, MUST-67): the advertised MSS is MTU - 40 (IPv4) or
/// MTU - 60 (IPv6), not reduced for options, on SYN and SYN-ACK.
#[test]
fn wf_08_advertised_mss() {
    for (v6, mtu, want) in [
        (false, 1500, 1460),
        (true, 1500, 1440),
        (false, 9000, 8960),
        (true, 1280, 1220),
    ] {
        let mut cfg = conf();
        cfg.mtu = mtu;
        let mut h = if v6 {
            Harness::new_v6(cfg.clone())
        } else {
            Harness::new(cfg.clone())
        };
        h.active_layout();
        h.connect().unwrap();
        let s = h.expect(out(SYN).seq(0));
        assert_eq!(s.options.mss, Some(want), "SYN v6={v6} mtu={mtu}");
        assert!(s.options.timestamps.is_some(), "not reduced for options");

        let mut h = if v6 {
            Harness::new_v6(cfg)
        } else {
            Harness::new(cfg)
        };
        h.listen();
        h.inject(seg(SYN).seq(0).mss(9000).ts(1, 0));
        let s = h.expect(out(SYN | ACK).seq(0).ack(1));
        assert_eq!(s.options.mss, Some(want), "SYN-ACK v6={v6} mtu={mtu}");
    }
}

/// WF-09 (MUST-15): a peer that sent no MSS gets segments of at most 536
/// (IPv4) or 1220 (IPv6) bytes.
#[test]
fn wf_09_no_mss_from_peer_means_default_send_mss() {
    for (v6, want) in [(false, 536), (true, 1220)] {
        let mut h = harness(v6);
        h.peer_syn_opts = TcpOptions::default();
        h.enter_syn_received();
        h.enter_established_passive();
        assert_eq!(h.info().unwrap().mss, want);
        h.send(&bytes(20_000)).unwrap();
        let segs = ack_everything(&mut h, 40);
        assert_eq!(segs.iter().map(|s| s.payload.len()).sum::<usize>(), 20_000);
        assert_eq!(
            segs.iter().map(|s| s.payload.len()).max(),
            Some(usize::from(want))
        );

        // The active side too: a SYN-ACK without MSS.
        let mut h = harness(v6);
        h.enter_syn_sent();
        h.inject(seg(SYN | ACK).seq(0).ack(1));
        h.expect(out(ACK).seq(1).ack(1));
        assert_eq!(h.info().unwrap().mss, want);
    }
}

/// WF-10 (MUST-16, RFC 6691): the effective send MSS is min(peer MSS, what
/// our link carries) less the options carried on every segment: 1448 with
/// timestamps, and a peer MSS of 9000 on a 1500-byte link gives 1460.
#[test]
fn wf_10_effective_send_mss() {
    for (peer_mss, ts, want) in [
        (1460, true, 1448),
        (9000, false, 1460),
        (9000, true, 1448),
        (1000, true, 988),
    ] {
        let mut h = Harness::new(conf());
        h.peer_syn_opts.mss = Some(peer_mss);
        if ts {
            h.peer_syn_opts.timestamps = Some(Timestamps { tsval: 9, tsecr: 0 });
        }
        h.enter_syn_received();
        h.enter_established_passive();
        assert_eq!(h.info().unwrap().mss, want);
        h.send(&bytes(10_000)).unwrap();
        let s = h.expect(out(ACK).seq(1).ack(1));
        assert_eq!(
            s.payload.len(),
            usize::from(want),
            "peer MSS {peer_mss} TS {ts}"
        );
        assert!(s.raw.len() <= 1500, "fits the link");
    }
}

/// WF-11 (MUST-1, REC-1): the window is an unsigned 16-bit field: 0xFFFF
/// unscaled lets the sender fill 65535 bytes.
#[test]
fn wf_11_window_ffff_unscaled_is_65535() {
    let mut h = Harness::passive_established(conf());
    assert_eq!(h.info().unwrap().snd_wnd, 65535);
    h.send(&bytes(250_000)).unwrap();
    for _ in 0..20 {
        let segs = h.drain();
        for s in &segs {
            let end = i64::from(s.rseq) + s.payload.len() as i64;
            h.inject(seg(ACK).seq(1).ack(end).win(0xFFFF));
            let i = h.info().unwrap();
            assert!(
                i.snd_nxt.0.wrapping_sub(i.snd_una.0) <= 65535,
                "flight within window"
            );
        }
        let i = h.info().unwrap();
        if i.snd_nxt.0.wrapping_sub(i.snd_una.0) > 65535 - 1460 {
            break;
        }
    }
    // The window, not cwnd, limits: cwnd reached it, and does not grow
    // on ACKs of window-limited flights (RFC 9438 4.6).
    let i = h.info().unwrap();
    assert!(
        i.cwnd >= 65535 - 1460 && i.cwnd <= 65535 + 3 * 1460,
        "cwnd {} against the window",
        i.cwnd
    );
    let flight = i.snd_nxt.0.wrapping_sub(i.snd_una.0);
    assert!(flight > 65535 - 1460 && flight <= 65535, "flight {flight}");
}

/// WF-11: 0xFFFF with a shift of 14 is 1,073,725,440 bytes, held without
/// overflow; a shift above 14 counts as 14 (RFC 7323 2.3, WF-12).
#[test]
fn wf_11_window_ffff_shift_14() {
    for offered in [14, 15] {
        let mut h = Harness::new(conf());
        h.peer_syn_opts.window_scale = Some(offered);
        h.listen();
        let o = h.peer_syn_opts;
        h.inject(seg(SYN).seq(0).opts(o));
        let s = h.expect(out(SYN | ACK).seq(0).ack(1));
        assert_eq!(s.options.window_scale, Some(h.cfg.window_shift()));
        h.enter_established_passive();
        let i = h.info().unwrap();
        assert_eq!(i.snd_wnd, 1_073_725_440);
        assert_eq!(i.wscale, Some((14, h.cfg.window_shift())));
        h.send(&bytes(100_000)).unwrap();
        let sent: usize = h.drain().iter().map(|s| s.payload.len()).sum();
        assert_eq!(sent as u32, i.cwnd, "only cwnd limits the sender");
    }
}
