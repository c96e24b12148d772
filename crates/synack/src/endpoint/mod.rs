//! The endpoint: every connection, listener and TIME-WAIT entry of one
//! stack, behind a sans-IO interface. Packets, time and application calls go
//! in; packets, events and the next deadline come out. The calling contract
//! is on [`Endpoint`].

mod api;
mod demux;
mod intercept;
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

/// A TCP endpoint: every connection, listener and TIME-WAIT entry of one
/// host's stack, with no I/O of its own.
///
/// The endpoint never reads a clock, a socket or a device. Whoever embeds it
/// (an event loop such as `synack-io`'s, the simulator in [`crate::sim`], a
/// test) moves datagrams and time in and out through six calls, in the
/// style of quinn-proto:
///
/// | call | direction | what |
/// |------|-----------|------|
/// | [`handle_packet`](Endpoint::handle_packet) | in | one received IP datagram (IPv4 or IPv6, starting at the IP header) |
/// | [`handle_timeout`](Endpoint::handle_timeout) | in | time has reached `now`: fire the timers due |
/// | application calls | in | [`listen`](Endpoint::listen), [`connect`](Endpoint::connect), [`send`](Endpoint::send), [`recv`](Endpoint::recv), [`close`](Endpoint::close), ... |
/// | [`poll_transmit`](Endpoint::poll_transmit) | out | the next datagram to send, written into the caller's buffer |
/// | [`poll_event`](Endpoint::poll_event) | out | the next [`Event`] for the application |
/// | [`poll_timeout`](Endpoint::poll_timeout) | out | when to call `handle_timeout` next |
///
/// # The loop
///
/// After any input (a datagram, a timeout, an application call):
///
/// 1. call [`poll_transmit`](Endpoint::poll_transmit) until it returns
///    `None`, sending each datagram it writes. Input only queues output;
///    datagrams are written only as `poll_transmit` asks, so what is not
///    drained simply waits for the next drain;
/// 2. call [`poll_event`](Endpoint::poll_event) until `None`, and act on the
///    events (accept, read, write, forget a closed handle). Events are kept
///    in a queue until taken; an event never taken is never repeated;
/// 3. wait until a datagram arrives or the instant that
///    [`poll_timeout`](Endpoint::poll_timeout) returns, whichever is first,
///    and call [`handle_packet`](Endpoint::handle_packet) or
///    [`handle_timeout`](Endpoint::handle_timeout). `poll_timeout` changes
///    with every input, so ask again each time round. `handle_timeout` may
///    be called early or spuriously: it fires only what is due.
///
/// # Time
///
/// Every [`Instant`] is on one monotonic clock of the caller's choosing
/// (microseconds from any origin: a real clock's elapsed time, or virtual
/// time), and the `now` passed to successive calls must never decrease.
/// The endpoint remembers the latest `now` it was given (by
/// `handle_packet`, `handle_timeout`, `poll_transmit`, `connect` or
/// `handle_icmp_error`). Application calls that take no `now` (`send`,
/// `close`, ...) act at that remembered time, so after a quiet spell call
/// `handle_timeout(now)` before them (`synack-io` does before every call):
/// a timer such a call arms, like FIN-WAIT-2's after `close`, counts from
/// the last time the endpoint was told.
///
/// # Buffers
///
/// The caller owns every datagram buffer: `handle_packet` reads the slice
/// during the call and keeps nothing; `poll_transmit` writes one whole
/// datagram (IP header, TCP header, payload, both checksums) into the
/// caller's buffer, which must hold [`max_datagram_len`]
/// bytes (a shorter one gets `None` and loses nothing). The endpoint owns
/// each connection's send and receive buffers
/// ([`Config::send_buffer`](crate::Config::send_buffer),
/// [`Config::recv_buffer`](crate::Config::recv_buffer), or per connection
/// [`set_send_buffer`](Endpoint::set_send_buffer),
/// [`set_recv_buffer`](Endpoint::set_recv_buffer)): `send` copies in what
/// fits and returns how much, `recv` copies out what was received.
///
/// # Bad input
///
/// Nothing from the network can make the endpoint panic: a malformed,
/// misaddressed, out-of-window or otherwise unacceptable datagram is
/// dropped (answered with a RST or a challenge ACK where RFC 9293 and
/// RFC 5961 say so) and counted in [`counters`](Endpoint::counters),
/// under its [`DropReason`](crate::DropReason). What the network can fill
/// is bounded by [`Config`](crate::Config): connections, SYN and accept
/// queues, TIME-WAIT entries, queued control segments. An application
/// call on a handle that is closed or never existed fails with an
/// [`Error`](crate::Error) (or returns `None`, or does nothing for
/// [`abort`](Endpoint::abort)) and changes nothing else; handles are never
/// reused, so a stale [`ConnId`] never reaches another connection.
///
/// # Handles and events
///
/// [`connect`](Endpoint::connect) returns a [`ConnId`] at once (the
/// connection is in SYN-SENT); [`Event::Connected`] says when it is
/// established. A [`listen`](Endpoint::listen)er's connections become
/// established in the background; [`Event::Accepted`] says one is waiting
/// and [`accept`](Endpoint::accept) takes it. [`Event::Closed`] is the
/// last event about a connection: its handle is dead from then on (the
/// active closer's TIME-WAIT is kept in a compact table of the endpoint's
/// own, [`time_wait_count`](Endpoint::time_wait_count)).
///
/// # Example
///
/// Two endpoints wired back to back, with a function standing in for the
/// network: a handshake, a message one way, and a close from both sides
/// down to CLOSED.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Duration;
/// use synack::{CloseReason, Config, Endpoint, Event, Instant, OpenKind, Secret};
///
/// /// The network and the event loop in one: moves every datagram each
/// /// endpoint has to send to the other, then fires whichever timers fall
/// /// due by `until`, until neither has anything left to do by then.
/// /// Returns the time reached.
/// fn run(a: &mut Endpoint, b: &mut Endpoint, mut now: Instant, until: Instant) -> Instant {
///     let mut buf = vec![0u8; a.max_datagram_len().max(b.max_datagram_len())];
///     loop {
///         let mut moved = false;
///         while let Some(n) = a.poll_transmit(now, &mut buf) {
///             b.handle_packet(now, &buf[..n]);
///             moved = true;
///         }
///         while let Some(n) = b.poll_transmit(now, &mut buf) {
///             a.handle_packet(now, &buf[..n]);
///             moved = true;
///         }
///         if moved {
///             continue;
///         }
///         // Quiet: jump to the earlier timer, if it is due by `until`.
///         let next = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min();
///         match next {
///             Some(t) if t <= until => {
///                 now = now.max(t);
///                 a.handle_timeout(now);
///                 b.handle_timeout(now);
///             }
///             _ => return now,
///         }
///     }
/// }
///
/// fn events(e: &mut Endpoint) -> Vec<Event> {
///     std::iter::from_fn(|| e.poll_event()).collect()
/// }
///
/// let mut now = Instant::from_secs(1);
/// // Fixed secrets give the same ISNs and ports every run; use
/// // `Secret::random()` outside tests.
/// let mut client = Endpoint::new(Config::default(), Secret::from_bytes([1; 16]), now);
/// let mut server = Endpoint::new(Config::default(), Secret::from_bytes([2; 16]), now);
///
/// let server_addr: SocketAddr = "192.0.2.2:80".parse()?;
/// let listener = server.listen(server_addr, 16)?;
/// // Port 0: an ephemeral port is chosen (RFC 6056).
/// let conn = client.connect(now, "192.0.2.1:0".parse()?, server_addr)?;
///
/// // SYN, SYN-ACK, ACK.
/// now = run(&mut client, &mut server, now, now);
/// assert_eq!(events(&mut client), [Event::Connected { conn, how: OpenKind::Active }]);
/// assert_eq!(events(&mut server), [Event::Accepted { listener }]);
/// let accepted = server.accept(listener).expect("an established connection");
///
/// // Data one way.
/// assert_eq!(client.send(conn, b"hello, world")?, 12);
/// now = run(&mut client, &mut server, now, now);
/// assert_eq!(events(&mut server), [Event::Readable { conn: accepted }]);
/// let mut buf = [0u8; 64];
/// let n = server.recv(accepted, &mut buf)?;
/// assert_eq!(&buf[..n], b"hello, world");
///
/// // The client closes first; the server sees the end of the stream and
/// // closes too.
/// client.close(conn)?;
/// now = run(&mut client, &mut server, now, now);
/// assert_eq!(events(&mut server), [Event::Readable { conn: accepted }]);
/// assert_eq!(server.recv(accepted, &mut buf)?, 0);
/// server.close(accepted)?;
/// now = run(&mut client, &mut server, now, now);
/// let closed = |conn| Event::Closed { conn, reason: CloseReason::Normal };
/// assert_eq!(events(&mut server), [closed(accepted)]);
/// assert_eq!(events(&mut client).last(), Some(&closed(conn)));
/// assert_eq!(server.connection_count(), 0);
///
/// // The client, the active closer, holds the 4-tuple in TIME-WAIT for
/// // 2 x MSL, then forgets it.
/// assert_eq!((client.connection_count(), client.time_wait_count()), (0, 1));
/// run(&mut client, &mut server, now, now + Duration::from_secs(3600));
/// assert_eq!(client.time_wait_count(), 0);
/// assert_eq!(client.counters().active_opens, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`max_datagram_len`]: Endpoint::max_datagram_len
/// [`ConnId`]: crate::ConnId
/// [`Event`]: crate::Event
/// [`Event::Connected`]: crate::Event::Connected
/// [`Event::Accepted`]: crate::Event::Accepted
/// [`Event::Closed`]: crate::Event::Closed
/// [`Instant`]: crate::Instant
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
    /// Intercepting listeners, tried after the others (usually none).
    interceptors: Vec<crate::event::ListenerId>,
    /// SYNs intercepted in `Decide` mode, waiting for the application.
    requests: crate::intercept::Requests,
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
            interceptors: Vec::new(),
            requests: crate::intercept::Requests::new(hasher.clone()),
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

    /// The next event for the application, oldest first; `None` when
    /// there is none. Events wait in a queue until taken here.
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
            + self.requests.heap_bytes()
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
                rx_segment_size: 0,
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
            rx_segment_size: 0,
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

    /// Stores a listener in the first free slot.
    fn add_listener(&mut self, listener: Listener) -> crate::event::ListenerId {
        let index = match self.listeners.iter().position(Option::is_none) {
            Some(i) => {
                self.listeners[i] = Some(listener);
                i
            }
            None => {
                self.listeners.push(Some(listener));
                self.listeners.len() - 1
            }
        };
        crate::event::ListenerId(index as u32)
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
