//! Nothing from the network can panic the engine (DESIGN.md, rules of the
//! road): random segments with valid checksums, aimed at a listener, at
//! live connections in every state and at TIME-WAIT, interleaved with
//! application calls and time, never panic and never break the engine's
//! own bookkeeping. proptest shrinks any failure to a short script.

use core::time::Duration;
use proptest::prelude::*;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use synack::{Config, ConnId, Endpoint, Instant, Secret, State, SynCookieMode};
use synack_wire::{IpHeader, PROTO_TCP, TcpFlags, TcpHeader, TcpOptions, Timestamps, emit_ip_tcp};

const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

#[derive(Debug, Clone)]
enum Step {
    Segment {
        port: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        ts: Option<(u32, u32)>,
        mss: Option<u16>,
        wscale: Option<u8>,
        len: usize,
    },
    /// A segment for a live connection, its numbers near the ones it
    /// expects, where the interesting checks are.
    Targeted {
        pick: usize,
        dseq: i32,
        dack: i32,
        flags: u8,
        window: u16,
        len: usize,
        /// TSval relative to the connection's TS.Recent, on a connection
        /// that negotiated timestamps (negative: an old duplicate for PAWS).
        dts: i32,
    },
    Connect(u16),
    Send(usize),
    Recv,
    Shutdown,
    Close,
    Abort,
    Accept,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (
            prop_oneof![Just(80u16), Just(40000u16), Just(40001u16), 1u16..=65535],
            prop_oneof![any::<u32>(), 0u32..4, (u32::MAX - 4)..=u32::MAX],
            any::<u32>(),
            any::<u8>(),
            any::<u16>(),
            proptest::option::of((any::<u32>(), any::<u32>())),
            proptest::option::of(any::<u16>()),
            proptest::option::of(0u8..20),
            prop_oneof![Just(0usize), 1usize..100, 1400usize..1500],
        )
            .prop_map(|(port, seq, ack, flags, window, ts, mss, wscale, len)| {
                Step::Segment { port, seq, ack, flags, window, ts, mss, wscale, len }
            }),
        6 => (
            any::<usize>(),
            prop_oneof![3 => -2i32..=2, 1 => -3000i32..3000],
            prop_oneof![3 => -2i32..=2, 1 => -3000i32..3000],
            // Mostly the flags a live peer sends (ACK, data, FIN, RST),
            // so scripts walk the states; sometimes anything at all.
            prop_oneof![
                3 => proptest::sample::select(vec![0x10u8, 0x18, 0x11, 0x19, 0x04, 0x14]),
                1 => any::<u8>(),
            ],
            any::<u16>(),
            prop_oneof![Just(0usize), 1usize..100, 1400usize..1500],
            prop_oneof![4 => 0i32..5, 1 => -5i32..0],
        )
            .prop_map(|(pick, dseq, dack, flags, window, len, dts)| Step::Targeted { pick, dseq, dack, flags, window, len, dts }),
        1 => (40000u16..40004).prop_map(Step::Connect),
        1 => (0usize..5000).prop_map(Step::Send),
        1 => Just(Step::Recv),
        1 => Just(Step::Shutdown),
        1 => Just(Step::Close),
        1 => Just(Step::Abort),
        1 => Just(Step::Accept),
        2 => prop_oneof![0u64..2_000, 2_000u64..400_000].prop_map(Step::Wait),
    ]
}

fn targeted(ep: &Endpoint, s: &Step) -> Option<Vec<u8>> {
    let Step::Targeted {
        pick,
        dseq,
        dack,
        flags,
        window,
        len,
        dts,
    } = *s
    else {
        return None;
    };
    let conns: Vec<_> = ep.connections().collect();
    if conns.is_empty() {
        return None;
    }
    let (_, info) = conns[pick % conns.len()];
    let tcp = TcpHeader {
        src_port: info.remote.port(),
        dst_port: info.local.port(),
        seq: info.rcv_nxt.0.wrapping_add(dseq as u32),
        ack: info.snd_una.0.wrapping_add(dack as u32),
        flags: TcpFlags(flags),
        window,
        urgent_ptr: 0,
        // A peer that negotiated timestamps sends them on every segment.
        options: TcpOptions {
            timestamps: info.ts_recent.map(|r| Timestamps {
                tsval: r.wrapping_add(dts as u32),
                tsecr: 0,
            }),
            ..TcpOptions::default()
        },
    };
    build(&tcp, len)
}

fn build(tcp: &TcpHeader, len: usize) -> Option<Vec<u8>> {
    let ip = IpHeader {
        src: IpAddr::V4(PEER),
        dst: IpAddr::V4(US),
        protocol: PROTO_TCP,
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_fragment: true,
        flow_label: 0,
    };
    let payload = vec![0x5a; len];
    let mut buf = vec![0u8; 2000];
    let n = emit_ip_tcp(&ip, tcp, &payload, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn datagram(s: &Step) -> Option<Vec<u8>> {
    let Step::Segment {
        port,
        seq,
        ack,
        flags,
        window,
        ts,
        mss,
        wscale,
        len,
    } = *s
    else {
        return None;
    };
    let options = TcpOptions {
        mss,
        window_scale: wscale,
        timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
        ..TcpOptions::default()
    };
    let tcp = TcpHeader {
        src_port: port,
        dst_port: if port % 2 == 0 { 80 } else { port },
        seq,
        ack,
        flags: TcpFlags(flags),
        window,
        urgent_ptr: 0,
        options,
    };
    build(&tcp, len)
}

/// Runs a script; returns the states live connections were seen in, so
/// the tests can check the scripts reach past the handshake.
fn run(steps: &[Step], cookies: SynCookieMode) -> HashSet<State> {
    let mut seen = HashSet::new();
    let mut cfg = Config::default();
    cfg.syn_cookies = cookies;
    cfg.recv_buffer = 4096;
    cfg.send_buffer = 8192;
    let mut ep = Endpoint::new(cfg, Secret::from_bytes([7; 16]), Instant::ZERO);
    let l = ep.listen(SocketAddr::new(IpAddr::V4(US), 80), 4).unwrap();
    let mut now = Instant::from_secs(1);
    let mut conns: Vec<ConnId> = Vec::new();
    let mut out = vec![0u8; 65536];
    let mut read = vec![0u8; 3000];
    for s in steps {
        match s {
            Step::Segment { .. } => {
                if let Some(d) = datagram(s) {
                    ep.handle_packet(now, &d);
                }
            }
            Step::Targeted { .. } => {
                if let Some(d) = targeted(&ep, s) {
                    ep.handle_packet(now, &d);
                }
            }
            Step::Connect(port) => {
                let local = SocketAddr::new(IpAddr::V4(US), *port);
                if let Ok(c) = ep.connect(now, local, SocketAddr::new(IpAddr::V4(PEER), *port)) {
                    conns.push(c);
                }
            }
            Step::Send(n) => {
                for &c in &conns {
                    let _ = ep.send(c, &vec![1u8; *n]);
                }
            }
            Step::Recv => {
                for &c in &conns {
                    let _ = ep.recv(c, &mut read);
                }
            }
            Step::Shutdown => {
                if let Some(&c) = conns.first() {
                    let _ = ep.shutdown(c);
                }
            }
            Step::Close => {
                if let Some(c) = conns.pop() {
                    let _ = ep.close(c);
                }
            }
            Step::Abort => {
                if let Some(c) = conns.pop() {
                    ep.abort(c);
                }
            }
            Step::Accept => {
                while let Some(c) = ep.accept(l) {
                    conns.push(c);
                }
            }
            Step::Wait(ms) => {
                now = now + Duration::from_millis(*ms);
                ep.handle_timeout(now);
            }
        }
        while let Some(n) = ep.poll_transmit(now, &mut out) {
            // Everything we emit must itself parse.
            let ip = synack_wire::parse_ip(&out[..n]).expect("emitted datagram parses");
            synack_wire::TcpSegment::parse(ip.payload, ip.src, ip.dst)
                .expect("emitted segment parses");
        }
        while ep.poll_event().is_some() {}
        if let Some(t) = ep.poll_timeout() {
            assert!(t != Instant::NEVER);
        }
        for (_, i) in ep.connections() {
            seen.insert(i.state);
        }
        assert!(
            ep.syn_queue_len(l).unwrap() <= 4,
            "SYN queue past its bound"
        );
        assert!(
            ep.accept_queue_len(l).unwrap() <= 4,
            "accept queue past its bound"
        );
    }
    // Let every timer run out: the endpoint drains to nothing. Whatever
    // waited for its peer gives up (R2, the SYN limits, TIME-WAIT), so no
    // timer is left, and no connection is left waiting without one.
    let mut idle = false;
    for _ in 0..10_000 {
        match ep.poll_timeout() {
            Some(t) => now = now.max(t),
            None => {
                idle = true;
                break;
            }
        }
        ep.handle_timeout(now);
        while ep.poll_transmit(now, &mut out).is_some() {}
        while ep.poll_event().is_some() {}
    }
    assert!(idle, "timers still armed: next at {:?}", ep.poll_timeout());
    assert_eq!(ep.time_wait_count(), 0, "TIME-WAIT outlived its timer");
    for (_, i) in ep.connections() {
        assert!(
            // CLOSED: kept only until the application reads what is left.
            i.state == State::Closed
                || (matches!(
                    i.state,
                    State::Established | State::CloseWait | State::FinWait2
                ) && i.snd_una == i.snd_nxt
                    && i.send_queue == 0),
            "left waiting for its peer with no timer: {i:?}"
        );
    }
    seen
}

/// The generator reaches deep: over a fixed batch of scripts, connections
/// are seen in most of the synchronized states, not just the handshake.
#[test]
fn scripts_reach_many_states() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(step(), 100..120);
    let mut all = HashSet::new();
    for _ in 0..300 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        all.extend(run(&steps, SynCookieMode::WhenQueueFull));
    }
    assert!(all.len() >= 8, "only {all:?} reached");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn random_segments_and_calls_never_panic(steps in proptest::collection::vec(step(), 1..120)) {
        run(&steps, SynCookieMode::WhenQueueFull);
    }

    #[test]
    fn random_segments_against_cookies_never_panic(steps in proptest::collection::vec(step(), 1..80)) {
        run(&steps, SynCookieMode::Always);
    }
}
