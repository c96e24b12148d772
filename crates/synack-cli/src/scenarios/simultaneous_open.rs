//! `simultaneous-open`: two hosts, no listener, each connects to the other
//! at the same instant from port P to port P. The SYNs cross (RFC 9293
//! section 3.5, figure 7): each side goes SYN-SENT -> SYN-RECEIVED, answers
//! with a SYN-ACK, and the crossing SYN-ACKs take both to ESTABLISHED.

use super::*;
use crate::demo::{Stream, compare, print_counters};
use crate::host::demo_config;
use crate::ladder::Side;
use synack::{Event, Instant, OpenKind};

const P: u16 = 5000;
const A_IP: [u8; 4] = CLIENT_IP;
const B_IP: [u8; 4] = SERVER_IP;

pub fn run(ctx: &mut Ctx<'_>) {
    let mut w = ctx.world(Instant::ZERO);
    let a = w.add_host("hostA", A_IP, Side::Left, demo_config());
    let b = w.add_host("hostB", B_IP, Side::Right, demo_config());
    let a_sock = SocketAddr::from((A_IP, P));
    let b_sock = SocketAddr::from((B_IP, P));
    w.ladder.borrow().say(&format!(
        "no listener anywhere: at t = 0 hostA connects {a_sock} -> {b_sock} and hostB connects \
         {b_sock} -> {a_sock}.\n"
    ));
    w.ladder.borrow().header();
    let ca = w.call(a, |ep, now| ep.connect(now, a_sock, b_sock));
    let cb = w.call(b, |ep, now| ep.connect(now, b_sock, a_sock));
    let (Ok(ca), Ok(cb)) = (ca, cb) else {
        ctx.check(false, format!("both connects accepted: {ca:?}, {cb:?}"));
        return;
    };

    let msg_a = b"hello from hostA".to_vec();
    let msg_b = b"hello from hostB".to_vec();
    let mut sa: Option<Stream> = None;
    let mut sb: Option<Stream> = None;
    let (mut how_a, mut how_b) = (None, None);
    let (mut info_a, mut info_b) = (None, None);
    let mut both_up_at = None;
    let deadline = Instant::from_secs(30);
    loop {
        for (id, conn, msg, stream, how, info) in [
            (a, ca, &msg_a, &mut sa, &mut how_a, &mut info_a),
            (b, cb, &msg_b, &mut sb, &mut how_b, &mut info_b),
        ] {
            while let Some(ev) = w.host(id).events.pop_front() {
                if let Event::Connected { conn: c, how: h } = ev
                    && c == conn
                {
                    *how = Some(h);
                    *info = w.host_ref(id).ep.info(conn);
                    *stream = Some(Stream::new(conn, msg.clone()));
                }
            }
        }
        if both_up_at.is_none() && sa.is_some() && sb.is_some() {
            both_up_at = Some(w.now());
        }
        // Each sends its message; hostA closes once it has the other's,
        // hostB closes after hostA's FIN.
        if let Some(s) = sa.as_mut().filter(|s| !s.closed) {
            w.call(a, |ep, _| s.client_turn(ep, msg_b.len()));
        }
        if let Some(s) = sb.as_mut().filter(|s| !s.closed) {
            w.call(b, |ep, _| s.server_turn(ep));
        }
        if !w.step() || w.now() > deadline {
            break;
        }
    }
    ctx.done(&mut w);

    let ladder = w.ladder.borrow();
    // The handshake: every segment sent before both ends were established.
    let handshake: Vec<String> = match both_up_at {
        Some(t) => ladder
            .segments
            .iter()
            .filter(|r| r.time < t)
            .map(|r| format!("{} {}", r.from, r.flags))
            .collect(),
        None => Vec::new(),
    };
    let syns = ladder
        .segments
        .iter()
        .filter(|r| r.flags.syn() && !r.flags.ack())
        .count();
    let syn_acks = ladder
        .segments
        .iter()
        .filter(|r| r.flags.syn() && r.flags.ack())
        .count();
    let states = ladder.states.clone();
    drop(ladder);

    ctx.say("");
    ctx.say("summary:");
    ctx.say(format!(
        "  handshake segments (before both were ESTABLISHED): {} [{}]",
        handshake.len(),
        handshake.join(", ")
    ));
    for (name, i) in [("hostA", &info_a), ("hostB", &info_b)] {
        if let Some(i) = i {
            ctx.say(format!("  {name}: {}", describe(i)));
        }
    }
    let (ok_ab, text_ab) = compare(&msg_a, sb.as_ref().map_or(&[][..], |s| &s.got));
    let (ok_ba, text_ba) = compare(&msg_b, sa.as_ref().map_or(&[][..], |s| &s.got));
    ctx.say(format!("  hostA -> hostB: {text_ab}"));
    ctx.say(format!("  hostB -> hostA: {text_ba}"));
    traffic(ctx, &w, &[a, b]);
    let pa = path(&states, "hostA");
    let pb = path(&states, "hostB");
    ctx.say(format!("  hostA: {}", path_text(&pa)));
    ctx.say(format!("  hostB: {}", path_text(&pb)));
    print_counters(ctx, "hostA", w.host_ref(a).ep.counters());
    print_counters(ctx, "hostB", w.host_ref(b).ep.counters());

    let four = syns == 2 && syn_acks == 2 && handshake.len() == 4;
    ctx.check(
        four,
        format!(
            "the handshake took 4 segments, SYN, SYN, SYN-ACK, SYN-ACK{}",
            saw(
                four,
                format!("{}: {}", handshake.len(), handshake.join(", "))
            )
        ),
    );
    let crossing = [State::SynSent, State::SynReceived, State::Established];
    for (name, p) in [("hostA", &pa), ("hostB", &pb)] {
        ctx.check(
            contains_run(p, &crossing),
            format!("{name} went SYN-SENT -> SYN-RECEIVED -> ESTABLISHED"),
        );
    }
    for (name, how, info) in [("hostA", how_a, &info_a), ("hostB", how_b, &info_b)] {
        let info_how = info.map(|i| i.how);
        let ok = how == Some(OpenKind::Simultaneous) && info_how == Some(OpenKind::Simultaneous);
        ctx.check(
            ok,
            format!(
                "{name}: Event::Connected and ConnInfo.how both say Simultaneous{}",
                saw(ok, format!("{how:?} and {info_how:?}"))
            ),
        );
    }
    ctx.check(ok_ab, format!("hostA -> hostB message: {text_ab}"));
    ctx.check(ok_ba, format!("hostB -> hostA message: {text_ba}"));
    check_all_closed(ctx, &w, a);
    check_all_closed(ctx, &w, b);
}
