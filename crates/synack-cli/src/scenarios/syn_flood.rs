//! `syn-flood`: an attacker node floods the server with spoofed SYNs from
//! random addresses in 198.18.128.0/17 while a real client connects and
//! exchanges data. The listener's SYN queue is small (backlog 128); once it
//! is full the server answers with SYN cookies (RFC 4987 section 3.6) and
//! keeps no state for the spoofed SYNs, so the queue never grows past its
//! bound and the real client still gets through.

use super::*;
use crate::demo::{Stream, compare, content, print_counters, secs};
use crate::host::demo_config;
use crate::ladder::Side;
use std::net::Ipv4Addr;
use synack::sim::{Node, SimRng};
use synack::{Event, Instant, OpenKind, SynCookieMode};
use synack_wire::{IpHeader, PROTO_TCP, TcpFlags, TcpHeader, TcpOptions, emit_ip_tcp};

const SPOOFED_SYNS: u32 = 50_000;
/// The flood lasts 2 s of virtual time: 25 SYNs every millisecond.
const PER_TICK: u32 = 25;
const TICK_US: u64 = 1_000;
const BACKLOG: usize = 128;
const BYTES: usize = 4096;
/// The real client connects while the flood is in full swing.
const CLIENT_START: Instant = Instant::from_millis(500);

/// Sends `SPOOFED_SYNS` SYNs to the server, each from a random address in
/// 198.18.128.0/17 and a random port, with a random sequence number. It
/// owns no address: answers to spoofed sources go nowhere.
struct Flooder {
    rng: SimRng,
    target: Ipv4Addr,
    left: u32,
    /// SYNs due now and not yet handed over.
    due: u32,
    next: Instant,
    ident: u16,
}

impl Node for Flooder {
    fn handle_packet(&mut self, _now: Instant, _packet: &[u8]) {}

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        if self.due == 0 {
            return None;
        }
        self.due -= 1;
        let r = self.rng.next_u64();
        let src = Ipv4Addr::new(198, 18, 128 | (r >> 8) as u8 & 0x7f, r as u8);
        let port = 1024 + ((r >> 16) % (65536 - 1024)) as u16;
        self.ident = self.ident.wrapping_add(1);
        let ip = IpHeader {
            src: src.into(),
            dst: self.target.into(),
            protocol: PROTO_TCP,
            ttl: 64,
            tos: 0,
            ident: self.ident,
            dont_fragment: true,
            flow_label: 0,
        };
        let tcp = TcpHeader {
            src_port: port,
            dst_port: PORT,
            seq: (r >> 32) as u32,
            ack: 0,
            flags: TcpFlags::SYN,
            window: 64240,
            urgent_ptr: 0,
            options: TcpOptions {
                mss: Some(1460),
                ..TcpOptions::default()
            },
        };
        emit_ip_tcp(&ip, &tcp, &[], buf).ok()
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        (self.left > 0).then_some(self.next)
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.left == 0 || now < self.next {
            return;
        }
        let n = PER_TICK.min(self.left);
        self.left -= n;
        self.due += n;
        self.next = self.next + core::time::Duration::from_micros(TICK_US);
    }
}

pub fn run(ctx: &mut Ctx<'_>) {
    let mut w = ctx.world(Instant::ZERO);
    let client = w.add_host("client", CLIENT_IP, Side::Left, demo_config());
    let mut server_cfg = demo_config();
    server_cfg.syn_cookies = SynCookieMode::WhenQueueFull;
    let server = w.add_host("server", SERVER_IP, Side::Right, server_cfg);
    let flooder = Flooder {
        // Its own stream, derived from the seed, so the flood does not
        // shift the link's random choices around.
        rng: SimRng::new(ctx.opts.seed ^ 0x5eed_f100d),
        target: Ipv4Addr::from(SERVER_IP),
        left: SPOOFED_SYNS,
        due: 0,
        next: Instant::ZERO,
        ident: 0,
    };
    w.add_script("attacker", None, Side::Left, Box::new(flooder));
    let Ok(l) = w.call(server, |ep, _| ep.listen(server_addr(), BACKLOG)) else {
        ctx.check(false, "server listens on 198.18.0.2:80");
        return;
    };
    w.ladder.borrow().say(&format!(
        "server listens on {} with backlog {BACKLOG} and SYN cookies when the queue is full.\n\
         attacker: {SPOOFED_SYNS} spoofed SYNs from random 198.18.128.0/17 addresses, \
         {PER_TICK} per ms from t = 0 (not drawn below).\n\
         client: connects at {} and exchanges {BYTES} bytes each way.\n",
        server_addr(),
        secs(CLIENT_START)
    ));
    w.ladder.borrow().header();

    let wall = std::time::Instant::now();
    let up = content(3, BYTES);
    let down = content(4, BYTES);
    let mut c = None;
    let mut cs: Option<Stream> = None;
    let mut ss: Option<Stream> = None;
    let mut how_event = None;
    let mut info = None;
    let mut max_queue = 0usize;
    let mut full_at = None;
    let mut client_closed = None;
    let deadline = Instant::from_secs(if ctx.opts.loss > 0.0 { 900 } else { 120 });
    loop {
        if c.is_none() && w.now() >= CLIENT_START {
            match w.call(client, |ep, now| {
                ep.connect(now, client_any(), server_addr())
            }) {
                Ok(id) => c = Some(id),
                Err(e) => {
                    ctx.check(false, format!("client connect: {e}"));
                    return;
                }
            }
        }
        while let Some(ev) = w.host(client).events.pop_front() {
            match ev {
                Event::Connected { conn, how } if Some(conn) == c => {
                    how_event = Some(how);
                    cs = Some(Stream::new(conn, up.clone()));
                }
                Event::Closed { conn, reason } if Some(conn) == c => client_closed = Some(reason),
                _ => {}
            }
        }
        while let Some(ev) = w.host(server).events.pop_front() {
            if let Event::Accepted { .. } = ev {
                while let Some(s) = w.call(server, |ep, _| ep.accept(l)) {
                    let i = w.host_ref(server).ep.info(s);
                    // Only the real client can complete a handshake: the
                    // spoofed sources never answer.
                    if i.is_some_and(|i| i.remote.ip() == v4ip(CLIENT_IP)) {
                        info = i;
                        ss = Some(Stream::new(s, down.clone()));
                    }
                }
            }
        }
        if let Some(s) = cs.as_mut().filter(|s| !s.closed) {
            w.call(client, |ep, _| s.client_turn(ep, down.len()));
        }
        if let Some(s) = ss.as_mut().filter(|s| !s.closed) {
            w.call(server, |ep, _| s.server_turn(ep));
        }
        let more = w.step();
        // Sampled after every step, i.e. after every batch of arrivals.
        let q = w.host_ref(server).ep.syn_queue_len(l).unwrap_or(0);
        if q > max_queue {
            max_queue = q;
        }
        if full_at.is_none() && q >= BACKLOG {
            full_at = Some(w.now());
        }
        if !more || w.now() > deadline {
            break;
        }
    }
    let outcome = Outcome {
        wall: wall.elapsed(),
        run_end: w.now(),
        final_queue: w.host_ref(server).ep.syn_queue_len(l).unwrap_or(0),
        max_queue,
        full_at,
        how_event,
        info,
        client_closed,
        up,
        down,
        cs,
        ss,
    };
    ctx.done(&mut w);
    summarize(ctx, &w, client, server, &outcome);
}

/// What the run saw, for the summary and the checks.
struct Outcome {
    wall: std::time::Duration,
    run_end: Instant,
    final_queue: usize,
    max_queue: usize,
    full_at: Option<Instant>,
    how_event: Option<OpenKind>,
    info: Option<synack::ConnInfo>,
    client_closed: Option<synack::CloseReason>,
    up: Vec<u8>,
    down: Vec<u8>,
    cs: Option<Stream>,
    ss: Option<Stream>,
}

/// Prints the summary and checks the scenario's claims.
fn summarize(ctx: &mut Ctx<'_>, w: &World, client: NodeId, server: NodeId, o: &Outcome) {
    let Outcome {
        wall,
        run_end,
        final_queue,
        max_queue,
        full_at,
        how_event,
        info,
        client_closed,
        up,
        down,
        cs,
        ss,
    } = o;
    let (max_queue, final_queue, how_event, client_closed) =
        (*max_queue, *final_queue, *how_event, *client_closed);
    let ladder = w.ladder.borrow();
    let hidden: Vec<String> = ladder
        .hidden
        .iter()
        .map(|(fate, n)| format!("{n} {fate}"))
        .collect();
    let end = ladder.last_activity();
    drop(ladder);
    let sc = w.host_ref(server).ep.counters().clone();

    ctx.say("");
    ctx.say("summary:");
    ctx.say(format!(
        "  spoofed traffic (not drawn): {} packets: {}",
        hidden_total(w),
        hidden.join(", ")
    ));
    ctx.say(format!(
        "  SYN queue: max {max_queue} (bound {BACKLOG}), full from {}, {final_queue} at the end \
         (half-open entries gave up after {} SYN-ACK retries)",
        full_at.map_or("never".into(), secs),
        w.host_ref(server).ep.config().synack_retries
    ));
    ctx.say(format!(
        "  cookies: SyncookiesSent {}, SyncookiesRecv {}, SyncookiesFailed {}; \
         PassiveOpens {}, AttemptFails {}",
        sc.syncookies_sent,
        sc.syncookies_recv,
        sc.syncookies_failed,
        sc.passive_opens,
        sc.attempt_fails
    ));
    let how_info = info.as_ref().map(|i| i.how);
    ctx.say(format!(
        "  client connection: Event::Connected how = {how_event:?}; server side ConnInfo.how = \
         {how_info:?}{}",
        if how_info == Some(OpenKind::Cookie) {
            " (established through a SYN cookie: the server kept no state for its SYN)"
        } else {
            ""
        }
    ));
    if let Some(i) = info {
        ctx.say(format!("  server side: {}", describe(i)));
    }
    let (up_ok, up_text) = compare(up, ss.as_ref().map_or(&[][..], |s| &s.got));
    let (down_ok, down_text) = compare(down, cs.as_ref().map_or(&[][..], |s| &s.got));
    ctx.say(format!("  client -> server: {up_text}"));
    ctx.say(format!("  server -> client: {down_text}"));
    traffic(ctx, w, &[client, server]);
    ctx.say(format!(
        "  elapsed: the client was done at {}; the run went on to {} virtual until the last \
         half-open entry gave up; {:.3} s real",
        secs(end),
        secs(*run_end),
        wall.as_secs_f64()
    ));
    print_counters(ctx, "client", w.host_ref(client).ep.counters());
    print_counters(ctx, "server", &sc);

    ctx.check(
        max_queue <= BACKLOG,
        format!("the SYN queue never exceeded its bound: max {max_queue} <= {BACKLOG}"),
    );
    ctx.check(
        full_at.is_some() && sc.syncookies_sent > 0,
        format!(
            "the flood filled the queue and the server answered with cookies ({} sent)",
            sc.syncookies_sent
        ),
    );
    ctx.check(
        how_event == Some(OpenKind::Active) && info.is_some(),
        format!(
            "the real client's connection was established during the flood (server side how: {})",
            how_info.map_or("-", |h| h.name())
        ),
    );
    ctx.check(up_ok, format!("client -> server data: {up_text}"));
    ctx.check(down_ok, format!("server -> client data: {down_text}"));
    ctx.check(
        client_closed == Some(synack::CloseReason::Normal),
        format!(
            "the client's connection closed normally{}",
            saw(
                client_closed == Some(synack::CloseReason::Normal),
                format!("{client_closed:?}")
            )
        ),
    );
}

fn v4ip(a: [u8; 4]) -> std::net::IpAddr {
    std::net::IpAddr::from(a)
}

fn hidden_total(w: &crate::host::World) -> u64 {
    w.ladder.borrow().hidden.values().sum()
}
