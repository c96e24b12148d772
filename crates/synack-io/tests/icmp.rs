//! ICMP through a running stack: ping is answered, and an ICMP error about
//! our SYN fails the connect. The far end of the link is the test itself,
//! writing raw datagrams.

mod common;

use common::*;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use synack_io::device::{ChannelDevice, Device};
use synack_io::net::TcpStream;
use synack_io::{Stack, StackConfig};
use synack_wire::{IpHeader, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, checksum, parse_ip};

/// An ICMP or ICMPv6 datagram with its checksum filled in.
fn icmp(src: IpAddr, dst: IpAddr, mut body: Vec<u8>) -> Vec<u8> {
    let proto = if src.is_ipv4() {
        PROTO_ICMP
    } else {
        PROTO_ICMPV6
    };
    let initial = if src.is_ipv4() {
        0
    } else {
        checksum::pseudo_header(src, dst, proto, body.len() as u32)
    };
    let sum = checksum::fold(checksum::sum(&body, initial));
    body[2..4].copy_from_slice(&sum.to_be_bytes());
    let h = IpHeader {
        src,
        dst,
        protocol: proto,
        ttl: 64,
        tos: 0,
        ident: 1,
        dont_fragment: false,
        flow_label: 0,
    };
    let mut out = vec![0u8; h.header_len()];
    h.emit(body.len(), &mut out).unwrap();
    out.extend_from_slice(&body);
    out
}

/// Waits for the next datagram on the raw end.
async fn next_packet(dev: &mut ChannelDevice) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 2000];
    loop {
        if let Some(n) = dev.recv(&mut buf).unwrap() {
            return buf[..n].to_vec();
        }
        assert!(Instant::now() < deadline, "no packet");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn ping_v4_and_v6() {
    let v6: IpAddr = "fd00::1".parse().unwrap();
    let peer6: IpAddr = "fd00::2".parse().unwrap();
    let (dev, mut raw) = ChannelDevice::pair(1500).unwrap();
    let stack = Stack::new(dev, StackConfig::new(A).with_address(v6)).unwrap();

    raw.send(&icmp(
        B,
        A,
        b"\x08\x00\0\0\x00\x2a\x00\x01abcdefgh".to_vec(),
    ))
    .unwrap();
    let reply = next_packet(&mut raw).await;
    let ip = parse_ip(&reply).unwrap();
    assert_eq!((ip.src, ip.dst, ip.protocol), (A, B, PROTO_ICMP));
    assert_eq!(ip.payload[0], 0, "echo reply");
    assert_eq!(&ip.payload[4..], b"\x00\x2a\x00\x01abcdefgh");

    raw.send(&icmp(peer6, v6, b"\x80\x00\0\0\x00\x07\x00\x01v6".to_vec()))
        .unwrap();
    let reply = next_packet(&mut raw).await;
    let ip = parse_ip(&reply).unwrap();
    assert_eq!((ip.src, ip.dst, ip.protocol), (v6, peer6, PROTO_ICMPV6));
    assert_eq!(ip.payload[0], 129, "echo reply");

    // An echo request for an address that is not ours goes unanswered.
    raw.send(&icmp(B, C, b"\x08\x00\0\0\x00\x2a\x00\x02".to_vec()))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut buf = [0u8; 100];
    assert_eq!(raw.recv(&mut buf).unwrap(), None);
    let io = stack.io_counters();
    assert_eq!(io.icmp_echo_replies, 2);
    assert_eq!(io.icmp_ignored, 1);
}

const C: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 3));

/// Replies that find the link's queue full are dropped, and the stack's
/// device counters say so.
#[tokio::test]
async fn replies_to_a_full_link_are_counted_as_dropped() {
    let (dev, mut raw) = ChannelDevice::pair_with_capacity(1500, 2).unwrap();
    let stack = Stack::new(dev, StackConfig::new(A)).unwrap();
    // One request at a time (our direction holds two too), replies left
    // unread.
    for seq in 1..=5u8 {
        raw.send(&icmp(B, A, vec![8, 0, 0, 0, 0, 0x2a, 0, seq]))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(2);
        while stack.io_counters().icmp_echo_replies < u64::from(seq) {
            assert!(Instant::now() < deadline, "request {seq} unanswered");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert_eq!(stack.io_counters().tx_packets, 5);
    assert_eq!(stack.device_counters().tx_dropped, 3);
    let mut buf = [0u8; 100];
    assert!(raw.recv(&mut buf).unwrap().is_some());
    assert!(raw.recv(&mut buf).unwrap().is_some());
    assert_eq!(raw.recv(&mut buf).unwrap(), None);
}

#[tokio::test]
async fn port_unreachable_refuses_connect() {
    let (dev, mut raw) = ChannelDevice::pair(1500).unwrap();
    let stack = Stack::new(dev, StackConfig::new(A)).unwrap();
    let connect = tokio::spawn({
        let stack = stack.clone();
        async move { TcpStream::connect(&stack, addr(B, 80)).await }
    });
    let syn = next_packet(&mut raw).await;
    let ip = parse_ip(&syn).unwrap();
    assert_eq!(ip.protocol, PROTO_TCP);
    // Type 3 code 3, quoting the SYN's IP header and first 8 TCP bytes.
    let mut body = vec![3, 3, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(&syn[..28]);
    raw.send(&icmp(B, A, body)).unwrap();
    let e = within(2, connect).await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(stack.io_counters().icmp_errors, 1);
}
