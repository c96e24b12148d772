//! The simulated network through its public API only, with two different
//! kinds of node in one network (as `Box<dyn Node>`).

use std::cell::RefCell;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use synack::Instant;
use synack::sim::{Fate, LinkConfig, Network, Node, PcapWriter};

const PINGER: [u8; 4] = [192, 0, 2, 1];
const ECHO: [u8; 4] = [192, 0, 2, 2];

fn datagram(src: [u8; 4], dst: [u8; 4], seq: u16) -> Vec<u8> {
    let mut p = vec![0u8; 22];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&22u16.to_be_bytes());
    p[8] = 64;
    p[9] = 253;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    p[20..22].copy_from_slice(&seq.to_be_bytes());
    p
}

/// Sends a numbered ping every `interval`, `count` times, and records the
/// round-trip time of each reply; shared state so the test can read it
/// through the trait object.
struct Pinger {
    interval: Duration,
    next: Instant,
    sent: u16,
    count: u16,
    queued: Option<Vec<u8>>,
    rtts: Rc<RefCell<Vec<Duration>>>,
}

impl Node for Pinger {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        let seq = u16::from_be_bytes([packet[20], packet[21]]);
        let sent_at = Instant::ZERO + self.interval * u32::from(seq);
        self.rtts.borrow_mut().push(now.saturating_since(sent_at));
    }
    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let p = self.queued.take()?;
        buf[..p.len()].copy_from_slice(&p);
        Some(p.len())
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        (self.sent < self.count).then_some(self.next)
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.queued = Some(datagram(PINGER, ECHO, self.sent));
        self.sent += 1;
        self.next = now + self.interval;
    }
}

#[derive(Default)]
struct Echo {
    replies: Vec<Vec<u8>>,
}

impl Node for Echo {
    fn handle_packet(&mut self, _now: Instant, packet: &[u8]) {
        let seq = u16::from_be_bytes([packet[20], packet[21]]);
        self.replies.push(datagram(ECHO, PINGER, seq));
    }
    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let p = self.replies.pop()?;
        buf[..p.len()].copy_from_slice(&p);
        Some(p.len())
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _now: Instant) {}
}

#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn addr(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

#[test]
fn ping_over_an_impaired_link() {
    let rtts = Rc::new(RefCell::new(Vec::new()));
    let mut net: Network<Box<dyn Node>> = Network::new(0x5eed);
    let pinger = net
        .add_node(
            Box::new(Pinger {
                interval: Duration::from_millis(100),
                next: Instant::ZERO,
                sent: 0,
                count: 50,
                queued: None,
                rtts: rtts.clone(),
            }),
            &[addr(PINGER)],
        )
        .unwrap();
    let echo = net
        .add_node(Box::new(Echo::default()), &[addr(ECHO)])
        .unwrap();
    net.set_link(
        pinger,
        echo,
        LinkConfig::lossy(20.0).with_delay(Duration::from_millis(15)),
    )
    .unwrap();
    net.set_link(
        echo,
        pinger,
        LinkConfig::default().with_delay(Duration::from_millis(25)),
    )
    .unwrap();

    let fates = Rc::new(RefCell::new(Vec::new()));
    let sink = fates.clone();
    net.set_tracer(move |e| sink.borrow_mut().push(e.fate));
    let pcap = SharedBuf::default();
    net.set_pcap(PcapWriter::new(Box::new(pcap.clone()) as Box<dyn Write>).unwrap());

    let mut steps = 0;
    while net.step() {
        steps += 1;
        assert!(steps < 10_000);
    }

    let stats = net.stats();
    let rtts = rtts.borrow();
    // Every reply took exactly the sum of both one-way delays.
    assert!(
        rtts.iter().all(|&r| r == Duration::from_millis(40)),
        "{rtts:?}"
    );
    assert_eq!(rtts.len() as u64, 50 - stats.lost);
    assert!(stats.lost > 0 && stats.lost < 20, "{stats:?}");
    assert_eq!(stats.sent_packets, 50 + rtts.len() as u64);
    assert_eq!(fates.borrow().len() as u64, stats.sent_packets);
    assert_eq!(
        fates.borrow().iter().filter(|&&f| f == Fate::Lost).count() as u64,
        stats.lost
    );
    // 24-byte header plus 16 + 22 bytes per captured packet.
    assert_eq!(pcap.0.borrow().len() as u64, 24 + 38 * stats.sent_packets);
    // Idle after the last ping (sent at 4.9 s) was lost or answered.
    assert!((Instant::from_millis(4900)..=Instant::from_millis(4940)).contains(&net.now()));
}
