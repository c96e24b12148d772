//! The endpoint: every connection, listener and TIME-WAIT entry of one
//! stack, behind a sans-IO interface. Packets, time and application calls go
//! in; packets, events and the next deadline come out.
//!
//! Calling contract (in the style of quinn-proto): feed input with
//! [`Endpoint::handle_packet`] and application calls, then drain
//! [`Endpoint::poll_transmit`] until `None`, then [`Endpoint::poll_event`],
//! then sleep until [`Endpoint::poll_timeout`] and call
//! [`Endpoint::handle_timeout`]. `handle_timeout` may be called spuriously.
//!
//! Application calls that take no `now` (`send`, `close`, ...) read the
//! endpoint's clock, which only `handle_packet`, `handle_timeout` and
//! `poll_transmit` move forward. After a quiet spell, call
//! `handle_timeout(now)` before them (synack-io does before every call):
//! a timer such a call arms, like FIN-WAIT-2's after `close`, counts from
//! the last time the endpoint was told.

mod api;
mod demux;
mod slab;
mod timer_heap;
mod timers;
mod transmit;

use crate::config::Config;
use crate::control::ControlQueue;
use crate::cookie::SynCookies;
use crate::counters::Counters;
use crate::event::{ConnId, Event, OpenKind};
use crate::isn::IsnGenerator;
use crate::listener::{ListenAddrs, Listener};
use crate::ports::PortAllocator;
use crate::secret::Secret;
use crate::seq::SeqNum;
use crate::tcb::{BufferPool, Ctx, Flags, LossPool, Tcb};
use crate::time::Instant;
use crate::timewait::TimeWaitTable;
use crate::tuple::FourTuple;
use crate::tuple_map::TupleMap;
use slab::Slab;
use std::collections::VecDeque;
use timer_heap::TimerHeap;

/// A TCP endpoint: the engine.
pub struct Endpoint {
    cfg: Config,
    isn: IsnGenerator,
    cookies: SynCookies,
    ports: PortAllocator,

    conns: Slab,
    /// The 4-tuple table: O(1) demultiplexing however many connections.
    tuples: TupleMap<ConnId>,
    listeners: Vec<Option<Listener>>,
    listener_addrs: ListenAddrs,
    time_wait: TimeWaitTable,

    events: VecDeque<Event>,
    control: ControlQueue,
    /// Connections that may have a segment to send, round-robin.
    tx_queue: VecDeque<ConnId>,
    /// Lazy timer heap: (deadline, slot, generation). Entries may be stale;
    /// each TCB remembers its earliest entry in `armed`.
    timers: TimerHeap,
    /// Buffer storage recycled between connections.
    pool: BufferPool,
    /// Loss-recovery state recycled between connections.
    loss_pool: LossPool,
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
            conns: Slab::default(),
            tuples: TupleMap::new(hasher.clone()),
            listeners: Vec::new(),
            listener_addrs: ListenAddrs::new(hasher.clone()),
            time_wait: TimeWaitTable::new(cfg.max_time_wait, hasher),
            events: VecDeque::new(),
            control: ControlQueue::new(cfg.max_control_queue),
            tx_queue: VecDeque::new(),
            timers: TimerHeap::default(),
            pool: BufferPool::default(),
            loss_pool: LossPool::default(),
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
    #[must_use = "an event not looked at is lost"]
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
    /// memory benchmark. Counts the slab, buffers (pooled ones included)
    /// and table capacity.
    pub fn heap_bytes(&self) -> usize {
        let buffers: usize = self.conns.iter().map(Tcb::buffer_capacity).sum();
        self.conns.heap_bytes()
            + buffers
            + self.tuples.heap_bytes()
            + self.time_wait.heap_bytes()
            + self.pool.heap_bytes()
            + self.loss_pool.heap_bytes()
            + self.timers.heap_bytes()
    }

    /// The 4-tuple's timestamp offset (see `IsnGenerator`).
    fn ts_offset(&self, t: &FourTuple) -> u32 {
        self.isn.ts_offset(t.local(), t.remote())
    }

    fn tcb(&self, id: ConnId) -> Option<&Tcb> {
        self.conns.get(id)
    }

    /// A TCB and the context it needs, borrowed from disjoint fields.
    fn split(&mut self, id: ConnId, now: Instant) -> Option<(&mut Tcb, Ctx<'_>)> {
        let Endpoint {
            conns,
            cfg,
            events,
            counters,
            control,
            pool,
            loss_pool,
            ..
        } = self;
        let tcb = conns.get_mut(id)?;
        Some((
            tcb,
            Ctx {
                now,
                cfg,
                events,
                counters,
                control,
                pool,
                loss_pool,
            },
        ))
    }

    /// An application call on one connection: [`Endpoint::with_tcb`] at
    /// the endpoint's present time.
    fn call<R>(&mut self, id: ConnId, f: impl FnOnce(&mut Tcb, &mut Ctx<'_>) -> R) -> Option<R> {
        self.with_tcb(id, self.now, |tcb, ctx, _| f(tcb, ctx))
    }

    /// Any input on one connection (a segment, an application call), with
    /// one slab lookup: `f` gets the TCB, its context and the listeners;
    /// then the connection is queued for output and its timer and tables
    /// settled.
    fn with_tcb<R>(
        &mut self,
        id: ConnId,
        now: Instant,
        f: impl FnOnce(&mut Tcb, &mut Ctx<'_>, &[Option<Listener>]) -> R,
    ) -> Option<R> {
        let Endpoint {
            conns,
            cfg,
            events,
            counters,
            control,
            pool,
            loss_pool,
            tx_queue,
            timers,
            listeners,
            ..
        } = self;
        let tcb = conns.get_mut(id)?;
        let prev = tcb.state;
        let mut ctx = Ctx {
            now,
            cfg,
            events,
            counters,
            control,
            pool,
            loss_pool,
        };
        let r = f(tcb, &mut ctx, listeners);
        if !tcb.flags.has(Flags::QUEUED_TX) {
            tcb.flags.set(Flags::QUEUED_TX);
            tx_queue.push_back(id);
        }
        if !timers::settle(timers, id, tcb, prev) {
            self.state_changed(id, prev);
        }
        Some(r)
    }

    fn listener(&self, l: crate::event::ListenerId) -> Option<&Listener> {
        self.listeners.get(l.0 as usize)?.as_ref()
    }

    fn listener_mut(&mut self, l: crate::event::ListenerId) -> Option<&mut Listener> {
        self.listeners.get_mut(l.0 as usize)?.as_mut()
    }

    /// Stores a new TCB for `tuple`, built in its slab slot and set up
    /// there by `open`, maps the 4-tuple to it and queues it for output.
    fn insert_tcb(
        &mut self,
        tuple: FourTuple,
        iss: SeqNum,
        ts_offset: u32,
        how: OpenKind,
        open: impl FnOnce(&mut Tcb, &Config),
    ) -> ConnId {
        let cfg = &self.cfg;
        let (id, tcb) = self
            .conns
            .insert(|t, id| t.reset(id, tuple, iss, ts_offset, cfg, how));
        open(tcb, cfg);
        // Its SYN or SYN-ACK is due.
        tcb.flags.set(Flags::QUEUED_TX);
        self.tx_queue.push_back(id);
        self.tuples.insert(&tuple, id);
        id
    }

    /// Frees the TCB and its 4-tuple mapping.
    fn remove_tcb(&mut self, id: ConnId) {
        let Some(tcb) = self.conns.get_mut(id) else {
            return;
        };
        tcb.free_buffers(&mut self.pool, &mut self.loss_pool);
        let tuple = tcb.tuple;
        self.unmap(&tuple, id);
        self.conns.remove(id);
    }

    /// Removes the 4-tuple mapping if it still names this connection.
    fn unmap(&mut self, tuple: &FourTuple, id: ConnId) {
        // Remove first and put back in the rare case that the mapping is a
        // newer connection's: one lookup instead of two on the common path.
        if let Some(other) = self.tuples.remove(tuple)
            && other != id
        {
            self.tuples.insert(tuple, other);
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
