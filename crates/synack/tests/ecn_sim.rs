//! ECN end to end on the simulated network (CC-15, CE-18; RFC 3168): a
//! bottleneck whose queue marks CE past a threshold, two synack
//! endpoints that negotiate ECN, and a 4 MiB transfer. The marks reach
//! the sender as ECE and it slows down before the queue overflows: no
//! packet is dropped and nothing is retransmitted, where the same
//! transfer without ECN fills the queue and loses packets.

mod common;

use common::*;
use core::time::Duration;
use synack::sim::{Fate, LinkConfig};
use synack::{Config, EcnMode, Instant};

const SIZE: usize = 4 << 20;

struct Run {
    got: Vec<u8>,
    marked: u64,
    queue_full: u64,
    retransmitted: u64,
    reductions: u64,
    ecn: bool,
}

fn transfer(seed: u64, ecn: EcnMode) -> Run {
    let mut cfg = Config::default();
    cfg.ecn = ecn;
    // 20 Mbit/s, 20 ms each way, a 100-packet queue that marks from
    // 30 KB on (about a fifth of the path's bandwidth-delay product).
    let link = LinkConfig::default()
        .with_delay(Duration::from_millis(20))
        .with_bandwidth(20_000_000)
        .with_queue_limit(100)
        .with_ecn_marking(30_000);
    let mut p = Pair::new(seed, cfg, link);
    let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let c = p.connect();
    let mut sent = 0;
    let mut server_conn = None;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    let mut ecn_on = false;
    while got.len() < SIZE {
        if sent < SIZE
            && let Ok(n) = p.client().send(c, &data[sent..])
        {
            sent += n;
        }
        if server_conn.is_none() {
            let l = p.listener;
            server_conn = p.server().accept(l);
        }
        if let Some(s) = server_conn {
            while let Ok(n) = p.server().recv(s, &mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            ecn_on = p.server().info(s).is_some_and(|i| i.ecn);
        }
        events(p.client());
        events(p.server());
        assert!(p.net.step(), "the network went idle at {} bytes", got.len());
        assert!(
            p.net.now() < Instant::from_secs(60),
            "seed {seed}: too slow"
        );
    }
    let stats = p.net.stats();
    let counters = p.client().counters().clone();
    Run {
        got,
        marked: stats.count(Fate::Marked),
        queue_full: stats.count(Fate::QueueFull),
        retransmitted: counters.retrans_segs,
        reductions: counters.ecn_reductions,
        ecn: ecn_on,
    }
}

#[test]
fn cc_15_ecn_bottleneck_marks_instead_of_dropping() {
    for seed in [1, 2, 3] {
        let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        let with = transfer(seed, EcnMode::Request);
        assert!(with.got == data, "seed {seed}: byte-exact with ECN");
        assert!(with.ecn, "seed {seed}: ECN negotiated");
        assert!(with.marked > 0, "seed {seed}: the queue marked");
        assert!(with.reductions > 0, "seed {seed}: the sender reduced");
        assert_eq!(with.queue_full, 0, "seed {seed}: nothing tail-dropped");
        assert_eq!(with.retransmitted, 0, "seed {seed}: nothing resent");

        let without = transfer(seed, EcnMode::Off);
        assert!(without.got == data, "seed {seed}: byte-exact without ECN");
        assert!(!without.ecn);
        assert_eq!(without.marked, 0, "Not-ECT packets are never marked");
        assert!(
            without.queue_full > 0,
            "seed {seed}: without ECN the queue overflows"
        );
    }
}
