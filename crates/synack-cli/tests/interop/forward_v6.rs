//! `synack forward` over IPv6: the `forward` topology with addresses from
//! 2001:db8::/32 only (`Bed::new_v6`), each scenario run once with the
//! router's kernel forwarding and once through synack.

use crate::common::*;
use crate::forward_bed::*;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[test]
fn forward_v6_open_port_echoes() {
    let Some(mut bed) = Bed::new_v6("fw6echo", &[]) else {
        return;
    };
    let _servers = Servers::start_at(&bed.server, IpAddr::from([0u16; 8]), &[7000], echo());
    let data = Arc::new(random_bytes(1 << 20, 6));
    let to = SocketAddr::new(server_ip6(2).into(), 7000);
    let (kernel, ours) = bed.both(&[], |bed| {
        let sent = data.clone();
        bed.in_client(move || sha256(&echo_exchange(to, sent)))
    });
    assert_eq!(kernel, sha256(&data), "the reference run");
    assert_eq!(ours, kernel, "through synack; log:\n{}", bed.log());
    assert!(bed.log().contains("flow ended"), "log:\n{}", bed.log());
}

#[test]
fn forward_v6_closed_port_is_refused() {
    let Some(mut bed) = Bed::new_v6("fw6refused", &[]) else {
        return;
    };
    let to = SocketAddr::new(server_ip6(2).into(), 7001);
    refused_like_the_kernel(&mut bed, to, "IPv6 refused");
}

#[test]
fn forward_v6_keeps_the_original_destination() {
    let Some(mut bed) = Bed::new_v6("fw6dst", &[]) else {
        return;
    };
    let ports = [7100, 7101, 7102];
    let _servers = Servers::start_at(&bed.server, IpAddr::from([0u16; 8]), &ports, whoami());
    let targets: Vec<SocketAddr> = (2..=4)
        .flat_map(|i| ports.map(|p| SocketAddr::new(server_ip6(i).into(), p)))
        .collect();
    let seen = original_destinations(&mut bed, &[], &targets);
    assert_eq!(seen[0], "[2001:db8:2::2]:7100");
}
