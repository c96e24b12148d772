//! The demo's simulated world: hosts (an engine endpoint plus the plumbing
//! that shows what it does) and scripted nodes on one `sim::Network`.
//!
//! A [`Host`] wraps an [`Endpoint`] as a network node and drains the
//! endpoint's events right after every call into it: state transitions go
//! to the ladder at once, so a transition is printed before the segment the
//! endpoint sends in reaction to the same input; the other events are kept
//! for the scenario's application logic.

use crate::ladder::{Ladder, Side};
use crate::plot::Samples;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use synack::sim::{LinkConfig, Network, Node, NodeId, PcapWriter};
use synack::{Config, Endpoint, Event, Instant, Secret, State};

pub type Shared = Rc<RefCell<Ladder>>;
pub type Pcap = PcapWriter<Box<dyn Write>>;
/// Where hosts record the engine's own view for `demo --html`.
pub type Recorder = Rc<RefCell<Samples>>;

/// An endpoint on the network, with its application-visible events.
pub struct Host {
    pub name: &'static str,
    pub ep: Endpoint,
    /// Events other than state transitions, oldest first, for the scenario.
    pub events: VecDeque<Event>,
    ladder: Shared,
    recorder: Option<Recorder>,
    /// Synchronized connections, whose congestion state the recorder
    /// follows (a listener's thousands of half-open ones are left out).
    synced: Vec<synack::ConnId>,
}

impl Host {
    /// Moves the endpoint's pending events to the ladder or to `events`.
    fn drain(&mut self, now: Instant) {
        while let Some(ev) = self.ep.poll_event() {
            let (local, remote, from, to) = match ev {
                Event::StateChanged(c) => {
                    if c.to == State::Established {
                        self.synced.push(c.conn);
                    } else if c.to == State::Closed {
                        self.synced.retain(|x| *x != c.conn);
                    }
                    (c.local, c.remote, c.from, c.to)
                }
                Event::TimeWaitEnded(s) => (s.local, s.remote, State::TimeWait, State::Closed),
                other => {
                    self.events.push_back(other);
                    continue;
                }
            };
            self.ladder
                .borrow_mut()
                .state(now, self.name, remote.ip(), from, to);
            if let Some(r) = &self.recorder {
                r.borrow_mut().transition(now, local, remote, from, to);
            }
        }
        // Every call into the endpoint can move cwnd, ssthresh or SRTT;
        // the recorder keeps only readings that changed.
        if let Some(r) = &self.recorder {
            let mut r = r.borrow_mut();
            for info in self.synced.iter().filter_map(|c| self.ep.info(*c)) {
                r.record(now, &info);
            }
        }
    }
}

impl Node for Host {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.ep.handle_packet(now, packet);
        self.drain(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        let n = self.ep.poll_transmit(now, buf);
        // Emitting can finish a connection (e.g. compaction into TIME-WAIT).
        self.drain(now);
        n
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.ep.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.drain(now);
    }
}

/// A node of the demo network: an engine host or a scripted peer.
pub enum SimNode {
    Host(Box<Host>),
    Script(Box<dyn Node>),
}

impl Node for SimNode {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        match self {
            SimNode::Host(h) => h.handle_packet(now, packet),
            SimNode::Script(s) => s.handle_packet(now, packet),
        }
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        match self {
            SimNode::Host(h) => h.poll_transmit(now, buf),
            SimNode::Script(s) => s.poll_transmit(now, buf),
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        match self {
            SimNode::Host(h) => h.poll_timeout(),
            SimNode::Script(s) => s.poll_timeout(),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            SimNode::Host(h) => h.handle_timeout(now),
            SimNode::Script(s) => s.handle_timeout(now),
        }
    }
}

/// The endpoint configuration of the demo: the defaults, with state
/// tracing on and a 1 s MSL so that TIME-WAIT (2 x MSL) lasts 2 s instead
/// of a minute.
pub fn demo_config() -> Config {
    let mut cfg = Config::default();
    cfg.msl = core::time::Duration::from_secs(1);
    cfg.trace_states = true;
    cfg
}

/// A deterministic secret per (seed, host name), so that a seed reproduces
/// ISNs, ports and cookies exactly.
pub fn secret(seed: u64, name: &str) -> Secret {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    for (i, c) in name.bytes().enumerate() {
        b[8 + i % 8] ^= c.rotate_left(i as u32 / 8);
    }
    Secret::from_bytes(b)
}

pub fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// A network, its ladder, and the hosts on it.
pub struct World {
    pub net: Network<SimNode>,
    pub ladder: Shared,
    seed: u64,
    recorder: Option<Recorder>,
}

impl World {
    /// A network starting at `start` whose links lose `loss_percent` of
    /// packets both ways; every packet is drawn on the ladder and, with
    /// `pcap`, captured.
    pub fn new(
        seed: u64,
        loss_percent: f64,
        quiet: bool,
        start: Instant,
        pcap: Option<Pcap>,
    ) -> World {
        let mut net = Network::starting_at(seed, start);
        net.set_default_link(LinkConfig::lossy(loss_percent))
            .unwrap();
        let ladder: Shared = Rc::new(RefCell::new(Ladder::new(quiet)));
        let l = ladder.clone();
        net.set_tracer(move |ev| l.borrow_mut().packet(ev));
        if let Some(w) = pcap {
            net.set_pcap(w);
        }
        World {
            net,
            ladder,
            seed,
            recorder: None,
        }
    }

    /// Makes the hosts added from now on record their transitions and
    /// congestion state into `r`.
    pub fn record_into(&mut self, r: Recorder) {
        self.recorder = Some(r);
    }

    /// Attaches an engine endpoint at `ip`, drawn in column `side`.
    pub fn add_host(&mut self, name: &'static str, ip: [u8; 4], side: Side, cfg: Config) -> NodeId {
        let now = self.net.now();
        let host = Host {
            name,
            ep: Endpoint::new(cfg, secret(self.seed, name), now),
            events: VecDeque::new(),
            ladder: self.ladder.clone(),
            recorder: self.recorder.clone(),
            synced: Vec::new(),
        };
        self.ladder.borrow_mut().name(v4(ip), name, side);
        self.net
            .add_node(SimNode::Host(Box::new(host)), &[v4(ip)])
            .unwrap()
    }

    /// Attaches a scripted node. With `ip` it is drawn in column `side`;
    /// without, it owns no address (a spoofing attacker).
    pub fn add_script(
        &mut self,
        name: &'static str,
        ip: Option<[u8; 4]>,
        side: Side,
        node: Box<dyn Node>,
    ) -> NodeId {
        let addrs: Vec<IpAddr> = ip.map(v4).into_iter().collect();
        if let Some(a) = ip {
            self.ladder.borrow_mut().name(v4(a), name, side);
        }
        self.net.add_node(SimNode::Script(node), &addrs).unwrap()
    }

    /// The host `id`. Scenarios only ask for ids they created with
    /// [`add_host`](Self::add_host), so anything else is a bug here.
    pub fn host(&mut self, id: NodeId) -> &mut Host {
        match &mut self.net[id] {
            SimNode::Host(h) => h,
            SimNode::Script(_) => unreachable!("node {id} is a script, not a host"),
        }
    }

    /// Read-only [`host`](Self::host).
    pub fn host_ref(&self, id: NodeId) -> &Host {
        match &self.net[id] {
            SimNode::Host(h) => h,
            SimNode::Script(_) => unreachable!("node {id} is a script, not a host"),
        }
    }

    /// Runs an application call on host `id` at the current virtual time,
    /// then shows the transitions it caused.
    pub fn call<R>(&mut self, id: NodeId, f: impl FnOnce(&mut Endpoint, Instant) -> R) -> R {
        let now = self.net.now();
        let h = self.host(id);
        let r = f(&mut h.ep, now);
        h.drain(now);
        r
    }

    pub fn now(&self) -> Instant {
        self.net.now()
    }

    /// One step of the network (see `Network::step`); false when idle.
    pub fn step(&mut self) -> bool {
        self.net.step()
    }

    /// Ends the capture and hands the writer back (to continue it in a
    /// next world, or to flush it).
    pub fn take_pcap(&mut self) -> Option<Pcap> {
        self.net.take_pcap()
    }
}
