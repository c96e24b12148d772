//! `refused`: a SYN to a port nobody listens on is answered with RST,ACK
//! (RFC 9293 3.10.7.1), and the connect ends with `Closed { reason:
//! Refused }` (3.10.7.3: a RST with an acceptable ACK in SYN-SENT).

use super::*;
use crate::demo::print_counters;
use crate::host::demo_config;
use crate::ladder::Side;
use synack::{CloseReason, Event, Instant};

const CLOSED_PORT: u16 = 81;

pub fn run(ctx: &mut Ctx<'_>) {
    let mut w = ctx.world(Instant::ZERO);
    let client = w.add_host("client", CLIENT_IP, Side::Left, demo_config());
    let server = w.add_host("server", SERVER_IP, Side::Right, demo_config());
    if w.call(server, |ep, _| ep.listen(server_addr(), 128))
        .is_err()
    {
        ctx.check(false, "server listens on 198.18.0.2:80");
        return;
    }
    let target = SocketAddr::from((SERVER_IP, CLOSED_PORT));
    w.ladder.borrow().say(&format!(
        "the server listens on port {PORT} only; the client connects to {target}.\n"
    ));
    w.ladder.borrow().header();
    let c = match w.call(client, |ep, now| ep.connect(now, client_any(), target)) {
        Ok(c) => c,
        Err(e) => {
            ctx.check(false, format!("client connect: {e}"));
            return;
        }
    };
    let mut reason = None;
    let mut connected = false;
    let deadline = Instant::from_secs(30);
    loop {
        while let Some(ev) = w.host(client).events.pop_front() {
            match ev {
                Event::Closed { conn, reason: r } if conn == c => {
                    reason = Some(r);
                    w.ladder.borrow().note(
                        w.now(),
                        "client",
                        &format!("application sees Event::Closed {{ reason: {r:?} }}"),
                    );
                }
                Event::Connected { .. } => connected = true,
                _ => {}
            }
        }
        if !w.step() || w.now() > deadline {
            break;
        }
    }
    ctx.done(&mut w);
    let ladder = w.ladder.borrow();
    let rst = ladder
        .segments
        .iter()
        .find(|r| r.from == "server" && r.flags.rst())
        .copied();
    let syn = ladder
        .segments
        .iter()
        .find(|r| r.from == "client" && r.flags.syn())
        .copied();
    let states = ladder.states.clone();
    drop(ladder);

    ctx.say("");
    ctx.say("summary:");
    let pc = path(&states, "client");
    ctx.say(format!("  client: {}", path_text(&pc)));
    ctx.say(format!(
        "  connect ended: {}",
        reason.map_or("no Closed event".into(), |r| format!(
            "Closed {{ reason: {r:?} }}"
        ))
    ));
    traffic(ctx, &w, &[client, server]);
    print_counters(ctx, "client", w.host_ref(client).ep.counters());
    print_counters(ctx, "server", w.host_ref(server).ep.counters());

    let rst_ok = match (syn, rst) {
        (Some(s), Some(r)) => r.flags.ack() && r.ack == s.seq.wrapping_add(1),
        _ => false,
    };
    ctx.check(
        rst_ok,
        format!(
            "the server answered the SYN with RST,ACK acknowledging ISN+1{}",
            saw(
                rst_ok,
                rst.map_or("no RST".into(), |r| format!("flags {}", r.flags))
            )
        ),
    );
    let refused = reason == Some(CloseReason::Refused) && !connected;
    ctx.check(
        refused,
        format!(
            "connect ended with Closed {{ reason: Refused }}{}",
            saw(refused, format!("{reason:?}"))
        ),
    );
    let ok = pc == [State::Closed, State::SynSent, State::Closed];
    ctx.check(
        ok,
        format!(
            "client went CLOSED -> SYN-SENT -> CLOSED{}",
            saw(ok, path_text(&pc))
        ),
    );
    check_all_closed(ctx, &w, client);
    check_all_closed(ctx, &w, server);
}
