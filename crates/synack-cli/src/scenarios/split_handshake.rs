//! `split-handshake`: the split-handshake attack (Beardsley and Qian, 2010).
//!
//! The client connects to what it thinks is a server. The malicious
//! "server" never sends a SYN-ACK: it answers the client's SYN with a bare
//! SYN of its own, which the client must treat as crossing SYNs (a
//! simultaneous open, RFC 9293 figure 7): SYN-SENT -> SYN-RECEIVED, and the
//! client itself sends the SYN-ACK. The attacker ACKs it and the connection
//! is ESTABLISHED with the roles reversed, which has fooled firewalls and
//! IDSs that assume the SYN-ACK comes from the server. synack reports such
//! a connection as `OpenKind::Simultaneous`, in `Event::Connected` and in
//! `ConnInfo.how`, so the application (or a firewall built on it) can tell.
//!
//! Variant B: the attacker's final ACK acknowledges the wrong number (not
//! ISS + 1). RFC 9293 3.10.7.4 says an unacceptable ACK in SYN-RECEIVED gets
//! a RST and changes nothing: the client must not establish.

use super::*;
use crate::demo::{print_counters, secs};
use crate::host::{Shared, demo_config};
use crate::ladder::Side;
use std::collections::VecDeque;
use std::net::IpAddr;
use synack::sim::Node;
use synack::{CloseReason, Event, Instant, OpenKind};
use synack_wire::{
    IpHeader, PROTO_TCP, TcpFlags, TcpHeader, TcpOptions, TcpSegment, emit_ip_tcp, parse_ip,
};

/// How far off the wrong ACK of variant B is.
const WRONG_BY: u32 = 1000;

/// The malicious server: a small script that answers by hand and narrates.
struct SplitServer {
    ladder: Shared,
    me: IpAddr,
    isn: u32,
    wrong_ack: bool,
    /// Segments to send: destination and header.
    out: VecDeque<(IpAddr, TcpHeader)>,
    ident: u16,
}

impl SplitServer {
    fn say(&self, now: Instant, text: &str) {
        self.ladder.borrow().note(now, "attacker", text);
    }
}

impl Node for SplitServer {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        let Ok(ip) = parse_ip(packet) else {
            return;
        };
        let Ok(seg) = TcpSegment::parse(ip.payload, ip.src, ip.dst) else {
            self.say(now, "drops a damaged segment");
            return;
        };
        let f = seg.flags;
        let reply = |seq: u32, ack: u32, flags: TcpFlags, options: TcpOptions| TcpHeader {
            src_port: seg.dst_port,
            dst_port: seg.src_port,
            seq,
            ack,
            flags,
            window: 64240,
            urgent_ptr: 0,
            options,
        };
        if f.syn() && !f.ack() {
            self.say(
                now,
                "got the client's SYN; instead of a SYN-ACK, sends a bare SYN of its own",
            );
            let opts = TcpOptions {
                mss: Some(1460),
                ..TcpOptions::default()
            };
            self.out
                .push_back((ip.src, reply(self.isn, 0, TcpFlags::SYN, opts)));
        } else if f.syn() && f.ack() {
            // The client's SYN-ACK: seq is its ISS, so ISS + 1 is the only
            // acceptable acknowledgment.
            let (ack, how) = if self.wrong_ack {
                (
                    seg.seq.wrapping_add(1 + WRONG_BY),
                    format!("ACKs the wrong number, ISS+{}", 1 + WRONG_BY),
                )
            } else {
                (seg.seq.wrapping_add(1), "ACKs it (ack = ISS+1)".to_string())
            };
            self.say(
                now,
                &format!("got the SYN-ACK the client was tricked into sending; {how}"),
            );
            self.out.push_back((
                ip.src,
                reply(
                    self.isn.wrapping_add(1),
                    ack,
                    TcpFlags::ACK,
                    TcpOptions::default(),
                ),
            ));
        } else if f.rst() {
            self.say(now, "got a RST");
        } else {
            self.say(now, &format!("ignores a segment with flags {f}"));
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let (dst, tcp) = self.out.pop_front()?;
        self.ident = self.ident.wrapping_add(1);
        let ip = IpHeader {
            src: self.me,
            dst,
            protocol: PROTO_TCP,
            ttl: 64,
            tos: 0,
            ident: self.ident,
            dont_fragment: true,
            flow_label: 0,
        };
        emit_ip_tcp(&ip, &tcp, &[], buf).ok()
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }

    fn handle_timeout(&mut self, _now: Instant) {}
}

/// What one variant showed.
struct Outcome {
    path: Vec<State>,
    connected: Option<OpenKind>,
    info_how: Option<OpenKind>,
    closed: Option<CloseReason>,
    /// RSTs the client sent, with their absolute sequence numbers.
    client_rsts: Vec<u32>,
    /// The acknowledgment numbers of the attacker's ACKs.
    attacker_acks: Vec<u32>,
    iss: Option<u32>,
    end: Instant,
    all_closed: bool,
}

fn variant(ctx: &mut Ctx<'_>, label: &str, start: Instant, wrong_ack: bool) -> Outcome {
    let mut w = ctx.world(start);
    let client = w.add_host("client", CLIENT_IP, Side::Left, demo_config());
    let attacker = SplitServer {
        ladder: w.ladder.clone(),
        me: IpAddr::from(SERVER_IP),
        // Any ISN will do; derived from the seed for reproducibility.
        isn: (ctx.opts.seed as u32).wrapping_mul(0x9e37_79b9) ^ 0x5117_0000,
        wrong_ack,
        out: VecDeque::new(),
        ident: 0,
    };
    w.add_script("attacker", Some(SERVER_IP), Side::Right, Box::new(attacker));
    w.ladder.borrow().header();
    let c = match w.call(client, |ep, now| {
        ep.connect(now, client_any(), server_addr())
    }) {
        Ok(c) => c,
        Err(e) => {
            ctx.check(false, format!("client connect: {e}"));
            return Outcome {
                path: Vec::new(),
                connected: None,
                info_how: None,
                closed: None,
                client_rsts: Vec::new(),
                attacker_acks: Vec::new(),
                iss: None,
                end: start,
                all_closed: false,
            };
        }
    };
    let iss = w.host_ref(client).ep.info(c).map(|i| i.iss.0);
    let mut connected = None;
    let mut info_how = None;
    let mut closed = None;
    let deadline = start + core::time::Duration::from_secs(300);
    loop {
        while let Some(ev) = w.host(client).events.pop_front() {
            match ev {
                Event::Connected { conn, how } if conn == c => {
                    connected = Some(how);
                    info_how = w.host_ref(client).ep.info(conn).map(|i| i.how);
                    let l = w.ladder.borrow();
                    l.note(
                        w.now(),
                        "client app",
                        &format!(
                            "Event::Connected {{ how: {how:?} }}, ConnInfo.how = {info_how:?}"
                        ),
                    );
                    if how != OpenKind::Active {
                        l.note(
                            w.now(),
                            "client app",
                            "no SYN-ACK ever came from the server: not a normal active \
                             open, so policy says abort()",
                        );
                        drop(l);
                        w.call(client, |ep, _| ep.abort(conn));
                    }
                }
                Event::Closed { conn, reason } if conn == c => {
                    closed = Some(reason);
                    w.ladder.borrow().note(
                        w.now(),
                        "client app",
                        &format!("Event::Closed {{ reason: {reason:?} }}"),
                    );
                }
                _ => {}
            }
        }
        if !w.step() || w.now() > deadline {
            break;
        }
    }
    ctx.done(&mut w);
    let all_closed = {
        let ep = &w.host_ref(client).ep;
        ep.connection_count() == 0 && ep.time_wait_count() == 0
    };
    let l = w.ladder.borrow();
    let client_rsts = l
        .segments
        .iter()
        .filter(|r| r.from == "client" && r.flags.rst())
        .map(|r| r.seq)
        .collect();
    let attacker_acks = l
        .segments
        .iter()
        .filter(|r| r.from == "attacker" && r.flags.ack() && !r.flags.syn())
        .map(|r| r.ack)
        .collect();
    let out = Outcome {
        path: path(&l.states, "client"),
        connected,
        info_how,
        closed,
        client_rsts,
        attacker_acks,
        iss,
        end: l.last_activity(),
        all_closed,
    };
    drop(l);
    print_counters(
        ctx,
        &format!("{label}. client"),
        w.host_ref(client).ep.counters(),
    );
    out
}

pub fn run(ctx: &mut Ctx<'_>) {
    let quiet = ctx.opts.quiet;
    let say = |s: &str| {
        if !quiet {
            outln!("{s}");
        }
    };
    say(
        "A. the classic split handshake: the \"server\" at 198.18.0.2:80 answers the \
         client's SYN with a SYN, then ACKs the client's SYN-ACK.\n",
    );
    let a = variant(ctx, "A", Instant::ZERO, false);
    // The second run starts on a later clock, so a capture of both reads
    // as one timeline.
    let start_b = Instant::from_secs(a.end.micros() / 1_000_000 + 2);
    say(&format!(
        "\nB. the same, but the final ACK acknowledges ISS+{} instead of ISS+1 (starts at {}).\n",
        1 + WRONG_BY,
        secs(start_b)
    ));
    let b = variant(ctx, "B", start_b, true);

    ctx.say("");
    ctx.say("summary:");
    ctx.say(format!("  A. client: {}", path_text(&a.path)));
    ctx.say(format!(
        "     Event::Connected how = {:?}, ConnInfo.how = {:?}, then {}",
        a.connected,
        a.info_how,
        a.closed.map_or("no Closed event".into(), |r| format!(
            "Closed {{ reason: {r:?} }}"
        ))
    ));
    ctx.say(format!("  B. client: {}", path_text(&b.path)));
    ctx.say(format!(
        "     {} RST(s) answered the wrong ACK(s); connect ended with {}",
        b.client_rsts.len(),
        b.closed.map_or("no Closed event".into(), |r| format!(
            "Closed {{ reason: {r:?} }}"
        ))
    ));

    let crossing = [State::SynSent, State::SynReceived, State::Established];
    ctx.check(
        contains_run(&a.path, &crossing),
        "A: the client went SYN-SENT -> SYN-RECEIVED -> ESTABLISHED",
    );
    let ok = a.connected == Some(OpenKind::Simultaneous);
    ctx.check(
        ok,
        format!(
            "A: Event::Connected reported how = Simultaneous, not Active{}",
            saw(ok, format!("{:?}", a.connected))
        ),
    );
    let ok = a.info_how == Some(OpenKind::Simultaneous);
    ctx.check(
        ok,
        format!(
            "A: ConnInfo.how = Simultaneous{}",
            saw(ok, format!("{:?}", a.info_how))
        ),
    );
    ctx.check(
        a.all_closed,
        "A: after the application's abort the client holds nothing",
    );

    let bad_acks: Vec<u32> = b.attacker_acks.clone();
    let answered = !bad_acks.is_empty() && bad_acks.iter().all(|a| b.client_rsts.contains(a));
    let wrong = b
        .iss
        .is_some_and(|iss| bad_acks.iter().all(|&a| a != iss.wrapping_add(1)));
    ctx.check(
        answered && wrong,
        format!(
            "B: every wrong ACK ({} of them) was answered with a RST whose seq is that ACK number",
            bad_acks.len()
        ),
    );
    ctx.check(
        !b.path.contains(&State::Established) && b.connected.is_none(),
        "B: the client never reached ESTABLISHED and no Event::Connected came",
    );
    ctx.check(
        b.closed.is_some_and(|r| r != CloseReason::Normal) && b.all_closed,
        format!(
            "B: the connect failed (Closed {{ reason: {} }}) and the client holds nothing",
            b.closed.map_or("-".into(), |r| format!("{r:?}"))
        ),
    );
}
