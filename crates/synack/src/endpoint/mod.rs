//! The endpoint: every connection, listener and TIME-WAIT entry of one
//! stack, behind a sans-IO interface. Packets, time and application calls go
//! in; packets, events and the next deadline come out.
//!
//! Calling contract (in the style of quinn-proto): feed input with
//! [`Endpoint::handle_packet`] and application calls, then drain
//! [`Endpoint::poll_transmit`] until `None`, then [`Endpoint::poll_event`],
//! then sleep until [`Endpoint::poll_timeout`] and call
//! [`Endpoint::handle_timeout`]. `handle_timeout` may be called spuriously.

mod api;
mod demux;
mod timers;
mod transmit;

use crate::config::Config;
use crate::control::ControlQueue;
use crate::cookie::SynCookies;
use crate::counters::Counters;
use crate::event::{ConnId, Event};
use crate::isn::IsnGenerator;
use crate::listener::Listener;
use crate::ports::PortAllocator;
use crate::secret::Secret;
use crate::tcb::{Ctx, Tcb};
use crate::time::Instant;
use crate::timewait::TimeWaitTable;
use crate::tuple::FourTuple;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::Hasher;
use std::net::IpAddr;

/// One slot of the connection slab. The generation makes stale handles
/// harmless.
struct Slot {
    generation: u32,
    tcb: Option<Box<Tcb>>,
}

/// A TCP endpoint: the engine.
pub struct Endpoint {
    cfg: Config,
    isn: IsnGenerator,
    cookies: SynCookies,
    ports: PortAllocator,
    ts_key: (u64, u64),

    slots: Vec<Slot>,
    free: Vec<u32>,
    /// The 4-tuple table: O(1) demultiplexing however many connections.
    tuples: HashMap<FourTuple, ConnId, TableHasher>,
    listeners: Vec<Option<Listener>>,
    listener_addrs: HashMap<(IpAddr, u16), u32, TableHasher>,
    time_wait: TimeWaitTable,

    events: VecDeque<Event>,
    control: ControlQueue,
    /// Connections that may have a segment to send, round-robin.
    tx_queue: VecDeque<ConnId>,
    /// Lazy timer heap: (deadline, slot, generation). Entries may be stale;
    /// each TCB remembers its earliest entry in `armed`.
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    counters: Counters,
    now: Instant,
    ip_id: u16,
}

impl Endpoint {
    /// A new endpoint. `secret` keys the ISN generator, SYN cookies,
    /// ephemeral ports and timestamp offsets; pass `Secret::random()` unless
    /// you need reproducible runs.
    pub fn new(cfg: Config, secret: Secret, now: Instant) -> Endpoint {
        let ports = PortAllocator::new(&secret, cfg.ephemeral_ports.clone());
        let hasher = table_hasher(&secret);
        Endpoint {
            isn: IsnGenerator::new(&secret),
            cookies: SynCookies::new(&secret),
            ports,
            ts_key: secret.derive(b"synack timestamp offset"),
            slots: Vec::new(),
            free: Vec::new(),
            tuples: HashMap::with_hasher(hasher.clone()),
            listeners: Vec::new(),
            listener_addrs: HashMap::with_hasher(hasher.clone()),
            time_wait: TimeWaitTable::new(cfg.max_time_wait, hasher),
            events: VecDeque::new(),
            control: ControlQueue::new(cfg.max_control_queue),
            tx_queue: VecDeque::new(),
            timers: BinaryHeap::new(),
            counters: Counters::default(),
            now,
            ip_id: 0,
            cfg,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Stack-wide counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Live connections (TCBs), not counting compact TIME-WAIT entries.
    pub fn connection_count(&self) -> usize {
        self.tuples.len()
    }

    /// Entries in the TIME-WAIT table.
    pub fn time_wait_count(&self) -> usize {
        self.time_wait.len()
    }

    /// Half-open connections of a listener (its SYN queue).
    pub fn syn_queue_len(&self, l: crate::event::ListenerId) -> Option<usize> {
        self.listener(l).map(|x| x.syn_queue)
    }

    /// Established connections waiting in a listener's accept queue.
    pub fn accept_queue_len(&self, l: crate::event::ListenerId) -> Option<usize> {
        self.listener(l).map(|x| x.accept_queue.len())
    }

    /// Heap bytes the endpoint holds for its tables and connections, for the
    /// memory benchmark. Counts TCB boxes, buffers and table capacity.
    pub fn heap_bytes(&self) -> usize {
        let tcb = core::mem::size_of::<Tcb>();
        let slots = self.slots.capacity() * core::mem::size_of::<Slot>();
        let boxes: usize = self
            .slots
            .iter()
            .filter_map(|s| s.tcb.as_ref())
            .map(|t| tcb + t.buffer_capacity())
            .sum();
        let table = self.tuples.capacity() * (core::mem::size_of::<(FourTuple, ConnId)>() + 1);
        slots + boxes + table + self.free.capacity() * 4 + self.time_wait.heap_bytes()
    }

    fn ts_offset(&self, t: &FourTuple) -> u32 {
        let mut h = siphasher::sip::SipHasher24::new_with_keys(self.ts_key.0, self.ts_key.1);
        h.write(&ip_bytes(t.local_ip));
        h.write(&ip_bytes(t.remote_ip));
        h.write_u16(t.local_port);
        h.write_u16(t.remote_port);
        h.finish() as u32
    }

    fn tcb(&self, id: ConnId) -> Option<&Tcb> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.tcb.as_deref()
    }

    /// A TCB and the context it needs, borrowed from disjoint fields.
    fn split(&mut self, id: ConnId, now: Instant) -> Option<(&mut Tcb, Ctx<'_>)> {
        let Endpoint {
            slots,
            cfg,
            events,
            counters,
            control,
            ..
        } = self;
        let slot = slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let tcb = slot.tcb.as_deref_mut()?;
        Some((
            tcb,
            Ctx {
                now,
                cfg,
                events,
                counters,
                control,
            },
        ))
    }

    fn listener(&self, l: crate::event::ListenerId) -> Option<&Listener> {
        self.listeners.get(l.0 as usize)?.as_ref()
    }

    fn listener_mut(&mut self, l: crate::event::ListenerId) -> Option<&mut Listener> {
        self.listeners.get_mut(l.0 as usize)?.as_mut()
    }

    /// Allocates a slab slot and inserts the TCB built by `make`.
    fn insert_tcb(
        &mut self,
        tuple: FourTuple,
        make: impl FnOnce(ConnId, &Config) -> Tcb,
    ) -> ConnId {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    tcb: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let id = ConnId {
            index,
            generation: self.slots[index as usize].generation,
        };
        let tcb = Box::new(make(id, &self.cfg));
        self.slots[index as usize].tcb = Some(tcb);
        self.tuples.insert(tuple, id);
        id
    }

    fn remove_tcb(&mut self, id: ConnId) -> Option<Box<Tcb>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let tcb = slot.tcb.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        self.unmap(&tcb.tuple, id);
        Some(tcb)
    }

    /// Removes the 4-tuple mapping if it still names this connection.
    fn unmap(&mut self, tuple: &FourTuple, id: ConnId) {
        if self.tuples.get(tuple) == Some(&id) {
            self.tuples.remove(tuple);
        }
    }
}

/// The hasher of the endpoint's tables. Keyed from the secret: an attacker
/// who chooses 4-tuples cannot aim them at one bucket without the key, and a
/// fixed secret still gives reproducible runs. aHash, because the table is
/// hashed for every packet and SipHash cost a tenth of a lifecycle.
pub(crate) type TableHasher = ahash::RandomState;

fn table_hasher(secret: &Secret) -> TableHasher {
    let (a, b) = secret.derive(b"synack table hasher 1");
    let (c, d) = secret.derive(b"synack table hasher 2");
    ahash::RandomState::with_seeds(a, b, c, d)
}

fn ip_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl crate::sim::Node for Endpoint {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        Endpoint::handle_packet(self, now, packet);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        Endpoint::poll_transmit(self, now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        Endpoint::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        Endpoint::handle_timeout(self, now);
    }
}
