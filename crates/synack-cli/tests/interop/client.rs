//! `synack connect` as the client of a kernel server, and connections
//! refused either way.

use crate::common::*;
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A kernel listener on `addr` in `ns`, serving one connection with `f`;
/// returns once it listens.
pub fn kernel_server<T: Send + 'static>(
    ns: &Netns,
    addr: &str,
    f: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let addr = addr.to_string();
    let (ready_tx, ready_rx) = mpsc::channel();
    let h = ns.thread(move || {
        let l = TcpListener::bind(&addr).expect("kernel bind");
        ready_tx.send(()).unwrap();
        // Never hang the test: give up accepting after a while.
        l.set_nonblocking(true).unwrap();
        let until = Instant::now() + IO_TIMEOUT;
        let s = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < until => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("kernel accept: {e}"),
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        f(s)
    });
    ready_rx.recv().expect("kernel server did not start");
    h
}

#[test]
fn synack_client_16mib_each_way() {
    let Some(ns) = testbed("client", "tun0", "tun", &[]) else {
        return;
    };
    let up = random_bytes(16 << 20, 3);
    let down = random_bytes(16 << 20, 4);
    let to_send = down.clone();
    let server = kernel_server(&ns, "198.18.0.1:5000", move |mut s| {
        let mut w = s.try_clone().unwrap();
        let writer = thread::spawn(move || {
            w.write_all(&to_send).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let got = read_all(&mut s).expect("kernel read");
        writer.join().unwrap();
        got
    });
    let (status, out, err) = connect(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "198.18.0.1:5000"],
        up.clone(),
    );
    assert!(status.success(), "synack connect failed: {err}");
    assert!(err.is_empty(), "no progress on a pipe: {err:?}");
    assert_same("kernel -> synack stdout", &out, &down);
    let got = server.join().unwrap();
    assert_same("synack stdin -> kernel", &got, &up);
}

#[test]
fn kernel_connect_to_closed_port_is_refused_at_once() {
    let Some(ns) = testbed("refused", "tun0", "tun", &[]) else {
        return;
    };
    let sock = std::env::temp_dir().join(format!("synack-refused-{}.sock", std::process::id()));
    let sock_arg = sock.to_str().unwrap().to_string();
    let mut synack = Synack::serve(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "--control", &sock_arg],
        "198.18.0.2:7",
    );
    let (result, took) = in_ns(&ns, || {
        let start = Instant::now();
        let r = TcpStream::connect_timeout(&"198.18.0.2:8".parse().unwrap(), IO_TIMEOUT);
        (r.map(drop).map_err(|e| e.kind()), start.elapsed())
    });
    assert_eq!(result, Err(ErrorKind::ConnectionRefused));
    // "At once": every SYN synack received was answered with a RST (the
    // kernel retransmits only if one went unanswered for a second, which
    // a loaded machine can also cause, so the time is reported, not
    // asserted).
    let out = std::process::Command::new(SYNACK)
        .args(["ss", "--control", &sock_arg, "--counters"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let counter = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    };
    let (syns, rsts) = (counter("InSegs"), counter("OutRsts"));
    assert!(
        syns >= 1 && rsts == syns,
        "{syns} SYNs, {rsts} RSTs, refused after {took:?}"
    );
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

#[test]
fn synack_connect_to_closed_port_exits_with_reason() {
    let Some(ns) = testbed("refused2", "tun0", "tun", &[]) else {
        return;
    };
    let start = Instant::now();
    let (status, out, err) = connect(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "198.18.0.1:5999"],
        Vec::new(),
    );
    assert!(!status.success());
    assert!(out.is_empty());
    assert_eq!(err, "synack: connection refused\n");
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn synack_connect_times_out_with_reason() {
    let Some(ns) = testbed("timeout", "tun0", "tun", &[]) else {
        return;
    };
    // Nobody answers for 198.18.0.99: the kernel does not forward, and
    // the blackhole route makes sure it drops the SYNs without a word, so
    // the handshake never completes.
    ns.ip(&["route", "add", "blackhole", "198.18.0.99/32"])
        .unwrap();
    let (status, _, err) = connect(
        &ns,
        &[
            "--tun",
            "tun0",
            "--ip",
            STACK_V4,
            "198.18.0.99:80",
            "--timeout",
            "1.5",
        ],
        Vec::new(),
    );
    assert!(!status.success());
    assert_eq!(err, "synack: connection timed out\n");
}

/// 1 MiB each way from `synack connect` over IPv6 on TUN, and over IPv4 on
/// TAP (where synack must resolve the kernel's address by ARP first).
#[test]
fn synack_client_over_ipv6_and_over_tap() {
    for (mode, dev, ip, server) in [
        ("tun", "tun0", STACK_V6, "[2001:db8::1]:5003"),
        ("tap", "tap0", STACK_V4, "198.18.0.1:5003"),
    ] {
        let Some(ns) = testbed(&format!("client{mode}"), dev, mode, &[]) else {
            return;
        };
        let up = random_bytes(1 << 20, 12);
        let down = random_bytes(1 << 20, 13);
        let to_send = down.clone();
        let kernel = kernel_server(&ns, server, move |mut s| {
            let mut w = s.try_clone().unwrap();
            let writer = thread::spawn(move || {
                w.write_all(&to_send).unwrap();
                w.shutdown(Shutdown::Write).unwrap();
            });
            let got = read_all(&mut s).expect("kernel read");
            writer.join().unwrap();
            got
        });
        let flag = format!("--{mode}");
        let (status, out, err) = connect(&ns, &[&flag, dev, "--ip", ip, server], up.clone());
        assert!(status.success(), "{mode}: {err}");
        assert_same(&format!("{mode}: kernel -> synack"), &out, &down);
        assert_same(
            &format!("{mode}: synack -> kernel"),
            &kernel.join().unwrap(),
            &up,
        );
    }
}
