//! Whole connections on the simulated network: open, transfer, close.

mod common;

use common::*;
use synack::sim::LinkConfig;
use synack::{CloseReason, Config, Event, Instant, OpenKind, State};

#[test]
fn handshake_transfer_close() {
    let mut p = Pair::new(1, Config::default(), LinkConfig::default());
    let l = p.listener;
    let c = p.connect();
    let ok = p.net.run_until_pred(Instant::from_secs(5), |n| {
        n[1].accept_queue_len(l).unwrap_or(0) > 0
    });
    assert!(ok, "handshake did not complete");
    let s = p.server().accept(l).expect("accepted");
    let ci = p.client().info(c).unwrap();
    let si = p.server().info(s).unwrap();
    assert_eq!(ci.state, State::Established);
    assert_eq!(si.state, State::Established);
    assert_eq!(ci.how, OpenKind::Active);
    assert_eq!(si.how, OpenKind::Passive);
    assert_eq!(ci.iss.add(1), si.rcv_nxt);
    assert_eq!(si.iss.add(1), ci.rcv_nxt);
    assert!(events(p.client()).contains(&Event::Connected {
        conn: c,
        how: OpenKind::Active
    }));

    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let deadline = Instant::from_secs(60);
    while got.len() < data.len() && p.net.now() < deadline {
        if sent < data.len()
            && let Ok(n) = p.client().send(c, &data[sent..])
        {
            sent += n;
        }
        p.net.step();
        let mut buf = [0u8; 4096];
        while let Ok(n) = p.server().recv(s, &mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(got, data);

    p.client().close(c).unwrap();
    p.net
        .run_until(p.net.now() + core::time::Duration::from_secs(1));
    assert!(p.server().is_eof(s));
    assert_eq!(p.server().info(s).unwrap().state, State::CloseWait);
    p.server().close(s).unwrap();
    p.net
        .run_until(p.net.now() + core::time::Duration::from_secs(1));
    assert!(p.server().info(s).is_none());
    assert_eq!(p.client().time_wait_count(), 1);
    let ev = events(p.server());
    assert!(ev.contains(&Event::Closed {
        conn: s,
        reason: CloseReason::Normal
    }));
    p.net
        .run_until(p.net.now() + core::time::Duration::from_secs(61));
    assert_eq!(p.client().time_wait_count(), 0);
    assert_eq!(p.client().connection_count(), 0);
    assert_eq!(p.server().connection_count(), 0);
}

/// The same connection over IPv6 (IP-08: MSS 1440 on a 1500 link).
#[test]
fn ipv6_handshake_transfer_close() {
    use std::net::{IpAddr, Ipv6Addr, SocketAddr};
    use synack::sim::Network;
    use synack::{Endpoint, Instant};
    let a = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let b = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
    let mut net = Network::new(6);
    let client = net
        .add_node(
            Endpoint::new(Config::default(), secret(6, 1), Instant::ZERO),
            &[IpAddr::V6(a)],
        )
        .unwrap();
    let mut s = Endpoint::new(Config::default(), secret(6, 2), Instant::ZERO);
    let l = s.listen(SocketAddr::new(IpAddr::V6(b), 443), 16).unwrap();
    let server = net.add_node(s, &[IpAddr::V6(b)]).unwrap();
    let c = net[client]
        .connect(
            Instant::ZERO,
            SocketAddr::new(IpAddr::V6(a), 0),
            SocketAddr::new(IpAddr::V6(b), 443),
        )
        .unwrap();
    net.run_until(Instant::from_secs(1));
    let s = net[server].accept(l).expect("accepted");
    assert_eq!(net[client].info(c).unwrap().mss, 1440 - 12);
    let msg = vec![0xA5u8; 5000];
    assert_eq!(net[client].send(c, &msg), Ok(5000));
    net[client].shutdown(c).unwrap();
    net.run_until(Instant::from_secs(2));
    let mut got = vec![0u8; 8000];
    let n = net[server].recv(s, &mut got).unwrap();
    assert_eq!(&got[..n], &msg[..]);
    assert_eq!(net[server].recv(s, &mut got), Ok(0));
    net[server].close(s).unwrap();
    net.run_until(Instant::from_secs(100));
    assert_eq!(net[client].connection_count(), 0);
    assert_eq!(net[client].time_wait_count(), 0);
    assert_eq!(net[server].connection_count(), 0);
}

/// A slow reader behind a scaled window whose buffer is not a multiple of
/// the scale unit: every byte arrives, and on a clean link nothing is ever
/// dropped for want of buffer or order (the exact-window case is
/// `dt_07_scaled_window_rounded_up_is_honoured` in the conformance suite).
#[test]
fn slow_reader_behind_a_scaled_window_loses_nothing() {
    use core::time::Duration;
    use synack::DropReason;
    let mut cfg = Config::default();
    cfg.recv_buffer = 300_007;
    assert!(cfg.window_shift() > 0);
    let mut p = Pair::new(3, cfg, LinkConfig::default());
    let l = p.listener;
    let c = p.connect();
    p.net.run_until(Instant::from_secs(1));
    let s = p.server().accept(l).expect("accepted");
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 7_777];
    while got.len() < data.len() && p.net.now() < Instant::from_secs(120) {
        if sent < data.len()
            && let Ok(n) = p.client().send(c, &data[sent..])
        {
            sent += n;
        }
        // A slow reader: one small read every 20 ms keeps the window tight.
        let until = p.net.now() + Duration::from_millis(20);
        p.net.run_until(until);
        if let Ok(n) = p.server().recv(s, &mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(got.len(), data.len());
    assert_eq!(got, data);
    let counters = p.server().counters().clone();
    assert_eq!(counters.dropped(DropReason::ReceiveBufferFull), 0);
    assert_eq!(counters.dropped(DropReason::OutOfOrder), 0);
}
