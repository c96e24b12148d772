//! The simulated network: nodes, routing, in-flight packets and the clock.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use super::Node;
use super::link::{LinkConfig, LinkQueue};
use super::pcap::PcapWriter;
use super::rng::SimRng;
use super::route;
use super::trace::{Fate, LinkStats, NetStats, NodeId, TraceEvent};
use crate::time::Instant;
use core::fmt;
use core::ops::{Index, IndexMut};

/// How many datagrams one node may hand over in a single drain before the
/// network moves on (the rest are collected at the next step). Bounds the
/// damage of a node whose `poll_transmit` never runs dry.
pub const DEFAULT_TRANSMIT_LIMIT: usize = 65_536;

/// Size of the buffer handed to `poll_transmit`: the largest IPv4 datagram.
const SCRATCH_LEN: usize = 65_535;

/// The no-progress guard's push: one tick of the clock.
const STALL_PUSH: Duration = Duration::from_micros(1);

type Tracer = Box<dyn FnMut(&TraceEvent<'_>)>;

struct Slot<N> {
    node: N,
    addrs: Vec<IpAddr>,
    /// The instant `handle_timeout` was last called, cleared when a packet
    /// arrives; lets the stall guard tell a node that made no progress.
    fired_at: Option<Instant>,
}

/// What one direction of a link remembers between packets.
#[derive(Default)]
struct Direction {
    queue: LinkQueue,
    /// The burst-loss chain's state: true when bad.
    bad: bool,
    stats: LinkStats,
}

/// A packet on the wire.
struct Flight {
    at: Instant,
    /// Order of scheduling; breaks ties between packets arriving together
    /// so they arrive in the order they were sent.
    seq: u64,
    to: NodeId,
    packet: Vec<u8>,
}

// Ordered by (arrival, seq) alone; seq is unique so this is a total order
// and the packet bytes never need comparing.
impl PartialEq for Flight {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Flight {}
impl PartialOrd for Flight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Flight {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A deterministic network of [`Node`]s on a virtual clock.
///
/// # Order of events
///
/// [`step`](Self::step) first collects every node's outbound packets (in
/// node order), then moves the clock to the earliest pending instant `T`
/// (the next packet arrival or node timer) and, at `T`:
///
/// 1. hands over every packet due at `T` that was already in flight when
///    the step began, in the order they were sent, collecting the
///    receiver's replies after each;
/// 2. fires, in node order, every node whose timer is due at `T` (asking it
///    again just before, so a timer cancelled by a packet in 1. does not
///    fire), collecting its packets after each.
///
/// Packets sent at `T` over a zero-delay link arrive in a later step at the
/// same `T`; this keeps each step finite even when two nodes ping-pong with
/// no delay.
///
/// # Misbehaving nodes
///
/// A timer reported in the past fires at the current instant. A node that,
/// right after being fired at `T`, still asks for `T` (or earlier) without
/// any packet having reached it since is pushed to `T + 1 µs` (counted in
/// [`NetStats::timer_stalls`]), so the clock always advances and
/// [`run_until`](Self::run_until) terminates. A node whose `poll_transmit`
/// never returns `None` is cut off after [`DEFAULT_TRANSMIT_LIMIT`] packets
/// per drain (see [`set_transmit_limit`](Self::set_transmit_limit)).
pub struct Network<N: Node> {
    now: Instant,
    seed: u64,
    rng: SimRng,
    nodes: Vec<Slot<N>>,
    /// Address to owner; a BTreeMap so nothing ever depends on hash order.
    routes: BTreeMap<IpAddr, NodeId>,
    default_link: LinkConfig,
    links: BTreeMap<(NodeId, NodeId), LinkConfig>,
    /// Queue, burst state and counters of each direction that has carried
    /// a packet.
    dirs: BTreeMap<(NodeId, NodeId), Direction>,
    in_flight: BinaryHeap<Reverse<Flight>>,
    next_seq: u64,
    scratch: Box<[u8]>,
    transmit_limit: usize,
    tracer: Option<Tracer>,
    pcap: Option<PcapWriter<Box<dyn Write>>>,
    stats: NetStats,
}

impl<N: Node> Network<N> {
    /// An empty network whose clock starts at [`Instant::ZERO`] and whose
    /// random choices all derive from `seed`.
    pub fn new(seed: u64) -> Self {
        Network::starting_at(seed, Instant::ZERO)
    }

    /// An empty network whose clock starts at `start` (to exercise
    /// endpoints far from the epoch, e.g. near a wrap of some counter).
    pub fn starting_at(seed: u64, start: Instant) -> Self {
        Network {
            now: start,
            seed,
            rng: SimRng::new(seed),
            nodes: Vec::new(),
            routes: BTreeMap::new(),
            default_link: LinkConfig::default(),
            links: BTreeMap::new(),
            dirs: BTreeMap::new(),
            in_flight: BinaryHeap::new(),
            next_seq: 0,
            scratch: vec![0; SCRATCH_LEN].into_boxed_slice(),
            transmit_limit: DEFAULT_TRANSMIT_LIMIT,
            tracer: None,
            pcap: None,
            stats: NetStats::default(),
        }
    }

    /// Attaches `node`; packets whose destination is one of `addrs` go to
    /// it. Refused, with nothing attached, if another node already owns one
    /// of the addresses.
    pub fn add_node(&mut self, node: N, addrs: &[IpAddr]) -> Result<NodeId, SimError> {
        let id = self.nodes.len();
        if let Some(&a) = addrs.iter().find(|a| self.routes.contains_key(a)) {
            return Err(SimError::AddressInUse(a, self.routes[&a]));
        }
        for &a in addrs {
            self.routes.insert(a, id);
        }
        self.nodes.push(Slot {
            node,
            addrs: addrs.to_vec(),
            fired_at: None,
        });
        Ok(id)
    }

    /// Sets the impairments for packets from `from` to `to` (one direction
    /// only). Refused on an unknown node or a meaningless setting.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, cfg: LinkConfig) -> Result<(), SimError> {
        self.known(from)?;
        self.known(to)?;
        cfg.validate()?;
        self.links.insert((from, to), cfg);
        Ok(())
    }

    /// Sets both directions between `a` and `b` to `cfg`.
    pub fn set_link_both(&mut self, a: NodeId, b: NodeId, cfg: LinkConfig) -> Result<(), SimError> {
        self.set_link(a, b, cfg)?;
        self.set_link(b, a, cfg)
    }

    /// Sets the impairments of every direction not given its own with
    /// [`set_link`](Self::set_link), including ones already in use.
    pub fn set_default_link(&mut self, cfg: LinkConfig) -> Result<(), SimError> {
        cfg.validate()?;
        self.default_link = cfg;
        Ok(())
    }

    fn known(&self, id: NodeId) -> Result<(), SimError> {
        if id < self.nodes.len() {
            Ok(())
        } else {
            Err(SimError::UnknownNode(id))
        }
    }

    /// The impairments currently applying from `from` to `to`.
    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        self.links.get(&(from, to)).unwrap_or(&self.default_link)
    }

    /// The node `id`, if there is one (`net[id]` is the same, and panics
    /// on an unknown id as a slice does).
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.nodes.get(id).map(|s| &s.node)
    }

    /// The node `id`, to drive it (e.g. open a connection); anything it
    /// queues is collected at the next step.
    pub fn node_mut(&mut self, id: NodeId) -> Option<&mut N> {
        self.nodes.get_mut(id).map(|s| &mut s.node)
    }

    /// Number of nodes attached.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The addresses node `id` was attached under (none for an unknown
    /// id).
    pub fn addrs(&self, id: NodeId) -> &[IpAddr] {
        self.nodes.get(id).map_or(&[], |s| &s.addrs)
    }

    /// The node owning `addr`.
    pub fn owner(&self, addr: IpAddr) -> Option<NodeId> {
        self.routes.get(&addr).copied()
    }

    /// The virtual clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The seed this network was created with; print it when a test fails.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The network's random generator, for test scripts that want their
    /// own choices (e.g. spoofed addresses) to be reproducible from the
    /// same seed. Drawing from it changes the link decisions that follow.
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    /// Counters so far.
    pub fn stats(&self) -> NetStats {
        self.stats.clone()
    }

    /// What the direction from `from` to `to` did with the packets routed
    /// into it since the network was made (zeros for a direction never
    /// used): every packet by fate, and the TCP data segments among them.
    pub fn link_stats(&self, from: NodeId, to: NodeId) -> LinkStats {
        self.dirs
            .get(&(from, to))
            .map(|d| d.stats)
            .unwrap_or_default()
    }

    /// Packets on the wire, not yet handed to their receiver.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Caps how many packets one node may hand over per drain.
    pub fn set_transmit_limit(&mut self, packets: usize) {
        self.transmit_limit = packets;
    }

    /// Calls `f` for every packet handed to the network, with its fate, and
    /// once more for each duplicate.
    pub fn set_tracer(&mut self, f: impl FnMut(&TraceEvent<'_>) + 'static) {
        self.tracer = Some(Box::new(f));
    }

    /// Removes the tracer.
    pub fn clear_tracer(&mut self) {
        self.tracer = None;
    }

    /// Captures every packet as it is handed to the network, before any
    /// impairment (so dropped packets appear too), stamped with the send
    /// time. A write error ends the capture and counts in
    /// [`NetStats::pcap_errors`].
    pub fn set_pcap(&mut self, w: PcapWriter<Box<dyn Write>>) {
        self.pcap = Some(w);
    }

    /// Stops capturing and returns the writer (to flush it).
    pub fn take_pcap(&mut self) -> Option<PcapWriter<Box<dyn Write>>> {
        self.pcap.take()
    }

    /// Hands `packet` to the network as if node `from` had sent it now: it
    /// is routed by its destination address through the link from `from`
    /// with all its impairments. For spoofed floods and attack scripts.
    pub fn inject(&mut self, from: NodeId, packet: &[u8]) -> Result<(), SimError> {
        self.known(from)?;
        self.send(from, packet);
        Ok(())
    }

    /// Collects every node's packets, advances the clock to the next
    /// pending instant and handles everything due then (see the type's
    /// documentation for the order). Returns `false`, without moving the
    /// clock, when nothing at all is pending: no packet in flight and no
    /// timer armed.
    pub fn step(&mut self) -> bool {
        self.drain_all();
        match self.next_instant() {
            Some(t) => {
                self.advance(t);
                true
            }
            None => false,
        }
    }

    /// Steps through everything due at or before `deadline`, then leaves
    /// the clock at `deadline` (if it was not already later), so that
    /// `run_until(now + d)` always means "let `d` pass", idle or not. The
    /// exception is [`Instant::NEVER`]: an idle network then stops with
    /// the clock at its last event.
    pub fn run_until(&mut self, deadline: Instant) {
        loop {
            self.drain_all();
            match self.next_instant() {
                Some(t) if t <= deadline => self.advance(t),
                _ => break,
            }
        }
        self.settle_at(deadline);
    }

    /// Steps until `pred` holds (checked before the first step and after
    /// each), the network is idle, or the next event lies beyond `limit`;
    /// returns whether `pred` holds at the end. When it gives up, the clock
    /// is left at `limit` as with [`run_until`](Self::run_until).
    pub fn run_until_pred(
        &mut self,
        limit: Instant,
        mut pred: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        loop {
            if pred(self) {
                return true;
            }
            self.drain_all();
            match self.next_instant() {
                Some(t) if t <= limit => self.advance(t),
                _ => break,
            }
        }
        self.settle_at(limit);
        pred(self)
    }

    fn settle_at(&mut self, deadline: Instant) {
        if deadline != Instant::NEVER && deadline > self.now {
            self.now = deadline;
        }
    }

    /// The earliest instant at which something is due, or `None` if idle.
    fn next_instant(&mut self) -> Option<Instant> {
        let mut next = self.in_flight.peek().map(|Reverse(f)| f.at);
        for id in 0..self.nodes.len() {
            if let Some((t, stalled)) = self.timer(id) {
                if stalled {
                    self.stats.timer_stalls += 1;
                }
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        next
    }

    /// When node `id`'s timer is effectively due, and whether the stall
    /// guard moved it.
    fn timer(&mut self, id: NodeId) -> Option<(Instant, bool)> {
        let slot = &mut self.nodes[id];
        let asked = slot.node.poll_timeout()?;
        if asked == Instant::NEVER {
            return None;
        }
        let due = asked.max(self.now);
        // `fired_at <= now <= due`, so equality means the node was fired at
        // this very instant and asks for it again without news.
        if slot.fired_at == Some(due) {
            Some((due + STALL_PUSH, true))
        } else {
            Some((due, false))
        }
    }

    /// Moves the clock to `t` and handles everything due then.
    fn advance(&mut self, t: Instant) {
        debug_assert!(t >= self.now);
        self.now = t;
        let mark = self.next_seq;
        while self
            .in_flight
            .peek()
            .is_some_and(|Reverse(f)| f.at <= t && f.seq < mark)
        {
            let Some(Reverse(f)) = self.in_flight.pop() else {
                break;
            };
            self.stats.arrived_packets += 1;
            self.stats.arrived_bytes += f.packet.len() as u64;
            let slot = &mut self.nodes[f.to];
            slot.fired_at = None;
            slot.node.handle_packet(t, &f.packet);
            self.drain(f.to);
        }
        for id in 0..self.nodes.len() {
            if self.timer(id).is_some_and(|(due, _)| due <= t) {
                let slot = &mut self.nodes[id];
                slot.fired_at = Some(t);
                slot.node.handle_timeout(t);
                self.stats.timers_fired += 1;
                self.drain(id);
            }
        }
    }

    fn drain_all(&mut self) {
        for id in 0..self.nodes.len() {
            self.drain(id);
        }
    }

    /// Collects node `id`'s outbound packets, up to the transmit limit.
    fn drain(&mut self, id: NodeId) {
        // Taken out of self so `send` can borrow self while reading it.
        let mut buf = std::mem::take(&mut self.scratch);
        let mut sent = 0;
        loop {
            if sent == self.transmit_limit {
                self.stats.transmit_overflows += 1;
                break;
            }
            let Some(n) = self.nodes[id].node.poll_transmit(self.now, &mut buf) else {
                break;
            };
            // A node that claims more than the buffer holds is broken; what
            // it wrote is cut to the buffer rather than read past it.
            self.send(id, &buf[..n.min(buf.len())]);
            sent += 1;
        }
        self.scratch = buf;
    }

    /// Routes one packet from `from` through its link.
    fn send(&mut self, from: NodeId, packet: &[u8]) {
        let now = self.now;
        self.stats.sent_packets += 1;
        self.stats.sent_bytes += packet.len() as u64;
        let capture_failed = self
            .pcap
            .as_mut()
            .is_some_and(|w| w.write_packet(now, packet).is_err());
        if capture_failed {
            // A half-written record would garble the rest of the file.
            self.pcap = None;
            self.stats.pcap_errors += 1;
        }

        let Some(dst) = route::destination(packet) else {
            self.report(from, None, None, packet, Fate::Malformed);
            return;
        };
        let Some(to) = self.owner(dst) else {
            self.report(from, None, None, packet, Fate::NoRoute);
            return;
        };
        let cfg = *self.link(from, to);
        if packet.len() > cfg.mtu {
            self.report(from, Some(to), None, packet, Fate::TooBig);
            return;
        }
        let dir = self.dirs.entry((from, to)).or_default();
        let backlog = dir.queue.backlog(now);
        let Some(on_wire) = dir.queue.enqueue(now, packet.len(), &cfg) else {
            self.report(from, Some(to), None, packet, Fate::QueueFull);
            return;
        };
        // Loss after the queue: a packet lost on the wire still used its
        // share of the bandwidth. The burst chain steps for every packet on
        // the wire, whatever the random draw said, so that its spells keep
        // the length the model gives them.
        let random = self.rng.chance(cfg.loss);
        let burst = cfg
            .burst
            .is_some_and(|chain| chain.step(&mut dir.bad, &mut self.rng));
        if random || burst {
            self.report(from, Some(to), None, packet, Fate::Lost);
            return;
        }
        let mut bytes = packet.to_vec();
        let mark = cfg.bandwidth_bps.is_some()
            && cfg.ecn_mark_bytes.is_some_and(|t| backlog >= t)
            && mark_ce(&mut bytes);
        let fate = if mark {
            Fate::Marked
        } else if self.rng.chance(cfg.corrupt) {
            // Routing already happened, so a flip in the destination
            // address still reaches the intended receiver, which must
            // notice through its checksum.
            let byte = self.rng.below(bytes.len() as u64) as usize;
            let bit = self.rng.below(8) as u32;
            bytes[byte] ^= 1 << bit;
            Fate::Corrupted
        } else {
            Fate::Delivered
        };
        let at = self.arrival(on_wire, &cfg);
        self.schedule(at, to, bytes);
        self.report(from, Some(to), Some(at), packet, fate);

        if self.rng.chance(cfg.duplicate) {
            let at = self.arrival(on_wire, &cfg);
            self.schedule(at, to, packet.to_vec());
            self.report(from, Some(to), Some(at), packet, Fate::Duplicated);
        }
    }

    /// When a packet whose last bit left at `on_wire` reaches the far end.
    fn arrival(&mut self, on_wire: Instant, cfg: &LinkConfig) -> Instant {
        let mut at = on_wire + cfg.delay;
        let jitter = u64::try_from(cfg.jitter.as_micros()).unwrap_or(u64::MAX);
        if jitter > 0 {
            at = at + Duration::from_micros(self.rng.up_to(jitter));
        }
        if self.rng.chance(cfg.reorder) {
            at = at + cfg.reorder_delay;
        }
        at
    }

    fn schedule(&mut self, at: Instant, to: NodeId, packet: Vec<u8>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.in_flight.push(Reverse(Flight {
            at,
            seq,
            to,
            packet,
        }));
    }

    fn report(
        &mut self,
        from: NodeId,
        to: Option<NodeId>,
        deliver_at: Option<Instant>,
        packet: &[u8],
        fate: Fate,
    ) {
        self.stats.record(fate);
        if let Some(to) = to {
            self.dirs
                .entry((from, to))
                .or_default()
                .stats
                .record(fate, packet);
        }
        if let Some(tracer) = &mut self.tracer {
            tracer(&TraceEvent {
                time: self.now,
                deliver_at,
                from,
                to,
                packet,
                fate,
            });
        }
    }
}

/// Misuse of the simulator's API, refused with nothing changed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SimError {
    /// The address is already owned by the node given.
    AddressInUse(IpAddr, NodeId),
    /// No node has this id.
    UnknownNode(NodeId),
    /// A `LinkConfig` field is out of its range (named, with the value).
    BadLink(&'static str, f64),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::AddressInUse(a, n) => write!(f, "address {a} is already owned by node {n}"),
            SimError::UnknownNode(n) => write!(f, "no node {n} in this network"),
            SimError::BadLink(field, v) => write!(f, "LinkConfig::{field} out of range: {v}"),
        }
    }
}

impl std::error::Error for SimError {}

/// `net[id]`: the node, panicking on an unknown id as slice indexing does;
/// [`Network::node`] is the checked form.
impl<N: Node> Index<NodeId> for Network<N> {
    type Output = N;
    fn index(&self, id: NodeId) -> &N {
        &self.nodes[id].node
    }
}

impl<N: Node> IndexMut<NodeId> for Network<N> {
    fn index_mut(&mut self, id: NodeId) -> &mut N {
        &mut self.nodes[id].node
    }
}

/// Sets an ECN-capable datagram's ECN field to CE (RFC 3168 5), keeping
/// the IPv4 header checksum right; returns whether it did (Not-ECT and
/// CE packets, and anything that is not IP, are left alone).
fn mark_ce(d: &mut [u8]) -> bool {
    match d.first().map(|b| b >> 4) {
        Some(4) if d.len() >= 20 => {
            if !matches!(d[1] & 0b11, 0b01 | 0b10) {
                return false;
            }
            d[1] |= 0b11;
            let ihl = usize::from(d[0] & 0x0f) * 4;
            if ihl < 20 || d.len() < ihl {
                return false;
            }
            d[10] = 0;
            d[11] = 0;
            let mut sum = 0u32;
            for w in d[..ihl].chunks(2) {
                sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            d[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
            true
        }
        Some(6) if d.len() >= 40 => {
            // The traffic class straddles bytes 0 and 1; its low two bits
            // (the ECN field) are bits 4 and 5 of byte 1.
            if !matches!((d[1] >> 4) & 0b11, 0b01 | 0b10) {
                return false;
            }
            d[1] |= 0b0011_0000;
            true
        }
        _ => false,
    }
}
