//! Delayed ACKs against the Linux kernel's (issue 9; TM-01, TM-02): 64 MiB
//! each way at once, written 100 bytes at a time with Nagle on at both
//! ends, between synack on a TUN device and a kernel socket in a
//! namespace of this test's own. Nagle holds a small write until the
//! previous data is acknowledged and a delayed ACK holds the ACK: a
//! receiver that waited for a timer on every small segment would stall
//! the sender each time. Both streams must arrive byte-exact, neither
//! side may meet a retransmission timeout, and synack's delayed-ACK timer
//! must have sent almost none of its ACKs (each such ACK is a stall). Root only (skipped with
//! a printed reason otherwise, failed under `SYNACK_REQUIRE_INTEROP=1`).

mod tun;

use std::io::{Read, Write};
use std::time::{Duration, Instant};
use synack_io::StackConfig;
use synack_io::net::TcpStream;
use synack_testbed::require;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOTAL: usize = 64 << 20;
const WRITE: usize = 100;

/// Byte `i` of the stream sent by side `side`.
fn pattern(side: u8, i: usize) -> u8 {
    ((i % 251) as u8) ^ side
}

fn chunk(side: u8, at: usize, len: usize) -> Vec<u8> {
    (at..at + len).map(|i| pattern(side, i)).collect()
}

/// Checks `got`, which starts at offset `at` of side `side`'s stream.
fn check(side: u8, at: usize, got: &[u8]) {
    for (k, &b) in got.iter().enumerate() {
        assert_eq!(b, pattern(side, at + k), "byte {} of side {side}", at + k);
    }
}

#[test]
fn small_writes_both_ways_with_nagle_and_delayed_acks() {
    let Some(_) = require(&[]) else {
        return;
    };
    let ns = tun::namespace("delack");
    let listener = tun::kernel_listener(&ns, "198.18.0.1:7200");
    // The kernel: one thread writes its stream in 100-byte writes (Nagle
    // on, the default), another reads synack's and checks it.
    let kernel = std::thread::spawn(move || {
        let (s, _) = listener.accept().expect("accept");
        assert!(!s.nodelay().unwrap(), "Nagle on at the kernel's end");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || {
            let mut at = 0;
            while at < TOTAL {
                let n = WRITE.min(TOTAL - at);
                w.write_all(&chunk(1, at, n)).expect("kernel write");
                at += n;
            }
        });
        let mut r = s;
        let mut at = 0;
        let mut buf = vec![0u8; 65536];
        while at < TOTAL {
            let n = r.read(&mut buf).expect("kernel read");
            assert!(n > 0, "synack's stream ended at {at}");
            check(0, at, &buf[..n]);
            at += n;
        }
        writer.join().unwrap();
        at
    });
    let cfg = StackConfig::new("198.18.0.2".parse().unwrap());
    let synack = tun::on_tun(&ns, cfg, move |stack| async move {
        let s = TcpStream::connect(&stack, "198.18.0.1:7200")
            .await
            .expect("connect");
        let start = Instant::now();
        let (mut r, mut w) = tokio::io::split(s);
        let writer = async move {
            let mut at = 0;
            while at < TOTAL {
                let n = WRITE.min(TOTAL - at);
                w.write_all(&chunk(0, at, n)).await.expect("synack write");
                at += n;
            }
            w.flush().await.unwrap();
            w
        };
        let reader = async move {
            let mut at = 0;
            let mut buf = vec![0u8; 65536];
            while at < TOTAL {
                let n = r.read(&mut buf).await.expect("synack read");
                assert!(n > 0, "the kernel's stream ended at {at}");
                check(1, at, &buf[..n]);
                at += n;
            }
            at
        };
        let (_w, got) = tokio::join!(writer, reader);
        let c = stack.counters().clone();
        (got, start.elapsed(), c.timeouts, c.delayed_acks, c.in_segs)
    });
    let (got, took, timeouts, delayed, in_segs) = synack.join().expect("synack thread");
    let sent = kernel.join().expect("kernel thread");
    assert_eq!((got, sent), (TOTAL, TOTAL));
    assert_eq!(timeouts, 0, "synack met a retransmission timeout");
    eprintln!(
        "64 MiB each way in 100-byte writes: {took:?} ({:.1} MiB/s each way); {delayed} delayed-ACK timer ACKs for {in_segs} segments received",
        64.0 / took.as_secs_f64()
    );
    // A stall is the kernel's Nagle waiting for an ACK that synack holds
    // for its timer: each one is a delayed-ACK timer expiry. Without
    // stalls the timer almost never has anything to send (the next
    // segment or our own data carries the ACK first).
    assert!(
        delayed * 100 < in_segs,
        "{delayed} delayed-ACK timer ACKs for {in_segs} segments: the kernel's Nagle waited on them"
    );
}
