//! A scriptable test double for [`Node`], and packet builders.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Node;
use crate::time::Instant;

/// A minimal IPv4 datagram (20-byte header, protocol 253 "experimental")
/// carrying `payload`. The sim does not check the header checksum, so it is
/// left zero.
pub(crate) fn ipv4(src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    let total = (20 + payload.len()) as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[8] = 64;
    p[9] = 253;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

/// A minimal IPv6 datagram (next header 253) carrying `payload`.
pub(crate) fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 40];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    p[6] = 253;
    p[7] = 64;
    p[8..24].copy_from_slice(&src.octets());
    p[24..40].copy_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

pub(crate) fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// Swaps source and destination so a packet goes back where it came from.
fn reversed(packet: &[u8]) -> Vec<u8> {
    let mut p = packet.to_vec();
    match p.first().map(|b| b >> 4) {
        Some(4) if p.len() >= 20 => {
            let (src, dst) = p[12..20].split_at_mut(4);
            src.swap_with_slice(dst);
        }
        Some(6) if p.len() >= 40 => {
            let (src, dst) = p[8..40].split_at_mut(16);
            src.swap_with_slice(dst);
        }
        _ => {}
    }
    p
}

/// A node that sends what it is told to, remembers what it receives,
/// optionally echoes, and runs a list of timers; plus switches to make it
/// misbehave.
#[derive(Default)]
pub(crate) struct TestNode {
    /// Packets waiting for `poll_transmit`.
    pub outbox: VecDeque<Vec<u8>>,
    /// Everything received, with its arrival instant.
    pub inbox: Vec<(Instant, Vec<u8>)>,
    /// Reply to each packet with its addresses swapped.
    pub echo: bool,
    /// Armed deadlines; all those due are cleared by one `handle_timeout`.
    pub timers: Vec<Instant>,
    /// Instants at which `handle_timeout` was called.
    pub fired: Vec<Instant>,
    /// Packet sent each time a timer fires.
    pub on_timer: Option<Vec<u8>>,
    /// Disarm every timer when a packet arrives (like an ACK stopping a
    /// retransmission timer).
    pub packet_cancels_timers: bool,
    /// Misbehaviour: always report this deadline, whatever happens.
    pub stuck_at: Option<Instant>,
    /// Misbehaviour: `poll_transmit` never runs dry (it repeats this).
    pub endless: Option<Vec<u8>>,
}

impl TestNode {
    pub(crate) fn new() -> TestNode {
        TestNode::default()
    }

    pub(crate) fn echoing() -> TestNode {
        TestNode {
            echo: true,
            ..TestNode::default()
        }
    }

    pub(crate) fn send(&mut self, packet: Vec<u8>) {
        self.outbox.push_back(packet);
    }

    pub(crate) fn arrivals(&self) -> Vec<Instant> {
        self.inbox.iter().map(|(t, _)| *t).collect()
    }
}

impl Node for TestNode {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.inbox.push((now, packet.to_vec()));
        if self.packet_cancels_timers {
            self.timers.clear();
        }
        if self.echo {
            self.outbox.push_back(reversed(packet));
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let p = match &self.endless {
            Some(p) => p.clone(),
            None => self.outbox.pop_front()?,
        };
        buf[..p.len()].copy_from_slice(&p);
        Some(p.len())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.stuck_at.or_else(|| self.timers.iter().min().copied())
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.fired.push(now);
        self.timers.retain(|&t| t > now);
        if let Some(p) = &self.on_timer {
            self.outbox.push_back(p.clone());
        }
    }
}
