//! `synack bench throughput`: one bulk connection between two endpoints in
//! one thread, over a link with no loss, no delay and no copies beyond the
//! stacks' own (MTU 1500, checksums computed and verified), wall-clock
//! time; and smoltcp 0.14 in the same setup in the same run.
//!
//! The sending application writes as much as the stack takes, its segments
//! go to the receiver, whose application reads everything into a buffer of
//! its own (the copy a real application pays), and the acknowledgments go
//! back; virtual time stands still while anything moves and jumps to the
//! next timer when nothing does (a delayed ACK), so only the stacks' work
//! is timed. With `--idle N` each side also holds N idle established
//! connections: a stack whose per-segment work grows with the number of
//! connections shows it here.

#[cfg(feature = "bench-smoltcp")]
mod smoltcp_pair;

use super::pair::{Pair, Side};
use crate::report::Report;
use std::net::SocketAddr;
use synack::{Config, ConnId, Endpoint, Error};

/// Rounds per row; the median is the figure (a shared machine's rounds
/// spread by a third).
const ROUNDS: usize = 5;
/// The buffer sizes of the two rows (send and receive buffer alike).
const BUFFERS: [usize; 2] = [64 << 10, 1 << 20];
/// Idle connections per side in the idle row by default.
pub const DEFAULT_IDLE: usize = 100_000;

const CLIENT: [u8; 4] = [198, 18, 0, 1];
const SERVER: [u8; 4] = [198, 18, 0, 2];
const PORT: u16 = 5001;
/// The first of the idle connections' server ports.
const IDLE_PORTS: u16 = 6000;

pub fn run(size: u64, idle: usize, r: &mut Report) -> Result<(), String> {
    r.note(format!(
        "throughput: one connection, {} MiB per round, {ROUNDS} rounds of every row interleaved \
         (medians; ratios: the median of each round's), two stacks \
         back to back in one thread, MTU 1500, checksums computed and verified, the receiver \
         copying every byte out; wall-clock time, after an untimed round of each",
        size >> 20
    ));
    // One untimed round of each first: the first round of a process pays
    // for faulting in its heap.
    synack_round(BUFFERS[0], size.min(64 << 20), 0)?;
    #[cfg(feature = "bench-smoltcp")]
    smoltcp_pair::round(BUFFERS[0], size.min(64 << 20))?;
    // Every row once per round, interleaved, so that a slow phase of a
    // shared machine falls on all of them alike; the ratios are the
    // medians of each round's ratio.
    #[derive(Default)]
    struct Rows {
        synack: [Vec<f64>; 2],
        smoltcp: [Vec<f64>; 2],
        in_place: Vec<f64>,
        idle: Vec<f64>,
    }
    let mut rows = Rows::default();
    for _ in 0..ROUNDS {
        for (k, buf) in BUFFERS.into_iter().enumerate() {
            rows.synack[k].push(synack_round(buf, size, 0)?);
            #[cfg(feature = "bench-smoltcp")]
            rows.smoltcp[k].push(smoltcp_pair::round(buf, size)?);
        }
        // The applications in place: `recv_with` looks at the bytes where
        // they lie, `send_with` fills the send buffer's room (zeroed).
        rows.in_place
            .push(synack_round_with(BUFFERS[0], size, 0, true)?);
        if idle > 0 {
            rows.idle.push(synack_round(BUFFERS[0], size, idle)?);
        }
    }
    let ratio = |a: &[f64], b: &[f64]| median(a.iter().zip(b).map(|(x, y)| x / y).collect());
    for (k, buf) in BUFFERS.into_iter().enumerate() {
        let kib = buf >> 10;
        r.figure(
            &format!("synack_{kib}k"),
            median(rows.synack[k].clone()) / 1e9,
            2,
            "GB/s",
        );
        if cfg!(feature = "bench-smoltcp") {
            r.figure(
                &format!("smoltcp_{kib}k"),
                median(rows.smoltcp[k].clone()) / 1e9,
                2,
                "GB/s",
            );
            r.figure(
                &format!("ratio_synack_vs_smoltcp_{kib}k"),
                ratio(&rows.synack[k], &rows.smoltcp[k]),
                2,
                "x",
            );
        }
    }
    if !cfg!(feature = "bench-smoltcp") {
        r.note("built without the bench-smoltcp feature: no smoltcp rows");
    }
    r.figure(
        "synack_64k_in_place",
        median(rows.in_place.clone()) / 1e9,
        2,
        "GB/s",
    );
    r.figure(
        "ratio_in_place_vs_copying_64k",
        ratio(&rows.in_place, &rows.synack[0]),
        2,
        "x",
    );
    if idle > 0 {
        r.figure(
            &format!("synack_64k_with_{idle}_idle"),
            median(rows.idle.clone()) / 1e9,
            2,
            "GB/s",
        );
        r.figure(
            "ratio_with_idle_vs_none",
            ratio(&rows.idle, &rows.synack[0]),
            3,
            "x",
        );
    }
    Ok(())
}

/// The median of some rates.
fn median(mut rates: Vec<f64>) -> f64 {
    rates.sort_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(0.0)
}

fn config(buf: usize, idle: usize) -> Config {
    let mut cfg = Config::default();
    cfg.send_buffer = buf;
    cfg.recv_buffer = buf;
    cfg.max_connections = cfg.max_connections.max(idle + 16);
    cfg
}

/// Opens `n` connections from the client to the server and accepts them:
/// established, and left idle. Each has a local port of its own choosing
/// (one address has fewer ephemeral ports than 100,000 connections), and
/// every 60,000 share a server port and a listener.
fn open_idle(p: &mut Pair, n: usize) -> Result<(), String> {
    const PER_PORT: usize = 60_000;
    let mut opened = 0;
    while opened < n {
        let server = SocketAddr::from((SERVER, IDLE_PORTS + (opened / PER_PORT) as u16));
        let l = p
            .server
            .listen(server, 1024)
            .map_err(|e| format!("idle listen: {e}"))?;
        let upto = (opened + PER_PORT).min(n);
        while opened < upto {
            let batch = (upto - opened).min(1000);
            for k in opened..opened + batch {
                let local = SocketAddr::from((CLIENT, 2000 + (k % PER_PORT) as u16));
                p.client
                    .connect(p.now, local, server)
                    .map_err(|e| format!("idle connect: {e}"))?;
            }
            p.pump();
            while p.server.accept(l).is_some() {}
            drain_events(&mut p.client);
            drain_events(&mut p.server);
            opened += batch;
        }
    }
    Ok(())
}

fn drain_events(ep: &mut Endpoint) {
    while ep.poll_event().is_some() {}
}

/// One round: bytes per second of wall-clock time for `size` bytes.
fn synack_round(buf: usize, size: u64, idle: usize) -> Result<f64, String> {
    synack_round_with(buf, size, idle, false)
}

/// [`synack_round`], the applications copying or (`in_place`) not.
fn synack_round_with(buf: usize, size: u64, idle: usize, in_place: bool) -> Result<f64, String> {
    let mut p = Pair::new(config(buf, idle));
    let server = SocketAddr::from((SERVER, PORT));
    let l = p
        .server
        .listen(server, 1024)
        .map_err(|e| format!("listen: {e}"))?;
    open_idle(&mut p, idle)?;
    let c = p
        .client
        .connect(p.now, SocketAddr::from((CLIENT, 0)), server)
        .map_err(|e| format!("connect: {e}"))?;
    p.pump();
    let s = p
        .server
        .accept(l)
        .ok_or("the connection was not accepted")?;
    drain_events(&mut p.client);
    drain_events(&mut p.server);

    let chunk = vec![0x5a_u8; 64 << 10];
    let mut into = vec![0_u8; 64 << 10];
    let (mut sent, mut received) = (0_u64, 0_u64);
    let start = std::time::Instant::now();
    while received < size {
        let before = (sent, received);
        if in_place {
            sent += write_in_place(&mut p.client, c, size - sent)?;
        } else {
            sent += write(&mut p.client, c, &chunk, size - sent)?;
        }
        let moved = p.flush(Side::Client);
        if in_place {
            received += read_in_place(&mut p.server, s)?;
        } else {
            received += read(&mut p.server, s, &mut into)?;
        }
        let acks = p.flush(Side::Server);
        drain_events(&mut p.client);
        drain_events(&mut p.server);
        if moved + acks == 0 && before == (sent, received) && !p.advance() {
            return Err(format!("stalled at {received} of {size} bytes"));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(size as f64 / secs)
}

/// The sending application: as much of `left` as the stack takes now.
fn write(ep: &mut Endpoint, c: ConnId, chunk: &[u8], left: u64) -> Result<u64, String> {
    let mut total = 0;
    while total < left {
        let n = chunk.len().min((left - total) as usize);
        match ep.send(c, &chunk[..n]) {
            Ok(0) | Err(Error::WouldBlock) => break,
            Ok(k) => total += k as u64,
            Err(e) => return Err(format!("send: {e}")),
        }
    }
    Ok(total)
}

/// The receiving application: everything buffered, copied out.
fn read(ep: &mut Endpoint, s: ConnId, into: &mut [u8]) -> Result<u64, String> {
    let mut total = 0;
    loop {
        match ep.recv(s, into) {
            Ok(0) | Err(Error::WouldBlock) => return Ok(total),
            Ok(k) => total += k as u64,
            Err(e) => return Err(format!("recv: {e}")),
        }
    }
}

/// The sending application writing straight into the send buffer.
fn write_in_place(ep: &mut Endpoint, c: ConnId, left: u64) -> Result<u64, String> {
    let mut total = 0;
    while total < left {
        let max = usize::try_from(left - total).unwrap_or(usize::MAX);
        match ep.send_with(c, max, |room| {
            room.fill(0x5a);
            room.len()
        }) {
            Ok(0) | Err(Error::WouldBlock) => break,
            Ok(k) => total += k as u64,
            Err(e) => return Err(format!("send_with: {e}")),
        }
    }
    Ok(total)
}

/// The receiving application taking everything where it lies.
fn read_in_place(ep: &mut Endpoint, s: ConnId) -> Result<u64, String> {
    let mut total = 0;
    loop {
        match ep.recv_with(s, <[u8]>::len) {
            Ok(0) | Err(Error::WouldBlock) => return Ok(total),
            Ok(k) => total += k as u64,
            Err(e) => return Err(format!("recv_with: {e}")),
        }
    }
}
