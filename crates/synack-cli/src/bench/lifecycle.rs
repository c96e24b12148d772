//! `synack bench lifecycle`: whole connection lifecycles per second on one
//! core, and a wire-only baseline to put the figure in proportion.
//!
//! One lifecycle: connect, three-way handshake, the client sends a 16-byte
//! message and closes, the server reads the message and the end of stream
//! and closes, and the client's TIME-WAIT expires. Connections run `batch`
//! at a time so that one timer jump expires a whole batch's TIME-WAIT
//! entries (2 x MSL of virtual time costs nothing; the expiry work does).
//! The endpoints use the default configuration.

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

pub fn run(n: usize, batch: usize, r: &mut Report) -> Result<(), String> {
    let cfg = Config {
        // A batch sits in the listener's queues all at once.
        max_syn_backlog: batch.max(Config::default().max_syn_backlog),
        max_accept_backlog: batch.max(Config::default().max_accept_backlog),
        ..Config::default()
    };
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
    let warm_segments = p.segments;

    let start = Wall::now();
    let mut done = 0;
    bytes = 0;
    while done < n {
        let b = batch.min(n - done);
        run_batch(&mut p, l, b, &mut bytes)?;
        done += b;
    }
    let wall = start.elapsed().as_secs_f64();
    let segments = p.segments - warm_segments;
    if bytes != n * MESSAGE.len() {
        return Err(format!(
            "the server read {bytes} bytes, expected {}",
            n * MESSAGE.len()
        ));
    }
    if p.client.connection_count() + p.server.connection_count() + p.client.time_wait_count() != 0 {
        return Err("connections left over after the last batch".into());
    }

    let wire = wire_only(&sample, segments)?;
    let lifecycles = n as f64 / wall;
    let seg_rate = segments as f64 / wall;
    let wire_rate = segments as f64 / wire;
    r.note(format!(
        "lifecycle: {n} connections, {batch} at a time, two endpoints back to back in virtual \
         time (default Config), one core; wall clock {wall:.3} s"
    ));
    r.count("lifecycle_connections", n as u64, "connections");
    r.figure("lifecycles_per_sec", lifecycles, 0, "lifecycles/s");
    r.figure("ns_per_lifecycle", wall * 1e9 / n as f64, 1, "ns");
    r.figure(
        "segments_per_lifecycle",
        segments as f64 / n as f64,
        2,
        "segments",
    );
    r.figure("segments_per_sec", seg_rate, 0, "segments/s");
    r.note(format!(
        "wire baseline: parse (IP + TCP with checksum) and re-emit (both checksums) the same \
         {segments} datagrams, replaying the {} of the warm-up batch",
        sample.len()
    ));
    r.figure("wire_only_segments_per_sec", wire_rate, 0, "segments/s");
    r.figure("lifecycle_to_wire_ratio", seg_rate / wire_rate, 3, "x");
    r.note(format!(
        "target >= {TARGET:.0} lifecycles/s: {} ({:.2} x the target)",
        if lifecycles >= TARGET {
            "met"
        } else {
            "NOT met"
        },
        lifecycles / TARGET
    ));
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
                    Event::Accepted { .. } => {
                        while let Some(c) = server.accept(l) {
                            acted |= read(server, c, bytes);
                        }
                    }
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
    for i in 0..count {
        let pkt = black_box(&sample[(i % sample.len() as u64) as usize]);
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
