//! The demo scenarios, one per file, and what they share.

pub mod basic;
pub mod refused;
pub mod simultaneous_close;
pub mod simultaneous_open;
pub mod split_handshake;
pub mod syn_flood;

use crate::demo::Ctx;
use crate::host::World;
use crate::ladder::{StateRecord, fate_name};
use std::net::SocketAddr;
use synack::sim::{Fate, NodeId};
use synack::{ConnInfo, State};

pub const CLIENT_IP: [u8; 4] = [198, 18, 0, 1];
pub const SERVER_IP: [u8; 4] = [198, 18, 0, 2];
pub const PORT: u16 = 80;

pub fn client_any() -> SocketAddr {
    SocketAddr::from((CLIENT_IP, 0))
}

pub fn server_addr() -> SocketAddr {
    SocketAddr::from((SERVER_IP, PORT))
}

/// `how active, mss 1448, wscale 3/3, timestamps, srtt 20.0 ms`.
pub fn describe(i: &ConnInfo) -> String {
    let ws = match i.wscale {
        Some((s, r)) => format!("wscale {s}/{r} (send/recv)"),
        None => "no wscale".into(),
    };
    let srtt = match i.srtt {
        Some(d) => format!("srtt {:.1} ms", d.as_secs_f64() * 1000.0),
        None => "no RTT sample".into(),
    };
    format!(
        "{} -> {}: opened {}, mss {}, {ws}, timestamps {}, SACK {}, {srtt}",
        i.local,
        i.remote,
        i.how.name(),
        i.mss,
        if i.timestamps { "on" } else { "off" },
        if i.sack { "on" } else { "off" },
    )
}

/// Segments each host sent, retransmissions, and what the link did.
pub fn traffic(ctx: &Ctx<'_>, w: &World, hosts: &[NodeId]) {
    let mut parts = Vec::new();
    for &h in hosts {
        let host = w.host_ref(h);
        let c = host.ep.counters();
        parts.push(format!(
            "{} sent {} ({} retransmitted)",
            host.name,
            c.out_segs + c.retrans_segs,
            c.retrans_segs
        ));
    }
    ctx.say(format!("  segments: {}", parts.join(", ")));
    let s = w.net.stats();
    let mut fates = Vec::new();
    for f in [
        Fate::Delivered,
        Fate::Lost,
        Fate::Duplicated,
        Fate::Corrupted,
        Fate::Marked,
        Fate::NoRoute,
        Fate::QueueFull,
        Fate::TooBig,
    ] {
        let n = s.count(f);
        if n > 0 || matches!(f, Fate::Delivered | Fate::Lost) {
            fates.push(format!("{n} {}", fate_name(f)));
        }
    }
    ctx.say(format!(
        "  link: {} packets handed to the network: {}",
        s.sent_packets,
        fates.join(", ")
    ));
}

/// The transitions `host` went through, in order.
pub fn path(states: &[StateRecord], host: &str) -> Vec<State> {
    let mut v = Vec::new();
    for r in states.iter().filter(|r| r.host == host) {
        if v.last() != Some(&r.from) {
            v.push(r.from);
        }
        v.push(r.to);
    }
    v
}

/// ` (saw X)` when a claim failed, nothing when it held: the evidence is
/// only worth printing when it contradicts the claim.
pub fn saw(ok: bool, what: impl std::fmt::Display) -> String {
    if ok {
        String::new()
    } else {
        format!(" (saw {what})")
    }
}

pub fn path_text(p: &[State]) -> String {
    p.iter().map(|s| s.name()).collect::<Vec<_>>().join(" -> ")
}

/// Whether `want` occurs in `have` as consecutive states.
pub fn contains_run(have: &[State], want: &[State]) -> bool {
    have.windows(want.len()).any(|w| w == want)
}

/// Checks that host `id` holds nothing: no connection, no TIME-WAIT entry.
pub fn check_all_closed(ctx: &mut Ctx<'_>, w: &World, id: NodeId) -> bool {
    let h = w.host_ref(id);
    let (conns, tw) = (h.ep.connection_count(), h.ep.time_wait_count());
    ctx.check(
        conns == 0 && tw == 0,
        format!(
            "{} ended CLOSED: {conns} connection(s), {tw} TIME-WAIT entr{} left",
            h.name,
            if tw == 1 { "y" } else { "ies" }
        ),
    )
}
