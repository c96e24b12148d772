//! `synack bench lifecycle`: whole connection lifecycles per second on one
//! core, and a wire-only baseline to put the figure in proportion.
//!
//! One lifecycle: connect, three-way handshake, the client sends a 16-byte
//! message and closes, the server reads the message and the end of stream
//! and closes, and the client's TIME-WAIT expires. Connections run a batch
//! at a time so that one timer jump expires a whole batch's TIME-WAIT
//! entries (2 x MSL of virtual time costs nothing; the expiry work does).
//! Each side's application answers the datagrams it received before its
//! endpoint transmits, as an event loop does, so the message rides on the
//! handshake's last ACK and the server's FIN on the ACK of the message:
//! five segments a lifecycle. The endpoints use the default configuration.

use super::pair::{Pair, Side};
use crate::alloc::Owner;
use crate::report::Report;
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant as Wall;
use synack::{Config, ConnId, Endpoint, Event, ListenerId};
use synack_wire::{IpHeader, TcpSegment, emit_ip_tcp, parse_ip};

const MESSAGE: [u8; 16] = *b"synack bench msg";
/// The lifecycle target the project set itself.
const TARGET: f64 = 1_000_000.0;

fn client_addr() -> SocketAddr {
    SocketAddr::from(([198, 18, 0, 1], 0))
}

fn server_addr() -> SocketAddr {
    SocketAddr::from(([198, 18, 0, 2], 80))
}

/// Timed rounds per measurement: the figure is their median, so one
/// round disturbed by another process moves it little.
const ROUNDS: usize = 5;

/// Connections in flight at once when `--batch` is not given, and the
/// larger figure printed beside it. By Little's law the number in flight is
/// the rate times a connection's lifetime: at 1,000,000 lifecycles/s and a
/// lifetime of two to three round trips of 40-50 us (one data centre), it
/// is about 100. The second figure shows what ten times as many cost, when
/// the TCBs no longer fit in a core's own caches.
pub const DEFAULT_BATCH: usize = 100;
const WIDE_BATCH: usize = 1000;

/// `synack bench lifecycle`: `n` lifecycles per round, `batch` in flight
/// (or the two default levels when `batch` is `None`).
pub fn run(n: usize, batch: Option<usize>, r: &mut Report) -> Result<(), String> {
    let levels = match batch {
        Some(b) => vec![b.min(n)],
        None => vec![DEFAULT_BATCH.min(n), WIDE_BATCH.min(n)],
    };
    let mut headline = None;
    for (i, &b) in levels.iter().enumerate() {
        let m = measure(n, b)?;
        let suffix = if i == 0 {
            String::new()
        } else {
            format!("_{b}_in_flight")
        };
        r.note(format!(
            "lifecycle: {n} connections per round, {b} in flight at once, {ROUNDS} rounds; two \
             endpoints back to back in virtual time (default Config), one core; rounds: {} \
             lifecycles/s",
            m.rates
                .iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        r.figure(
            &format!("lifecycles_per_sec{suffix}"),
            m.median(),
            0,
            "lifecycles/s",
        );
        r.figure(
            &format!("lifecycles_per_sec_best{suffix}"),
            m.best(),
            0,
            "lifecycles/s",
        );
        if i == 0 {
            r.figure("ns_per_lifecycle", 1e9 / m.median(), 1, "ns");
            r.figure(
                "segments_per_lifecycle",
                m.segments as f64 / m.lifecycles as f64,
                2,
                "segments",
            );
            let seg_rate = m.median() * m.segments as f64 / m.lifecycles as f64;
            let wire_rate = m.wire_rate;
            r.figure("segments_per_sec", seg_rate, 0, "segments/s");
            r.note(format!(
                "wire baseline: parse (IP + TCP with checksum) and re-emit (both checksums) as \
                 many datagrams as one round moved, replaying the {} of the warm-up batch",
                m.sample_len
            ));
            r.figure("wire_only_segments_per_sec", wire_rate, 0, "segments/s");
            r.figure("lifecycle_to_wire_ratio", seg_rate / wire_rate, 3, "x");
            headline = Some(m.median());
        }
    }
    if let Some(rate) = headline {
        r.note(format!(
            "target >= {TARGET:.0} lifecycles/s (median, {} in flight): {} ({:.2} x the target)",
            levels[0],
            if rate >= TARGET { "met" } else { "NOT met" },
            rate / TARGET
        ));
    }
    Ok(())
}

/// What [`measure`] found.
struct Measured {
    /// Lifecycles per second, one figure per round.
    rates: Vec<f64>,
    /// Datagrams moved and lifecycles run over all rounds.
    segments: u64,
    lifecycles: u64,
    /// The wire-only baseline, datagrams per second.
    wire_rate: f64,
    sample_len: usize,
}

impl Measured {
    fn median(&self) -> f64 {
        let mut v = self.rates.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn best(&self) -> f64 {
        self.rates.iter().copied().fold(0.0, f64::max)
    }
}

/// Runs one untimed warm-up batch, then [`ROUNDS`] timed rounds of `n`
/// lifecycles, `batch` at a time, on a fresh pair of endpoints.
fn measure(n: usize, batch: usize) -> Result<Measured, String> {
    let mut cfg = Config::default();
    // A batch sits in the listener's queues all at once.
    cfg.max_syn_backlog = batch.max(cfg.max_syn_backlog);
    cfg.max_accept_backlog = batch.max(cfg.max_accept_backlog);
    let mut p = Pair::new(cfg);
    let l = Owner::Server
        .enter(|| p.server.listen(server_addr(), batch))
        .map_err(|e| format!("listen: {e}"))?;

    // One untimed batch first: it warms tables and caches, and its
    // datagrams are the sample the wire baseline replays.
    p.record = Some(Vec::new());
    let mut bytes = 0;
    run_batch(&mut p, l, batch, &mut bytes)?;
    let sample = p.record.take().unwrap_or_default();
    // Then one untimed round: the timed ones measure the steady state, not
    // the first touch of the endpoints' tables or a core coming up to speed
    // (the first of five rounds ran up to a third slower than the rest).
    run_round(&mut p, l, n, batch, &mut bytes)?;

    let mut rates = Vec::with_capacity(ROUNDS);
    let first_segment = p.segments;
    for _ in 0..ROUNDS {
        let start = Wall::now();
        bytes = 0;
        run_round(&mut p, l, n, batch, &mut bytes)?;
        let wall = start.elapsed().as_secs_f64();
        if bytes != n * MESSAGE.len() {
            return Err(format!(
                "the server read {bytes} bytes, expected {}",
                n * MESSAGE.len()
            ));
        }
        rates.push(n as f64 / wall);
    }
    if p.client.connection_count() + p.server.connection_count() + p.client.time_wait_count() != 0 {
        return Err("connections left over after the last batch".into());
    }
    let segments = p.segments - first_segment;
    let per_round = segments / ROUNDS as u64;
    let wire = wire_only(&sample, per_round)?;
    Ok(Measured {
        rates,
        segments,
        lifecycles: (n * ROUNDS) as u64,
        wire_rate: per_round as f64 / wire,
        sample_len: sample.len(),
    })
}

/// Runs `n` lifecycles, `batch` at a time.
fn run_round(
    p: &mut Pair,
    l: ListenerId,
    n: usize,
    batch: usize,
    bytes: &mut usize,
) -> Result<(), String> {
    let mut done = 0;
    while done < n {
        let b = batch.min(n - done);
        run_batch(p, l, b, bytes)?;
        done += b;
    }
    Ok(())
}

/// Runs `b` lifecycles to completion, TIME-WAIT expiry included. `bytes`
/// counts what the server read.
fn run_batch(p: &mut Pair, l: ListenerId, b: usize, bytes: &mut usize) -> Result<(), String> {
    for _ in 0..b {
        let now = p.now;
        Owner::Client
            .enter(|| p.client.connect(now, client_addr(), server_addr()))
            .map_err(|e| format!("connect: {e}"))?;
    }
    let (mut client_closed, mut server_closed) = (0, 0);
    loop {
        // Receive a batch, let the application answer, transmit: each
        // side's reply leaves with the acknowledgment of what it answers.
        let mut moved = p.flush(Side::Client);
        let mut acted = false;
        let server = &mut p.server;
        Owner::Server.enter(|| {
            while let Some(ev) = server.poll_event() {
                match ev {
                    // What an accepted connection already holds is
                    // announced by a `Readable` event of its own.
                    Event::Accepted { .. } => while server.accept(l).is_some() {},
                    Event::Readable { conn } => acted |= read(server, conn, bytes),
                    Event::Closed { .. } => server_closed += 1,
                    _ => {}
                }
            }
        });
        moved += p.flush(Side::Server);
        let client = &mut p.client;
        Owner::Client.enter(|| {
            while let Some(ev) = client.poll_event() {
                match ev {
                    Event::Connected { conn, .. } => {
                        // The message and the FIN leave in one segment.
                        let _ = client.send(conn, &MESSAGE);
                        let _ = client.close(conn);
                        acted = true;
                    }
                    Event::Closed { .. } => client_closed += 1,
                    _ => {}
                }
            }
        });
        if acted || moved > 0 {
            continue;
        }
        if client_closed == b && server_closed == b && p.client.time_wait_count() == 0 {
            return Ok(());
        }
        if !p.advance() {
            return Err(format!(
                "stalled with {client_closed}/{b} client and {server_closed}/{b} server \
                 connections closed"
            ));
        }
    }
}

/// Reads what is there; closes at the end of the stream. Returns whether it
/// closed (and so has something to send).
fn read(ep: &mut Endpoint, c: ConnId, bytes: &mut usize) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match ep.recv(c, &mut buf) {
            Ok(0) => {
                let _ = ep.close(c);
                return true;
            }
            Ok(k) => *bytes += k,
            Err(_) => return false,
        }
    }
}

/// Seconds to parse and re-emit `count` datagrams from `sample`, in the
/// same way the engine does per segment: full IP and TCP parse with the
/// checksum verified, then a full emit with both checksums computed.
fn wire_only(sample: &[Vec<u8>], count: u64) -> Result<f64, String> {
    if sample.is_empty() {
        return Err("no datagrams recorded for the wire baseline".into());
    }
    let mut out = [0u8; 2048];
    let start = Wall::now();
    let mut sink = 0usize;
    let mut next = 0;
    for i in 0..count {
        // Cycling through the sample without a division per datagram.
        let pkt = black_box(&sample[next]);
        next += 1;
        if next == sample.len() {
            next = 0;
        }
        let ip = parse_ip(pkt).map_err(|e| format!("wire baseline parse: {e:?}"))?;
        let seg = TcpSegment::parse(ip.payload, ip.src, ip.dst)
            .map_err(|e| format!("wire baseline parse: {e:?}"))?;
        let hdr = IpHeader {
            src: ip.dst,
            dst: ip.src,
            protocol: ip.protocol,
            ttl: ip.ttl,
            tos: ip.tos,
            ident: i as u16,
            dont_fragment: true,
            flow_label: 0,
        };
        let n = emit_ip_tcp(&hdr, &seg.header(), seg.payload, &mut out)
            .map_err(|e| format!("wire baseline emit: {e:?}"))?;
        sink = sink.wrapping_add(black_box(&out[..n])[n - 1] as usize);
    }
    black_box(sink);
    Ok(start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every lifecycle completes, the server reads every message, and the
    /// application's answers ride on the acknowledgments: SYN, SYN-ACK,
    /// message + FIN + ACK, FIN + ACK, ACK.
    #[test]
    fn five_segments_a_lifecycle() {
        let m = measure(120, 40).expect("bench rounds complete");
        assert_eq!(m.rates.len(), ROUNDS);
        assert_eq!(m.lifecycles, 120 * ROUNDS as u64);
        assert_eq!(m.segments, 5 * m.lifecycles);
        assert_eq!(m.sample_len, 5 * 40);
    }
}
