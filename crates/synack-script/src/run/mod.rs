//! Running a parsed script against a fresh [`Endpoint`] in virtual time.
//!
//! The runner plays the script's peer: it injects the inbound (`<`)
//! segments, makes the system calls through the engine's API, and checks
//! every outbound (`>`) segment the engine sends against the script, as
//! packetdrill does against a kernel:
//!
//! - Sequence numbers: the script's inbound ones are used as written (the
//!   peer's ISN is the script's); ours are the script's plus the offset
//!   between our live ISN and the script's, learnt from our SYN or
//!   SYN-ACK. ACKs and SACK blocks are mapped the same way.
//! - Timestamps: our TSvals are mapped to the script's space from the
//!   first one seen; a script TSval is remembered against the live one so
//!   that the peer's echo (`ecr`) can be translated back. With
//!   `--tcp_ts_tick_usecs` the TSval must also advance at that rate.
//! - Options are compared byte for byte (order and NOPs included) unless
//!   the script writes `<...>`; windows only when the script gives `win`.
//! - Times: an outbound segment must leave within the tolerance
//!   (`--tolerance_usecs`, 4 ms by default) of its time; relative times
//!   count from the previous event's actual time.
//! - Consecutive segments that together make up one expected segment
//!   match it (the kernel would have sent one TSO super-segment), unless
//!   `--strict_segments`.
//! - Like packetdrill, a segment the script never expects is noticed only
//!   when a later `>` line meets it. `--strict_outbound` (a synack
//!   extension) also fails the script when segments the stack sent are
//!   still unmatched at its end: the only way to say "nothing is sent".
//! - Our ISN is learnt again from each SYN we send, as packetdrill does.
//!   `--keep_isn_base` (a synack extension) keeps the first one, so that
//!   a script can state how the ISNs of successive connections relate
//!   (RFC 6528's 4 µs clock).

use crate::ast::*;
use crate::parse::flags;
use crate::profile::{self, Effect, Profile};
use crate::wire::{self, Segment};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use synack::{
    CloseReason, Config, ConnId, Endpoint, Error, Event as EpEvent, Instant, ListenerId, Secret,
};

mod matching;
mod poll;
mod shell;
mod show;
mod sockopt;
mod syscall;

use show::{secs, show_flags, show_option_bytes, show_script};
use sockopt::SockOpts;
use syscall::reason_errno;

/// Why a script did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The stack did something else than the script says (or the script
    /// has a syntax error).
    Mismatch {
        /// The script line whose expectation failed (1-based).
        line: usize,
        /// What was expected and what the stack did.
        msg: String,
    },
    /// The script needs something the runner or synack does not have.
    Unsupported {
        /// The script line that needs it (1-based; 0 when the file could
        /// not be read).
        line: usize,
        /// What is missing.
        what: String,
    },
}

impl Failure {
    /// The script line the failure is about (1-based; 0 for none).
    pub fn line(&self) -> usize {
        match self {
            Failure::Mismatch { line, .. } | Failure::Unsupported { line, .. } => *line,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Mismatch { line, msg } => write!(f, "line {line}: {msg}"),
            Failure::Unsupported { line, what } => write!(f, "line {line}: unsupported: {what}"),
        }
    }
}

fn mismatch(line: usize, msg: impl Into<String>) -> Failure {
    Failure::Mismatch {
        line,
        msg: msg.into(),
    }
}

fn unsupported(line: usize, what: impl Into<String>) -> Failure {
    Failure::Unsupported {
        line,
        what: what.into(),
    }
}

/// How to run a script: the stack profile and the settings a harness
/// gives on packetdrill's command line. The default is the rfc profile,
/// quiet, packetdrill's 4 ms tolerance.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The stack configuration to run against; [`Profile::Rfc`] by
    /// default.
    pub profile: Profile,
    /// Print every segment both ways, and every call.
    pub verbose: bool,
    /// Names defined for `#ifdef` (portable profile).
    pub defines: Vec<String>,
    /// The stack's initial receive window (`--rcv-wnd`, portable profile).
    pub rcv_wnd: Option<usize>,
    /// The timing tolerance a harness gives on packetdrill's command line
    /// (`--tolerance_usecs`; gVisor's runs 100 ms); a script's own option
    /// line still wins. `None`: packetdrill's 4 ms.
    pub tolerance_usecs: Option<i64>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            profile: Profile::Rfc,
            verbose: false,
            defines: Vec::new(),
            rcv_wnd: None,
            tolerance_usecs: None,
        }
    }
}

/// The ports packetdrill uses: the stack's bound port and the peer's port
/// for connections the stack opens; the peer's port when it opens one.
const BIND_PORT: u16 = 8080;
const CONNECT_PORT: u16 = 8080;
const REMOTE_EPHEMERAL: u16 = 40_000;

const DEFAULT_TOLERANCE: Usecs = 4_000;

/// The engine's clock starts here, so that script time 0 is not the
/// engine's time 0.
const EPOCH_US: u64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SockState {
    Fresh,
    Bound(SocketAddr),
    Listening(ListenerId),
    Connecting(ConnId),
    Connected(ConnId),
    Closed,
}

#[derive(Debug)]
struct Sock {
    state: SockState,
    nonblocking: bool,
    nodelay: bool,
    /// `SHUT_RD`: reads return 0.
    shut_rd: bool,
    /// For `SO_ERROR`, and the next call.
    error: Option<&'static str>,
    /// After a reset was reported once, reads return 0.
    reset_reported: bool,
    /// `SO_LINGER` with a zero timeout: close() aborts (RST).
    linger_zero: bool,
    /// Options kept with the socket (`sockopt.rs`).
    opts: SockOpts,
}

impl Sock {
    fn new(state: SockState, nonblocking: bool) -> Sock {
        Sock {
            state,
            nonblocking,
            nodelay: false,
            shut_rd: false,
            error: None,
            reset_reported: false,
            linger_zero: false,
            opts: SockOpts::default(),
        }
    }
}

/// A blocking call waiting for the stack.
struct Pending {
    line: usize,
    call: Syscall,
    start: Usecs,
    deadline: Usecs,
    /// Bytes a blocking write has queued so far.
    written: usize,
    /// When the call returns by itself (a `poll` timeout).
    wake: Option<Usecs>,
}

/// The connection whose segments the script describes.
#[derive(Clone, Copy, Debug)]
struct Live {
    local: SocketAddr,
    remote: SocketAddr,
}

/// The state of one script's run: the engine under test, virtual time,
/// the script's sockets and the sequence, timestamp and ISN mappings
/// between the script's view and the stack's (see the module docs).
/// [`run_source`] makes one per script; it cannot be built outside this
/// crate.
pub struct Runner {
    opts: RunOptions,
    cfg: Config,
    ep: Option<Endpoint>,
    /// Virtual time since the script's start.
    now: Usecs,
    prev: Usecs,
    tolerance: Usecs,
    ts_tick: Option<Usecs>,
    strict_segments: bool,
    strict_outbound: bool,
    keep_isn_base: bool,
    local_ip: IpAddr,
    remote_ip: IpAddr,
    socks: BTreeMap<i64, Sock>,
    live: Option<Live>,
    script_isn: Option<u32>,
    live_isn: Option<u32>,
    ts_map: HashMap<u32, u32>,
    first_ts: Option<(u32, u32)>,
    out: VecDeque<(Usecs, Segment)>,
    pending: Option<Pending>,
    closed: HashMap<ConnId, CloseReason>,
    dir: Option<std::path::PathBuf>,
    /// Set by a read or write that would block a blocking socket.
    blocked: bool,
    /// What a blocked write has queued so far.
    partial_write: Option<usize>,
    /// The call being made is a blocked one tried again.
    retrying: bool,
    /// A blocked `poll` being retried has reached its timeout.
    poll_expired: bool,
    /// What `--verbose` shows, one line per entry: every segment both
    /// ways and every call (empty unless [`RunOptions::verbose`]).
    pub log: Vec<String>,
}

/// Runs a script's text; `dir` is where its shell commands' files are.
pub fn run_source(src: &str, dir: Option<&Path>, opts: &RunOptions) -> Result<(), Failure> {
    run_source_logged(src, dir, opts).0
}

/// [`run_source`], also returning what `--verbose` shows: every segment
/// both ways and every call (empty unless `opts.verbose`).
pub fn run_source_logged(
    src: &str,
    dir: Option<&Path>,
    opts: &RunOptions,
) -> (Result<(), Failure>, Vec<String>) {
    let pre;
    let src = if opts.profile == Profile::Portable {
        match preprocess(src, &opts.defines) {
            Ok(p) => {
                pre = p;
                pre.as_str()
            }
            Err(e) => return (Err(e), Vec::new()),
        }
    } else {
        src
    };
    let script = match crate::parse::parse(src) {
        Ok(s) => s,
        Err(e) if e.msg.starts_with("unsupported: ") => {
            let what = e.msg.trim_start_matches("unsupported: ");
            return (Err(unsupported(e.line, what)), Vec::new());
        }
        Err(e) => {
            let msg = format!("syntax error: {}", e.msg);
            return (Err(mismatch(e.line, msg)), Vec::new());
        }
    };
    let mut r = Runner::new(opts.clone(), dir);
    let res = r.run(&script);
    (res, r.log)
}

/// Portable profile: the `#ifdef NAME`, `#ifndef NAME`, `#else`, `#endif`
/// subset of the C preprocessor, NAME defined by `-D NAME`. Lines left
/// out become blank, so line numbers stay those of the file.
pub fn preprocess(src: &str, defines: &[String]) -> Result<String, Failure> {
    let mut out = String::with_capacity(src.len());
    // Per open #if: (this branch taken, the enclosing region is live).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let live = |stack: &[(bool, bool)]| stack.last().is_none_or(|&(taken, outer)| taken && outer);
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        let directive = t.strip_prefix('#').map(str::trim);
        match directive.map(|d| d.split_whitespace().collect::<Vec<_>>()) {
            Some(w) if w.first() == Some(&"ifdef") || w.first() == Some(&"ifndef") => {
                let name = w
                    .get(1)
                    .ok_or_else(|| mismatch(i + 1, "#ifdef without a name"))?;
                let defined = defines.iter().any(|d| d == name);
                let taken = if w[0] == "ifdef" { defined } else { !defined };
                let outer = live(&stack);
                stack.push((taken, outer));
            }
            Some(w) if w.first() == Some(&"else") => {
                let top = stack
                    .last_mut()
                    .ok_or_else(|| mismatch(i + 1, "#else without #ifdef"))?;
                top.0 = !top.0;
            }
            Some(w) if w.first() == Some(&"endif") => {
                stack
                    .pop()
                    .ok_or_else(|| mismatch(i + 1, "#endif without #ifdef"))?;
            }
            Some(w)
                if !w.is_empty()
                    && ["if", "elif", "define", "include", "undef"].contains(&w[0]) =>
            {
                return Err(unsupported(
                    i + 1,
                    format!("preprocessor directive #{}", w[0]),
                ));
            }
            _ => {
                if live(&stack) {
                    out.push_str(line);
                }
            }
        }
        out.push('\n');
    }
    if !stack.is_empty() {
        return Err(mismatch(src.lines().count(), "#ifdef without #endif"));
    }
    Ok(out)
}

impl Runner {
    fn portable(&self) -> bool {
        self.opts.profile == Profile::Portable
    }

    fn new(opts: RunOptions, dir: Option<&Path>) -> Runner {
        let mut cfg = opts.profile.config();
        let tolerance = opts.tolerance_usecs.unwrap_or(DEFAULT_TOLERANCE);
        if let Some(w) = opts.rcv_wnd {
            cfg.recv_buffer = w;
        }
        Runner {
            opts,
            cfg,
            ep: None,
            now: 0,
            prev: 0,
            tolerance,
            ts_tick: None,
            strict_segments: false,
            strict_outbound: false,
            keep_isn_base: false,
            local_ip: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)),
            remote_ip: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 2)),
            socks: BTreeMap::new(),
            live: None,
            script_isn: None,
            live_isn: None,
            ts_map: HashMap::new(),
            first_ts: None,
            out: VecDeque::new(),
            pending: None,
            closed: HashMap::new(),
            dir: dir.map(Path::to_path_buf),
            blocked: false,
            partial_write: None,
            retrying: false,
            poll_expired: false,
            log: Vec::new(),
        }
    }

    fn run(&mut self, script: &Script) -> Result<(), Failure> {
        let mut ipv6 = false;
        for (name, value) in &script.options {
            let v = value.as_deref().unwrap_or("");
            let num = || -> Result<i64, Failure> {
                v.parse()
                    .map_err(|_| mismatch(1, format!("--{name}={v}: not a number")))
            };
            match name.as_str() {
                "tolerance_usecs" => self.tolerance = num()?,
                "tcp_ts_tick_usecs" => self.ts_tick = Some(num()?).filter(|t| *t > 0),
                "strict_segments" => self.strict_segments = true,
                "strict_outbound" => self.strict_outbound = true,
                "keep_isn_base" => self.keep_isn_base = true,
                "ip_version" => match v {
                    "ipv4" => {}
                    "ipv6" => ipv6 = true,
                    other => return Err(unsupported(1, format!("--ip_version={other}"))),
                },
                // The gso_size of GRO packets on packetdrill's tun device:
                // in-process, segments are never coalesced.
                "mss" => {}
                "local_ip" => {
                    self.local_ip = v
                        .parse()
                        .map_err(|_| mismatch(1, format!("--local_ip={v}: not an address")))?
                }
                "remote_ip" => {
                    self.remote_ip = v
                        .parse()
                        .map_err(|_| mismatch(1, format!("--remote_ip={v}: not an address")))?
                }
                other => return Err(unsupported(1, format!("option --{other}"))),
            }
        }
        // IPv6 defaults for the addresses no option named.
        if ipv6 {
            if !self.local_ip.is_ipv6() {
                self.local_ip = IpAddr::V6(Ipv6Addr::new(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1));
            }
            if !self.remote_ip.is_ipv6() {
                self.remote_ip = IpAddr::V6(Ipv6Addr::new(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 2));
            }
        }
        for ev in &script.events {
            self.event(ev)?;
        }
        // A call still blocked at the end never returned.
        if let Some(p) = self.pending.take() {
            return Err(mismatch(p.line, format!("{} never returned", p.call.name)));
        }
        if self.strict_outbound {
            self.settle()?;
            if let Some((t, seen)) = self.out.pop_front() {
                let last = script.events.last().map_or(1, |e| e.line);
                return Err(mismatch(
                    last,
                    format!(
                        "--strict_outbound: at {:.6} the stack sent {}, which no line of the script expects",
                        secs(t),
                        self.show_seen(&seen)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn event(&mut self, ev: &Event) -> Result<(), Failure> {
        let line = ev.line;
        let (lo, hi) = match ev.time {
            EventTime::Absolute(t) => (t, t),
            EventTime::Relative(d) => (self.prev + d, self.prev + d),
            EventTime::Any => (self.now, Usecs::MAX / 4),
            EventTime::Range { lo, hi, relative } => {
                if relative {
                    (self.prev + lo, self.prev + hi)
                } else {
                    (lo, hi)
                }
            }
        };
        match &ev.action {
            Action::Command(cmd) => {
                self.command(line, cmd)?;
                Ok(())
            }
            Action::Code(code) => {
                self.step_until(lo)?;
                self.prev = lo;
                let info = self.live_info();
                match crate::code::eval(code, info.as_ref()) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(msg)) => Err(mismatch(line, msg)),
                    Err(what) => Err(unsupported(line, what)),
                }
            }
            Action::Packet(p) if p.direction == Direction::Inbound => {
                self.step_until(lo)?;
                self.inject(line, p)?;
                self.prev = lo;
                self.settle()
            }
            Action::Packet(p) => {
                let at = self.expect(line, p, lo, hi)?;
                self.prev = at;
                Ok(())
            }
            Action::Syscall(sc) => {
                self.step_until(lo)?;
                // One call at a time, as packetdrill's system-call thread
                // runs them: a call still blocked is waited for (until it
                // returns, or fails for returning too late).
                while let Some(p) = &self.pending {
                    let until = (p.deadline.saturating_add(self.tolerance) + 1)
                        .min(p.wake.unwrap_or(Usecs::MAX))
                        .max(self.now + 1);
                    self.step_until(until)?;
                }
                let end = sc.end.map(|e| match ev.time {
                    EventTime::Absolute(_)
                    | EventTime::Range {
                        relative: false, ..
                    } => e,
                    _ => self.prev + e,
                });
                self.prev = lo;
                self.syscall(line, sc, lo.max(self.now), end)?;
                self.settle()
            }
        }
    }

    fn ep(&mut self) -> &mut Endpoint {
        if self.ep.is_none() {
            let mut cfg = self.cfg.clone();
            cfg.local_addrs = vec![self.local_ip];
            self.ep = Some(Endpoint::new(
                cfg,
                Secret::from_bytes(*b"synack script rn"),
                Instant::from_micros(EPOCH_US),
            ));
        }
        self.ep.as_mut().expect("just made")
    }

    fn instant(&self) -> Instant {
        Instant::from_micros(EPOCH_US + self.now.max(0) as u64)
    }

    /// Collects what the engine sends now and what it has to say.
    fn settle(&mut self) -> Result<(), Failure> {
        let now = self.instant();
        let t = self.now;
        if let Some(ep) = self.ep.as_mut() {
            let mut buf = vec![0u8; ep.max_datagram_len()];
            while let Some(n) = ep.poll_transmit(now, &mut buf) {
                let seen = wire::read(&buf[..n]).map_err(|m| mismatch(0, m))?;
                self.out.push_back((t, seen));
            }
            while let Some(e) = ep.poll_event() {
                match e {
                    EpEvent::Connected { conn, .. } => {
                        for s in self.socks.values_mut() {
                            if s.state == SockState::Connecting(conn) {
                                s.state = SockState::Connected(conn);
                            }
                        }
                    }
                    EpEvent::Closed { conn, reason } => {
                        self.closed.insert(conn, reason);
                        for s in self.socks.values_mut() {
                            if (s.state == SockState::Connecting(conn)
                                || s.state == SockState::Connected(conn))
                                && let Some(errno) = reason_errno(reason)
                            {
                                s.error.get_or_insert(errno);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        self.retry_pending()
    }

    /// Runs the engine's timers up to `t` (script time).
    fn step_until(&mut self, t: Usecs) -> Result<(), Failure> {
        self.settle()?;
        loop {
            let next = self
                .ep
                .as_ref()
                .and_then(Endpoint::poll_timeout)
                .map(|i| i.micros() as i64 - EPOCH_US as i64);
            let stop = match &self.pending {
                Some(p) => t
                    .min(p.deadline.saturating_add(self.tolerance) + 1)
                    .min(p.wake.unwrap_or(Usecs::MAX)),
                None => t,
            };
            match next {
                Some(n) if n <= stop => {
                    self.now = self.now.max(n);
                    let now = self.instant();
                    self.ep().handle_timeout(now);
                    self.settle()?;
                }
                _ => {
                    self.now = self.now.max(stop);
                    self.settle()?;
                    if stop < t {
                        continue;
                    }
                    return Ok(());
                }
            }
        }
    }

    /// The offset from script to live for our sequence numbers.
    fn local_offset(&self) -> u32 {
        match (self.script_isn, self.live_isn) {
            (Some(s), Some(l)) => l.wrapping_sub(s),
            _ => 0,
        }
    }

    fn inject(&mut self, line: usize, p: &Packet) -> Result<(), Failure> {
        if p.flags & flags::SYN != 0 && p.flags & flags::ACK == 0 {
            // A SYN to a listening socket, with no connection under test
            // any more, opens a new one: its 4-tuple becomes the one
            // under test. (A SYN on a live connection is for that one.)
            if self.live_info().is_none()
                && let Some(addr) = self.listening_addr()
            {
                self.live = Some(Live {
                    local: addr,
                    remote: SocketAddr::new(self.remote_ip, REMOTE_EPHEMERAL),
                });
                if !self.keep_isn_base {
                    self.script_isn = None;
                    self.live_isn = None;
                }
            }
        }
        let live = self.live.unwrap_or(Live {
            local: SocketAddr::new(self.local_ip, BIND_PORT),
            remote: SocketAddr::new(self.remote_ip, REMOTE_EPHEMERAL),
        });
        let off = self.local_offset();
        let mut options = match &p.options {
            PacketOptions::None => Vec::new(),
            PacketOptions::Any => return Err(unsupported(line, "<...> on an inbound segment")),
            PacketOptions::List(list) => {
                let mut list = list.clone();
                for o in &mut list {
                    if let TcpOpt::Sack(blocks) = o {
                        for b in blocks {
                            *b = (b.0.wrapping_add(off), b.1.wrapping_add(off));
                        }
                    }
                }
                wire::option_bytes(&list)
            }
        };
        if p.flags & flags::ACK != 0
            && let Some(at) = wire::timestamp_at(&options)
        {
            let ecr = u32::from_be_bytes(options[at + 4..at + 8].try_into().expect("4 bytes"));
            let live_ecr = *self.ts_map.get(&ecr).ok_or_else(|| {
                mismatch(
                    line,
                    format!("unable to find mapping for timestamp ecr {ecr}"),
                )
            })?;
            options[at + 4..at + 8].copy_from_slice(&live_ecr.to_be_bytes());
        }
        let datagram = wire::build(&Segment {
            src: live.remote.ip(),
            dst: live.local.ip(),
            src_port: live.remote.port(),
            dst_port: live.local.port(),
            seq: p.seq,
            ack: if p.flags & flags::ACK != 0 {
                p.ack.unwrap_or(0).wrapping_add(off)
            } else {
                0
            },
            flags: p.flags,
            win: p.win.unwrap_or(0).min(65535) as u16,
            urg: p.urg.unwrap_or(0) as u16,
            len: p.len,
            ecn: p.ecn.unwrap_or(Ecn::NotEct),
            options,
        });
        if self.opts.verbose {
            self.log
                .push(format!("{:>10.6} < {}", secs(self.now), show_script(p)));
        }
        let now = self.instant();
        self.ep().handle_packet(now, &datagram);
        Ok(())
    }

    /// `ConnInfo` of the connection under test.
    fn live_info(&self) -> Option<synack::ConnInfo> {
        let live = self.live?;
        let ep = self.ep.as_ref()?;
        ep.connections()
            .find(|(_, i)| i.local == live.local && i.remote == live.remote)
            .map(|(_, i)| i)
    }

    fn listening_addr(&self) -> Option<SocketAddr> {
        self.socks.values().find_map(|s| match s.state {
            SockState::Listening(_) => Some(SocketAddr::new(self.local_ip, BIND_PORT)),
            _ => None,
        })
    }
}
