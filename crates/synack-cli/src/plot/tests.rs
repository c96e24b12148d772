//! Unit tests: the reader on hand-built files of every format, byte order
//! and link type (and on every cut-short prefix of them), the state
//! inference on the exchanges RFC 9293 draws, and the page's counts.

use super::flows::{self, Flows};
use super::pcap;
use super::{render, render_titled};
use crate::demo::{self, Options, Recording, Scenario};
use synack::State;

const A: [u8; 4] = [198, 18, 0, 1];
const B: [u8; 4] = [198, 18, 0, 2];

/// A TCP segment between A:1000 and B:80 (`from_a`), checksums left zero
/// as an offloading kernel leaves them; `len` payload octets of which
/// only `kept` are present (a snap length).
#[derive(Clone, Copy)]
struct S {
    from_a: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    len: u16,
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;

fn s(from_a: bool, flags: u8, seq: u32, ack: u32, len: u16) -> S {
    S {
        from_a,
        flags,
        seq,
        ack,
        len,
    }
}

fn tcp_header(x: &S) -> Vec<u8> {
    let (sp, dp) = if x.from_a {
        (1000u16, 80u16)
    } else {
        (80, 1000)
    };
    let mut t = Vec::new();
    t.extend_from_slice(&sp.to_be_bytes());
    t.extend_from_slice(&dp.to_be_bytes());
    t.extend_from_slice(&x.seq.to_be_bytes());
    t.extend_from_slice(&x.ack.to_be_bytes());
    t.extend_from_slice(&[5 << 4, x.flags, 0xff, 0xff, 0, 0, 0, 0]);
    t
}

fn ipv4(x: &S, kept: usize) -> Vec<u8> {
    let (src, dst) = if x.from_a { (A, B) } else { (B, A) };
    let total = 40 + x.len;
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend(tcp_header(x));
    p.extend(std::iter::repeat_n(0xab, kept.min(usize::from(x.len))));
    p
}

fn ipv6(x: &S) -> Vec<u8> {
    let a: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let mut b = a;
    b[15] = 2;
    let (src, dst) = if x.from_a { (a, b) } else { (b, a) };
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(20 + x.len).to_be_bytes());
    p.extend_from_slice(&[6, 64]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend(tcp_header(x));
    p.extend(std::iter::repeat_n(0xab, usize::from(x.len)));
    p
}

/// The IP packet wrapped for link type `link` (1 with `vlan` tags).
fn frame(link: u32, ip: Vec<u8>, vlan: bool) -> Vec<u8> {
    let v6 = ip[0] >> 4 == 6;
    let ethertype: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
    let mut f = Vec::new();
    match link {
        1 => {
            f.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
            if vlan {
                f.extend_from_slice(&[0x81, 0x00, 0, 7, 0x88, 0xa8, 0, 9]);
                // (an 802.1ad tag after an 802.1Q one: still skipped)
            }
            f.extend_from_slice(&ethertype);
        }
        113 => {
            f.extend_from_slice(&[0; 14]);
            f.extend_from_slice(&ethertype);
        }
        276 => {
            f.extend_from_slice(&ethertype);
            f.extend_from_slice(&[0; 18]);
        }
        0 => f.extend_from_slice(&(if v6 { 30u32 } else { 2 }).to_le_bytes()),
        108 => f.extend_from_slice(&(if v6 { 24u32 } else { 2 }).to_be_bytes()),
        _ => {}
    }
    f.extend(ip);
    f
}

/// A classic pcap file.
fn classic(le: bool, nano: bool, link: u32, frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let w16 = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut f = Vec::new();
    f.extend(w32(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend(w16(2));
    f.extend(w16(4));
    f.extend([0; 8]);
    f.extend(w32(65535));
    f.extend(w32(link));
    for (ns, data) in frames {
        let frac = if nano {
            ns % 1_000_000_000
        } else {
            ns % 1_000_000_000 / 1000
        };
        f.extend(w32((ns / 1_000_000_000) as u32));
        f.extend(w32(frac as u32));
        f.extend(w32(data.len() as u32));
        f.extend(w32(data.len() as u32 + 100));
        f.extend(data);
    }
    f
}

/// A pcapng block.
fn block(le: bool, kind: u32, body: &[u8]) -> Vec<u8> {
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut body = body.to_vec();
    while !body.len().is_multiple_of(4) {
        body.push(0);
    }
    let len = body.len() as u32 + 12;
    let mut b = Vec::new();
    b.extend(w32(kind));
    b.extend(w32(len));
    b.extend(body);
    b.extend(w32(len));
    b
}

/// A pcapng section: interfaces (link, if_tsresol), then enhanced packet
/// blocks (interface, ticks, data) and, if `simple`, one simple block.
fn pcapng(le: bool, ifaces: &[(u16, Option<u8>)], pkts: &[(u32, u64, Vec<u8>)]) -> Vec<u8> {
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let w16 = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut shb = Vec::new();
    shb.extend(w32(0x1a2b_3c4d));
    shb.extend(w16(1));
    shb.extend(w16(0));
    shb.extend([0xff; 8]);
    let mut f = block(le, 0x0a0d_0d0a, &shb);
    for (link, res) in ifaces {
        let mut idb = Vec::new();
        idb.extend(w16(*link));
        idb.extend(w16(0));
        idb.extend(w32(0));
        if let Some(r) = res {
            idb.extend(w16(9));
            idb.extend(w16(1));
            idb.extend([*r, 0, 0, 0]);
            idb.extend([0; 4]); // opt_endofopt
        }
        f.extend(block(le, 1, &idb));
    }
    // A block this reader does not need, to be stepped over.
    f.extend(block(le, 5, &[1, 2, 3, 4, 5, 6, 7, 8]));
    for (iface, ticks, data) in pkts {
        let mut epb = Vec::new();
        epb.extend(w32(*iface));
        epb.extend(w32((ticks >> 32) as u32));
        epb.extend(w32(*ticks as u32));
        epb.extend(w32(data.len() as u32));
        epb.extend(w32(data.len() as u32));
        epb.extend(data);
        f.extend(block(le, 6, &epb));
    }
    f
}

/// A's handshake, 100 octets each way, A closing first: the segments.
fn exchange() -> Vec<S> {
    vec![
        s(true, SYN, 100, 0, 0),
        s(false, SYN | ACK, 500, 101, 0),
        s(true, ACK, 101, 501, 0),
        s(true, ACK, 101, 501, 100),
        s(false, ACK, 501, 201, 100),
        s(true, FIN | ACK, 201, 601, 0),
        s(false, ACK, 601, 202, 0),
        s(false, FIN | ACK, 601, 202, 0),
        s(true, ACK, 202, 602, 0),
    ]
}

fn flows_of(file: &[u8]) -> Flows {
    let cap = pcap::read(file).expect("a capture");
    flows::build(&cap, None)
}

/// Each side's transitions as (side, from, to).
fn transitions(f: &Flows) -> Vec<(usize, State, State)> {
    f.conns[0]
        .transitions
        .iter()
        .map(|t| (t.side, t.from, t.to))
        .collect()
}

#[test]
fn classic_pcap_every_link_type_and_byte_order() {
    let segs = exchange();
    for link in [101, 12, 14, 228, 229, 1, 113, 276, 0, 108] {
        for (le, nano, vlan) in [(true, false, false), (false, true, true)] {
            let frames: Vec<(u64, Vec<u8>)> = segs
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let ip = if link == 229 { ipv6(x) } else { ipv4(x, 100) };
                    (
                        1_700_000_000_000_000_000 + i as u64 * 1_500_000,
                        frame(link, ip, vlan),
                    )
                })
                .collect();
            let file = classic(le, nano, link, &frames);
            let f = flows_of(&file);
            let what = format!("link {link}, le {le}, nano {nano}");
            assert_eq!(f.conns.len(), 1, "{what}");
            assert_eq!(f.segments(), segs.len(), "{what}");
            assert_eq!(f.skipped, flows::Skipped::default(), "{what}");
            let c = &f.conns[0];
            assert_eq!(c.a.port(), 1000, "{what}");
            assert_eq!(c.segs[3].s.len, 100, "{what}");
            // Microseconds keep 1.5 ms steps exactly; so do nanoseconds.
            assert_eq!(
                c.segs[2].s.time_ns - c.segs[0].s.time_ns,
                3_000_000,
                "{what}"
            );
        }
    }
}

#[test]
fn pcapng_interfaces_resolutions_and_byte_orders() {
    let segs = exchange();
    for le in [true, false] {
        // Interface 0: Ethernet in nanoseconds; 1: raw IP in the default
        // microseconds; 2: raw IP in 2^-10 s.
        let ifaces = [(1, Some(9)), (101, None), (101, Some(0x80 | 10))];
        let pkts: Vec<(u32, u64, Vec<u8>)> = segs
            .iter()
            .enumerate()
            .map(|(i, x)| match i % 3 {
                0 => (0, 5_000_000_000 + i as u64, frame(1, ipv4(x, 100), false)),
                1 => (1, 5_000_000 + i as u64, ipv4(x, 100)),
                _ => (2, 5 * 1024 + i as u64, ipv4(x, 100)),
            })
            .collect();
        let mut file = pcapng(le, &ifaces, &pkts);
        // A second section in the other byte order, one more segment.
        let extra = s(true, ACK, 202, 602, 0);
        file.extend(pcapng(
            !le,
            &[(101, None)],
            &[(0, 6_000_000, ipv4(&extra, 0))],
        ));
        let cap = pcap::read(&file).expect("a capture");
        assert_eq!(cap.format, "pcapng");
        assert_eq!(cap.frames.len(), segs.len() + 1);
        assert_eq!(cap.bad_records, 0);
        assert_eq!(cap.frames[0].time_ns, 5_000_000_000);
        assert_eq!(cap.frames[1].time_ns, 5_000_001_000);
        assert_eq!(cap.frames[2].time_ns, 5_000_000_000 + 2_000_000_000 / 1024);
        assert_eq!(cap.frames[0].link, 1);
        assert_eq!(cap.frames.last().unwrap().time_ns, 6_000_000_000);
        let f = flows::build(&cap, None);
        assert_eq!(f.segments(), segs.len() + 1);
    }
}

#[test]
fn bad_files_are_errors_and_bad_packets_are_counted() {
    for junk in [&b""[..], b"abc", b"GIF89a not a capture at all", &[0u8; 64]] {
        let e = render(junk, None).expect_err("junk is no capture");
        assert!(e.to_string().contains("not a capture file"), "{e}");
    }
    let segs = exchange();
    let frames: Vec<(u64, Vec<u8>)> = segs
        .iter()
        .map(|x| (1_000, frame(1, ipv4(x, 100), true)))
        .collect();
    let files = [
        classic(true, false, 1, &frames),
        classic(false, true, 1, &frames),
        pcapng(
            true,
            &[(1, None)],
            &frames
                .iter()
                .map(|(t, d)| (0, *t, d.clone()))
                .collect::<Vec<_>>(),
        ),
    ];
    // Every prefix of every file, and every single byte changed: an error
    // or a page, never a panic.
    for file in &files {
        for n in 0..file.len() {
            let _ = render(&file[..n], None);
        }
        for i in 0..file.len() {
            let mut f = file.clone();
            f[i] ^= 0xff;
            let _ = render(&f, None);
        }
    }
    // A record cut short at the end is counted, the ones before it kept.
    let whole = &files[0];
    let page = render(&whole[..whole.len() - 3], None).expect("a capture");
    assert_eq!(page.counts.segments, segs.len() - 1);
    assert_eq!(page.counts.skipped, 1);
    // Frames that are not TCP, or cut inside their headers.
    let mut odd = frames.clone();
    odd.push((
        2_000,
        vec![
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x08, 0x06, 0, 1,
        ],
    ));
    odd.push((2_000, frame(1, ipv4(&segs[0], 0)[..30].to_vec(), false)));
    let page = render(&classic(true, false, 1, &odd), None).expect("a capture");
    assert_eq!(page.counts.segments, segs.len());
    assert_eq!((page.counts.other, page.counts.skipped), (1, 1));
}

#[test]
fn snap_length_does_not_shorten_segments() {
    let x = s(true, ACK, 1, 1, 1460);
    let file = classic(true, false, 101, &[(0, ipv4(&x, 14))]);
    let f = flows_of(&file);
    assert_eq!(f.conns[0].segs[0].s.len, 1460);
}

#[test]
fn handshake_and_close_states() {
    let frames: Vec<_> = exchange().iter().map(|x| (0, ipv4(x, 100))).collect();
    let f = flows_of(&classic(true, false, 101, &frames));
    use State::*;
    assert_eq!(f.conns[0].initial, [Closed, Listen]);
    assert_eq!(
        transitions(&f),
        vec![
            (0, Closed, SynSent),
            (1, Listen, SynReceived),
            (0, SynSent, Established),
            (1, SynReceived, Established),
            (0, Established, FinWait1),
            (1, Established, CloseWait),
            (0, FinWait1, FinWait2),
            (1, CloseWait, LastAck),
            (0, FinWait2, TimeWait),
            (1, LastAck, Closed),
        ]
    );
}

#[test]
fn simultaneous_open_and_close_states() {
    let segs = [
        s(true, SYN, 100, 0, 0),
        s(false, SYN, 500, 0, 0),
        s(true, SYN | ACK, 100, 501, 0),
        s(false, SYN | ACK, 500, 101, 0),
        // Both FINs cross: neither acknowledges the other's.
        s(true, FIN | ACK, 101, 501, 0),
        s(false, FIN | ACK, 501, 101, 0),
        s(true, ACK, 102, 502, 0),
        s(false, ACK, 502, 102, 0),
    ];
    let frames: Vec<_> = segs.iter().map(|x| (0, ipv4(x, 0))).collect();
    let f = flows_of(&classic(true, false, 101, &frames));
    use State::*;
    let side = |n| -> Vec<State> {
        transitions(&f)
            .iter()
            .filter(|t| t.0 == n)
            .map(|t| t.2)
            .collect()
    };
    for n in 0..2 {
        assert_eq!(
            side(n),
            vec![
                SynSent,
                SynReceived,
                Established,
                FinWait1,
                Closing,
                TimeWait
            ],
            "side {n}"
        );
    }
}

#[test]
fn reset_states() {
    use State::*;
    // Refused: the RST comes from no listener at all.
    let refused = [s(true, SYN, 100, 0, 0), s(false, RST | ACK, 0, 101, 0)];
    let frames: Vec<_> = refused.iter().map(|x| (0, ipv4(x, 0))).collect();
    let f = flows_of(&classic(true, false, 101, &frames));
    assert_eq!(
        transitions(&f),
        vec![(0, Closed, SynSent), (0, SynSent, Closed)]
    );
    // Reset mid-connection: both sides end CLOSED.
    let mut segs = exchange()[..5].to_vec();
    segs.push(s(true, RST, 201, 0, 0));
    let frames: Vec<_> = segs.iter().map(|x| (0, ipv4(x, 100))).collect();
    let f = flows_of(&classic(true, false, 101, &frames));
    let t = transitions(&f);
    assert_eq!(
        &t[t.len() - 2..],
        &[(0, Established, Closed), (1, Established, Closed)]
    );
}

#[test]
fn counts_add_up_and_text_is_escaped() {
    // A long connection: 200 data segments between handshake and close.
    let mut segs = exchange()[..3].to_vec();
    for i in 0..200u32 {
        segs.push(s(true, ACK, 101 + i * 10, 501, 10));
        // Each segment sent twice: the second a retransmission.
        if i % 50 == 0 {
            segs.push(s(true, ACK, 101 + i * 10, 501, 10));
        }
    }
    let end = 101 + 2000;
    segs.push(s(false, ACK, 501, end, 0));
    segs.push(s(true, FIN | ACK, end, 501, 0));
    segs.push(s(false, FIN | ACK, 501, end + 1, 0));
    segs.push(s(true, ACK, end + 1, 502, 0));
    let frames: Vec<_> = segs
        .iter()
        .enumerate()
        .map(|(i, x)| (i as u64 * 1000, ipv4(x, 0)))
        .collect();
    let page = render_titled(
        &classic(true, false, 101, &frames),
        None,
        "<script>x</script>",
    )
    .expect("a capture");
    let k = page.counts;
    assert_eq!(k.segments, segs.len());
    assert_eq!(k.arrows + k.elided, k.segments);
    assert!(k.elided > 100, "{k:?}");
    assert_eq!(k.state_labels, k.transitions);
    assert_eq!(k.retransmissions, 4);
    let h = &page.html;
    assert_eq!(h.matches(r#"<g class="seg "#).count(), k.arrows);
    assert_eq!(h.matches(r#"<g class="state "#).count(), k.transitions);
    assert!(!h.contains("<script"), "no script, escaped title");
    assert!(h.contains("&lt;script&gt;x&lt;/script&gt;"));
    assert!(
        !h.contains("http://") || !h.contains("href="),
        "nothing fetched"
    );
    assert!(h.contains(r#"data-retransmissions="4""#));
}

/// The inference agrees with the engine on the demo's exchanges, but for
/// what a capture cannot show (the end of TIME-WAIT).
#[test]
fn inference_agrees_with_the_engine() {
    let dir = super::browser::scratch("agree");
    for scenario in [
        Scenario::Basic,
        Scenario::SimultaneousOpen,
        Scenario::SimultaneousClose,
    ] {
        let opts = Options {
            scenario,
            seed: 5,
            loss: 0.0,
            pcap: None,
            html: Some(dir.join("page.html")),
            quiet: true,
        };
        let mut rec = Recording::default();
        let _ = demo::run_recorded(&opts, &mut rec);
        let inferred = flows_of(&rec.pcap);
        let engine = flows::build(&pcap::read(&rec.pcap).unwrap(), Some(&rec.samples));
        for (c, e) in inferred.conns.iter().zip(&engine.conns) {
            let states = |c: &flows::Conn, side| -> Vec<State> {
                let shown =
                    |t: &&super::states::Transition| t.side == side && t.from != State::TimeWait;
                c.transitions.iter().filter(shown).map(|t| t.to).collect()
            };
            for side in 0..2 {
                assert_eq!(
                    states(c, side),
                    states(e, side),
                    "{}: side {side}",
                    scenario.name()
                );
            }
        }
    }
    super::browser::done(&dir);
}

#[test]
fn run_writes_the_page_or_says_why_not() {
    let dir = super::browser::scratch("run");
    let frames: Vec<_> = exchange().iter().map(|x| (0, ipv4(x, 100))).collect();
    let input = dir.join("in.pcap");
    std::fs::write(&input, classic(true, false, 101, &frames)).unwrap();
    let output = dir.join("out.html");
    let opts = super::PlotOptions {
        input: input.clone(),
        output: output.clone(),
        title: None,
    };
    assert_eq!(super::run(&opts), std::process::ExitCode::SUCCESS);
    let page = std::fs::read_to_string(&output).unwrap();
    assert!(page.contains("<title>in.pcap (pcap capture)</title>"));
    // Not a capture, and no such file: exit 1, no page.
    std::fs::write(&input, b"hello").unwrap();
    let bad = super::PlotOptions {
        output: dir.join("bad.html"),
        ..opts.clone()
    };
    assert_eq!(super::run(&bad), std::process::ExitCode::from(1));
    let missing = super::PlotOptions {
        input: dir.join("missing.pcap"),
        ..bad.clone()
    };
    assert_eq!(super::run(&missing), std::process::ExitCode::from(1));
    assert!(!dir.join("bad.html").exists());
    super::browser::done(&dir);
}
