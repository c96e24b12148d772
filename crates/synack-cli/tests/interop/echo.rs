//! The kernel as client of `synack serve --app echo`: bulk data over IPv4,
//! IPv6 and TAP, many connections at once, and ping.

use crate::common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Barrier};
use std::thread;

const MIB16: usize = 16 << 20;

/// 16 MiB through the echo server and back, checked by SHA-256.
fn bulk_echo(ns: &Netns, to: SocketAddr, seed: u64) {
    let data = Arc::new(random_bytes(MIB16, seed));
    let sent = data.clone();
    let back = in_ns(ns, move || echo_exchange(to, sent));
    assert_same("echoed data", &back, &data);
}

#[test]
fn kernel_client_echo_16mib() {
    let Some(ns) = testbed("echo4", "tun0", "tun", &[]) else {
        return;
    };
    let mut synack = Synack::serve(&ns, &["--tun", "tun0", "--ip", STACK_V4], "198.18.0.2:7");
    bulk_echo(&ns, "198.18.0.2:7".parse().unwrap(), 1);
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

#[test]
fn kernel_client_echo_16mib_ipv6() {
    let Some(ns) = testbed("echo6", "tun0", "tun", &["ping"]) else {
        return;
    };
    let mut synack = Synack::serve(&ns, &["--tun", "tun0", "--ip", STACK_V6], "[2001:db8::2]:7");
    bulk_echo(&ns, "[2001:db8::2]:7".parse().unwrap(), 6);
    ns.run_ok("ping", &["-6", "-c", "2", "-i", "0.2", "-W", "2", STACK_V6])
        .unwrap();
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

#[test]
fn kernel_client_echo_16mib_over_tap() {
    let Some(ns) = testbed("echotap", "tap0", "tap", &["ping"]) else {
        return;
    };
    let mut synack = Synack::serve(&ns, &["--tap", "tap0", "--ip", STACK_V4], "198.18.0.2:7");
    bulk_echo(&ns, "198.18.0.2:7".parse().unwrap(), 2);
    // The kernel learned synack's MAC address by ARP.
    let neigh = ns.run_ok("ip", &["neigh", "show", "dev", "tap0"]).unwrap();
    let neigh = String::from_utf8_lossy(&neigh.stdout);
    assert!(
        neigh.contains("198.18.0.2 lladdr 02:00:c6:12:00:02"),
        "ARP entry: {neigh}"
    );
    ns.run_ok("ping", &["-c", "2", "-i", "0.2", "-W", "2", STACK_V4])
        .unwrap();
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

#[test]
fn two_hundred_concurrent_connections() {
    let Some(ns) = testbed("conc", "tun0", "tun", &[]) else {
        return;
    };
    let mut synack = Synack::serve(&ns, &["--tun", "tun0", "--ip", STACK_V4], "198.18.0.2:7");
    const N: usize = 200;
    const SIZE: usize = 64 * 1024;
    let failures = in_ns(&ns, || {
        let to: SocketAddr = "198.18.0.2:7".parse().unwrap();
        // Every connection is open before any sends: all 200 are live in
        // synack at once.
        let barrier = Arc::new(Barrier::new(N));
        let threads: Vec<_> = (0..N)
            .map(|i| {
                let barrier = barrier.clone();
                thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        let mut s = dial(to);
                        barrier.wait();
                        let data = random_bytes(SIZE, 1000 + i as u64);
                        let mut w = s.try_clone().unwrap();
                        let expect = data.clone();
                        let writer = thread::Builder::new()
                            .stack_size(128 * 1024)
                            .spawn(move || {
                                w.write_all(&data).unwrap();
                                w.shutdown(Shutdown::Write).unwrap();
                            })
                            .unwrap();
                        let mut back = Vec::new();
                        s.read_to_end(&mut back).unwrap();
                        writer.join().unwrap();
                        sha256(&back) == sha256(&expect)
                    })
                    .unwrap()
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or(false))
            .filter(|ok| !ok)
            .count()
    });
    assert_eq!(failures, 0, "connections whose echo differed");
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

#[test]
fn ping_gets_replies_from_synack() {
    let Some(ns) = testbed("ping", "tun0", "tun", &["ping"]) else {
        return;
    };
    let pcap = std::env::temp_dir().join(format!("synack-ping-{}.pcap", std::process::id()));
    let pcap_arg = pcap.to_str().unwrap().to_string();
    let mut synack = Synack::serve(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "--pcap", &pcap_arg],
        "198.18.0.2:7",
    );
    let out = ns
        .run_ok("ping", &["-c", "3", "-i", "0.2", "-W", "2", STACK_V4])
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 received"), "{text}");
    assert!(synack.terminate().success(), "{}", synack.stderr());
    // The capture holds the requests and the replies: a pcap header and
    // six 84-byte datagrams with their 16-byte record headers (maybe more:
    // the kernel may send IPv6 chatter on a new link).
    let cap = std::fs::read(&pcap).unwrap();
    let _ = std::fs::remove_file(&pcap);
    assert_eq!(&cap[..4], &0xa1b2_c3d4u32.to_le_bytes(), "pcap magic");
    assert!(
        cap.len() >= 24 + 6 * (16 + 84),
        "capture of {} bytes",
        cap.len()
    );
}
