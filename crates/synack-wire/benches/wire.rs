//! Parse and emit of the segments the engine sends most: an established
//! data segment with NOP,NOP,Timestamps (IPv4, 16 bytes of data, 68 bytes in
//! all), a pure ACK with timestamps (52 bytes), and a SYN in the Linux layout
//! (mss, sackOK, TS, nop, wscale: 60 bytes). Also an IPv6 data segment.
//!
//! `parse` is `parse_ip` + `TcpSegment::parse` (both checksums verified);
//! `emit` is `emit_ip_tcp` (both checksums computed).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use synack_wire::{
    IpHeader, PROTO_TCP, TcpFlags, TcpHeader, TcpOptions, TcpSegment, Timestamps, emit_ip_tcp,
    parse_ip,
};

fn ip(src: IpAddr, dst: IpAddr) -> IpHeader {
    IpHeader {
        src,
        dst,
        protocol: PROTO_TCP,
        ttl: 64,
        tos: 0,
        ident: 0x1234,
        dont_fragment: true,
        flow_label: 0,
    }
}

fn ts_opts() -> TcpOptions {
    TcpOptions {
        timestamps: Some(Timestamps {
            tsval: 0x0102_0304,
            tsecr: 0x0a0b_0c0d,
        }),
        ..Default::default()
    }
}

fn cases() -> Vec<(&'static str, IpHeader, TcpHeader, Vec<u8>)> {
    let s4: IpAddr = Ipv4Addr::new(10, 0, 0, 1).into();
    let d4: IpAddr = Ipv4Addr::new(10, 0, 0, 2).into();
    let s6: IpAddr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).into();
    let d6: IpAddr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2).into();
    let data = TcpHeader {
        src_port: 40000,
        dst_port: 80,
        seq: 0xdead_beef,
        ack: 0x1234_5678,
        flags: TcpFlags::ACK | TcpFlags::PSH,
        window: 502,
        urgent_ptr: 0,
        options: ts_opts(),
    };
    let ack = TcpHeader {
        flags: TcpFlags::ACK,
        ..data
    };
    let syn = TcpHeader {
        ack: 0,
        flags: TcpFlags::SYN,
        window: 65535,
        options: TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps {
                tsval: 0x0102_0304,
                tsecr: 0,
            }),
            ..Default::default()
        },
        ..data
    };
    vec![
        ("data16_v4", ip(s4, d4), data, vec![0x5a; 16]),
        ("ack_v4", ip(s4, d4), ack, vec![]),
        ("syn_v4", ip(s4, d4), syn, vec![]),
        ("data16_v6", ip(s6, d6), data, vec![0x5a; 16]),
    ]
}

fn wire(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Elements(1));
    for (name, iph, tcph, payload) in cases() {
        let mut buf = [0u8; 2048];
        let n = emit_ip_tcp(&iph, &tcph, &payload, &mut buf).expect("emit");
        let pkt = buf[..n].to_vec();
        g.bench_with_input(BenchmarkId::new("parse", name), &pkt, |b, pkt| {
            b.iter(|| {
                let ip = parse_ip(black_box(pkt)).expect("ip");
                let seg = TcpSegment::parse(ip.payload, ip.src, ip.dst).expect("tcp");
                black_box(seg);
            })
        });
        g.bench_with_input(BenchmarkId::new("emit", name), &(), |b, _| {
            let mut out = [0u8; 2048];
            b.iter(|| {
                let n = emit_ip_tcp(
                    black_box(&iph),
                    black_box(&tcph),
                    black_box(&payload),
                    &mut out,
                )
                .expect("emit");
                black_box(&out[..n]);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, wire);
criterion_main!(benches);
