//! `simultaneous-close`: a normal open, then both applications call
//! `close` at the same instant. The FINs cross (RFC 9293 section 3.6,
//! figure 13): each side goes FIN-WAIT-1 -> CLOSING on the other's FIN,
//! then TIME-WAIT when its own FIN is acknowledged, then CLOSED after
//! 2 x MSL.

use super::*;
use crate::demo::{print_counters, secs};
use crate::host::demo_config;
use crate::ladder::Side;
use synack::{CloseReason, Event, Instant};

pub fn run(ctx: &mut Ctx<'_>) {
    let mut w = ctx.world(Instant::ZERO);
    let client = w.add_host("client", CLIENT_IP, Side::Left, demo_config());
    let server = w.add_host("server", SERVER_IP, Side::Right, demo_config());
    let Ok(l) = w.call(server, |ep, _| ep.listen(server_addr(), 128)) else {
        ctx.check(false, "server listens on 198.18.0.2:80");
        return;
    };
    w.ladder.borrow().say(
        "a normal open; as soon as the server has accepted (nothing in flight), both \
         applications call close() at the same instant.\n",
    );
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
    let mut s = None;
    let mut closed_at = None;
    let mut reasons: Vec<(&str, CloseReason)> = Vec::new();
    let deadline = Instant::from_secs(30);
    loop {
        while let Some(ev) = w.host(client).events.pop_front() {
            if let Event::Closed { conn, reason } = ev
                && conn == c
            {
                reasons.push(("client", reason));
            }
        }
        while let Some(ev) = w.host(server).events.pop_front() {
            match ev {
                Event::Accepted { .. } => s = w.call(server, |ep, _| ep.accept(l)),
                Event::Closed { conn, reason } if Some(conn) == s => {
                    reasons.push(("server", reason))
                }
                _ => {}
            }
        }
        if let (Some(sc), None) = (s, closed_at) {
            let up = w.host_ref(client).ep.info(c).map(|i| i.state) == Some(State::Established)
                && w.host_ref(server).ep.info(sc).map(|i| i.state) == Some(State::Established);
            if up && w.net.in_flight() == 0 {
                closed_at = Some(w.now());
                w.ladder
                    .borrow()
                    .note(w.now(), "client", "application calls close()");
                let _ = w.call(client, |ep, _| ep.close(c));
                w.ladder
                    .borrow()
                    .note(w.now(), "server", "application calls close()");
                let _ = w.call(server, |ep, _| ep.close(sc));
            }
        }
        if !w.step() || w.now() > deadline {
            break;
        }
    }
    ctx.done(&mut w);
    let ladder = w.ladder.borrow();
    let fins: Vec<_> = ladder
        .segments
        .iter()
        .filter(|r| r.flags.fin())
        .copied()
        .collect();
    let states = ladder.states.clone();
    let end = ladder.last_activity();
    drop(ladder);

    ctx.say("");
    ctx.say("summary:");
    if let Some(t) = closed_at {
        ctx.say(format!("  both applications called close() at {}", secs(t)));
    }
    let fin_text: Vec<String> = fins
        .iter()
        .map(|f| format!("{} at {}", f.from, secs(f.time)))
        .collect();
    ctx.say(format!("  FINs: {}", fin_text.join(", ")));
    traffic(ctx, &w, &[client, server]);
    ctx.say(format!(
        "  elapsed: {} virtual (TIME-WAIT = 2 x MSL = 2 s)",
        secs(end)
    ));
    let pc = path(&states, "client");
    let ps = path(&states, "server");
    ctx.say(format!("  client: {}", path_text(&pc)));
    ctx.say(format!("  server: {}", path_text(&ps)));
    for (who, r) in &reasons {
        ctx.say(format!("  {who}: Event::Closed {{ reason: {r:?} }}"));
    }
    print_counters(ctx, "client", w.host_ref(client).ep.counters());
    print_counters(ctx, "server", w.host_ref(server).ep.counters());

    ctx.check(
        closed_at.is_some(),
        "both sides established, then closed at the same instant",
    );
    // The FINs cross: both are sent before either arrives (10 ms link).
    let crossed = fins.len() == 2 && fins[0].from != fins[1].from && fins[0].time == fins[1].time;
    ctx.check(
        crossed,
        format!("the two FINs crossed on the wire ({})", fin_text.join(", ")),
    );
    let want = [
        State::Established,
        State::FinWait1,
        State::Closing,
        State::TimeWait,
        State::Closed,
    ];
    for (name, p) in [("client", &pc), ("server", &ps)] {
        let ok = contains_run(p, &want);
        ctx.check(
            ok,
            format!(
                "{name} went ESTABLISHED -> FIN-WAIT-1 -> CLOSING -> TIME-WAIT -> CLOSED{}",
                saw(ok, path_text(p))
            ),
        );
    }
    check_all_closed(ctx, &w, client);
    check_all_closed(ctx, &w, server);
}
