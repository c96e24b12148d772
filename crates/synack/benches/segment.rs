//! The established fast path on the receiving side: one data segment in,
//! the application reads it, its ACK out.
//!
//! The data segments are made ahead of time, outside the timed region: the
//! first is a real one from the client endpoint, and the others are copies
//! with the sequence number and timestamp advanced, re-emitted with correct
//! checksums. The server sees an endless in-order stream.

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::{Duration, Instant as Wall};
use synack_wire::{IpHeader, TcpSegment, Timestamps, emit_ip_tcp, parse_ip};

/// Segments built per untimed batch.
const CHUNK: u64 = 4096;

fn segment(c: &mut Criterion) {
    let mut g = c.benchmark_group("segment");
    for len in [16usize, 1448] {
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::new("data_in_ack_out", len), &len, |b, &len| {
            let mut pair = common::Pair::new();
            let (c, s) = pair.establish();
            // A template: one real data segment from the client.
            let payload = vec![0x5a; len];
            pair.client.set_nodelay(c, true).expect("nodelay");
            pair.client.send(c, &payload).expect("send");
            let mut buf = [0u8; 2048];
            let n = pair
                .client
                .poll_transmit(pair.now, &mut buf)
                .expect("a data segment");
            let template = buf[..n].to_vec();
            let ip = parse_ip(&template).expect("ip");
            let seg = TcpSegment::parse(ip.payload, ip.src, ip.dst).expect("tcp");
            assert_eq!(seg.payload.len(), len);
            let ip_hdr = IpHeader {
                src: ip.src,
                dst: ip.dst,
                protocol: ip.protocol,
                ttl: ip.ttl,
                tos: ip.tos,
                ident: 0,
                dont_fragment: true,
                flow_label: 0,
            };
            let mut hdr = seg.header();
            let ts = seg.options.timestamps.expect("timestamps negotiated");
            let mut next = 0u32;
            let mut packets: Vec<Vec<u8>> = Vec::with_capacity(CHUNK as usize);
            let mut read = vec![0u8; len.max(64)];
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let k = left.min(CHUNK);
                    packets.clear();
                    for _ in 0..k {
                        hdr.seq = seg.seq.wrapping_add(next.wrapping_mul(len as u32));
                        hdr.options.timestamps = Some(Timestamps {
                            tsval: ts.tsval.wrapping_add(next),
                            tsecr: ts.tsecr,
                        });
                        let mut out = vec![0u8; 2048];
                        let n = emit_ip_tcp(&ip_hdr, &hdr, seg.payload, &mut out).expect("emit");
                        out.truncate(n);
                        packets.push(out);
                        next = next.wrapping_add(1);
                    }
                    let mut acks = 0u64;
                    let start = Wall::now();
                    for p in &packets {
                        pair.server.handle_packet(pair.now, p);
                        while let Ok(n) = pair.server.recv(s, &mut read) {
                            if n == 0 {
                                break;
                            }
                        }
                        while pair.server.poll_transmit(pair.now, &mut buf).is_some() {
                            acks += 1;
                        }
                    }
                    spent += start.elapsed();
                    assert!(acks >= k, "{acks} ACKs for {k} segments");
                    while pair.server.poll_event().is_some() {}
                    left -= k;
                }
                spent
            });
        });
    }
    g.finish();
}

criterion_group!(benches, segment);
criterion_main!(benches);
