//! Path MTU discovery against a real router (issue 9; IP-05, IP-06,
//! IP-07): synack on a TUN device in a router namespace; the kernel there
//! forwards, over a veth link whose router end has an MTU of 1,280, to a
//! second namespace where a kernel server (its own interface at 1,500
//! bytes, so it offers an MSS of 1,460) reads what synack sends. synack's 1,500-byte
//! segments (DF set) meet the smaller link: the forwarding kernel answers
//! with its own ICMP "fragmentation needed" (IPv4) or "packet too big"
//! (IPv6), synack lowers its MSS, and 4 MiB arrive byte-exact. Then the
//! router's ICMP errors are dropped (a black hole): synack's black-hole
//! detection falls back to a smaller MSS after three timeouts, and the
//! transfer still completes. Root only (skipped with a printed reason
//! otherwise, failed under `SYNACK_REQUIRE_INTEROP=1`).

mod tun;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;
use synack_io::net::TcpStream;
use synack_io::{Stack, StackConfig};
use synack_testbed::{Netns, Routed, STACK_V4, STACK_V6, require};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIZE: usize = 4 << 20;

fn data(salt: u8) -> Vec<u8> {
    (0..SIZE).map(|i| ((i % 239) as u8) ^ salt).collect()
}

/// A kernel server in `ns` at `addr` that reads one connection to its
/// end and answers "ok" if it got `data(salt)`, "bad" otherwise.
fn kernel_sink(ns: &Netns, addr: &'static str, salt: u8) -> std::thread::JoinHandle<()> {
    let l = tun::kernel_listener(ns, addr);
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("kernel read");
        let verdict: &[u8] = if got == data(salt) { b"ok" } else { b"bad" };
        s.write_all(verdict).unwrap();
    })
}

/// What synack saw of one transfer.
#[derive(Debug)]
struct Sent {
    verdict: Vec<u8>,
    mss_after: u16,
}

async fn send_to(stack: &Stack, to: SocketAddr, salt: u8) -> Sent {
    let mut s = TcpStream::connect(stack, to).await.expect("connect");
    s.write_all(&data(salt)).await.expect("synack write");
    let mss_after = s.info().unwrap().mss;
    s.shutdown().await.unwrap();
    let mut verdict = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut verdict))
        .await
        .expect("the kernel's verdict within 60 s")
        .expect("synack read");
    Sent { verdict, mss_after }
}

#[test]
fn path_mtu_through_a_router_with_and_without_icmp() {
    let Some(_) = require(&["iptables", "ip6tables"]) else {
        return;
    };
    let net = Routed::new("pmtu", "tun0").expect("router and kernel namespaces");
    let (router, kernel) = (&net.router, &net.kernel);
    // IPv6 beside the IPv4 the testbed routes.
    router
        .ip(&[
            "-6",
            "addr",
            "add",
            "2001:db8:2::1/64",
            "dev",
            "veth0",
            "nodad",
        ])
        .unwrap();
    kernel
        .ip(&[
            "-6",
            "addr",
            "add",
            "2001:db8:2::2/64",
            "dev",
            "veth1",
            "nodad",
        ])
        .unwrap();
    kernel
        .ip(&[
            "-6",
            "route",
            "add",
            "2001:db8::/64",
            "via",
            "2001:db8:2::1",
        ])
        .unwrap();
    router
        .thread(|| std::fs::write("/proc/sys/net/ipv6/conf/all/forwarding", "1"))
        .join()
        .unwrap()
        .expect("IPv6 forwarding");
    // The smaller link, on the router's side only: the kernel server's
    // own interface keeps 1,500 bytes, so it offers an MSS of 1,460 and
    // only the router knows the path is narrower.
    router.ip(&["link", "set", "veth0", "mtu", "1280"]).unwrap();

    let sinks = vec![
        kernel_sink(kernel, "198.18.2.2:7700", 1),
        kernel_sink(kernel, "[2001:db8:2::2]:7700", 2),
        kernel_sink(kernel, "198.18.2.2:7701", 3),
        kernel_sink(kernel, "[2001:db8:2::2]:7701", 4),
    ];
    let (phase_tx, phase_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let cfg = StackConfig::new(STACK_V4.parse().unwrap()).with_address(STACK_V6.parse().unwrap());
    let synack = tun::on_tun(router, cfg, move |stack| async move {
        // With the router's ICMP errors.
        let v4 = send_to(&stack, "198.18.2.2:7700".parse().unwrap(), 1).await;
        let v6 = send_to(&stack, "[2001:db8:2::2]:7700".parse().unwrap(), 2).await;
        let with = (v4, v6, stack.counters().clone());
        // Without them: a black hole.
        phase_tx.send(()).unwrap();
        go_rx.await.unwrap();
        let v4 = send_to(&stack, "198.18.2.2:7701".parse().unwrap(), 3).await;
        let v6 = send_to(&stack, "[2001:db8:2::2]:7701".parse().unwrap(), 4).await;
        (with, (v4, v6, stack.counters().clone()))
    });
    phase_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the first transfers end");
    // The router's errors no longer leave it.
    router
        .run_ok(
            "iptables",
            &[
                "-A",
                "OUTPUT",
                "-p",
                "icmp",
                "--icmp-type",
                "fragmentation-needed",
                "-j",
                "DROP",
            ],
        )
        .unwrap();
    router
        .run_ok(
            "ip6tables",
            &[
                "-A",
                "OUTPUT",
                "-p",
                "icmpv6",
                "--icmpv6-type",
                "packet-too-big",
                "-j",
                "DROP",
            ],
        )
        .unwrap();
    go_tx.send(()).unwrap();
    let ((v4, v6, c1), (b4, b6, c2)) = synack.join().expect("synack thread");
    for s in sinks {
        s.join().expect("kernel sink");
    }
    eprintln!(
        "with ICMP: {v4:?} {v6:?} (timeouts {}, retransmitted {}); black hole: {b4:?} {b6:?}",
        c1.timeouts, c1.retrans_segs
    );
    // With ICMP: exact, and the MSS fits the 1,280-byte link (IPv4 1,240
    // less 12 for timestamps; IPv6 1,220 less 12).
    assert_eq!(v4.verdict, b"ok", "IPv4 through the router, byte-exact");
    assert_eq!(v6.verdict, b"ok", "IPv6 through the router, byte-exact");
    assert!(v4.mss_after <= 1228, "IPv4 MSS {}", v4.mss_after);
    assert!(v6.mss_after <= 1208, "IPv6 MSS {}", v6.mss_after);
    assert_eq!(c1.pmtu_blackholes, 0, "the errors told synack");
    // Black hole: exact all the same, after the fallback.
    assert_eq!(b4.verdict, b"ok", "IPv4 black hole, byte-exact");
    assert_eq!(b6.verdict, b"ok", "IPv6 black hole, byte-exact");
    assert!(b4.mss_after <= 1228 && b6.mss_after <= 1208);
    assert!(
        c2.pmtu_blackholes >= 2,
        "one fallback per connection: {}",
        c2.pmtu_blackholes
    );
}
