//! `synack forward` against the router's own kernel forwarding: every
//! test runs its scenario once with the kernel forwarding (the reference)
//! and once through synack, and what the client sees must be the same.
//! The topology is in `forward_bed`.

use crate::common::*;
use crate::forward_bed::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use synack_testbed::Crossing;

#[test]
fn forward_open_port_echoes() {
    let Some(mut bed) = Bed::new("fwecho", &[]) else {
        return;
    };
    let _servers = Servers::start(&bed.server, &[7000], echo());
    let data = Arc::new(random_bytes(1 << 20, 13));
    let to: SocketAddr = "198.18.30.1:7000".parse().unwrap();
    let (kernel, ours) = bed.both(&[], |bed| {
        let sent = data.clone();
        bed.in_client(move || sha256(&echo_exchange(to, sent)))
    });
    assert_eq!(kernel, sha256(&data), "the reference run");
    assert_eq!(ours, kernel, "through synack; log:\n{}", bed.log());
    assert!(bed.log().contains("flow ended"), "log:\n{}", bed.log());
}

#[test]
fn forward_closed_port_is_refused() {
    let Some(mut bed) = Bed::new("fwrefused", &[]) else {
        return;
    };
    let to: SocketAddr = "198.18.30.1:7001".parse().unwrap();
    refused_like_the_kernel(&mut bed, to, "refused");
}

#[test]
fn forward_keeps_the_original_destination() {
    let Some(mut bed) = Bed::new("fwdst", &[]) else {
        return;
    };
    let ports = [7100, 7101, 7102, 7103, 7104];
    let _servers = Servers::start(&bed.server, &ports, whoami());
    let targets: Vec<SocketAddr> = (1..=10)
        .flat_map(|i| ports.map(|p| SocketAddr::new(server_ip(i).into(), p)))
        .collect();
    assert_eq!(targets.len(), 50);
    // The options that keep relayed traffic out of the device, on.
    let args = ["--mark", "7", "--bind-interface", "r1"];
    original_destinations(&mut bed, &args, &targets);
}

/// What one connection showed: the bytes read, and how reading ended.
type Seen = (Vec<u8>, Result<(), ErrorKind>);

fn read_until_end(s: &mut std::net::TcpStream) -> Seen {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e.kind())),
        }
    }
}

/// Sends what the server saw on a connection back to the test.
fn reporting(
    f: impl Fn(std::net::TcpStream) -> Seen + Send + Sync + 'static,
) -> (Handler, std::sync::mpsc::Receiver<Seen>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let h: Handler = Arc::new(move |s| {
        let seen = f(s);
        let _ = tx.lock().unwrap().send(seen);
    });
    (h, rx)
}

#[test]
fn forward_half_close_and_reset_both_ways() {
    let Some(mut bed) = Bed::new("fwclose", &[]) else {
        return;
    };
    // 7200: replies once the client's data has ended.
    let reply: Handler = Arc::new(|mut s| {
        let (got, _) = read_until_end(&mut s);
        let _ = s.write_all(&[b"reply:".as_slice(), &got].concat());
    });
    // 7201: sends a banner, shuts its writing, then reads the client.
    let (banner, banner_seen) = reporting(|mut s| {
        s.write_all(b"banner").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        read_until_end(&mut s)
    });
    // 7202: resets at once.
    let resets: Handler = Arc::new(reset);
    // 7203: reads until the client's reset.
    let (reader, reader_seen) = reporting(|mut s| read_until_end(&mut s));
    let _a = Servers::start(&bed.server, &[7200], reply);
    let _b = Servers::start(&bed.server, &[7201], banner);
    let _c = Servers::start(&bed.server, &[7202], resets);
    let _d = Servers::start(&bed.server, &[7203], reader);
    let at = |port| SocketAddr::new(server_ip(2).into(), port);
    let (kernel, ours) = bed.both(&[], |bed| {
        let (p0, p1, p2, p3) = (at(7200), at(7201), at(7202), at(7203));
        let client = bed.in_client(move || {
            let mut s = dial(p0);
            s.write_all(b"hello").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let half_client = read_until_end(&mut s);
            let mut s = dial(p1);
            let half_server = read_until_end(&mut s);
            s.write_all(b"late data").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut s = dial(p2);
            let reset_by_server = read_until_end(&mut s);
            let s = dial(p3);
            // Once the server has the connection, reset it.
            std::thread::sleep(Duration::from_millis(200));
            reset(s);
            (half_client, half_server, reset_by_server)
        });
        let at_server = (
            banner_seen.recv_timeout(IO_TIMEOUT).expect("7201's report"),
            reader_seen.recv_timeout(IO_TIMEOUT).expect("7203's report"),
        );
        (client, at_server)
    });
    let want_client = (
        (b"reply:hello".to_vec(), Ok(())),
        (b"banner".to_vec(), Ok(())),
        (Vec::new(), Err(ErrorKind::ConnectionReset)),
    );
    let want_server = (
        (b"late data".to_vec(), Ok(())),
        (Vec::new(), Err(ErrorKind::ConnectionReset)),
    );
    assert_eq!(kernel, (want_client, want_server), "the reference run");
    assert_eq!(ours, kernel, "through synack; log:\n{}", bed.log());
}

#[test]
fn forward_black_hole_and_unreachable_host() {
    let Some(mut bed) = Bed::new("fwhole", &["iptables"]) else {
        return;
    };
    let hole = server_ip(10).to_string();
    bed.server
        .iptables(&["-A", "INPUT", "-d", &hole, "-j", "DROP"])
        .unwrap();
    let _servers = Servers::start(&bed.server, &[7300], echo());
    let holed = SocketAddr::new(server_ip(10).into(), 7300);
    let nobody = SocketAddr::new(NOBODY.parse().unwrap(), 7300);
    let (kernel, ours) = bed.both(&[], |bed| {
        bed.in_client(move || {
            let timed = |to, limit| {
                let started = Instant::now();
                let r = try_dial(to, limit).map(|_| ());
                (r, started.elapsed())
            };
            (
                timed(holed, Duration::from_secs(2)),
                timed(nobody, Duration::from_secs(15)),
            )
        })
    });
    eprintln!(
        "black hole: kernel {:?}, synack {:?}; unreachable: kernel {:?}, synack {:?}",
        kernel.0.1, ours.0.1, kernel.1.1, ours.1.1
    );
    assert_eq!(kernel.0.0, Err(ErrorKind::TimedOut), "the reference run");
    assert_eq!(
        kernel.1.0,
        Err(ErrorKind::HostUnreachable),
        "the reference run"
    );
    assert_eq!(ours.0.0, kernel.0.0, "black hole; log:\n{}", bed.log());
    assert_eq!(ours.1.0, kernel.1.0, "unreachable; log:\n{}", bed.log());
}

/// 64 MiB each way (an echo) through synack with 1 % loss on every leg,
/// each direction: the drops sit where each packet is one segment and its
/// sender is not told (see `synack_testbed::loss`).
#[test]
fn forward_64mib_both_ways_under_loss() {
    let Some(mut bed) = Bed::new("fwloss", &["iptables"]) else {
        return;
    };
    let p = 0.01;
    let drops = [
        // synack to the client, and the client to synack.
        bed.client.random_drop("INPUT", Crossing::In("c0"), p),
        bed.router.random_drop("FORWARD", Crossing::In("r0"), p),
        // synack's kernel socket to the server, and back.
        bed.server.random_drop("INPUT", Crossing::In("s0"), p),
        bed.router.random_drop("INPUT", Crossing::In("r1"), p),
    ]
    .map(|d| d.expect("a drop rule"));
    let _servers = Servers::start(&bed.server, &[7400], echo());
    bed.through_synack(&[]);
    let data = Arc::new(random_bytes(64 << 20, 64));
    let sent = data.clone();
    let to = SocketAddr::new(server_ip(3).into(), 7400);
    let started = Instant::now();
    let back = bed.in_client(move || echo_exchange(to, sent));
    let dropped: Vec<String> = drops
        .iter()
        .map(|d| {
            let c = d.counters().unwrap();
            format!("{} of {}", c.dropped, c.seen)
        })
        .collect();
    eprintln!(
        "64 MiB each way under 1 % loss in {:.1} s; dropped {}",
        started.elapsed().as_secs_f64(),
        dropped.join(", ")
    );
    assert_same("echoed through synack", &back, &data);
    assert!(drops.iter().all(|d| d.counters().unwrap().dropped > 0));
}

/// Polls `f` every 50 ms until it holds or `limit` passes; how long it
/// took, if it held.
fn within(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if f() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A client that resets its SYN while synack is still dialling a black
/// hole: the dial (the router's kernel socket in SYN-SENT) is cancelled.
#[test]
fn forward_cancels_the_dial_when_the_client_gives_up() {
    let Some(mut bed) = Bed::new("fwcancel", &["iptables", "ss"]) else {
        return;
    };
    let hole = server_ip(10).to_string();
    bed.server
        .iptables(&["-A", "INPUT", "-d", &hole, "-j", "DROP"])
        .unwrap();
    bed.through_synack(&["--connect-timeout", "60"]);
    let src = std::net::SocketAddrV4::new("198.18.10.2".parse().unwrap(), 40001);
    let dst = std::net::SocketAddrV4::new(server_ip(10), 7500);
    let raw = bed.in_client(move || {
        let raw = RawTcp::open();
        raw.send(src, dst, 1000, SYN);
        raw
    });
    let dialling = within(Duration::from_secs(5), || syn_sent(&bed.router, &hole) == 1);
    assert!(
        dialling.is_some(),
        "synack never dialled; log:\n{}",
        bed.log()
    );
    // The raw socket belongs to the client's namespace wherever it is used.
    raw.send(src, dst, 1001, RST);
    let cancelled = within(Duration::from_secs(5), || syn_sent(&bed.router, &hole) == 0);
    eprintln!("dial cancelled {cancelled:?} after the client's RST");
    assert!(
        cancelled.is_some(),
        "the router still dials {hole}; log:\n{}",
        bed.log()
    );
}

/// A TUN MTU of 1280: synack offers the client an MSS that fits it (1240
/// at most), so a 2 KB first write crosses whole; `--mss-clamp` lowers it.
#[test]
fn forward_mss_fits_the_tun_mtu() {
    for (clamp, most) in [(None, 1240), (Some("1100"), 1100)] {
        let Some(mut bed) = Bed::new("fwmtu", &[]) else {
            return;
        };
        bed.router
            .ip(&["link", "set", "tun0", "mtu", "1280"])
            .unwrap();
        let _servers = Servers::start(&bed.server, &[7700], echo());
        match clamp {
            Some(n) => bed.through_synack(&["--mss-clamp", n]),
            None => bed.through_synack(&[]),
        }
        let to = SocketAddr::new(server_ip(4).into(), 7700);
        let data = random_bytes(2048, 7);
        let sent = data.clone();
        let (mss, back) = bed.in_client(move || {
            let mut s = dial(to);
            let mss = max_segment(&s);
            s.write_all(&sent).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            (mss, read_all(&mut s).unwrap())
        });
        eprintln!("TUN MTU 1280, --mss-clamp {clamp:?}: the client's TCP_MAXSEG is {mss}");
        assert!(mss <= most, "MSS {mss} above {most}; log:\n{}", bed.log());
        assert_same("2 KB echoed", &back, &data);
    }
}

/// The client socket's `TCP_MAXSEG`: the MSS it sends with.
fn max_segment(s: &std::net::TcpStream) -> u32 {
    use std::os::fd::AsRawFd;
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is the stream's own; the value and its length
    // live across the call.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MAXSEG,
            (&raw mut v).cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0, "TCP_MAXSEG: {}", std::io::Error::last_os_error());
    v as u32
}

/// 20,000 SYNs from spoofed sources across 198.18.0.0/15 to a black hole,
/// while a real client connects and echoes: the real flow goes through,
/// the router dials no more than the pending bound at once, and synack's
/// memory stays bounded.
#[test]
fn forward_survives_a_spoofed_syn_flood() {
    let Some(mut bed) = Bed::new("fwflood", &["iptables", "ss"]) else {
        return;
    };
    let hole = server_ip(10).to_string();
    bed.server
        .iptables(&["-A", "INPUT", "-d", &hole, "-j", "DROP"])
        .unwrap();
    let _servers = Servers::start(&bed.server, &[7601], echo());
    bed.through_synack(&[]);
    let pid = bed.synack.as_ref().unwrap().pid();
    let before = vm_rss(pid);
    let flood = bed.client.thread(|| {
        let raw = RawTcp::open();
        let dst = std::net::SocketAddrV4::new(server_ip(10), 7600);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut sent = 0;
        while sent < 20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // 198.18.0.0/15: the low 17 bits are ours to pick.
            let ip = std::net::Ipv4Addr::from(0xc612_0000 | (x as u32 & 0x1_ffff));
            if ip.octets()[2] == 10 && ip.octets()[1] == 18 {
                continue; // the client's own subnet
            }
            let port = 1024 + (x >> 32) as u16 % 60000;
            raw.send(
                std::net::SocketAddrV4::new(ip, port),
                dst,
                (x >> 16) as u32,
                SYN,
            );
            sent += 1;
            if sent % 100 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let data = Arc::new(random_bytes(256 * 1024, 99));
    let sent = data.clone();
    let to = SocketAddr::new(server_ip(1).into(), 7601);
    let back = bed.in_client(move || echo_exchange(to, sent));
    flood.join().unwrap();
    let dialling = syn_sent(&bed.router, &hole);
    let after = vm_rss(pid);
    eprintln!(
        "SYN flood: VmRSS {} KiB before, {} KiB after; the router dials {dialling} at once",
        before / 1024,
        after / 1024
    );
    assert_same("echoed during the flood", &back, &data);
    assert!(
        dialling <= 4096,
        "{dialling} dials beyond the pending bound"
    );
    assert!(
        after.saturating_sub(before) < 64 << 20,
        "synack grew by {} KiB",
        (after - before) / 1024
    );
    let synack = bed.synack.as_mut().unwrap();
    assert!(synack.wait(Duration::ZERO).is_none(), "synack exited");
}
