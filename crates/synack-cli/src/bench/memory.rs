//! `synack bench memory`: heap bytes per idle ESTABLISHED connection, per
//! connection after a 16-byte exchange, and per TIME-WAIT entry, on the
//! server endpoint.
//!
//! Method: the binary's global allocator counts live heap bytes per owner
//! (see `crate::alloc`), and every call into the server endpoint is booked
//! to the server, every call into the client to the client. So the figures
//! are the server endpoint's own heap growth, with the client endpoint and
//! the harness excluded, measured after all events were drained.
//!
//! 1. Establish N connections on a fresh server: growth / N is the cost of
//!    an idle ESTABLISHED connection, including the share of table
//!    capacity (slab, 4-tuple map) it causes.
//! 2. Exchange 16 bytes each way and read them: growth / N again (the
//!    buffers now exist).
//! 3. The clients close first, so the server ends with no connection and
//!    no TIME-WAIT entry; what is left is table capacity kept for reuse.
//! 4. Establish N new connections and let the server close first, so that
//!    all N end in TIME-WAIT on the server and their TCBs are freed. The
//!    growth since 3 is the TIME-WAIT table alone: the slab and the
//!    4-tuple map already had room and do not grow.
//!
//! 5. An intercepting listener in `Decide` mode holds N SYNs from N
//!    clients to a destination that is not the server's, undecided: the
//!    growth since 4 is the pending SYN alone (no TCB, no buffers).
//!
//! Before each measurement 5 s of virtual time pass (see [`snapshot`]).

use super::pair::Pair;
use crate::alloc::Owner;
use crate::report::Report;
use core::time::Duration;
use std::net::SocketAddr;
use synack::{Config, ConnId, ListenerId, State};

const MESSAGE: [u8; 16] = *b"16 bytes of data";
const BATCH: usize = 1000;
/// Explicit client ports per client address: well under the 64k a port
/// number allows, and no ephemeral-port search to slow setup down.
const PORTS_PER_IP: usize = 25_000;
const IDLE_TARGET: f64 = 512.0;
const TIME_WAIT_TARGET: f64 = 64.0;

fn server_addr() -> SocketAddr {
    SocketAddr::from(([198, 18, 0, 2], 80))
}

/// The `i`th client socket of address block `block`: 10.block.x.y.
fn client_addr(block: u8, i: usize) -> SocketAddr {
    let k = i / PORTS_PER_IP;
    let ip = [10, block, (k / 250) as u8, (k % 250 + 1) as u8];
    SocketAddr::from((ip, (10_000 + i % PORTS_PER_IP) as u16))
}

/// The server's live heap bytes and its own estimate, once 5 s of virtual
/// time have passed: timers that are due by then fire (retransmission
/// timers left over from the handshake, which the engine discards lazily),
/// while 5 s is far short of 2 x MSL (60 s), so no TIME-WAIT entry expires.
fn snapshot(p: &mut Pair) -> (isize, usize) {
    let until = p.now + Duration::from_secs(5);
    p.run_until(until);
    drain(p);
    (Owner::Server.live(), p.server.heap_bytes())
}

fn per(after: (isize, usize), before: (isize, usize), n: usize) -> (f64, f64) {
    (
        (after.0 - before.0) as f64 / n as f64,
        (after.1 as f64 - before.1 as f64) / n as f64,
    )
}

pub fn run(n: usize, r: &mut Report) -> Result<(), String> {
    let mut cfg = Config::default();
    cfg.max_connections = n.max(cfg.max_connections);
    cfg.max_time_wait = n.max(cfg.max_time_wait);
    cfg.max_syn_requests = n;
    cfg.max_syn_requests_per_source = n;
    let mut p = Pair::new(cfg);
    let l = Owner::Server
        .enter(|| p.server.listen(server_addr(), BATCH))
        .map_err(|e| format!("listen: {e}"))?;

    // 1. Idle ESTABLISHED.
    let s0 = snapshot(&mut p);
    let (clients, servers) = establish(&mut p, l, 1, n)?;
    let s1 = snapshot(&mut p);

    // 2. One 16-byte message each way, read by the application.
    exchange(&mut p, &clients, &servers)?;
    let s2 = snapshot(&mut p);

    // 3. Clients close first: the server keeps no TIME-WAIT.
    close_all(&mut p, &clients, &servers, false)?;
    if p.server.connection_count() != 0 || p.server.time_wait_count() != 0 {
        return Err("the server still holds connections after the clients closed".into());
    }
    let s3 = snapshot(&mut p);

    // 4. Server closes first: N TIME-WAIT entries on the server.
    let (clients, servers) = establish(&mut p, l, 2, n)?;
    close_all(&mut p, &clients, &servers, true)?;
    let tw = p.server.time_wait_count();
    if tw != n || p.server.connection_count() != 0 {
        return Err(format!(
            "expected {n} TIME-WAIT entries and no connection on the server, found {tw} and {}",
            p.server.connection_count()
        ));
    }
    let s4 = snapshot(&mut p);

    // 5. N pending intercepted SYNs.
    let held = hold_syns(&mut p, n)?;
    let s5 = snapshot(&mut p);

    let (idle, idle_est) = per(s1, s0, n);
    let (after, after_est) = per(s2, s0, n);
    let (kept, kept_est) = per(s3, s0, n);
    let (tw_bytes, tw_est) = per(s4, s3, n);
    r.note(format!(
        "memory: {n} connections on the server endpoint (default Config); live heap bytes \
         counted by the global allocator for the server endpoint alone (client endpoint and \
         harness excluded), after draining all events; *_estimate is Endpoint::heap_bytes()"
    ));
    r.figure("idle_established_bytes_per_conn", idle, 1, "bytes");
    r.figure(
        "idle_established_estimate_bytes_per_conn",
        idle_est,
        1,
        "bytes",
    );
    r.figure("after_16b_exchange_bytes_per_conn", after, 1, "bytes");
    r.figure(
        "after_16b_exchange_estimate_bytes_per_conn",
        after_est,
        1,
        "bytes",
    );
    r.note(
        "after every connection closed (clients first), the server keeps table capacity for \
         reuse:",
    );
    r.figure("retained_after_close_bytes_per_conn", kept, 1, "bytes");
    r.figure(
        "retained_after_close_estimate_bytes_per_conn",
        kept_est,
        1,
        "bytes",
    );
    r.note(
        "TIME-WAIT: N more connections, the server closing first; growth from the previous \
         point, once their TCBs were freed",
    );
    r.figure("time_wait_bytes_per_entry", tw_bytes, 1, "bytes");
    r.figure("time_wait_estimate_bytes_per_entry", tw_est, 1, "bytes");
    let (pending, pending_est) = per(s5, s4, held);
    r.note(
        "a SYN an intercepting listener holds for the application's decision (Decide mode): \
         growth from the previous point with N such SYNs pending, no TCB and no buffers",
    );
    r.figure("pending_syn_bytes_per_request", pending, 1, "bytes");
    r.figure(
        "pending_syn_estimate_bytes_per_request",
        pending_est,
        1,
        "bytes",
    );
    let verdict = |v: f64, t: f64| if v <= t { "met" } else { "NOT met" };
    r.note(format!(
        "target <= {IDLE_TARGET:.0} bytes per idle established connection: {}; target <= \
         {TIME_WAIT_TARGET:.0} bytes per TIME-WAIT entry: {}",
        verdict(idle, IDLE_TARGET),
        verdict(tw_bytes, TIME_WAIT_TARGET)
    ));
    Ok(())
}

/// Has the server intercept every destination, undecided, and `n` clients
/// (address block 3) send it a SYN each for an address that is not the
/// server's; returns how many requests the server holds.
fn hold_syns(p: &mut Pair, n: usize) -> Result<usize, String> {
    use synack::{Intercept, InterceptMode};
    let server = &mut p.server;
    Owner::Server
        .enter(|| server.intercept(Intercept::everything(InterceptMode::Decide), BATCH))
        .map_err(|e| format!("intercept: {e}"))?;
    let elsewhere = SocketAddr::from(([198, 19, 0, 9], 443));
    for i in 0..n {
        let now = p.now;
        let client = &mut p.client;
        Owner::Client
            .enter(|| client.connect(now, client_addr(3, i), elsewhere))
            .map_err(|e| format!("connect: {e}"))?;
        if i % BATCH == BATCH - 1 {
            p.flush(super::pair::Side::Client);
            drain(p);
        }
    }
    p.flush(super::pair::Side::Client);
    drain(p);
    let held = p.server.syn_request_count();
    if held != n || p.server.connection_count() != 0 {
        return Err(format!(
            "expected {n} pending SYNs and no connection on the server, found {held} and {}",
            p.server.connection_count()
        ));
    }
    Ok(held)
}

/// Opens `n` connections from address block `block`, `BATCH` at a time;
/// returns the client and the server handles, and leaves no event queued.
fn establish(
    p: &mut Pair,
    l: ListenerId,
    block: u8,
    n: usize,
) -> Result<(Vec<ConnId>, Vec<ConnId>), String> {
    let mut clients = Vec::with_capacity(n);
    let mut servers = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let end = (i + BATCH).min(n);
        for k in i..end {
            let now = p.now;
            let c = Owner::Client
                .enter(|| p.client.connect(now, client_addr(block, k), server_addr()))
                .map_err(|e| format!("connect {}: {e}", client_addr(block, k)))?;
            clients.push(c);
        }
        p.pump();
        let server = &mut p.server;
        Owner::Server.enter(|| {
            while let Some(s) = server.accept(l) {
                servers.push(s);
            }
        });
        drain(p);
        i = end;
    }
    if servers.len() != n {
        return Err(format!("{} of {n} connections established", servers.len()));
    }
    Ok((clients, servers))
}

/// 16 bytes client -> server, read; 16 bytes back, read.
fn exchange(p: &mut Pair, clients: &[ConnId], servers: &[ConnId]) -> Result<(), String> {
    let mut buf = [0u8; 64];
    for (cs, ss) in clients.chunks(BATCH).zip(servers.chunks(BATCH)) {
        for &c in cs {
            Owner::Client
                .enter(|| p.client.send(c, &MESSAGE))
                .map_err(|e| format!("client send: {e}"))?;
        }
        p.pump();
        for &s in ss {
            let server = &mut p.server;
            let got = Owner::Server.enter(|| server.recv(s, &mut buf));
            if got != Ok(MESSAGE.len()) || buf[..MESSAGE.len()] != MESSAGE {
                return Err(format!("server read {got:?}, expected the 16-byte message"));
            }
            Owner::Server
                .enter(|| server.send(s, &MESSAGE))
                .map_err(|e| format!("server send: {e}"))?;
        }
        p.pump();
        for &c in cs {
            let client = &mut p.client;
            let got = Owner::Client.enter(|| client.recv(c, &mut buf));
            if got != Ok(MESSAGE.len()) {
                return Err(format!("client read {got:?}, expected 16 bytes"));
            }
        }
        p.pump();
        drain(p);
    }
    Ok(())
}

/// Closes every connection, the server first if `server_first`, and runs
/// until both sides are done (short of TIME-WAIT expiry).
fn close_all(
    p: &mut Pair,
    clients: &[ConnId],
    servers: &[ConnId],
    server_first: bool,
) -> Result<(), String> {
    for (cs, ss) in clients.chunks(BATCH).zip(servers.chunks(BATCH)) {
        let (first, second, first_owner, second_owner) = if server_first {
            (ss, cs, Owner::Server, Owner::Client)
        } else {
            (cs, ss, Owner::Client, Owner::Server)
        };
        for &c in first {
            let ep = if server_first {
                &mut p.server
            } else {
                &mut p.client
            };
            first_owner
                .enter(|| ep.close(c))
                .map_err(|e| format!("close: {e}"))?;
        }
        p.pump();
        // The passive side has read the FIN (nothing else is unread), so
        // its close sends its own FIN.
        for &c in second {
            let ep = if server_first {
                &mut p.client
            } else {
                &mut p.server
            };
            let state = ep.info(c).map(|i| i.state);
            if state != Some(State::CloseWait) {
                return Err(format!("passive closer in {state:?}, expected CLOSE-WAIT"));
            }
            second_owner
                .enter(|| ep.close(c))
                .map_err(|e| format!("close: {e}"))?;
        }
        p.pump();
        drain(p);
    }
    Ok(())
}

/// Discards both endpoints' pending events (the benchmark needs none of
/// them, and a queue of events is not connection state).
fn drain(p: &mut Pair) {
    let client = &mut p.client;
    let server = &mut p.server;
    Owner::Client.enter(|| while client.poll_event().is_some() {});
    Owner::Server.enter(|| while server.poll_event().is_some() {});
}
