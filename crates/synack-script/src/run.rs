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

use crate::ast::*;
use crate::parse::flags;
use crate::profile::{self, Effect, Profile};
use crate::wire::{self, Inbound, Seen};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use synack::{
    CloseReason, Config, ConnId, Endpoint, Error, Event as EpEvent, Instant, ListenerId, Secret,
};

/// Why a script did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The stack did something else than the script says.
    Mismatch { line: usize, msg: String },
    /// The script needs something the runner or synack does not have.
    Unsupported { line: usize, what: String },
}

impl Failure {
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

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub profile: Profile,
    /// Print every segment both ways, and every call.
    pub verbose: bool,
    /// Names defined for `#ifdef` (portable profile).
    pub defines: Vec<String>,
    /// The stack's initial receive window (`--rcv-wnd`, portable profile).
    pub rcv_wnd: Option<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            profile: Profile::Rfc,
            verbose: false,
            defines: Vec::new(),
            rcv_wnd: None,
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
}

/// A blocking call waiting for the stack.
struct Pending {
    line: usize,
    call: Syscall,
    start: Usecs,
    deadline: Usecs,
    /// Bytes a blocking write has queued so far.
    written: usize,
}

/// The connection whose segments the script describes.
#[derive(Clone, Copy, Debug)]
struct Live {
    local: SocketAddr,
    remote: SocketAddr,
}

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
    local_ip: IpAddr,
    remote_ip: IpAddr,
    socks: BTreeMap<i64, Sock>,
    live: Option<Live>,
    script_isn: Option<u32>,
    live_isn: Option<u32>,
    ts_map: HashMap<u32, u32>,
    first_ts: Option<(u32, u32)>,
    out: VecDeque<(Usecs, Seen)>,
    pending: Option<Pending>,
    closed: HashMap<ConnId, CloseReason>,
    dir: Option<std::path::PathBuf>,
    /// Set by a read or write that would block a blocking socket.
    blocked: bool,
    /// What a blocked write has queued so far.
    partial_write: Option<usize>,
    /// The call being made is a blocked one tried again.
    retrying: bool,
    pub log: Vec<String>,
}

/// Runs a script's text; `dir` is where its shell commands' files are.
pub fn run_source(src: &str, dir: Option<&Path>, opts: &RunOptions) -> Result<(), Failure> {
    let pre;
    let src = if opts.profile == Profile::Portable {
        pre = preprocess(src, &opts.defines)?;
        pre.as_str()
    } else {
        src
    };
    let script = crate::parse::parse(src).map_err(|e| {
        if e.msg.starts_with("unsupported: ") {
            unsupported(e.line, e.msg.trim_start_matches("unsupported: "))
        } else {
            mismatch(e.line, format!("syntax error: {}", e.msg))
        }
    })?;
    let mut r = Runner::new(opts.clone(), dir);
    let res = r.run(&script);
    if opts.verbose {
        for l in &r.log {
            println!("    {l}");
        }
    }
    res
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
        if let Some(w) = opts.rcv_wnd {
            cfg.recv_buffer = w;
        }
        Runner {
            opts,
            cfg,
            ep: None,
            now: 0,
            prev: 0,
            tolerance: DEFAULT_TOLERANCE,
            ts_tick: None,
            strict_segments: false,
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
        if ipv6 {
            self.local_ip = IpAddr::V6(Ipv6Addr::new(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1));
            self.remote_ip = IpAddr::V6(Ipv6Addr::new(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 2));
        }
        for ev in &script.events {
            self.event(ev)?;
        }
        // A call still blocked at the end never returned.
        if let Some(p) = self.pending.take() {
            return Err(mismatch(p.line, format!("{} never returned", p.call.name)));
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
                let end = sc.end.map(|e| match ev.time {
                    EventTime::Absolute(_)
                    | EventTime::Range {
                        relative: false, ..
                    } => e,
                    _ => self.prev + e,
                });
                self.prev = lo;
                self.syscall(line, sc, lo, end)?;
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
                Some(p) => t.min(p.deadline.saturating_add(self.tolerance) + 1),
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
                self.script_isn = None;
                self.live_isn = None;
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
        let ecn = match p.ecn {
            None | Some(Ecn::NotEct) => 0,
            Some(Ecn::Ect1) => 1,
            Some(Ecn::Ect0) => 2,
            Some(Ecn::Ce) => 3,
        };
        let datagram = wire::build(&Inbound {
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
            ecn,
            options: &options,
            payload_len: p.len as usize,
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

    /// Waits for the next outbound segment (aggregating consecutive ones
    /// into one expected segment) and checks it against `p`. Returns when
    /// it left.
    fn expect(&mut self, line: usize, p: &Packet, lo: Usecs, hi: Usecs) -> Result<Usecs, Failure> {
        let give_up = hi.saturating_add(self.tolerance);
        while self.out.is_empty() {
            let next = self
                .ep
                .as_ref()
                .and_then(Endpoint::poll_timeout)
                .map(|i| i.micros() as i64 - EPOCH_US as i64);
            match next {
                Some(n) if n <= give_up => self.step_until(n.max(self.now))?,
                _ => {
                    self.step_until(give_up)?;
                    if self.out.is_empty() {
                        return Err(mismatch(
                            line,
                            format!(
                                "Timed out waiting for packet: expected {} at {:.6}",
                                show_script(p),
                                secs(lo)
                            ),
                        ));
                    }
                }
            }
        }
        let (at, first) = self.out.pop_front().expect("not empty");
        if at < lo - self.tolerance || at > hi.saturating_add(self.tolerance) {
            return Err(mismatch(
                line,
                format!(
                    "outbound packet timing error: expected {} at {:.6}{}, sent at {:.6}",
                    show_script(p),
                    secs(lo),
                    if hi != lo && hi < Usecs::MAX / 8 {
                        format!("~{:.6}", secs(hi))
                    } else {
                        String::new()
                    },
                    secs(at)
                ),
            ));
        }
        // Learn the 4-tuple of a connection we opened, and our ISN.
        if p.flags & flags::SYN != 0 {
            if p.flags & flags::ACK == 0 {
                self.live = Some(Live {
                    local: SocketAddr::new(self.local_ip, first.src_port),
                    remote: SocketAddr::new(self.remote_ip, first.dst_port),
                });
            }
            if first.flags & flags::SYN != 0 {
                self.script_isn = Some(p.seq);
                self.live_isn = Some(first.seq);
            }
        }
        if self.opts.verbose {
            self.log
                .push(format!("{:>10.6} > {}", secs(at), self.show_seen(&first)));
        }
        let mut seen = first;
        // One expected segment made of several: take the next ones while
        // they continue it, sent at the same time.
        if !self.strict_segments {
            while seen.len < p.len
                && seen.flags & flags::FIN == 0
                && let Some((t2, next)) = self.out.front()
                && *t2 == at
                && next.seq == seen.seq.wrapping_add(seen.len)
                && next.flags & !(flags::PSH | flags::FIN) == seen.flags & !flags::PSH
            {
                let (_, next) = self.out.pop_front().expect("peeked");
                if self.opts.verbose {
                    self.log.push(format!(
                        "{:>10.6} > {} (part of one)",
                        secs(at),
                        self.show_seen(&next)
                    ));
                }
                seen.len += next.len;
                seen.flags = (seen.flags & !flags::PSH) | next.flags;
            }
        }
        self.compare(line, p, seen)?;
        Ok(at)
    }

    fn compare(&mut self, line: usize, p: &Packet, mut seen: Seen) -> Result<(), Failure> {
        let off = self.local_offset();
        let expected = show_script(p);
        // The 4-tuple, addresses included: our address is chosen before
        // the first SYN and kept (RFC 9293 MUST-44, MUST-45).
        if let Some(live) = self.live
            && (SocketAddr::new(seen.src, seen.src_port) != live.local
                || SocketAddr::new(seen.dst, seen.dst_port) != live.remote)
        {
            return Err(mismatch(
                line,
                format!(
                    "expected {expected}, but the stack sent a segment of another connection ({} > {})",
                    SocketAddr::new(seen.src, seen.src_port),
                    SocketAddr::new(seen.dst, seen.dst_port)
                ),
            ));
        }
        seen.seq = seen.seq.wrapping_sub(off);
        // Options in script space: the TSval mapped from the first one.
        let mut actual_opts = seen.options.clone();
        let mut problems = Vec::new();
        if let (PacketOptions::List(list), Some(at)) =
            (&p.options, wire::timestamp_at(&actual_opts))
        {
            let script_val = list.iter().find_map(|o| match o {
                TcpOpt::Timestamp { val, .. } => Some(*val),
                _ => None,
            });
            if let Some(sv) = script_val {
                let actual =
                    u32::from_be_bytes(actual_opts[at..at + 4].try_into().expect("4 bytes"));
                self.ts_map.insert(sv, actual);
                let (fs, fa) = *self.first_ts.get_or_insert((sv, actual));
                let in_script = fs.wrapping_add(actual.wrapping_sub(fa));
                if let Some(tick) = self.ts_tick {
                    let dev = i64::from(in_script.wrapping_sub(sv) as i32).abs();
                    if dev * tick > self.tolerance {
                        problems.push(format!("TS val {in_script} (expected {sv})"));
                    }
                }
                actual_opts[at..at + 4].copy_from_slice(&sv.to_be_bytes());
            }
        }
        if seen.flags != p.flags {
            problems.push(format!("flags {}", show_flags(seen.flags)));
        }
        if seen.seq != p.seq || seen.len != p.len {
            problems.push(format!(
                "{}:{}({})",
                seen.seq,
                seen.seq.wrapping_add(seen.len),
                seen.len
            ));
        }
        if p.flags & flags::ACK != 0
            && let Some(a) = p.ack
            && seen.ack != a
        {
            problems.push(format!("ack {}", seen.ack));
        }
        // Portable: the window the script expects is the other kernel's
        // buffer size, not something RFC 9293 fixes.
        if let Some(w) = p.win
            && !self.portable()
            && u32::from(seen.win) != w
        {
            problems.push(format!("win {}", seen.win));
        }
        if let Some(u) = p.urg
            && u32::from(seen.urg) != u
        {
            problems.push(format!("urg {}", seen.urg));
        }
        if let Some(e) = p.ecn
            && seen.ecn != e
        {
            problems.push(format!("ECN {:?}", seen.ecn));
        }
        match &p.options {
            PacketOptions::Any => {}
            PacketOptions::None => {
                if !actual_opts.is_empty() {
                    problems.push(format!("options <{}>", show_option_bytes(&actual_opts)));
                }
            }
            PacketOptions::List(list) => {
                let differs = if self.portable() {
                    portable_options_differ(list, &actual_opts)
                } else {
                    wire::option_bytes(list) != actual_opts
                };
                if differs {
                    problems.push(format!("options <{}>", show_option_bytes(&actual_opts)));
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(mismatch(
            line,
            format!(
                "expected {expected}; the stack sent {} (differs in {})",
                self.show_seen_script(&seen, &actual_opts),
                problems.join(", ")
            ),
        ))
    }

    fn show_seen(&self, s: &Seen) -> String {
        let mut t = s.clone();
        t.seq = t.seq.wrapping_sub(self.local_offset());
        self.show_seen_script(&t, &s.options)
    }

    fn show_seen_script(&self, s: &Seen, opts: &[u8]) -> String {
        let mut out = format!(
            "{} {}:{}({})",
            show_flags(s.flags),
            s.seq,
            s.seq.wrapping_add(s.len),
            s.len
        );
        if s.flags & flags::ACK != 0 {
            out += &format!(" ack {}", s.ack);
        }
        out += &format!(" win {}", s.win);
        if !opts.is_empty() {
            out += &format!(" <{}>", show_option_bytes(opts));
        }
        out
    }
}

/// Portable: options compared as a set of kinds, NOP and EOL padding and
/// the order ignored; the stack's own choices (its window-scale shift, its
/// TSval) not compared; the MSS, the echoed timestamp and SACK blocks are.
fn portable_options_differ(expected: &[TcpOpt], actual: &[u8]) -> bool {
    // (kind, the bytes that must match)
    let key = |kind: u8, body: &[u8]| -> (u8, Vec<u8>) {
        match kind {
            3 => (3, Vec::new()),
            8 => (8, body.get(4..8).map(<[u8]>::to_vec).unwrap_or_default()),
            _ => (kind, body.to_vec()),
        }
    };
    let parse = |o: &[u8]| -> Option<Vec<(u8, Vec<u8>)>> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < o.len() {
            match o[i] {
                0 | 1 => i += 1,
                kind => {
                    let len = usize::from(*o.get(i + 1)?);
                    if len < 2 || i + len > o.len() {
                        return None;
                    }
                    v.push(key(kind, &o[i + 2..i + len]));
                    i += len;
                }
            }
        }
        v.sort();
        Some(v)
    };
    parse(&wire::option_bytes(expected)) != parse(actual)
}

fn secs(us: Usecs) -> f64 {
    us as f64 / 1e6
}

fn reason_errno(r: CloseReason) -> Option<&'static str> {
    match r {
        CloseReason::Normal => None,
        CloseReason::Refused => Some("ECONNREFUSED"),
        CloseReason::Reset => Some("ECONNRESET"),
        CloseReason::TimedOut | CloseReason::KeepaliveTimeout => Some("ETIMEDOUT"),
        CloseReason::Aborted => Some("ECONNABORTED"),
        CloseReason::HostUnreachable => Some("EHOSTUNREACH"),
        CloseReason::NetworkUnreachable => Some("ENETUNREACH"),
        _ => None,
    }
}

pub(crate) fn show_flags(f: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags::SYN, 'S'),
        (flags::FIN, 'F'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::URG, 'U'),
        (flags::ECE, 'E'),
        (flags::CWR, 'W'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    if f & flags::ACK != 0 {
        s.push('.');
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

pub(crate) fn show_script(p: &Packet) -> String {
    let mut out = format!(
        "{}{} {}:{}({})",
        match p.ecn {
            Some(e) => format!("[{}] ", format!("{e:?}").to_lowercase()),
            None => String::new(),
        },
        show_flags(p.flags),
        p.seq,
        p.end_seq,
        p.len
    );
    if let Some(a) = p.ack {
        out += &format!(" ack {a}");
    }
    if let Some(w) = p.win {
        out += &format!(" win {w}");
    }
    match &p.options {
        PacketOptions::None => {}
        PacketOptions::Any => out += " <...>",
        PacketOptions::List(l) => {
            out += &format!(" <{}>", show_option_bytes(&wire::option_bytes(l)))
        }
    }
    out
}

/// Option bytes in packetdrill's notation.
fn show_option_bytes(o: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < o.len() {
        let kind = o[i];
        if kind == 0 {
            parts.push("eol".to_string());
            i += 1;
            continue;
        }
        if kind == 1 {
            parts.push("nop".to_string());
            i += 1;
            continue;
        }
        let len = o.get(i + 1).copied().unwrap_or(0) as usize;
        if len < 2 || i + len > o.len() {
            parts.push(format!("bad option {kind}"));
            break;
        }
        let body = &o[i + 2..i + len];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        parts.push(match (kind, len) {
            (2, 4) => format!("mss {}", u16::from_be_bytes([body[0], body[1]])),
            (3, 3) => format!("wscale {}", body[0]),
            (4, 2) => "sackOK".into(),
            (8, 10) => format!("TS val {} ecr {}", be32(&body[0..4]), be32(&body[4..8])),
            (5, _) => {
                let blocks: Vec<String> = body
                    .chunks_exact(8)
                    .map(|b| format!("{}:{}", be32(&b[0..4]), be32(&b[4..8])))
                    .collect();
                format!("sack {}", blocks.join(" "))
            }
            _ => format!("kind {kind} len {len}"),
        });
        i += len;
    }
    parts.join(",")
}

impl Runner {
    /// A shell command: `defaults.sh` files and `sysctl` lines are read
    /// and mapped onto the configuration; anything else is unsupported.
    fn command(&mut self, line: usize, cmd: &str) -> Result<(), Failure> {
        let joined = cmd.replace("\\\n", " ");
        for raw in joined.lines() {
            let l = raw.split(" #").next().unwrap_or("").trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let first = l.split_whitespace().next().unwrap_or("");
            if first.ends_with(".sh") {
                let Some(dir) = &self.dir else {
                    return Err(unsupported(
                        line,
                        format!("shell script {first} (no script directory)"),
                    ));
                };
                let path = dir.join(first);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| unsupported(line, format!("shell script {first}: {e}")))?;
                self.command(line, &text)?;
                continue;
            }
            self.shell_line(line, l)?;
        }
        Ok(())
    }

    fn shell_line(&mut self, line: usize, l: &str) -> Result<(), Failure> {
        let words = shell_words(l);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if self.portable() {
            if words.first() == Some(&"sysctl") {
                for w in &words[1..] {
                    if w.starts_with('-')
                        || w.starts_with('>')
                        || w.starts_with("/dev/")
                        || *w == "2>&1"
                    {
                        continue;
                    }
                    let Some((name, value)) = w.split_once('=') else {
                        return Err(unsupported(line, format!("shell command: {l}")));
                    };
                    if name.starts_with("net.ipv4.") {
                        self.sysctl_assignment(line, w, l)?;
                        continue;
                    }
                    if self.ep.is_some() {
                        return Err(unsupported(
                            line,
                            format!("sysctl {name} after the stack started"),
                        ));
                    }
                    match profile::bsd_sysctl(&mut self.cfg, name, value) {
                        Ok(Effect::Applied) => {}
                        Ok(Effect::NoEffect(why)) => {
                            if self.opts.verbose {
                                self.log
                                    .push(format!("sysctl {name}={value}: no effect ({why})"));
                            }
                        }
                        Err(why) => return Err(unsupported(line, why)),
                    }
                }
                return Ok(());
            }
            if let Some(r) = self.socket_count(line, l) {
                return r;
            }
        }
        match words.first().copied() {
            Some("sysctl") => {
                for w in &words[1..] {
                    if w.starts_with('-')
                        || w.starts_with('>')
                        || w.starts_with("/dev/")
                        || *w == "2>&1"
                    {
                        continue;
                    }
                    self.sysctl_assignment(line, w, l)?;
                }
                Ok(())
            }
            // A host cache of per-destination metrics that synack does not
            // keep; flushing it changes nothing.
            Some("ip") if l.contains("tcp_metrics flush") => Ok(()),
            // The qdisc of packetdrill's tun device: in-process there is
            // none to pace or reorder.
            Some("tc") if l.contains("qdisc") => Ok(()),
            // Offloads of packetdrill's tun device: synack in-process sends
            // no TSO or GSO segments to turn off.
            Some("ethtool") if words.get(1) == Some(&"-K") => Ok(()),
            _ if words.first().is_some_and(|w| w.ends_with("set_sysctls.py")) => {
                for w in &words[1..] {
                    let Some(rest) = w.strip_prefix("/proc/sys/net/ipv4/") else {
                        return Err(unsupported(line, format!("shell command: {l}")));
                    };
                    self.sysctl_assignment(line, &format!("net.ipv4.{rest}"), l)?;
                }
                Ok(())
            }
            _ => Err(unsupported(line, format!("shell command: {l}"))),
        }
    }

    fn sysctl_assignment(&mut self, line: usize, w: &str, whole: &str) -> Result<(), Failure> {
        let Some((name, value)) = w.split_once('=') else {
            return Err(unsupported(line, format!("shell command: {whole}")));
        };
        let value = expand_arith(value);
        let Some(name) = name.strip_prefix("net.ipv4.") else {
            return Err(unsupported(line, format!("sysctl {name}")));
        };
        if self.ep.is_some() {
            return Err(unsupported(
                line,
                format!("sysctl {name} after the stack started"),
            ));
        }
        match profile::sysctl(&mut self.cfg, name, &value) {
            Ok(Effect::Applied) => Ok(()),
            Ok(Effect::NoEffect(why)) => {
                if self.opts.verbose {
                    self.log
                        .push(format!("sysctl {name}={value}: no effect ({why})"));
                }
                Ok(())
            }
            Err(why) => Err(unsupported(line, why)),
        }
    }
}

impl Runner {
    /// Portable: `sockstat|netstat|ss ... | grep -c STATE | grep N` (or
    /// `grep -q N`, `test ... -eq N`-free forms only), answered from the
    /// endpoint's own table. `None` when the line is not such a count.
    fn socket_count(&mut self, line: usize, l: &str) -> Option<Result<(), Failure>> {
        let stages: Vec<&str> = l.split('|').map(str::trim).collect();
        let tool = stages.first()?.split_whitespace().next()?;
        if !["sockstat", "netstat", "ss"].contains(&tool) || stages.len() != 3 {
            return None;
        }
        let state = stages[1].strip_prefix("grep -c ")?.trim().trim_matches('"');
        let want: usize = stages[2]
            .strip_prefix("grep ")?
            .trim_start_matches("-q ")
            .trim()
            .trim_matches('"')
            .parse()
            .ok()?;
        let norm = state.to_ascii_uppercase().replace('-', "_");
        let have = match norm.as_str() {
            "LISTEN" => self
                .socks
                .values()
                .filter(|s| matches!(s.state, SockState::Listening(_)))
                .count(),
            "TIME_WAIT" => self.ep.as_ref().map_or(0, |e| e.time_wait_count()),
            other => {
                let want_state = match other {
                    "ESTABLISHED" | "ESTAB" => synack::State::Established,
                    "SYN_SENT" => synack::State::SynSent,
                    "SYN_RECEIVED" | "SYN_RECV" | "SYN_RCVD" => synack::State::SynReceived,
                    "FIN_WAIT_1" | "FIN_WAIT1" => synack::State::FinWait1,
                    "FIN_WAIT_2" | "FIN_WAIT2" => synack::State::FinWait2,
                    "CLOSE_WAIT" => synack::State::CloseWait,
                    "CLOSING" => synack::State::Closing,
                    "LAST_ACK" => synack::State::LastAck,
                    _ => return Some(Err(unsupported(line, format!("socket state {state}")))),
                };
                self.ep.as_ref().map_or(0, |e| {
                    e.connections()
                        .filter(|(_, i)| i.state == want_state)
                        .count()
                })
            }
        };
        Some(if have == want {
            Ok(())
        } else {
            Err(mismatch(
                line,
                format!("{l}: {have} sockets in {state}, expected {want}"),
            ))
        })
    }
}

/// A shell line split into words, double quotes grouping and removed.
fn shell_words(l: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in l.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// `$((15*1024*1024))` in a sysctl value, evaluated.
fn expand_arith(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v.trim_matches('"');
    while let Some(i) = rest.find("$((") {
        out += &rest[..i];
        let Some(j) = rest[i..].find("))") else {
            break;
        };
        let expr = &rest[i + 3..i + j];
        let prod: Option<i64> = expr
            .split('*')
            .map(|x| x.trim().parse::<i64>().ok())
            .try_fold(1i64, |a, x| a.checked_mul(x?));
        out += &prod.map_or_else(|| expr.to_string(), |p| p.to_string());
        rest = &rest[i + j + 2..];
    }
    out += rest;
    out
}

// ---- System calls ----------------------------------------------------------

/// What a call did.
enum Outcome {
    Done(Result<i64, &'static str>),
    /// It would block; try again as the stack moves.
    Blocked,
}

const SOCK_STREAM: i64 = 1;
const IPPROTO_TCP: i64 = 6;

impl Runner {
    fn syscall(
        &mut self,
        line: usize,
        sc: &Syscall,
        start: Usecs,
        end: Option<Usecs>,
    ) -> Result<(), Failure> {
        if self.opts.verbose {
            self.log
                .push(format!("{:>10.6}   {}(...)", secs(start), sc.name));
        }
        match self.call(line, sc, 0)? {
            Outcome::Done(r) => self.check_result(line, sc, r),
            Outcome::Blocked => {
                let deadline = end.unwrap_or(start);
                self.pending = Some(Pending {
                    line,
                    call: sc.clone(),
                    start,
                    deadline,
                    written: 0,
                });
                Ok(())
            }
        }
    }

    fn retry_pending(&mut self) -> Result<(), Failure> {
        let Some(mut p) = self.pending.take() else {
            return Ok(());
        };
        if self.ep.is_none() {
            self.pending = Some(p);
            return Ok(());
        }
        let written = p.written;
        self.retrying = true;
        let outcome = self.call(p.line, &p.call, written);
        self.retrying = false;
        match outcome? {
            Outcome::Done(r) => {
                if self.now > p.deadline + self.tolerance {
                    return Err(mismatch(
                        p.line,
                        format!(
                            "{} returned at {:.6}, expected by {:.6}",
                            p.call.name,
                            secs(self.now),
                            secs(p.deadline)
                        ),
                    ));
                }
                if self.opts.verbose {
                    self.log.push(format!(
                        "{:>10.6}   {}(...) returned (called at {:.6})",
                        secs(self.now),
                        p.call.name,
                        secs(p.start)
                    ));
                }
                self.check_result(p.line, &p.call, r)
            }
            Outcome::Blocked => {
                if self.now > p.deadline + self.tolerance {
                    return Err(mismatch(
                        p.line,
                        format!(
                            "{} still blocked at {:.6}, expected to return by {:.6}",
                            p.call.name,
                            secs(self.now),
                            secs(p.deadline)
                        ),
                    ));
                }
                // A blocking write keeps what it has queued so far.
                if let Some(w) = self.partial_write.take() {
                    p.written = w;
                }
                self.pending = Some(p);
                Ok(())
            }
        }
    }

    fn check_result(
        &mut self,
        line: usize,
        sc: &Syscall,
        r: Result<i64, &'static str>,
    ) -> Result<(), Failure> {
        let got = match r {
            Ok(v) => format!("{v}"),
            Err(e) => format!("-1 {e}"),
        };
        let ok = match (&sc.result, r) {
            (Expr::Ellipsis, _) => true,
            (Expr::Int(want), Ok(v)) => *want == v,
            (Expr::Int(-1), Err(e)) => sc.errno.as_deref().is_none_or(|want| want == e),
            (Expr::Int(_), Err(_)) => false,
            (other, _) => return Err(unsupported(line, format!("result expression {other:?}"))),
        };
        if ok {
            return Ok(());
        }
        let want = match (&sc.result, &sc.errno) {
            (Expr::Int(v), Some(e)) => format!("{v} {e}"),
            (Expr::Int(v), None) => format!("{v}"),
            (e, _) => format!("{e:?}"),
        };
        Err(mismatch(
            line,
            format!("{}: expected result {want} but got {got}", sc.name),
        ))
    }

    fn fd(&self, line: usize, sc: &Syscall) -> Result<i64, Failure> {
        match sc.args.first() {
            Some(Expr::Int(fd)) => Ok(*fd),
            _ => Err(unsupported(
                line,
                format!("{}: the first argument must be a file descriptor", sc.name),
            )),
        }
    }

    fn int_arg(&self, line: usize, sc: &Syscall, i: usize) -> Result<i64, Failure> {
        match sc.args.get(i) {
            Some(Expr::Int(v)) => Ok(*v),
            Some(Expr::Array(a)) if a.len() == 1 => match &a[0] {
                Expr::Int(v) => Ok(*v),
                e => Err(unsupported(line, format!("{}: argument {e:?}", sc.name))),
            },
            Some(e) => {
                constant(e).ok_or_else(|| unsupported(line, format!("{}: argument {e:?}", sc.name)))
            }
            None => Err(mismatch(
                line,
                format!("{}: missing argument {}", sc.name, i + 1),
            )),
        }
    }

    fn call(&mut self, line: usize, sc: &Syscall, written: usize) -> Result<Outcome, Failure> {
        self.blocked = false;
        self.partial_write = None;
        let outcome = self.call_inner(line, sc, written)?;
        if self.blocked {
            return Ok(Outcome::Blocked);
        }
        Ok(outcome)
    }

    fn call_inner(
        &mut self,
        line: usize,
        sc: &Syscall,
        written: usize,
    ) -> Result<Outcome, Failure> {
        let name = sc.name.as_str();
        if name == "socket" {
            let ty = self.int_arg(line, sc, 1)?;
            let proto = self.int_arg(line, sc, 2)?;
            if ty & 0xf != SOCK_STREAM || (proto != IPPROTO_TCP && proto != 0) {
                return Ok(Outcome::Done(Err("EPROTONOSUPPORT")));
            }
            let fd = self.new_fd(sc);
            self.socks.insert(
                fd,
                Sock {
                    state: SockState::Fresh,
                    nonblocking: ty & 0o4000 != 0,
                    nodelay: false,
                    shut_rd: false,
                    error: None,
                    reset_reported: false,
                    linger_zero: false,
                },
            );
            return Ok(Outcome::Done(Ok(fd)));
        }
        let fd = self.fd(line, sc)?;
        let Some(sock) = self.socks.get(&fd) else {
            return Ok(Outcome::Done(Err("EBADF")));
        };
        let state = sock.state;
        let nonblocking = sock.nonblocking;
        let r = match name {
            "bind" => match state {
                SockState::Fresh => {
                    self.sock(fd).state =
                        SockState::Bound(SocketAddr::new(self.local_ip, BIND_PORT));
                    Ok(0)
                }
                _ => Err("EINVAL"),
            },
            "listen" => match state {
                SockState::Bound(addr) => {
                    let backlog = self.int_arg(line, sc, 1)?.max(1) as usize;
                    match self.ep().listen(addr, backlog) {
                        Ok(l) => {
                            self.sock(fd).state = SockState::Listening(l);
                            Ok(0)
                        }
                        Err(e) => Err(errno(e)),
                    }
                }
                SockState::Listening(_) => Ok(0),
                _ => Err("EINVAL"),
            },
            "accept" | "accept4" => {
                let SockState::Listening(l) = state else {
                    return Ok(Outcome::Done(Err("EINVAL")));
                };
                match self.ep().accept(l) {
                    Some(c) => {
                        let newfd = self.new_fd(sc);
                        self.socks.insert(
                            newfd,
                            Sock {
                                state: SockState::Connected(c),
                                nonblocking: false,
                                nodelay: false,
                                shut_rd: false,
                                error: None,
                                reset_reported: false,
                                linger_zero: false,
                            },
                        );
                        Ok(newfd)
                    }
                    None if nonblocking => Err("EAGAIN"),
                    None => return Ok(Outcome::Blocked),
                }
            }
            "connect" => match state {
                SockState::Fresh | SockState::Bound(_) => {
                    let local = match state {
                        SockState::Bound(a) => a,
                        _ => SocketAddr::new(self.local_ip, 0),
                    };
                    let remote = SocketAddr::new(self.remote_ip, CONNECT_PORT);
                    let now = self.instant();
                    match self.ep().connect(now, local, remote) {
                        Ok(c) => {
                            let nodelay = self.sock(fd).nodelay;
                            if nodelay {
                                let _ = self.ep().set_nodelay(c, true);
                            }
                            self.sock(fd).state = SockState::Connecting(c);
                            if nonblocking {
                                Err("EINPROGRESS")
                            } else {
                                return Ok(Outcome::Blocked);
                            }
                        }
                        Err(e) => Err(errno(e)),
                    }
                }
                SockState::Connecting(_) => {
                    if let Some(e) = self.sock(fd).error.take() {
                        self.sock(fd).state = SockState::Closed;
                        Err(e)
                    } else if nonblocking {
                        Err("EALREADY")
                    } else {
                        return Ok(Outcome::Blocked);
                    }
                }
                // A blocking connect returns once established.
                SockState::Connected(_) if self.retrying => Ok(0),
                SockState::Connected(_) => Err("EISCONN"),
                _ => Err("EBADF"),
            },
            "read" | "recv" | "recvfrom" | "readv" | "recvmsg" => {
                let len = match name {
                    "readv" | "recvmsg" => {
                        return Err(unsupported(line, format!("{name} (vectored reads)")));
                    }
                    _ => self.io_len(line, sc)?,
                };
                self.read(fd, len)?
            }
            "write" | "send" | "sendto" => {
                let len = self.io_len(line, sc)?;
                self.write(fd, len, written)?
            }
            "writev" | "sendmsg" => {
                return Err(unsupported(line, format!("{name} (vectored writes)")));
            }
            "close" => {
                match state {
                    SockState::Listening(l) => {
                        let _ = self.ep().close_listener(l);
                    }
                    // SO_LINGER with a zero timeout: ABORT (RFC 9293 3.10.5).
                    SockState::Connecting(c) | SockState::Connected(c)
                        if self.sock(fd).linger_zero =>
                    {
                        self.ep().abort(c);
                    }
                    SockState::Connecting(c) | SockState::Connected(c) => {
                        let _ = self.ep().close(c);
                    }
                    _ => {}
                }
                self.socks.remove(&fd);
                Ok(0)
            }
            "shutdown" => {
                let how = self.int_arg(line, sc, 1)?;
                match state {
                    SockState::Connected(c) | SockState::Connecting(c) => {
                        if how == 0 || how == 2 {
                            self.sock(fd).shut_rd = true;
                        }
                        if how == 1 || how == 2 {
                            let _ = self.ep().shutdown(c);
                        }
                        Ok(0)
                    }
                    _ => Err("ENOTCONN"),
                }
            }
            "fcntl" => {
                let cmd = self.int_arg(line, sc, 1)?;
                match cmd {
                    // F_GETFL: O_RDWR, plus O_NONBLOCK.
                    3 => Ok(2 | if nonblocking { 0o4000 } else { 0 }),
                    // F_SETFL
                    4 => {
                        let fl = self.int_arg(line, sc, 2)?;
                        self.sock(fd).nonblocking = fl & 0o4000 != 0;
                        Ok(0)
                    }
                    _ => return Err(unsupported(line, format!("fcntl command {cmd}"))),
                }
            }
            "ioctl" => {
                let req = self.int_arg(line, sc, 1)?;
                // FIONREAD / SIOCINQ
                if req != 0x541B {
                    return Err(unsupported(line, format!("ioctl request {req:#x}")));
                }
                let queued = match state {
                    SockState::Connected(c) => self.ep().info(c).map_or(0, |i| i.recv_queue),
                    _ => 0,
                };
                let want = self.int_arg(line, sc, 2)?;
                if want as usize != queued {
                    return Err(mismatch(
                        line,
                        format!("ioctl(SIOCINQ): expected {want} bytes queued, found {queued}"),
                    ));
                }
                Ok(0)
            }
            "setsockopt" => self.setsockopt(line, sc, fd)?,
            "getsockopt" => self.getsockopt(line, sc, fd)?,
            other => return Err(unsupported(line, format!("system call {other}"))),
        };
        Ok(Outcome::Done(r))
    }

    /// The descriptor a new socket gets: the one the script names as the
    /// call's result (packetdrill maps script descriptors to live ones, so
    /// any number a script chooses is valid), else the lowest free one.
    fn new_fd(&self, sc: &Syscall) -> i64 {
        match sc.result {
            Expr::Int(fd) if fd >= 0 && !self.socks.contains_key(&fd) => fd,
            _ => (3..)
                .find(|f| !self.socks.contains_key(f))
                .expect("a free fd"),
        }
    }

    /// The byte count of a read or write: at most 64 MiB a call (the
    /// runner builds the data in memory).
    fn io_len(&self, line: usize, sc: &Syscall) -> Result<usize, Failure> {
        let n = self.int_arg(line, sc, 2)?;
        if !(0..=64 << 20).contains(&n) {
            return Err(unsupported(
                line,
                format!("{}: {n} bytes in one call", sc.name),
            ));
        }
        Ok(n as usize)
    }

    fn sock(&mut self, fd: i64) -> &mut Sock {
        self.socks.get_mut(&fd).expect("checked by the caller")
    }

    fn conn_of(&self, fd: i64) -> Option<ConnId> {
        match self.socks.get(&fd)?.state {
            SockState::Connected(c) | SockState::Connecting(c) => Some(c),
            _ => None,
        }
    }

    fn read(&mut self, fd: i64, len: usize) -> Result<Result<i64, &'static str>, Failure> {
        let nonblocking = self.sock(fd).nonblocking;
        let Some(c) = self.conn_of(fd) else {
            return Ok(Err("ENOTCONN"));
        };
        let shut_rd = self.sock(fd).shut_rd;
        let mut buf = vec![0u8; len.max(1)];
        let r = self.ep().recv(c, &mut buf[..len]);
        Ok(match r {
            Ok(n) => Ok(n as i64),
            // After SHUT_RD, Linux still returns what is queued, and end
            // of file where it would wait.
            Err(Error::WouldBlock) if shut_rd => Ok(0),
            Err(Error::WouldBlock) if nonblocking => Err("EAGAIN"),
            Err(Error::WouldBlock) => {
                self.blocked = true;
                Err("EAGAIN")
            }
            Err(e) => self.conn_error(fd, c, e),
        })
    }

    /// The error a call on a connection that ended reports: the reason
    /// once, then end of file (as Linux reports a reset).
    fn conn_error(&mut self, fd: i64, c: ConnId, e: Error) -> Result<i64, &'static str> {
        if let Some(err) = self.sock(fd).error.take() {
            self.sock(fd).reset_reported = true;
            return Err(err);
        }
        if self.sock(fd).reset_reported {
            return Ok(0);
        }
        match self.closed.get(&c).copied() {
            // An orderly end (the engine reported `Closed { Normal }`;
            // its TCB may be gone to TIME-WAIT): end of file.
            Some(CloseReason::Normal) => Ok(0),
            Some(r) => match reason_errno(r) {
                Some(err) => {
                    self.sock(fd).reset_reported = true;
                    Err(err)
                }
                None => Err(errno(e)),
            },
            None => Err(errno(e)),
        }
    }

    fn write(
        &mut self,
        fd: i64,
        len: usize,
        written: usize,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let nonblocking = self.sock(fd).nonblocking;
        let Some(c) = self.conn_of(fd) else {
            return Ok(Err("ENOTCONN"));
        };
        if let Some(SockState::Connecting(_)) = self.socks.get(&fd).map(|s| s.state) {
            return Ok(if nonblocking {
                Err("EAGAIN")
            } else {
                self.blocked = true;
                Err("EAGAIN")
            });
        }
        let data = vec![0u8; len - written.min(len)];
        let r = if data.is_empty() {
            Ok(0)
        } else {
            self.ep().send(c, &data)
        };
        Ok(match r {
            Ok(n) if written + n == len => Ok(len as i64),
            Ok(n) if nonblocking && written + n > 0 => Ok((written + n) as i64),
            Ok(n) => {
                self.blocked = true;
                self.partial_write = Some(written + n);
                Err("EAGAIN")
            }
            Err(Error::WouldBlock) if nonblocking && written == 0 => Err("EAGAIN"),
            Err(Error::WouldBlock) => {
                self.blocked = true;
                self.partial_write = Some(written);
                Err("EAGAIN")
            }
            Err(Error::BrokenPipe) => Err("EPIPE"),
            Err(e) => self.conn_error(fd, c, e),
        })
    }

    fn setsockopt(
        &mut self,
        line: usize,
        sc: &Syscall,
        fd: i64,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let opt = word_arg(sc, 2).ok_or_else(|| unsupported(line, "setsockopt option"))?;
        if opt == "SO_LINGER" {
            // {onoff=1, linger=0}: close() aborts. A non-zero linger time
            // (close() blocking until the data is acknowledged) is not
            // modelled.
            let fields = match sc.args.get(3) {
                Some(Expr::Braces(f)) => f.clone(),
                other => return Err(unsupported(line, format!("SO_LINGER value {other:?}"))),
            };
            let field = |name: &str| {
                fields.iter().find_map(|f| match f {
                    Expr::Field(n, v) if n == name => match **v {
                        Expr::Int(i) => Some(i),
                        _ => None,
                    },
                    _ => None,
                })
            };
            let (Some(onoff), Some(secs)) = (field("onoff"), field("linger")) else {
                return Err(unsupported(line, "SO_LINGER without onoff and linger"));
            };
            if onoff != 0 && secs != 0 {
                return Err(unsupported(line, "SO_LINGER with a non-zero time"));
            }
            self.sock(fd).linger_zero = onoff != 0;
            return Ok(Ok(0));
        }
        let val = self.int_arg(line, sc, 3)?;
        let conn = self.conn_of(fd);
        match opt.as_str() {
            "SO_REUSEADDR" | "SO_REUSEPORT" => {}
            "TCP_NODELAY" => {
                self.sock(fd).nodelay = val != 0;
                if let Some(c) = conn {
                    let _ = self.ep().set_nodelay(c, val != 0);
                }
            }
            "SO_RCVBUF" | "SO_SNDBUF" if self.ep.is_none() => {
                // Linux doubles the value for its bookkeeping overhead.
                let bytes = (val.max(0) as usize) * 2;
                if opt == "SO_RCVBUF" {
                    self.cfg.recv_buffer = bytes;
                } else {
                    self.cfg.send_buffer = bytes;
                }
            }
            "TCP_USER_TIMEOUT" if self.ep.is_none() => {
                self.cfg.user_timeout =
                    (val > 0).then(|| core::time::Duration::from_millis(val as u64));
            }
            "TCP_USER_TIMEOUT" if conn.is_some() => {
                let t = (val > 0).then(|| core::time::Duration::from_millis(val as u64));
                let c = conn.expect("checked");
                if self.ep().set_user_timeout(c, t).is_err() {
                    return Ok(Err("EINVAL"));
                }
            }
            other => return Err(unsupported(line, format!("setsockopt {other}"))),
        }
        Ok(Ok(0))
    }

    fn getsockopt(
        &mut self,
        line: usize,
        sc: &Syscall,
        fd: i64,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let opt = word_arg(sc, 2).ok_or_else(|| unsupported(line, "getsockopt option"))?;
        let want = self.int_arg(line, sc, 3)?;
        let conn = self.conn_of(fd);
        let got: i64 = match opt.as_str() {
            // Portable: the other kernel's buffer accounting, not compared.
            "SO_RCVBUF" | "SO_SNDBUF" if self.portable() => want,
            "SO_ERROR" => {
                let e = self.sock(fd).error.take();
                e.map_or(0, errno_number)
            }
            "TCP_NODELAY" => i64::from(self.sock(fd).nodelay),
            "TCP_MAXSEG" => match conn.and_then(|c| self.ep().info(c)) {
                Some(i) => i64::from(i.mss),
                None => {
                    return Err(unsupported(
                        line,
                        "getsockopt TCP_MAXSEG before the connection exists",
                    ));
                }
            },
            other => return Err(unsupported(line, format!("getsockopt {other}"))),
        };
        if got != want {
            return Err(mismatch(
                line,
                format!("getsockopt {opt}: expected {want}, got {got}"),
            ));
        }
        Ok(Ok(0))
    }
}

fn word_arg(sc: &Syscall, i: usize) -> Option<String> {
    match sc.args.get(i)? {
        Expr::Word(w) => Some(w.clone()),
        _ => None,
    }
}

/// The value of a symbolic constant the scripts use.
fn constant(e: &Expr) -> Option<i64> {
    match e {
        Expr::Int(v) => Some(*v),
        Expr::Or(a, b) => Some(constant(a)? | constant(b)?),
        Expr::Word(w) => Some(match w.as_str() {
            "SOCK_STREAM" => 1,
            "SOCK_DGRAM" => 2,
            "SOCK_NONBLOCK" => 0o4000,
            "IPPROTO_TCP" => 6,
            "IPPROTO_UDP" => 17,
            "IPPROTO_IP" => 0,
            "SHUT_RD" => 0,
            "SHUT_WR" => 1,
            "SHUT_RDWR" => 2,
            "F_GETFL" => 3,
            "F_SETFL" => 4,
            "O_RDWR" => 2,
            "O_NONBLOCK" => 0o4000,
            "FIONREAD" | "SIOCINQ" => 0x541B,
            "MSG_DONTWAIT" => 0x40,
            _ => return None,
        }),
        _ => None,
    }
}

fn errno(e: Error) -> &'static str {
    match e {
        Error::WouldBlock => "EAGAIN",
        Error::NotConnected => "ENOTCONN",
        Error::BrokenPipe => "EPIPE",
        Error::ConnectionRefused => "ECONNREFUSED",
        Error::ConnectionReset => "ECONNRESET",
        Error::ConnectionAborted => "ECONNABORTED",
        Error::TimedOut => "ETIMEDOUT",
        Error::AddrInUse => "EADDRINUSE",
        Error::AddrNotAvailable => "EADDRNOTAVAIL",
        Error::InvalidAddress | Error::InvalidArgument => "EINVAL",
        Error::LimitReached => "ENOBUFS",
        Error::InvalidHandle => "EBADF",
        _ => "EIO",
    }
}

fn errno_number(e: &str) -> i64 {
    match e {
        "EAGAIN" => 11,
        "EPIPE" => 32,
        "ECONNABORTED" => 103,
        "ECONNRESET" => 104,
        "ENOTCONN" => 107,
        "ETIMEDOUT" => 110,
        "ECONNREFUSED" => 111,
        "EHOSTUNREACH" => 113,
        "ENETUNREACH" => 101,
        _ => 5,
    }
}
