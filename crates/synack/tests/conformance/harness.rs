//! The packet-script harness: ONE `synack::Endpoint` behind a virtual clock
//! and a fixed secret. Tests inject exact segments (built with
//! `synack_wire`) and read back every segment the endpoint emits, in the
//! packetdrill style: sequence numbers are offsets from the scripted peer's
//! ISN (IRS) on the way in and from the engine's ISN (ISS) on the way out,
//! and the other way round for acknowledgment numbers.
//!
//! Every emitted datagram is checked on capture, whatever the test: the IP
//! and TCP checksums are recomputed by an independent checksummer (WF-01),
//! reserved bits are zero and the data offset is consistent (WF-03), every
//! option but EOL/NOP carries a length that stays inside the header and the
//! bytes after EOL are zero (WF-03, WF-07), MSS appears only on SYNs (WF-07)
//! and the acknowledgment field is zero when ACK is off.

#![allow(dead_code)]

pub use crate::checker::*;
pub use crate::script::*;
use core::time::Duration;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use synack::{
    Config, ConnId, ConnInfo, Endpoint, Error, Event, Instant, ListenerId, Secret, State,
};
use synack_wire::{IpHeader, PROTO_TCP, TcpHeader, TcpSegment, emit_ip_tcp, parse_ip};
pub use synack_wire::{TcpOptions, Timestamps};

/// The engine's address and the scripted peer's (RFC 2544 benchmarking
/// space, never routed; nothing leaves the process anyway).
pub const ENGINE_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
pub const PEER_V4: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
pub const ENGINE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
pub const PEER_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The listening port (the engine's in passive scripts, the peer's in
/// active ones) and the other end's port.
pub const SERVER_PORT: u16 = 80;
pub const CLIENT_PORT: u16 = 40000;
/// The engine's port when it opens actively.
pub const ACTIVE_PORT: u16 = 50000;
/// The scripted peer's ISN unless a test picks another.
pub const IRS: u32 = 1_000_000_000;
/// Where the virtual clock starts.
pub const START: Instant = Instant::from_secs(1_000);
pub const SECRET: [u8; 16] = *b"conformance-test";

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// The default configuration of these scripts: the engine's defaults.
pub fn conf() -> Config {
    Config::default()
}

/// The default configuration with a receive buffer of `recv` bytes, for
/// exact windows (RCV.WND = `recv` until data arrives).
pub fn small_window(recv: usize) -> Config {
    let mut c = conf();
    c.recv_buffer = recv;
    c
}

/// `n` bytes of a recognisable pattern.
pub fn bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// One end of a scripted connection: the engine's socket and the peer's,
/// the peer's ISN (IRS) and the engine's ISN (ISS) once it has been seen.
#[derive(Clone, Debug)]
pub struct Peer {
    pub engine: SocketAddr,
    pub peer: SocketAddr,
    pub irs: u32,
    pub iss: Option<u32>,
    pub conn: Option<ConnId>,
    /// The TSval of this peer's SYN, once it sent one with timestamps:
    /// later segments built without a Timestamps option get one, as a
    /// peer that negotiated them sends on every segment (RFC 7323 3.2),
    /// with the peer's clock running in milliseconds of virtual time.
    pub ts_base: Option<(u32, Instant)>,
    /// The newest TSval the engine sent this peer (its TSecr to echo).
    pub ts_echo: u32,
}

/// The harness.
pub struct Harness {
    pub ep: Endpoint,
    pub now: Instant,
    pub cfg: Config,
    pub peers: Vec<Peer>,
    pub cur: usize,
    pub listener: Option<ListenerId>,
    /// Emitted and not yet consumed by an expectation.
    pub out: VecDeque<Seg>,
    /// Every segment emitted so far.
    pub log: Vec<Seg>,
    pub events: VecDeque<Event>,
    /// Options the peer puts on the SYN or SYN-ACK of the state builders.
    pub peer_syn_opts: TcpOptions,
}

impl Harness {
    /// An IPv4 harness whose peer 0 is the passive layout: engine at
    /// ENGINE:80, peer at PEER:40000.
    pub fn new(cfg: Config) -> Harness {
        Self::with_addrs(cfg, IpAddr::V4(ENGINE_V4), IpAddr::V4(PEER_V4))
    }

    pub fn new_v6(cfg: Config) -> Harness {
        Self::with_addrs(cfg, IpAddr::V6(ENGINE_V6), IpAddr::V6(PEER_V6))
    }

    fn with_addrs(cfg: Config, engine: IpAddr, peer: IpAddr) -> Harness {
        let ep = Endpoint::new(cfg.clone(), Secret::from_bytes(SECRET), START);
        Harness {
            ep,
            now: START,
            cfg,
            peers: vec![Peer {
                engine: SocketAddr::new(engine, SERVER_PORT),
                peer: SocketAddr::new(peer, CLIENT_PORT),
                irs: IRS,
                iss: None,
                conn: None,
                ts_base: None,
                ts_echo: 0,
            }],
            cur: 0,
            listener: None,
            out: VecDeque::new(),
            log: Vec::new(),
            events: VecDeque::new(),
            peer_syn_opts: TcpOptions {
                mss: Some(1460),
                ..TcpOptions::default()
            },
        }
    }

    pub fn is_v6(&self) -> bool {
        self.peers[0].engine.is_ipv6()
    }

    pub fn peer(&self) -> &Peer {
        &self.peers[self.cur]
    }

    pub fn peer_mut(&mut self) -> &mut Peer {
        &mut self.peers[self.cur]
    }

    /// Adds a scripted peer (another 4-tuple) and makes it current.
    pub fn add_peer(&mut self, engine: SocketAddr, peer: SocketAddr, irs: u32) -> usize {
        self.peers.push(Peer {
            engine,
            peer,
            irs,
            iss: None,
            conn: None,
            ts_base: None,
            ts_echo: 0,
        });
        self.cur = self.peers.len() - 1;
        self.cur
    }

    pub fn switch(&mut self, i: usize) {
        self.cur = i;
    }

    /// The scripted peer a segment from `engine` to `peer` belongs to: the
    /// current one if it matches, else the most recently added match.
    fn peer_index(&self, engine: SocketAddr, peer: SocketAddr) -> Option<usize> {
        let m = |p: &Peer| p.engine == engine && p.peer == peer;
        if m(&self.peers[self.cur]) {
            return Some(self.cur);
        }
        self.peers.iter().rposition(m)
    }

    /// The engine's ISS for the current peer.
    pub fn iss(&self) -> u32 {
        self.peer().iss.expect("the engine's ISS is not known yet")
    }

    /// The absolute sequence number ISS + `rel` (for SACK blocks, which
    /// scripts write relative to ISS).
    pub fn abs_seq(&self, rel: u32) -> u32 {
        self.iss().wrapping_add(rel)
    }

    pub fn irs(&self) -> u32 {
        self.peer().irs
    }

    pub fn conn(&self) -> ConnId {
        self.peer()
            .conn
            .expect("no connection for the current peer")
    }

    /// A new incarnation of the current 4-tuple: a new IRS, ISS unknown.
    pub fn reincarnate(&mut self, irs: u32) {
        let p = self.peer_mut();
        p.irs = irs;
        p.iss = None;
        p.conn = None;
    }

    // ---- time ------------------------------------------------------------

    /// Moves the clock forward by `d`, running every timer that falls due on
    /// the way at exactly its deadline.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        self.advance_to(target);
    }

    pub fn advance_to(&mut self, target: Instant) {
        for _ in 0..100_000 {
            match self.ep.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = self.now.max(t);
                    self.ep.handle_timeout(self.now);
                    self.pump();
                    if t <= self.now && self.ep.poll_timeout() == Some(t) {
                        // A deadline that handle_timeout did not consume
                        // would spin forever: a bug worth a clear message.
                        panic!("poll_timeout stuck at {t} (now {})", self.now);
                    }
                }
                _ => {
                    self.now = target;
                    // The endpoint's clock too, as a real driver keeps it
                    // (synack-io calls handle_timeout before every
                    // application call): calls that take no `now` read it.
                    self.ep.handle_timeout(target);
                    return;
                }
            }
        }
        panic!("timers did not settle before {target}");
    }

    /// Time since the harness started.
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_since(START)
    }

    // ---- input -----------------------------------------------------------

    /// Injects one segment from the current peer and collects the output.
    pub fn inject(&mut self, s: In) {
        if s.flags.syn()
            && let Some(ts) = s.options.timestamps
        {
            let now = self.now;
            self.peer_mut().ts_base = Some((ts.tsval, now));
        }
        let pkt = self.build(&s);
        self.inject_raw(&pkt);
    }

    pub fn inject_raw(&mut self, pkt: &[u8]) {
        self.ep.handle_packet(self.now, pkt);
        self.pump();
    }

    /// The datagram an `In` describes.
    pub fn build(&self, s: &In) -> Vec<u8> {
        let p = self.peer();
        let src = s.src.unwrap_or(p.peer);
        let dst = s.dst.unwrap_or(p.engine);
        let seq = match s.seq {
            Num::Rel(o) => p.irs.wrapping_add(o as u32),
            Num::Abs(a) => a,
        };
        let ack = match s.ack {
            None => 0,
            Some(Num::Rel(o)) => self.iss().wrapping_add(o as u32),
            Some(Num::Abs(a)) => a,
        };
        let mut options = s.options;
        if let Some((base, at)) = p.ts_base
            && options.timestamps.is_none()
            && s.raw_options.is_none()
            && !s.no_ts
            && !s.flags.syn()
        {
            let ms = self.now.saturating_since(at).as_millis() as u32;
            options.timestamps = Some(Timestamps {
                tsval: base.wrapping_add(ms),
                tsecr: p.ts_echo,
            });
        }
        let hdr = TcpHeader {
            src_port: src.port(),
            dst_port: dst.port(),
            seq,
            ack,
            flags: s.flags,
            window: s.window,
            urgent_ptr: s.urgent,
            options,
        };
        let ip = IpHeader {
            src: src.ip(),
            dst: dst.ip(),
            protocol: PROTO_TCP,
            ttl: 64,
            tos: s.tos,
            ident: 7,
            dont_fragment: true,
            flow_label: 0,
        };
        let mut pkt;
        let tcp_at;
        if s.raw_options.is_none() && s.ip_options.is_none() && s.reserved == 0 {
            let mut buf = vec![0u8; 65_600];
            let n = emit_ip_tcp(&ip, &hdr, &s.payload, &mut buf).expect("emit_ip_tcp");
            buf.truncate(n);
            pkt = buf;
            tcp_at = ip.header_len();
        } else {
            let tcp = raw_tcp(&hdr, s, src.ip(), dst.ip());
            pkt = match &s.ip_options {
                None => {
                    let mut h = vec![0u8; ip.header_len()];
                    ip.emit(tcp.len(), &mut h).expect("IpHeader::emit");
                    h
                }
                Some(o) => raw_ipv4_header(&ip, o, tcp.len()),
            };
            tcp_at = pkt.len();
            pkt.extend_from_slice(&tcp);
        }
        if s.bad_checksum {
            pkt[tcp_at + 16] ^= 0x5A;
        }
        pkt
    }

    // ---- output ----------------------------------------------------------

    /// Drains `poll_transmit` and `poll_event`, checking every datagram.
    pub fn pump(&mut self) {
        let mut buf = vec![0u8; 65_600];
        while let Some(n) = self.ep.poll_transmit(self.now, &mut buf) {
            let s = self.capture(&buf[..n]);
            self.log.push(s.clone());
            self.out.push_back(s);
        }
        while let Some(e) = self.ep.poll_event() {
            self.events.push_back(e);
        }
    }

    fn capture(&mut self, pkt: &[u8]) -> Seg {
        check_datagram(pkt, self.cfg.ttl);
        let ip = parse_ip(pkt).expect("emitted datagram parses");
        let seg = TcpSegment::parse(ip.payload, ip.src, ip.dst).expect("emitted segment parses");
        let src = SocketAddr::new(ip.src, seg.src_port);
        let dst = SocketAddr::new(ip.dst, seg.dst_port);
        let mut base = (0u32, 0u32);
        if let Some(i) = self.peer_index(src, dst) {
            let p = &mut self.peers[i];
            if seg.flags.syn() && p.iss.is_none() {
                p.iss = Some(seg.seq);
            }
            base = (p.iss.unwrap_or(0), p.irs);
            if let Some(ts) = seg.options.timestamps {
                p.ts_echo = ts.tsval;
            }
        }
        Seg {
            at: self.now,
            src,
            dst,
            ttl: ip.ttl,
            seq: seg.seq,
            ack: seg.ack,
            rseq: seg.seq.wrapping_sub(base.0),
            rack: seg.ack.wrapping_sub(base.1),
            flags: seg.flags,
            window: seg.window,
            urgent: seg.urgent_ptr,
            ecn: ip.tos & 0b11,
            options: seg.options,
            payload: seg.payload.to_vec(),
            raw: pkt.to_vec(),
        }
    }

    /// Pops the next emitted segment and checks it against `e`.
    #[track_caller]
    pub fn expect(&mut self, e: Exp) -> Seg {
        let Some(s) = self.out.pop_front() else {
            panic!("expected {e:?}, but nothing was emitted");
        };
        let p = self.peer_index(s.src, s.dst).map(|i| &self.peers[i]);
        let iss = p.and_then(|p| p.iss).unwrap_or(0);
        let irs = p.map_or(0, |p| p.irs);
        let mut bad = Vec::new();
        if let Some(f) = e.flags
            && s.flags != f
        {
            bad.push(format!("flags {} != {}", flags_str(s.flags), flags_str(f)));
        }
        if let Some(n) = e.seq {
            let want = resolve(n, iss);
            if s.seq != want {
                bad.push(format!(
                    "seq {} (rel {}) != {} (rel {})",
                    s.seq,
                    s.seq.wrapping_sub(iss) as i32,
                    want,
                    want.wrapping_sub(iss) as i32
                ));
            }
        }
        if let Some(n) = e.ack {
            let want = resolve(n, irs);
            if s.ack != want {
                bad.push(format!(
                    "ack {} (rel {}) != {} (rel {})",
                    s.ack,
                    s.ack.wrapping_sub(irs) as i32,
                    want,
                    want.wrapping_sub(irs) as i32
                ));
            }
        }
        if let Some(w) = e.window
            && s.window != w
        {
            bad.push(format!("window {} != {w}", s.window));
        }
        if let Some(l) = e.len
            && s.payload.len() != l
        {
            bad.push(format!("payload length {} != {l}", s.payload.len()));
        }
        if let Some(d) = e.dst
            && s.dst != d
        {
            bad.push(format!("dst {} != {d}", s.dst));
        }
        if !bad.is_empty() {
            panic!(
                "segment mismatch: {}\n  got  {}\n  rest {:#?}",
                bad.join("; "),
                describe(&s),
                self.out.iter().map(describe).collect::<Vec<_>>()
            );
        }
        s
    }

    /// Pops the next emitted segment, whatever it is.
    #[track_caller]
    pub fn next(&mut self) -> Seg {
        self.out
            .pop_front()
            .expect("expected a segment, none emitted")
    }

    /// Nothing (more) was emitted.
    #[track_caller]
    pub fn expect_none(&mut self) {
        if !self.out.is_empty() {
            panic!(
                "expected no segment, got {:#?}",
                self.out.iter().map(describe).collect::<Vec<_>>()
            );
        }
    }

    /// Pops every emitted segment.
    pub fn drain(&mut self) -> Vec<Seg> {
        self.out.drain(..).collect()
    }

    // ---- events ----------------------------------------------------------

    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// The events since the last take, exactly.
    #[track_caller]
    pub fn expect_events(&mut self, want: &[Event]) {
        let got = self.take_events();
        assert_eq!(got, want, "events");
    }

    /// Whether `e` is among the pending events (they are kept).
    pub fn saw(&self, e: Event) -> bool {
        self.events.contains(&e)
    }

    // ---- the application's calls (RFC 9293 3.10.1-3.10.6) ----------------

    pub fn listen(&mut self) -> ListenerId {
        let addr = self.peer().engine;
        let l = self.ep.listen(addr, 16).expect("listen");
        self.listener = Some(l);
        l
    }

    /// Active OPEN from the current peer's engine socket to its peer socket.
    pub fn connect(&mut self) -> Result<ConnId, Error> {
        let (local, remote) = (self.peer().engine, self.peer().peer);
        let r = self.ep.connect(self.now, local, remote);
        if let Ok(c) = r {
            self.peer_mut().conn = Some(c);
        }
        self.pump();
        r
    }

    pub fn accept(&mut self) -> Option<ConnId> {
        let c = self.ep.accept(self.listener?);
        if c.is_some() {
            self.peer_mut().conn = c;
        }
        self.pump();
        c
    }

    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        let r = self.ep.send(self.conn(), data);
        self.pump();
        r
    }

    pub fn recv(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let r = self.ep.recv(self.conn(), out);
        self.pump();
        r
    }

    /// Reads everything buffered.
    pub fn recv_all(&mut self) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.recv(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    pub fn shutdown(&mut self) -> Result<(), Error> {
        let r = self.ep.shutdown(self.conn());
        self.pump();
        r
    }

    pub fn close(&mut self) -> Result<(), Error> {
        let r = self.ep.close(self.conn());
        self.pump();
        r
    }

    pub fn abort(&mut self) {
        self.ep.abort(self.conn());
        self.pump();
    }

    /// Turns Nagle off, so small writes go out at once.
    pub fn set_nodelay(&mut self) {
        self.ep.set_nodelay(self.conn(), true).unwrap();
        self.pump();
    }

    pub fn info(&self) -> Option<ConnInfo> {
        self.ep.info(self.peer().conn?)
    }

    /// The connection's state; CLOSED once the handle is gone.
    pub fn state(&self) -> State {
        self.info().map_or(State::Closed, |i| i.state)
    }

    // ---- state builders --------------------------------------------------

    /// LISTEN on ENGINE:80, SYN in, SYN-ACK out: SYN-RECEIVED.
    pub fn passive_syn_received(cfg: Config) -> Harness {
        let mut h = Harness::new(cfg);
        h.enter_syn_received();
        h
    }

    pub fn enter_syn_received(&mut self) {
        self.listen();
        let o = self.peer_syn_opts;
        self.inject(seg(SYN).seq(0).opts(o));
        self.expect(out(SYN | ACK).seq(0).ack(1));
        self.expect_none();
    }

    /// A passive connection in ESTABLISHED, accepted.
    pub fn passive_established(cfg: Config) -> Harness {
        let mut h = Harness::passive_syn_received(cfg);
        h.enter_established_passive();
        h
    }

    pub fn enter_established_passive(&mut self) {
        self.inject(seg(ACK).seq(1).ack(1));
        self.expect_none();
        let l = self.listener.unwrap();
        self.expect_events(&[Event::Accepted { listener: l }]);
        self.accept().expect("accept");
        assert_eq!(self.state(), State::Established);
    }

    /// Active OPEN from ENGINE:50000 to PEER:80: SYN out, SYN-SENT.
    pub fn active_syn_sent(cfg: Config) -> Harness {
        let mut h = Harness::new(cfg);
        h.enter_syn_sent();
        h
    }

    /// Makes the current peer the active layout: engine at ENGINE:50000,
    /// peer (the server) at PEER:80.
    pub fn active_layout(&mut self) {
        let (e, p) = (self.peer().engine.ip(), self.peer().peer.ip());
        let peer = self.peer_mut();
        peer.engine = SocketAddr::new(e, ACTIVE_PORT);
        peer.peer = SocketAddr::new(p, SERVER_PORT);
    }

    pub fn enter_syn_sent(&mut self) {
        self.active_layout();
        self.connect().expect("connect");
        self.expect(out(SYN).seq(0).abs_ack(0));
        self.expect_none();
    }

    /// An active connection in ESTABLISHED.
    pub fn active_established(cfg: Config) -> Harness {
        let mut h = Harness::active_syn_sent(cfg);
        let o = h.peer_syn_opts;
        h.inject(seg(SYN | ACK).seq(0).ack(1).opts(o));
        h.expect(out(ACK).seq(1).ack(1));
        h.expect_none();
        let c = h.conn();
        h.expect_events(&[Event::Connected {
            conn: c,
            how: synack::OpenKind::Active,
        }]);
        h
    }

    /// ESTABLISHED, then CLOSE: FIN out, FIN-WAIT-1.
    pub fn fin_wait_1(cfg: Config) -> Harness {
        let mut h = Harness::passive_established(cfg);
        h.shutdown().unwrap();
        h.expect(out(FIN | ACK).seq(1).ack(1));
        h.expect_none();
        assert_eq!(h.state(), State::FinWait1);
        h
    }

    /// FIN-WAIT-1, then the ACK of our FIN: FIN-WAIT-2.
    pub fn fin_wait_2(cfg: Config) -> Harness {
        let mut h = Harness::fin_wait_1(cfg);
        h.inject(seg(ACK).seq(1).ack(2));
        h.expect_none();
        assert_eq!(h.state(), State::FinWait2);
        h
    }

    /// FIN-WAIT-1, then the peer's FIN that does not ACK ours: CLOSING.
    pub fn closing(cfg: Config) -> Harness {
        let mut h = Harness::fin_wait_1(cfg);
        h.inject(seg(FIN | ACK).seq(1).ack(1));
        h.expect(out(ACK).seq(2).ack(2));
        h.expect_none();
        assert_eq!(h.state(), State::Closing);
        h
    }

    /// FIN-WAIT-2, then the peer's FIN: TIME-WAIT (the handle is closed
    /// and a compact TIME-WAIT entry remains).
    pub fn time_wait(cfg: Config) -> Harness {
        let mut h = Harness::fin_wait_2(cfg);
        h.inject(seg(FIN | ACK).seq(1).ack(2));
        h.expect(out(ACK).seq(2).ack(2));
        h.expect_none();
        assert_eq!(h.ep.time_wait_count(), 1);
        assert_eq!(h.ep.connection_count(), 0);
        h
    }

    /// ESTABLISHED, then the peer's FIN: CLOSE-WAIT.
    pub fn close_wait(cfg: Config) -> Harness {
        let mut h = Harness::passive_established(cfg);
        h.inject(seg(FIN | ACK).seq(1).ack(1));
        h.expect(out(ACK).seq(1).ack(2));
        h.expect_none();
        assert_eq!(h.state(), State::CloseWait);
        h
    }

    /// CLOSE-WAIT, then CLOSE: FIN out, LAST-ACK.
    pub fn last_ack(cfg: Config) -> Harness {
        let mut h = Harness::close_wait(cfg);
        h.shutdown().unwrap();
        h.expect(out(FIN | ACK).seq(1).ack(2));
        h.expect_none();
        assert_eq!(h.state(), State::LastAck);
        h
    }
}
