//! Keep-alive against the Linux kernel (issue 9; TM-05, TM-06): synack on
//! a TUN device in a namespace of this test's own, the kernel's socket at
//! the other end of the link. A kernel that answers keeps the connection
//! through several probe rounds; once iptables drops everything from
//! synack, the connection is declared dead after idle + probes x interval.
//! Root only (skipped with a printed reason otherwise, failed under
//! `SYNACK_REQUIRE_INTEROP=1`).

mod tun;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};
use synack::Keepalive;
use synack_io::StackConfig;
use synack_io::net::TcpStream;
use synack_testbed::{Crossing, require};
use tokio::io::AsyncReadExt;

#[test]
fn keepalive_probes_a_kernel_peer_and_finds_it_gone() {
    let Some(_) = require(&["iptables"]) else {
        return;
    };
    let ns = tun::namespace("keepalive");
    let listener = tun::kernel_listener(&ns, "198.18.0.1:7100");
    // The kernel's end only holds the connection open and never writes:
    // whatever keeps it alive is keep-alive. It reads until synack's RST.
    let kernel = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut buf = [0u8; 16];
        s.read(&mut buf).map_err(|e| e.kind())
    });
    // 1 s idle, 1 s between probes, 3 probes: dead after 4 s of silence.
    let keepalive = Keepalive::new(Duration::from_secs(1), Duration::from_secs(1), 3).unwrap();
    // The synack side reports after five idle seconds, then waits for the
    // test to cut the link (an async wait: the stack runs on the same
    // thread).
    let (alive_tx, alive_rx) = std::sync::mpsc::channel();
    let (cut_tx, cut_rx) = tokio::sync::oneshot::channel::<Instant>();
    let mut cfg = StackConfig::new("198.18.0.2".parse().unwrap());
    cfg.engine.keepalive = Some(keepalive);
    let synack = tun::on_tun(&ns, cfg, move |stack| async move {
        let mut s = TcpStream::connect(&stack, "198.18.0.1:7100")
            .await
            .expect("connect");
        // Five seconds of silence: the kernel answers every probe.
        tokio::time::sleep(Duration::from_secs(5)).await;
        let probes = stack.counters().keepalive_probes;
        let mut buf = [0u8; 1];
        let still_open = tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await;
        alive_tx.send((probes, still_open.is_err())).unwrap();
        let cut = cut_rx.await.expect("the cut");
        let r = tokio::time::timeout(Duration::from_secs(20), s.read(&mut buf)).await;
        (cut.elapsed(), r.map(|r| r.map_err(|e| e.kind())))
    });
    let alive = alive_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the synack side reports");
    // Now nothing from synack reaches the kernel.
    let _drop = ns
        .random_drop("INPUT", Crossing::In("tun0"), 1.0)
        .expect("drop rule");
    cut_tx.send(Instant::now()).unwrap();
    let dead = synack.join().expect("synack thread");
    let (probes, still_open) = alive;
    assert!(
        probes >= 3,
        "five idle seconds at 1 s idle and 1 s interval send probes; sent {probes}"
    );
    assert!(still_open, "the connection ended while the kernel answered");
    let (after, read) = dead;
    assert_eq!(
        read.expect("the read ends within 20 s"),
        Err(ErrorKind::TimedOut),
        "an unanswered peer is a timeout"
    );
    // The last answer came within a second before the cut: idle (1 s) and
    // three probes 1 s apart, then the verdict at the next interval.
    assert!(
        after >= Duration::from_secs(2) && after <= Duration::from_secs(6),
        "declared dead {after:?} after the cut"
    );
    // The kernel never heard the RST (dropped): its read times out or
    // sees nothing; either way it did not hear a clean close.
    let k = kernel.join().expect("kernel thread");
    assert_ne!(k, Ok(0), "the kernel saw a FIN it should not have");
}
