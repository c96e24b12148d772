//! The Ethernet layer used by TAP devices, over in-memory links: ARP and
//! neighbor discovery by hand, then TCP between two stacks that must
//! resolve each other first.

mod common;

use common::*;
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};
use synack_io::device::{ChannelDevice, Device, Ethernet, EthernetConfig, MacAddr};
use synack_io::net::{TcpListener, TcpStream};
use synack_io::{Stack, StackConfig};
use synack_wire::{IpHeader, PROTO_ICMPV6, PROTO_TCP, checksum};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const THEM: MacAddr = MacAddr([0x52, 0x54, 0, 0, 0, 2]);
const FRAME_MTU: usize = 1514;

fn frame(dst: MacAddr, src: MacAddr, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn arp(op: u16, sha: MacAddr, spa: IpAddr, tha: MacAddr, tpa: IpAddr) -> Vec<u8> {
    let (IpAddr::V4(spa), IpAddr::V4(tpa)) = (spa, tpa) else {
        unreachable!()
    };
    let mut p = vec![0, 1, 8, 0, 6, 4];
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sha.0);
    p.extend_from_slice(&spa.octets());
    p.extend_from_slice(&tha.0);
    p.extend_from_slice(&tpa.octets());
    p
}

/// A minimal IPv4 TCP-protocol datagram to `dst` (contents do not matter to
/// the link layer).
fn datagram(dst: IpAddr, tag: u8) -> Vec<u8> {
    let h = IpHeader {
        src: A,
        dst,
        protocol: PROTO_TCP,
        ttl: 64,
        tos: 0,
        ident: u16::from(tag),
        dont_fragment: true,
        flow_label: 0,
    };
    let mut v = vec![0u8; 20];
    h.emit(0, &mut v).unwrap();
    v
}

fn recv_all(dev: &mut ChannelDevice) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; FRAME_MTU];
    while let Some(n) = dev.recv(&mut buf).unwrap() {
        out.push(buf[..n].to_vec());
    }
    out
}

#[test]
fn arp_answers_resolves_queues_and_gives_up() {
    let (link, mut raw) = ChannelDevice::pair(FRAME_MTU).unwrap();
    let mut eth = Ethernet::new(link, EthernetConfig::new(A));
    let us = eth.config().mac;
    let mut buf = [0u8; FRAME_MTU];

    // Who has A? Tell B.
    let req = arp(1, THEM, B, MacAddr([0; 6]), A);
    raw.send(&frame(MacAddr::BROADCAST, THEM, 0x0806, &req))
        .unwrap();
    assert_eq!(eth.recv(&mut buf).unwrap(), None, "ARP never surfaces");
    let replies = recv_all(&mut raw);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0], frame(THEM, us, 0x0806, &arp(2, us, A, THEM, B)));
    assert_eq!(eth.neighbor(B), Some(THEM), "the requester was learned");

    // Sending to an unknown neighbor: one request, a bounded queue.
    let c: IpAddr = "198.18.0.3".parse().unwrap();
    for tag in 0..6 {
        eth.send(&datagram(c, tag)).unwrap();
    }
    let sent = recv_all(&mut raw);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0],
        frame(
            MacAddr::BROADCAST,
            us,
            0x0806,
            &arp(1, us, A, MacAddr([0; 6]), c)
        )
    );
    assert_eq!(eth.counters().unresolved_discards, 2);
    // The answer releases the queue, in order.
    let c_mac = MacAddr([0x52, 0x54, 0, 0, 0, 3]);
    raw.send(&frame(us, c_mac, 0x0806, &arp(2, c_mac, c, us, A)))
        .unwrap();
    assert_eq!(eth.recv(&mut buf).unwrap(), None);
    let released = recv_all(&mut raw);
    let want: Vec<Vec<u8>> = (0..4)
        .map(|t| frame(c_mac, us, 0x0800, &datagram(c, t)))
        .collect();
    assert_eq!(released, want);

    // Nobody answers for D: three requests a second apart, then the
    // queued packet is dropped.
    let d: IpAddr = "198.18.0.4".parse().unwrap();
    eth.send(&datagram(d, 9)).unwrap();
    let t0 = Instant::now();
    for i in 1..=3u32 {
        eth.handle_timeout(t0 + Duration::from_millis(1100) * i);
    }
    assert_eq!(recv_all(&mut raw).len(), 3, "three ARP requests");
    assert_eq!(eth.stats().arp_requests, 4);
    assert_eq!(eth.counters().unresolved_discards, 3);
    assert_eq!(eth.poll_timeout(), None);
}

/// An ICMPv6 datagram from `src` to `dst` with hop limit `ttl`, its
/// checksum filled in.
fn icmpv6(src: Ipv6Addr, dst: Ipv6Addr, ttl: u8, mut body: Vec<u8>) -> Vec<u8> {
    let (s, d) = (IpAddr::V6(src), IpAddr::V6(dst));
    let sum = checksum::fold(checksum::sum(
        &body,
        checksum::pseudo_header(s, d, PROTO_ICMPV6, body.len() as u32),
    ));
    body[2..4].copy_from_slice(&sum.to_be_bytes());
    let h = IpHeader {
        src: s,
        dst: d,
        protocol: PROTO_ICMPV6,
        ttl,
        tos: 0,
        ident: 0,
        dont_fragment: false,
        flow_label: 0,
    };
    let mut ip = vec![0u8; 40];
    h.emit(body.len(), &mut ip).unwrap();
    ip.extend_from_slice(&body);
    ip
}

/// The body of a neighbor solicitation for `target` from THEM's MAC.
fn solicitation(target: Ipv6Addr) -> Vec<u8> {
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&target.octets());
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&THEM.0);
    ns
}

#[test]
fn neighbor_solicitation_is_answered() {
    let ours: Ipv6Addr = "fd00::1".parse().unwrap();
    let theirs: Ipv6Addr = "fd00::2".parse().unwrap();
    let (link, mut raw) = ChannelDevice::pair(FRAME_MTU).unwrap();
    let mut eth = Ethernet::new(link, EthernetConfig::new(IpAddr::V6(ours)));
    let us = eth.config().mac;
    // NS from fd00::2 for fd00::1, to the solicited-node group.
    let group: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
    let ip = icmpv6(theirs, group, 255, solicitation(ours));
    let dst_mac = MacAddr([0x33, 0x33, 0xff, 0, 0, 1]);
    raw.send(&frame(dst_mac, THEM, 0x86dd, &ip)).unwrap();
    let mut buf = [0u8; FRAME_MTU];
    assert_eq!(eth.recv(&mut buf).unwrap(), None);
    let out = recv_all(&mut raw);
    assert_eq!(out.len(), 1);
    let na = &out[0];
    assert_eq!(&na[0..6], &THEM.0);
    assert_eq!(&na[6..12], &us.0);
    let na_ip = synack_wire::parse_ip(&na[14..]).unwrap();
    assert_eq!(na_ip.ttl, 255);
    assert_eq!(na_ip.payload[0], 136);
    assert_eq!(&na_ip.payload[8..24], &ours.octets());
    assert_eq!(&na_ip.payload[26..32], &us.0);
    assert_eq!(eth.neighbor(IpAddr::V6(theirs)), Some(THEM));
}

#[test]
fn every_frame_the_link_layer_drops_is_counted() {
    let ours: Ipv6Addr = "fd00::1".parse().unwrap();
    let theirs: Ipv6Addr = "fd00::2".parse().unwrap();
    let mut cfg = EthernetConfig::new(A);
    cfg.add_address(IpAddr::V6(ours));
    let (link, mut raw) = ChannelDevice::pair(FRAME_MTU).unwrap();
    let mut eth = Ethernet::new(link, cfg);
    let us = eth.config().mac;
    let all_nodes = MacAddr([0x33, 0x33, 0, 0, 0, 1]);
    let frames = [
        // Shorter than an Ethernet header.
        vec![0u8; 10],
        // A datagram for another station.
        frame(
            MacAddr([0x52, 0x54, 0, 0, 0, 9]),
            THEM,
            0x0800,
            &datagram(A, 1),
        ),
        // LLDP: an EtherType we do not speak.
        frame(us, THEM, 0x88cc, &[0; 46]),
        // ARP cut short.
        frame(
            MacAddr::BROADCAST,
            THEM,
            0x0806,
            &arp(1, THEM, B, MacAddr([0; 6]), A)[..20],
        ),
        // A router solicitation, as the kernel sends on a new link.
        frame(
            MacAddr([0x33, 0x33, 0, 0, 0, 2]),
            THEM,
            0x86dd,
            &icmpv6(
                theirs,
                "ff02::2".parse().unwrap(),
                255,
                vec![133, 0, 0, 0, 0, 0, 0, 0],
            ),
        ),
        // A solicitation for another address.
        frame(
            all_nodes,
            THEM,
            0x86dd,
            &icmpv6(
                theirs,
                "ff02::1".parse().unwrap(),
                255,
                solicitation("fd00::7".parse().unwrap()),
            ),
        ),
        // A solicitation for us that crossed a router (RFC 4861 7.1.1).
        frame(
            all_nodes,
            THEM,
            0x86dd,
            &icmpv6(theirs, "ff02::1".parse().unwrap(), 64, solicitation(ours)),
        ),
    ];
    for f in &frames {
        raw.send(f).unwrap();
    }
    let mut buf = [0u8; FRAME_MTU];
    assert_eq!(eth.recv(&mut buf).unwrap(), None, "nothing surfaces");
    assert!(recv_all(&mut raw).is_empty(), "nothing is answered");
    let counted: Vec<(&str, u64)> = eth.counters().iter().filter(|(_, v)| *v > 0).collect();
    assert_eq!(
        counted,
        [
            ("RxLengthErrors", 1),
            ("RxOtherhostDropped", 1),
            ("RxNohandler", 1),
            ("ArpInErrors", 1),
            ("NdiscInErrors", 1),
            ("NdiscIgnored", 2),
        ]
    );
}

/// A link that reads like any other but whose every write fails, as a TAP
/// device that went down does.
struct BrokenWrites(ChannelDevice);

impl Device for BrokenWrites {
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<Option<usize>> {
        self.0.recv(buf)
    }
    fn send(&mut self, _: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::other("link down"))
    }
    fn raw_fd(&self) -> std::os::fd::RawFd {
        self.0.raw_fd()
    }
    fn mtu(&self) -> usize {
        self.0.mtu()
    }
}

/// An ARP reply the link refuses is this layer's loss to count: it is not
/// a read error, and the datagram behind the request still comes up.
#[test]
fn a_reply_the_link_refuses_is_counted_and_reading_goes_on() {
    let (link, mut raw) = ChannelDevice::pair(FRAME_MTU).unwrap();
    let mut eth = Ethernet::new(BrokenWrites(link), EthernetConfig::new(A));
    let us = eth.config().mac;
    let req = arp(1, THEM, B, MacAddr([0; 6]), A);
    raw.send(&frame(MacAddr::BROADCAST, THEM, 0x0806, &req))
        .unwrap();
    raw.send(&frame(us, THEM, 0x0800, &datagram(A, 7))).unwrap();
    let mut buf = [0u8; FRAME_MTU];
    assert_eq!(eth.recv(&mut buf).unwrap(), Some(20));
    assert_eq!(&buf[..20], &datagram(A, 7)[..]);
    assert_eq!(eth.stats().arp_replies, 1);
    assert_eq!(eth.counters().tx_dropped, 1);
    // A datagram of the stack's own to a known neighbor: the caller hears
    // of the failure (and counts it as TxErrors), so it is not a drop here.
    assert!(eth.send(&datagram(B, 8)).is_err());
    assert_eq!(eth.counters().tx_dropped, 1);
}

fn ethernet_pair(a: IpAddr, b: IpAddr) -> (Stack, Stack) {
    let (la, lb) = ChannelDevice::pair(FRAME_MTU).unwrap();
    (
        Stack::new(
            Ethernet::new(la, EthernetConfig::new(a)),
            StackConfig::new(a),
        )
        .unwrap(),
        Stack::new(
            Ethernet::new(lb, EthernetConfig::new(b)),
            StackConfig::new(b),
        )
        .unwrap(),
    )
}

async fn echo_over(a_ip: IpAddr, b_ip: IpAddr) {
    let (a, b) = ethernet_pair(a_ip, b_ip);
    let l = TcpListener::bind(&b, addr(b_ip, 7)).await.unwrap();
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let (mut r, mut w) = s.into_split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
    });
    let s = within(2, TcpStream::connect(&a, addr(b_ip, 7)))
        .await
        .unwrap();
    let (mut r, mut w) = s.into_split();
    let msg = pattern(200_000);
    let send = async {
        w.write_all(&msg).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut got = Vec::new();
    let ((), n) = within(3, async { tokio::join!(send, r.read_to_end(&mut got)) }).await;
    n.unwrap();
    assert!(got == msg);
    // Link MTU 1514 leaves 1500 for IP.
    assert_eq!(a.io_counters().tx_errors, 0);
}

#[tokio::test]
async fn tcp_over_ethernet_v4() {
    echo_over(A, B).await;
}

#[tokio::test]
async fn tcp_over_ethernet_v6() {
    echo_over("fd00::1".parse().unwrap(), "fd00::2".parse().unwrap()).await;
}
