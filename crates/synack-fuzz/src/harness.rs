//! The harness: one `Endpoint` with two listeners, the fuzzer playing every
//! remote peer and the application, and the models the checks compare
//! against. The operations are in `ops`, the checks in `checks`.

use crate::cursor::Cursor;
use crate::oracle::{Map, Set, peer_salt};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;
use synack::rtt::RttConfig;
use synack::{
    Config, ConnId, ConnInfo, Endpoint, Instant, Keepalive, ListenerId, Secret, State,
    SynCookieMode,
};

pub(crate) const LOCAL_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub(crate) const LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// Most peers the harness keeps: the fixed ones and those `connect` adds.
const MAX_PEERS: usize = 40;

/// Buffers of one thread's runs (transmit, inbound datagram, payloads),
/// kept between runs: allocating and zeroing them per run cost more than
/// a short program.
type Buffers = (Vec<u8>, Vec<u8>, Vec<u8>);

thread_local! {
    static BUFFERS: core::cell::RefCell<Buffers> = core::cell::RefCell::new(fresh_buffers());
}

fn fresh_buffers() -> Buffers {
    (vec![0; 65536], Vec::with_capacity(4200), vec![0; 65536])
}

/// What the fuzzer knows about one remote 4-tuple: what the endpoint last
/// said on it (to aim sequence and acknowledgment numbers), and what the
/// fuzzer itself sent.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    /// The endpoint's socket.
    pub(crate) local: SocketAddr,
    /// The fuzzer's socket.
    pub(crate) remote: SocketAddr,
    pub(crate) salt: u8,
    /// The endpoint's last segment on this 4-tuple: SEQ, SEQ + SEG.LEN,
    /// the highest SEQ + SEG.LEN since its last SYN, ACK, window, ISS (its
    /// last SYN's SEQ) and TSval.
    pub(crate) ep_seq: u32,
    pub(crate) ep_end: u32,
    pub(crate) ep_max: u32,
    pub(crate) ep_ack: u32,
    pub(crate) ep_win: u16,
    pub(crate) ep_iss: u32,
    pub(crate) ep_tsval: u32,
    pub(crate) heard: bool,
    /// The fuzzer's own ISN (its last SYN's SEQ), next SEQ and TSval clock.
    pub(crate) my_isn: u32,
    pub(crate) my_nxt: u32,
    pub(crate) my_ts: u32,
}

impl Peer {
    pub(crate) fn new(local: SocketAddr, remote: SocketAddr, index: usize) -> Peer {
        // Some ISNs sit just below the wrap of sequence space, so streams
        // cross it early.
        let isn = match index % 4 {
            0 => 1_000_000u32.wrapping_mul(index as u32 + 1),
            1 => 0xFFFF_FFF0u32.wrapping_sub(16 * index as u32),
            2 => 0x7FFF_FFF8,
            _ => (index as u32).wrapping_mul(0x1234_5679),
        };
        Peer {
            local,
            remote,
            salt: peer_salt(local, remote),
            ep_seq: 0,
            ep_end: 0,
            ep_max: 0,
            ep_ack: 0,
            ep_win: 0,
            ep_iss: 0,
            ep_tsval: 0,
            heard: false,
            my_isn: isn,
            my_nxt: isn,
            my_ts: 0x1000_0000u32.wrapping_mul(index as u32 + 1),
        }
    }
}

/// What the application did with one connection handle.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rec {
    /// Bytes `send` accepted.
    pub(crate) sent: u64,
    /// Bytes `recv` returned.
    pub(crate) read: u64,
    /// `shutdown` or `close` succeeded: a FIN may follow the data.
    pub(crate) fin_requested: bool,
    /// `close` succeeded: the application reads no more.
    pub(crate) closed: bool,
}

/// Handles that this endpoint never issued, for the calls on bogus
/// handles. `ConnId` and `ListenerId` cannot be built outside the engine,
/// so they are borrowed from a decoy endpoint: slots and generations far
/// beyond what the harness's own endpoint reaches.
pub(crate) struct Decoys {
    pub(crate) conns: Vec<ConnId>,
    /// `ListenerId`s 0..8: the harness's own listeners have indexes below
    /// 6, so these name every one of them and a few that never exist.
    pub(crate) listeners: Vec<ListenerId>,
}

pub(crate) fn decoys() -> &'static Decoys {
    static D: OnceLock<Decoys> = OnceLock::new();
    D.get_or_init(|| {
        let mut ep = Endpoint::new(
            Config::default(),
            Secret::from_bytes([9; 16]),
            Instant::ZERO,
        );
        let local = SocketAddr::from(([10, 0, 0, 1], 1));
        let remote = |p: u16| SocketAddr::from(([10, 0, 0, 2], p));
        let mut conns = Vec::new();
        // Slot 0 at a high generation.
        for p in 1..=40u16 {
            if let Ok(c) = ep.connect(Instant::ZERO, local, remote(p)) {
                if p == 40 {
                    conns.push(c);
                } else {
                    ep.abort(c);
                }
            }
        }
        // Slots far beyond the first chunk.
        let mut last = None;
        for p in 100..300u16 {
            last = ep.connect(Instant::ZERO, local, remote(p)).ok().or(last);
            if p == 170 {
                conns.extend(last);
            }
        }
        conns.extend(last);
        let listeners = (0..8u16)
            .filter_map(|p| {
                ep.listen(SocketAddr::from(([10, 0, 0, 1], 1000 + p)), 1)
                    .ok()
            })
            .collect();
        Decoys { conns, listeners }
    })
}

/// The endpoint under test and everything the harness remembers about it.
pub(crate) struct Harness<'a> {
    pub(crate) cur: Cursor<'a>,
    pub(crate) ep: Endpoint,
    pub(crate) cfg: Config,
    pub(crate) now: Instant,
    pub(crate) log: bool,
    pub(crate) peers: Vec<Peer>,
    pub(crate) fixed_peers: usize,
    pub(crate) next_dynamic: usize,
    /// Handles the application may use: every one `connect` and `accept`
    /// returned, and every one a trace event named (an unaccepted child's
    /// handle is one the application should not have).
    pub(crate) handles: Vec<ConnId>,
    pub(crate) recs: Map<ConnId, Rec>,
    /// Handles `connect` and `accept` returned.
    pub(crate) app_known: Set<ConnId>,
    pub(crate) opened: Set<ConnId>,
    /// The last state each connection's trace reported, and its sockets.
    pub(crate) states: Map<ConnId, State>,
    pub(crate) sockets: Map<ConnId, (SocketAddr, SocketAddr)>,
    /// The newest connection born on each 4-tuple.
    pub(crate) by_tuple: Map<(SocketAddr, SocketAddr), ConnId>,
    pub(crate) closed_reported: Set<ConnId>,
    /// Connections whose trace ended in TIME-WAIT and whose TCB may still
    /// be compacted into the TIME-WAIT table.
    pub(crate) in_time_wait: Vec<ConnId>,
    /// 4-tuples that entered the TIME-WAIT table (a superset of it: the
    /// engine recycles and reopens entries without an event).
    pub(crate) time_wait: Set<(SocketAddr, SocketAddr)>,
    /// Where the fuzzer put FINs: (local, remote, IRS, stream offset).
    pub(crate) fins: Set<(SocketAddr, SocketAddr, u32, u32)>,
    /// Flood connections this run may still play.
    pub(crate) flood_budget: usize,
    pub(crate) peak_tcbs: usize,
    /// TCBs kept in CLOSED at the last full check.
    pub(crate) kept_closed: usize,
    /// Each TCB's earliest timer when last seen, and the deadlines of the
    /// timer-heap entries the engine may have pushed since (it pushes when
    /// a connection's earliest timer moves earlier, and drops an entry
    /// once its deadline has passed): the lazy timer heap's share of the
    /// heap bound.
    pub(crate) timer_seen: Map<ConnId, Instant>,
    pub(crate) timer_entries: Vec<Instant>,
    pub(crate) peak_timer_entries: usize,
    pub(crate) peak_conns: usize,
    pub(crate) tx: Vec<u8>,
    pub(crate) pkt: Vec<u8>,
    pub(crate) scratch: Vec<u8>,
    /// Every TCB's `info` at a full check, reused from check to check.
    pub(crate) snapshot: Vec<(ConnId, ConnInfo)>,
}

impl<'a> Harness<'a> {
    pub(crate) fn new(data: &'a [u8], log: bool) -> Harness<'a> {
        let mut cur = Cursor::new(data);
        let (cfg, secret, epoch) = config(&mut cur);
        let mut ep = Endpoint::new(cfg.clone(), secret, epoch);
        let v4 = SocketAddr::from((LOCAL_V4, 80));
        let v6 = SocketAddr::from((LOCAL_V6, 80));
        for a in [v4, v6] {
            ep.listen(a, 8).expect("listen on a fresh endpoint");
        }
        crate::coverage::saw_state(State::Listen);
        crate::coverage::saw_state_v6(State::Listen);
        let mut peers = Vec::new();
        let r4 = |a: u8, p: u16| SocketAddr::from(([198, 18, 1, a], p));
        let r6 =
            |a: u16, p: u16| SocketAddr::from((Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, a), p));
        let fixed: Vec<(SocketAddr, SocketAddr)> = vec![
            (v4, r4(1, 1001)),
            (v4, r4(1, 1002)),
            (v4, r4(1, 1003)),
            (v4, r4(1, 1004)),
            (v4, r4(2, 1001)),
            (v4, r4(2, 1002)),
            (v6, r6(1, 1001)),
            (v6, r6(1, 1002)),
            (v6, r6(1, 1003)),
            (v6, r6(2, 1001)),
            // No listener on port 81.
            (SocketAddr::from((LOCAL_V4, 81)), r4(1, 1001)),
            (SocketAddr::from((LOCAL_V6, 81)), r6(1, 1001)),
            // Addresses and ports that must be dropped (MUST-57, MUST-63).
            (v4, SocketAddr::from(([224, 0, 0, 9], 1001))),
            (v4, r4(1, 0)),
            (SocketAddr::from(([255, 255, 255, 255], 80)), r4(1, 1001)),
        ];
        for (i, (l, r)) in fixed.into_iter().enumerate() {
            peers.push(Peer::new(l, r, i));
        }
        let fixed_peers = peers.len();
        let buffers = BUFFERS.with_borrow_mut(core::mem::take);
        // A run that panicked never gave them back.
        let buffers = if buffers.0.is_empty() {
            fresh_buffers()
        } else {
            buffers
        };
        Harness {
            cur,
            ep,
            cfg,
            now: epoch,
            log,
            peers,
            fixed_peers,
            next_dynamic: 0,
            handles: Vec::new(),
            recs: Map::default(),
            app_known: Set::default(),
            opened: Set::default(),
            states: Map::default(),
            sockets: Map::default(),
            by_tuple: Map::default(),
            closed_reported: Set::default(),
            in_time_wait: Vec::new(),
            time_wait: Set::default(),
            fins: Set::default(),
            flood_budget: crate::lifecycle::FLOOD_BUDGET,
            peak_tcbs: 0,
            kept_closed: 0,
            timer_seen: Map::default(),
            timer_entries: Vec::new(),
            peak_timer_entries: 0,
            peak_conns: 0,
            tx: buffers.0,
            pkt: buffers.1,
            scratch: buffers.2,
            snapshot: Vec::new(),
        }
    }

    /// Runs the program to its end, checking after every operation.
    pub(crate) fn run(mut self) {
        let mut ops = 0usize;
        while !self.cur.is_empty() {
            self.step();
            self.check();
            ops += 1;
        }
        if self.log {
            eprintln!(
                "{ops} operations, all checks passed; heap_bytes {} (bound {})",
                self.ep.heap_bytes(),
                crate::bounds::heap_bound(&self.cfg, &self.peaks())
            );
        }
        let buffers = (self.tx, self.pkt, self.scratch);
        BUFFERS.with_borrow_mut(|b| *b = buffers);
    }

    pub(crate) fn peaks(&self) -> crate::bounds::Peaks {
        crate::bounds::Peaks {
            tcbs: self.peak_tcbs,
            conns: self.peak_conns.max(self.cfg.max_connections),
            timer_entries: self.peak_timer_entries,
        }
    }

    pub(crate) fn peer_index(&self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        self.peers
            .iter()
            .position(|p| p.local == local && p.remote == remote)
    }

    /// Adds a peer for a 4-tuple `connect` opened, recycling the oldest
    /// added one when the table is full.
    pub(crate) fn add_peer(&mut self, local: SocketAddr, remote: SocketAddr) {
        if self.peer_index(local, remote).is_some() {
            return;
        }
        let index = self.peers.len();
        if index < MAX_PEERS {
            self.peers.push(Peer::new(local, remote, index));
        } else {
            let slot = self.fixed_peers + self.next_dynamic % (MAX_PEERS - self.fixed_peers);
            self.next_dynamic += 1;
            self.peers[slot] = Peer::new(local, remote, slot);
        }
    }

    /// The live (not CLOSED) TCB on a 4-tuple, if any.
    pub(crate) fn live_tcb(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<(ConnId, ConnInfo)> {
        // The newest connection born on the 4-tuple: every TCB's birth is
        // traced, and the trace is read after every step, before anything
        // looks a 4-tuple up (snapshots of every TCB are not cheap).
        let &c = self.by_tuple.get(&(local, remote))?;
        let i = self.ep.info(c)?;
        (i.state != State::Closed).then_some((c, i))
    }

    /// `live_tcb` by a look at every TCB, for a datagram emitted before the
    /// trace of its connection's birth was read.
    pub(crate) fn live_tcb_scan(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<(ConnId, ConnInfo)> {
        self.live_tcb(local, remote).or_else(|| {
            self.ep
                .connections()
                .find(|(_, i)| i.local == local && i.remote == remote && i.state != State::Closed)
        })
    }

    pub(crate) fn remember_handle(&mut self, c: ConnId) {
        if !self.handles.contains(&c) {
            // Bounded, oldest first out: the harness runs in constant time
            // per operation however long the program.
            if self.handles.len() >= 48 {
                self.handles.remove(0);
            }
            self.handles.push(c);
        }
    }

    /// A handle for an application call: live, closed, an unaccepted
    /// child's, or one this endpoint never issued.
    pub(crate) fn pick_handle(&mut self) -> ConnId {
        let d = &decoys().conns;
        let i = usize::from(self.cur.u8()) % (self.handles.len() + d.len());
        match self.handles.get(i) {
            Some(&c) => c,
            None => d[i - self.handles.len()],
        }
    }

    pub(crate) fn pick_listener(&mut self) -> ListenerId {
        let d = &decoys().listeners;
        d[usize::from(self.cur.u8()) % d.len()]
    }
}

/// Decodes the endpoint's configuration from the first bytes: small
/// buffers and tables so that every bound is reached within a few
/// operations, and every knob that changes the engine's paths.
fn config(cur: &mut Cursor<'_>) -> (Config, Secret, Instant) {
    let (b0, b1, b2, b3) = (cur.u8(), cur.u8(), cur.u8(), cur.u8());
    let mut c = Config::default();
    c.trace_states = true;
    c.timestamps = b0 & 1 != 0;
    c.window_scaling = b0 & 2 != 0;
    c.sack = b0 & 4 != 0;
    c.syn_cookies = match (b0 >> 3) & 3 {
        1 => SynCookieMode::Off,
        2 => SynCookieMode::Always,
        _ => SynCookieMode::WhenQueueFull,
    };
    c.recv_buffer = [256, 1024, 1024, 4096, 4096, 16384, 70_000, 300][usize::from(b0 >> 5)];
    c.send_buffer = [1024, 256, 4096, 16384][usize::from(b1 & 3)];
    c.max_connections = [2, 3, 4, 8][usize::from((b1 >> 2) & 3)];
    let backlog = 1 + usize::from((b1 >> 4) & 3);
    c.max_syn_backlog = backlog;
    c.max_accept_backlog = backlog;
    c.max_time_wait = [4, 1, 2, 16][usize::from(b1 >> 6)];
    c.msl = [1000, 100, 30_000, 5000].map(Duration::from_millis)[usize::from(b2 & 3)];
    // Short enough for a program's time steps to reach an orphan's end in
    // FIN-WAIT-2 (the default 60 s is rarely reached).
    c.fin_wait2_timeout = Some(c.msl);
    let (syn, synack, data) =
        [(2, 2, 3), (0, 0, 1), (5, 3, 6), (1, 1, 2)][usize::from((b2 >> 2) & 3)];
    c.syn_retries = syn;
    c.synack_retries = synack;
    c.max_retransmits = data;
    c.user_timeout = [Some(300_000), None, Some(2000), Some(100)][usize::from((b2 >> 4) & 3)]
        .map(Duration::from_millis);
    let mut rtt = RttConfig::default();
    if b2 & 0x40 != 0 {
        rtt.min_rto = Duration::from_millis(10);
    }
    if b2 & 0x80 != 0 {
        rtt.max_rto = Duration::from_secs(3);
    }
    c.rtt = rtt;
    c.max_control_queue = if b3 & 0x40 != 0 { 4 } else { 32 };
    c.challenge_ack_limit = if b3 & 0x20 != 0 { 2 } else { 10 };
    if b3 & 0x10 != 0 {
        c.mtu = 576;
    }
    let secret = Secret::from_bytes([b3 & 0x0f; 16]);
    // Keep-alive in half the runs (the secret's low bit: no byte is left),
    // with times a program's steps reach.
    if b3 & 1 != 0 {
        c.keepalive = Keepalive::new(Duration::from_secs(1), Duration::from_secs(1), 2).ok();
    }
    // Half the runs start just before the engine's millisecond clock wraps
    // its 32 bits (TIME-WAIT expiry and timestamps are kept modulo 2^32).
    let epoch = if b3 & 0x80 != 0 {
        Instant::from_millis((1u64 << 32) - 20_000)
    } else {
        Instant::from_secs(1)
    };
    (c, secret, epoch)
}
