//! What `synack serve` logs: a connection's life at `RUST_LOG=synack_io=debug`,
//! nothing beyond its own notes at the default level, and a warning naming
//! what the kernel's side lacks when the device cannot carry traffic yet.

use crate::common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

/// One short echo exchange from the kernel, closed by the kernel.
fn exchange(ns: &Netns) {
    let to: SocketAddr = "198.18.0.2:7".parse().unwrap();
    let back = in_ns(ns, move || {
        let mut s = dial(to);
        s.write_all(b"hello").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        back
    });
    assert_eq!(back, b"hello");
}

/// Waits until standard error holds `what`, up to five seconds.
fn wait_for(s: &Synack, what: &str) -> String {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let err = s.stderr();
        if err.contains(what) || Instant::now() >= until {
            return err;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `synack serve` on tun0 with `log` as RUST_LOG.
fn serve(ns: &Netns, log: Option<&str>) -> Synack {
    let args = ["serve", "--tun", "tun0", "--ip", STACK_V4];
    let mut s = Synack::spawn_logging(ns, &args, log);
    let line = s.line(Duration::from_secs(10));
    assert_eq!(
        line.as_deref(),
        Some("listening on 198.18.0.2:7"),
        "{}",
        s.stderr()
    );
    s
}

#[test]
fn debug_logging_shows_a_connections_life() {
    let Some(ns) = testbed("logdbg", "tun0", "tun", &[]) else {
        return;
    };
    let mut s = serve(&ns, Some("synack_io=debug"));
    exchange(&ns);
    let err = wait_for(&s, "connection closed");
    assert!(s.terminate().success(), "{err}");
    for want in [
        "stack up on its device",
        "connection opened",
        "local=198.18.0.2:7 remote=198.18.0.1:",
        "how=\"accepted\"",
        "connection closed",
        "local=\"198.18.0.2:7\"",
        "reason=Normal",
    ] {
        assert!(err.contains(want), "no `{want}` in the log:\n{err}");
    }
}

#[test]
fn default_level_prints_only_the_commands_own_notes() {
    let Some(ns) = testbed("logdef", "tun0", "tun", &[]) else {
        return;
    };
    let mut s = serve(&ns, None);
    exchange(&ns);
    std::thread::sleep(Duration::from_millis(200));
    assert!(s.terminate().success());
    let err = s.stderr();
    // The one line `serve` always prints: which offloads it got.
    let other: Vec<&str> = err
        .lines()
        .filter(|l| !l.contains("segmentation offloads"))
        .collect();
    assert!(
        other.is_empty(),
        "unexpected output at the default level:\n{err}"
    );
}

#[test]
fn a_new_device_without_a_route_is_named_with_what_it_needs() {
    let Some(ns) = testbed("lognew", "tun0", "tun", &[]) else {
        return;
    };
    // A device that does not exist yet, and an address the kernel has no
    // route to through it.
    let args = ["serve", "--tun", "tnew0", "--ip", "198.18.9.2"];
    let mut s = Synack::spawn_logging(&ns, &args, None);
    let line = s.line(Duration::from_secs(10));
    assert_eq!(
        line.as_deref(),
        Some("listening on 198.18.9.2:7"),
        "{}",
        s.stderr()
    );
    // Read once it has exited: the warnings go to standard error, which
    // may lag behind the line on standard output.
    let status = s.terminate();
    let err = s.stderr();
    assert!(status.success(), "{err}");
    assert!(err.contains("WARN"), "{err}");
    assert!(err.contains("synack created the device tnew0"), "{err}");
    assert!(
        err.contains("no route to 198.18.9.2 through tnew0"),
        "{err}"
    );
    assert!(err.contains("ip route add 198.18.9.2 dev tnew0"), "{err}");
}
