//! `basic`: handshake, 4 KiB each way, close, TIME-WAIT, on a link that may
//! lose packets (`--loss`).

use super::*;
use crate::demo::{Stream, compare, content, print_counters, secs};
use crate::host::demo_config;
use crate::ladder::Side;
use synack::{CloseReason, Event, Instant, OpenKind};

const BYTES: usize = 4096;

pub fn run(ctx: &mut Ctx<'_>) {
    let mut w = ctx.world(Instant::ZERO);
    let client = w.add_host("client", CLIENT_IP, Side::Left, demo_config());
    let server = w.add_host("server", SERVER_IP, Side::Right, demo_config());
    let Ok(l) = w.call(server, |ep, _| ep.listen(server_addr(), 128)) else {
        ctx.check(false, "server listens on 198.18.0.2:80");
        return;
    };
    w.ladder.borrow().say(&format!(
        "server listens on {}; client connects and sends {BYTES} bytes, the server sends \
         {BYTES} bytes back; the client closes first.\n",
        server_addr()
    ));
    w.ladder.borrow().header();
    let c = match w.call(client, |ep, now| {
        ep.connect(now, client_any(), server_addr())
    }) {
        Ok(c) => c,
        Err(e) => {
            ctx.check(false, format!("client connect: {e}"));
            return;
        }
    };
    let up = content(1, BYTES);
    let down = content(2, BYTES);
    let mut cs: Option<Stream> = None;
    let mut ss: Option<Stream> = None;
    let mut how = None;
    let mut info = None;
    let (mut client_reason, mut server_reason) = (None, None);
    // Under loss a segment may need several backed-off retransmissions;
    // the engine's own limits end a hopeless run well before this.
    let deadline = Instant::from_secs(if ctx.opts.loss > 0.0 { 900 } else { 60 });

    loop {
        while let Some(ev) = w.host(client).events.pop_front() {
            match ev {
                Event::Connected { conn, how: h } if conn == c => {
                    how = Some(h);
                    info = w.host_ref(client).ep.info(conn);
                    cs = Some(Stream::new(conn, up.clone()));
                }
                Event::Closed { conn, reason } if conn == c => client_reason = Some(reason),
                _ => {}
            }
        }
        while let Some(ev) = w.host(server).events.pop_front() {
            match ev {
                Event::Accepted { .. } => {
                    if let Some(s) = w.call(server, |ep, _| ep.accept(l)) {
                        ss = Some(Stream::new(s, down.clone()));
                    }
                }
                Event::Closed { conn, reason } if ss.as_ref().is_some_and(|s| s.conn == conn) => {
                    server_reason = Some(reason)
                }
                _ => {}
            }
        }
        if let Some(s) = cs.as_mut().filter(|s| !s.closed) {
            w.call(client, |ep, _| s.client_turn(ep, down.len()));
        }
        if let Some(s) = ss.as_mut().filter(|s| !s.closed) {
            w.call(server, |ep, _| s.server_turn(ep));
        }
        if !w.step() || w.now() > deadline {
            break;
        }
    }
    let idle = w.net.in_flight() == 0 && w.now() <= deadline;
    let end = w.ladder.borrow().last_activity();
    ctx.done(&mut w);

    let states = w.ladder.borrow().states.clone();
    ctx.say("");
    ctx.say("summary:");
    let (up_ok, up_text) = compare(&up, ss.as_ref().map_or(&[][..], |s| &s.got));
    let (down_ok, down_text) = compare(&down, cs.as_ref().map_or(&[][..], |s| &s.got));
    ctx.say(format!("  client -> server: {up_text}"));
    ctx.say(format!("  server -> client: {down_text}"));
    if let Some(i) = &info {
        ctx.say(format!("  connection: {}", describe(i)));
    }
    traffic(ctx, &w, &[client, server]);
    let tw_start = states
        .iter()
        .find(|r| r.host == "client" && r.to == State::TimeWait)
        .map(|r| r.time);
    let tw_end = states
        .iter()
        .find(|r| r.host == "client" && r.from == State::TimeWait && r.to == State::Closed)
        .map(|r| r.time);
    let tw = match (tw_start, tw_end) {
        (Some(a), Some(b)) => format!(
            "; client TIME-WAIT {} -> {} = {:.3} s (2 x MSL, MSL set to 1 s for the demo; 30 s by default)",
            secs(a),
            secs(b),
            b.saturating_since(a).as_secs_f64()
        ),
        _ => String::new(),
    };
    ctx.say(format!("  elapsed: {} virtual{tw}", secs(end)));
    ctx.say(format!(
        "  client: {}   (closed: {})",
        path_text(&path(&states, "client")),
        reason_text(client_reason)
    ));
    ctx.say(format!(
        "  server: {}   (closed: {})",
        path_text(&path(&states, "server")),
        reason_text(server_reason)
    ));
    print_counters(ctx, "client", w.host_ref(client).ep.counters());
    print_counters(ctx, "server", w.host_ref(server).ep.counters());

    ctx.check(
        how == Some(OpenKind::Active),
        format!("client connected by a normal active open (how: {how:?})"),
    );
    ctx.check(up_ok, format!("client -> server data: {up_text}"));
    ctx.check(down_ok, format!("server -> client data: {down_text}"));
    ctx.check(
        tw_end.is_some(),
        "client went through TIME-WAIT and it expired (TIME-WAIT -> CLOSED)",
    );
    check_all_closed(ctx, &w, client);
    check_all_closed(ctx, &w, server);
    ctx.check(
        idle,
        format!(
            "run finished by itself before the {} virtual deadline",
            secs(deadline)
        ),
    );
}

pub fn reason_text(r: Option<CloseReason>) -> String {
    r.map_or_else(|| "no Closed event".into(), |r| format!("{r:?}"))
}
