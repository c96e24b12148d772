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
        n.node(1).accept_queue_len(l).unwrap_or(0) > 0
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
        if sent < data.len() {
            if let Ok(n) = p.client().send(c, &data[sent..]) {
                sent += n;
            }
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
