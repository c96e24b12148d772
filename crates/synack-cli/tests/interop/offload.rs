//! The TUN segmentation offloads (issue 11), on (the default) and off
//! (`--no-offload`): 64 MiB through synack's echo server and back, byte
//! for byte, over IPv4 and IPv6. The data crosses both ways: the kernel's
//! super-segments cut into synack's datagrams, and synack's segments
//! coalesced into super-segments the kernel cuts.

use super::common::*;
use std::net::SocketAddr;
use std::sync::Arc;

const MIB64: usize = 64 << 20;

fn echo_64mib(tag: &str, ip: &str, at: &str, offload: bool, seed: u64) {
    let Some(ns) = testbed(tag, "tun0", "tun", &[]) else {
        return;
    };
    let mut args = vec!["--tun", "tun0", "--ip", ip];
    if !offload {
        args.push("--no-offload");
    }
    let mut synack = Synack::serve(&ns, &args, at);
    let data = Arc::new(random_bytes(MIB64, seed));
    let sent = data.clone();
    let to: SocketAddr = at.parse().unwrap();
    let back = in_ns(&ns, move || echo_exchange(to, sent));
    assert_same("echoed data", &back, &data);
    // What the kernel's IP layer took in from synack: with the offloads,
    // super-segments (one packet each); without, every segment. The
    // namespace is the test's own, so its counters started at zero.
    let segments = MIB64 / 1448;
    let received = ip_in_receives(&ns, ip.contains(':'));
    if offload {
        assert!(
            received < segments / 4,
            "{received} packets reached the kernel for {segments} segments: not coalesced"
        );
    } else {
        assert!(
            received > segments * 9 / 10,
            "{received} packets reached the kernel for {segments} segments"
        );
    }
    assert!(synack.terminate().success(), "{}", synack.stderr());
    let said = synack.stderr();
    let want = if offload {
        "synack: tun0: segmentation offloads on"
    } else {
        "synack: tun0: segmentation offloads off (--no-offload)"
    };
    assert!(said.contains(want), "stderr: {said}");
}

#[test]
fn echo_64mib_with_offloads_ipv4() {
    echo_64mib("off4", STACK_V4, "198.18.0.2:7", true, 64);
}

#[test]
fn echo_64mib_with_offloads_ipv6() {
    echo_64mib("off6", STACK_V6, "[2001:db8::2]:7", true, 66);
}

#[test]
fn echo_64mib_without_offloads_ipv4() {
    echo_64mib("nooff4", STACK_V4, "198.18.0.2:7", false, 65);
}

#[test]
fn echo_64mib_without_offloads_ipv6() {
    echo_64mib("nooff6", STACK_V6, "[2001:db8::2]:7", false, 67);
}

/// The namespace's IpInReceives (IPv4) or Ip6InReceives counter.
fn ip_in_receives(ns: &Netns, v6: bool) -> usize {
    let name = if v6 { "Ip6InReceives" } else { "IpInReceives" };
    let out = ns.run_ok("nstat", &["-az", name]).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some(name)).then(|| f.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no {name} in: {text}"))
}
