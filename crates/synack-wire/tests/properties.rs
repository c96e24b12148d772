//! Property tests: our emit -> our parse round trips, and differential
//! checks against `etherparse` in both directions (its parser reads what we
//! emit, with the same fields and a checksum it agrees with; our parser reads
//! what it builds, options and IP options included).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    IpDscp, IpEcn, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, Ipv6RawExtHeader, NetHeaders,
    PacketHeaders, TcpOptionElement, TransportHeader,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use synack_wire::{
    IpHeader, PROTO_TCP, SackBlocks, TcpFlags, TcpHeader, TcpOptions, TcpSegment, Timestamps,
    UserTimeout, WireError, emit_ip_tcp, parse_ip, parse_ip_tcp,
};

fn addrs() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<[u8; 4]>())
            .prop_map(|(s, d)| (Ipv4Addr::from(s).into(), Ipv4Addr::from(d).into())),
        (any::<[u8; 16]>(), any::<[u8; 16]>())
            .prop_map(|(s, d)| (Ipv6Addr::from(s).into(), Ipv6Addr::from(d).into())),
    ]
}

/// Valid options: window scale <= 14, and as many SACK blocks (0..=4) as
/// fit in the 40-byte option space after the other options.
fn tcp_options() -> impl Strategy<Value = TcpOptions> {
    (
        option::of(any::<u16>()),
        option::of(0u8..=14),
        any::<bool>(),
        option::of(any::<(u32, u32)>()),
        vec(any::<(u32, u32)>(), 0..=4),
        option::of((any::<bool>(), 0u16..=0x7fff)),
    )
        .prop_map(|(mss, ws, sack_permitted, ts, blocks, uto)| {
            let mut o = TcpOptions {
                mss,
                window_scale: ws,
                sack_permitted,
                timestamps: ts.map(|(tsval, tsecr)| Timestamps { tsval, tsecr }),
                sack: SackBlocks::new(),
                user_timeout: uto.map(|(minutes, value)| UserTimeout { minutes, value }),
            };
            for (l, r) in blocks {
                let extra = if o.sack.is_empty() { 12 } else { 8 };
                if o.wire_len() + extra > 40 {
                    break;
                }
                o.sack.push(l, r);
            }
            o
        })
}

fn tcp_header() -> impl Strategy<Value = TcpHeader> {
    (
        any::<(u16, u16, u32, u32)>(),
        any::<u8>(),
        any::<(u16, u16)>(),
        tcp_options(),
    )
        .prop_map(
            |((src_port, dst_port, seq, ack), flags, (window, urgent_ptr), options)| TcpHeader {
                src_port,
                dst_port,
                seq,
                ack,
                flags: TcpFlags(flags),
                window,
                urgent_ptr,
                options,
            },
        )
}

fn ip_header() -> impl Strategy<Value = IpHeader> {
    (addrs(), any::<(u8, u8, u16, bool)>(), 0u32..(1 << 20)).prop_map(
        |((src, dst), (ttl, tos, ident, dont_fragment), flow_label)| IpHeader {
            src,
            dst,
            protocol: PROTO_TCP,
            ttl,
            tos,
            ident,
            dont_fragment,
            flow_label,
        },
    )
}

fn emit(ip: &IpHeader, tcp: &TcpHeader, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 60 + 60 + payload.len()];
    let n = emit_ip_tcp(ip, tcp, payload, &mut buf).expect("valid header emits");
    buf.truncate(n);
    buf
}

/// Decodes etherparse option elements the way we do: last one wins.
fn ep_options(elements: &[TcpOptionElement]) -> TcpOptions {
    let mut o = TcpOptions::default();
    for e in elements {
        match *e {
            TcpOptionElement::Noop => {}
            TcpOptionElement::MaximumSegmentSize(m) => o.mss = Some(m),
            TcpOptionElement::WindowScale(w) => o.window_scale = Some(w),
            TcpOptionElement::SelectiveAcknowledgementPermitted => o.sack_permitted = true,
            TcpOptionElement::Timestamp(tsval, tsecr) => {
                o.timestamps = Some(Timestamps { tsval, tsecr })
            }
            TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
                o.sack.clear();
                o.sack.push(first.0, first.1);
                for (l, r) in rest.iter().flatten() {
                    o.sack.push(*l, *r);
                }
            }
        }
    }
    o
}

/// The option list read the way RFC 9293 3.1 and the option RFCs describe
/// it, written independently of the crate's parser: EOL ends the list; NOP
/// is one byte; every other option has a length byte of at least 2 that
/// stays inside the list; MSS (4), window scale (3), SACK-permitted (2),
/// timestamps (10) and SACK (2 + 8n, n = 1..=4) must have exactly their
/// length; other kinds are skipped by their length (MUST-6). A known
/// option given twice: the last one counts.
fn reference_options(b: &[u8]) -> Result<TcpOptions, WireError> {
    let be32 = |x: &[u8]| u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
    let mut o = TcpOptions::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            0 => break,
            1 => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let kind = b[i];
        let Some(&len) = b.get(i + 1) else {
            return Err(WireError::BadOptionLength);
        };
        let len = usize::from(len);
        if len < 2 || i + len > b.len() {
            return Err(WireError::BadOptionLength);
        }
        let body = &b[i + 2..i + len];
        let exact = |n: usize| {
            if len == n {
                Ok(())
            } else {
                Err(WireError::BadOptionLength)
            }
        };
        match kind {
            2 => {
                exact(4)?;
                o.mss = Some(u16::from_be_bytes([body[0], body[1]]));
            }
            3 => {
                exact(3)?;
                o.window_scale = Some(body[0]);
            }
            4 => {
                exact(2)?;
                o.sack_permitted = true;
            }
            5 => {
                if !(10..=34).contains(&len) || (len - 2) % 8 != 0 {
                    return Err(WireError::BadOptionLength);
                }
                o.sack = SackBlocks::new();
                for blk in body.chunks(8) {
                    o.sack.push(be32(&blk[..4]), be32(&blk[4..]));
                }
            }
            8 => {
                exact(10)?;
                o.timestamps = Some(Timestamps {
                    tsval: be32(&body[..4]),
                    tsecr: be32(&body[4..]),
                });
            }
            28 => {
                // RFC 5482 2: the granularity bit, then 15 bits.
                exact(4)?;
                let v = u16::from_be_bytes([body[0], body[1]]);
                o.user_timeout = Some(UserTimeout {
                    minutes: v & 0x8000 != 0,
                    value: v & 0x7fff,
                });
            }
            _ => {}
        }
        i += len;
    }
    Ok(o)
}

fn ep_flags(t: &etherparse::TcpHeader) -> TcpFlags {
    let bits = [t.fin, t.syn, t.rst, t.psh, t.ack, t.urg, t.ece, t.cwr];
    TcpFlags(
        bits.iter()
            .enumerate()
            .fold(0, |acc, (i, &b)| acc | (u8::from(b) << i)),
    )
}

/// Builds an etherparse TCP header from ours, options given as elements.
fn ep_tcp(h: &TcpHeader, elements: &[TcpOptionElement]) -> etherparse::TcpHeader {
    let mut t = etherparse::TcpHeader::new(h.src_port, h.dst_port, h.seq, h.window);
    t.acknowledgment_number = h.ack;
    t.urgent_pointer = h.urgent_ptr;
    let f = h.flags;
    (t.fin, t.syn, t.rst, t.psh) = (f.fin(), f.syn(), f.rst(), f.psh());
    (t.ack, t.urg, t.ece, t.cwr) = (f.ack(), f.urg(), f.ece(), f.cwr());
    t.set_options(elements).expect("elements fit");
    t
}

fn option_element() -> impl Strategy<Value = TcpOptionElement> {
    prop_oneof![
        Just(TcpOptionElement::Noop),
        any::<u16>().prop_map(TcpOptionElement::MaximumSegmentSize),
        any::<u8>().prop_map(TcpOptionElement::WindowScale),
        Just(TcpOptionElement::SelectiveAcknowledgementPermitted),
        any::<(u32, u32)>().prop_map(|(a, b)| TcpOptionElement::Timestamp(a, b)),
        (any::<(u32, u32)>(), vec(any::<(u32, u32)>(), 0..=3)).prop_map(|(first, rest)| {
            let mut more = [None; 3];
            for (slot, b) in more.iter_mut().zip(rest) {
                *slot = Some(b);
            }
            TcpOptionElement::SelectiveAcknowledgement(first, more)
        }),
    ]
}

fn element_len(e: &TcpOptionElement) -> usize {
    match e {
        TcpOptionElement::Noop => 1,
        TcpOptionElement::MaximumSegmentSize(_) => 4,
        TcpOptionElement::WindowScale(_) => 3,
        TcpOptionElement::SelectiveAcknowledgementPermitted => 2,
        TcpOptionElement::Timestamp(..) => 10,
        TcpOptionElement::SelectiveAcknowledgement(_, rest) => {
            10 + 8 * rest.iter().flatten().count()
        }
    }
}

/// Up to 40 bytes of options in any order and alignment (NOPs shift them).
fn option_elements() -> impl Strategy<Value = Vec<TcpOptionElement>> {
    vec(option_element(), 0..8).prop_map(|mut v| {
        while v.iter().map(element_len).sum::<usize>() > 40 {
            v.pop();
        }
        v
    })
}

/// The wire bytes of one etherparse option element.
fn encode(e: &TcpOptionElement) -> Vec<u8> {
    let mut out = Vec::new();
    match *e {
        TcpOptionElement::Noop => out.push(1),
        TcpOptionElement::MaximumSegmentSize(m) => {
            out.extend([2, 4]);
            out.extend(m.to_be_bytes());
        }
        TcpOptionElement::WindowScale(w) => out.extend([3, 3, w]),
        TcpOptionElement::SelectiveAcknowledgementPermitted => out.extend([4, 2]),
        TcpOptionElement::Timestamp(v, e) => {
            out.extend([8, 10]);
            out.extend(v.to_be_bytes());
            out.extend(e.to_be_bytes());
        }
        TcpOptionElement::SelectiveAcknowledgement(first, rest) => {
            let blocks: Vec<(u32, u32)> = std::iter::once(first)
                .chain(rest.into_iter().flatten())
                .collect();
            out.extend([5, (2 + 8 * blocks.len()) as u8]);
            for (l, r) in blocks {
                out.extend(l.to_be_bytes());
                out.extend(r.to_be_bytes());
            }
        }
    }
    out
}

/// Raw option bytes: mostly well-formed options, some of known kinds with a
/// random length byte, to compare accept/reject decisions and decoded values
/// with etherparse.
fn raw_options() -> impl Strategy<Value = Vec<u8>> {
    let corrupt = (
        prop_oneof![Just(2u8), Just(3), Just(4), Just(5), Just(8)],
        prop_oneof![0u8..=12, 14u8..=36],
        vec(any::<u8>(), 0..34),
    )
        .prop_map(|(kind, len, body)| {
            let mut out = vec![kind, len];
            out.extend(body);
            out
        });
    let part = prop_oneof![4 => option_element().prop_map(|e| encode(&e)), 1 => corrupt];
    vec(part, 0..6).prop_map(|parts| {
        let mut out: Vec<u8> = parts.concat();
        out.truncate(40);
        // Etherparse needs a multiple of 4; pad with EOL (kind 0).
        out.resize(out.len().div_ceil(4) * 4, 0);
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// WF-01 and WF-07: every emitted datagram parses back to the same
    /// fields, for IPv4 and IPv6, odd and even payload lengths.
    #[test]
    fn wf01_roundtrip_emit_parse(
        ip in ip_header(),
        tcp in tcp_header(),
        payload in vec(any::<u8>(), 0..300),
    ) {
        let buf = emit(&ip, &tcp, &payload);
        let p = parse_ip(&buf).unwrap();
        prop_assert_eq!(p.src, ip.src);
        prop_assert_eq!(p.dst, ip.dst);
        prop_assert_eq!(p.protocol, PROTO_TCP);
        prop_assert_eq!(p.ttl, ip.ttl);
        prop_assert_eq!(p.tos, ip.tos);
        prop_assert_eq!(p.header_len, ip.header_len());
        let seg = TcpSegment::parse(p.payload, p.src, p.dst).unwrap();
        prop_assert_eq!(seg.header(), tcp);
        prop_assert_eq!(seg.payload, &payload[..]);
        prop_assert_eq!(seg.header_len, tcp.header_len());
        // WF-03: reserved bits are zero.
        prop_assert_eq!(p.payload[12] & 0x0f, 0);
        let unchecked = TcpSegment::parse_unchecked(p.payload).unwrap();
        prop_assert_eq!(unchecked, seg);
    }

    /// WF-02: a single flipped bit anywhere in the TCP segment (or in the
    /// addresses, via the pseudo-header) is rejected.
    #[test]
    fn wf02_any_bit_flip_rejected(
        ip in ip_header(),
        tcp in tcp_header(),
        payload in vec(any::<u8>(), 0..64),
        pick in any::<proptest::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut buf = emit(&ip, &tcp, &payload);
        let ip_len = ip.header_len();
        let addr_start = if ip.src.is_ipv4() { 12 } else { 8 };
        // Candidates: address bytes and every TCP byte.
        let candidates: Vec<usize> = (addr_start..ip_len).chain(ip_len..buf.len()).collect();
        let at = candidates[pick.index(candidates.len())];
        buf[at] ^= 1 << bit;
        prop_assert!(parse_ip_tcp(&buf).is_err());
    }

    /// Etherparse reads what we emit: same fields, checksums it agrees with.
    #[test]
    fn etherparse_reads_our_datagrams(
        ip in ip_header(),
        tcp in tcp_header(),
        payload in vec(any::<u8>(), 0..200),
    ) {
        let buf = emit(&ip, &tcp, &payload);
        let h = PacketHeaders::from_ip_slice(&buf).unwrap();
        let Some(TransportHeader::Tcp(t)) = h.transport.clone() else {
            panic!("etherparse found no TCP header");
        };
        match h.net.clone().unwrap() {
            NetHeaders::Ipv4(v4, _) => {
                prop_assert_eq!(IpAddr::from(v4.source), ip.src);
                prop_assert_eq!(IpAddr::from(v4.destination), ip.dst);
                prop_assert_eq!(v4.time_to_live, ip.ttl);
                prop_assert_eq!(v4.protocol, IpNumber::TCP);
                prop_assert_eq!((v4.dscp.value() << 2) | v4.ecn.value(), ip.tos);
                prop_assert_eq!(v4.identification, ip.ident);
                prop_assert_eq!(v4.dont_fragment, ip.dont_fragment);
                prop_assert!(!v4.more_fragments);
                prop_assert_eq!(usize::from(v4.total_len), buf.len());
                prop_assert_eq!(v4.header_checksum, v4.calc_header_checksum());
                prop_assert_eq!(t.checksum, t.calc_checksum_ipv4(&v4, &payload).unwrap());
            }
            NetHeaders::Ipv6(v6, _) => {
                prop_assert_eq!(IpAddr::from(v6.source), ip.src);
                prop_assert_eq!(IpAddr::from(v6.destination), ip.dst);
                prop_assert_eq!(v6.hop_limit, ip.ttl);
                prop_assert_eq!(v6.next_header, IpNumber::TCP);
                prop_assert_eq!(v6.traffic_class, ip.tos);
                prop_assert_eq!(v6.flow_label.value(), ip.flow_label);
                prop_assert_eq!(usize::from(v6.payload_length) + 40, buf.len());
                prop_assert_eq!(t.checksum, t.calc_checksum_ipv6(&v6, &payload).unwrap());
            }
            NetHeaders::Arp(_) => panic!("not IP"),
        }
        prop_assert_eq!(t.source_port, tcp.src_port);
        prop_assert_eq!(t.destination_port, tcp.dst_port);
        prop_assert_eq!(t.sequence_number, tcp.seq);
        prop_assert_eq!(t.acknowledgment_number, tcp.ack);
        prop_assert_eq!(ep_flags(&t), tcp.flags);
        prop_assert!(!t.ns, "reserved bit set");
        prop_assert_eq!(t.window_size, tcp.window);
        prop_assert_eq!(t.urgent_pointer, tcp.urgent_ptr);
        // etherparse does not know the User Timeout option (kind 28),
        // which we emit last: it reads everything before it as we wrote
        // it, and the reference walker reads all of it.
        prop_assert_eq!(reference_options(t.options.as_slice()), Ok(tcp.options));
        let elements: Vec<_> = t.options.elements_iter().map_while(Result::ok).collect();
        let mut known = tcp.options;
        known.user_timeout = None;
        prop_assert_eq!(ep_options(&elements), known);
        prop_assert_eq!(h.payload.slice(), &payload[..]);
    }

    /// We read what etherparse builds over IPv4, including IP options we do
    /// not interpret (WF-05) and TCP options at any alignment (WF-04).
    #[test]
    fn we_read_etherparse_ipv4(
        (s, d) in any::<([u8; 4], [u8; 4])>(),
        (ttl, tos, ident, df) in any::<(u8, u8, u16, bool)>(),
        ip_opts in (0usize..=10).prop_flat_map(|w| vec(any::<u8>(), w * 4)),
        tcp in tcp_header(),
        elements in option_elements(),
        payload in vec(any::<u8>(), 0..200),
    ) {
        let t = ep_tcp(&tcp, &elements);
        let tcp_len = t.header_len() + payload.len();
        let mut v4 = Ipv4Header::new(tcp_len as u16, ttl, IpNumber::TCP, s, d).unwrap();
        v4.dscp = IpDscp::try_new(tos >> 2).unwrap();
        v4.ecn = IpEcn::try_new(tos & 3).unwrap();
        v4.identification = ident;
        v4.dont_fragment = df;
        v4.options = ip_opts.as_slice().try_into().unwrap();
        v4.set_payload_len(tcp_len).unwrap();
        let mut t = t;
        t.checksum = t.calc_checksum_ipv4(&v4, &payload).unwrap();
        let mut buf = Vec::new();
        v4.write(&mut buf).unwrap();
        t.write(&mut buf).unwrap();
        buf.extend_from_slice(&payload);

        let (p, seg) = parse_ip_tcp(&buf).unwrap();
        prop_assert_eq!(p.src, IpAddr::from(s));
        prop_assert_eq!(p.dst, IpAddr::from(d));
        prop_assert_eq!((p.ttl, p.tos), (ttl, tos));
        prop_assert_eq!(p.header_len, 20 + ip_opts.len());
        let want = TcpHeader { options: ep_options(&elements), ..tcp };
        prop_assert_eq!(seg.header(), want);
        prop_assert_eq!(seg.header_len, t.header_len());
        prop_assert_eq!(seg.payload, &payload[..]);
    }

    /// We read what etherparse builds over IPv6, with optional Hop-by-Hop
    /// and Destination Options headers in front of TCP (IP-08).
    #[test]
    fn we_read_etherparse_ipv6(
        (s, d) in any::<([u8; 16], [u8; 16])>(),
        (hop, tc, flow) in (any::<u8>(), any::<u8>(), 0u32..(1 << 20)),
        hbh in option::of(0usize..4),
        dst_opts in option::of(0usize..4),
        tcp in tcp_header(),
        elements in option_elements(),
        payload in vec(any::<u8>(), 0..200),
    ) {
        let mut t = ep_tcp(&tcp, &elements);
        // Extension headers in RFC 8200 4.1 order, each padded with PadN.
        let mut chain: Vec<(IpNumber, usize)> = Vec::new();
        if let Some(units) = hbh {
            chain.push((IpNumber::IPV6_HEADER_HOP_BY_HOP, units));
        }
        if let Some(units) = dst_opts {
            chain.push((IpNumber::IPV6_DESTINATION_OPTIONS, units));
        }
        let mut exts = Vec::new();
        for (i, &(_, units)) in chain.iter().enumerate() {
            let next = chain.get(i + 1).map_or(IpNumber::TCP, |c| c.0);
            let body_len = 6 + 8 * units;
            let mut body = vec![0u8; body_len];
            body[0] = 1; // PadN
            body[1] = (body_len - 2) as u8;
            let h = Ipv6RawExtHeader::new_raw(next, &body).unwrap();
            h.write(&mut exts).unwrap();
        }
        let first = chain.first().map_or(IpNumber::TCP, |c| c.0);
        let v6 = Ipv6Header {
            traffic_class: tc,
            flow_label: Ipv6FlowLabel::try_new(flow).unwrap(),
            payload_length: (exts.len() + t.header_len() + payload.len()) as u16,
            next_header: first,
            hop_limit: hop,
            source: s,
            destination: d,
        };
        t.checksum = t.calc_checksum_ipv6(&v6, &payload).unwrap();
        let mut buf = Vec::new();
        v6.write(&mut buf).unwrap();
        buf.extend_from_slice(&exts);
        t.write(&mut buf).unwrap();
        buf.extend_from_slice(&payload);

        let (p, seg) = parse_ip_tcp(&buf).unwrap();
        prop_assert_eq!(p.src, IpAddr::from(s));
        prop_assert_eq!(p.dst, IpAddr::from(d));
        prop_assert_eq!((p.ttl, p.tos), (hop, tc));
        prop_assert_eq!(p.header_len, 40 + exts.len());
        let want = TcpHeader { options: ep_options(&elements), ..tcp };
        prop_assert_eq!(seg.header(), want);
        prop_assert_eq!(seg.payload, &payload[..]);
    }

    /// WF-06: on raw option bytes of known kinds with random lengths, we
    /// accept exactly when etherparse's option iterator does and decode the
    /// same values, and always agree with the reference walker below; we
    /// never read past the options.
    #[test]
    fn wf06_option_decisions_match_etherparse(opts in raw_options()) {
        let mut t = etherparse::TcpHeader::new(1, 2, 3, 4);
        t.set_options_raw(&opts).unwrap();
        let theirs: Result<Vec<_>, _> = t.options.elements_iter().collect();
        let mut buf = Vec::new();
        t.write(&mut buf).unwrap();
        let ours = TcpSegment::parse_unchecked(&buf).map(|s| s.options);
        prop_assert_eq!(ours, reference_options(&opts));
        match theirs {
            Ok(elements) => prop_assert_eq!(ours, Ok(ep_options(&elements))),
            // A corrupt option's body can spell an option kind etherparse
            // does not know; it stops there, while RFC 9293 MUST-6 has us
            // skip it by its length: only the reference walker judges.
            Err(etherparse::TcpOptionReadError::UnknownId(_)) => {}
            Err(_) => prop_assert_eq!(ours, Err(WireError::BadOptionLength)),
        }
    }

    /// Nothing panics on arbitrary input (the parsers' verdicts are not
    /// the point here; the other properties check them).
    #[test]
    fn arbitrary_bytes_never_panic(buf in vec(any::<u8>(), 0..120)) {
        if let Ok(p) = parse_ip(&buf) {
            let _ = TcpSegment::parse(p.payload, p.src, p.dst);
        }
        let _ = TcpSegment::parse_unchecked(&buf);
    }

    /// A TCP header whose first 20 bytes are sane (a data offset that fits)
    /// followed by arbitrary option and payload bytes: whatever the option
    /// walker makes of it, a segment that parses re-emits (unless its
    /// options no longer fit the 40 bytes in our layout) to one that parses
    /// to the same header and payload.
    #[test]
    fn parsed_segments_reemit_to_themselves(
        head in any::<[u8; 20]>(),
        options in vec(any::<u8>(), 0..=40),
        payload in vec(any::<u8>(), 0..60),
    ) {
        let mut buf = head.to_vec();
        let opt_len = options.len() / 4 * 4;
        buf[12] = (((20 + opt_len) / 4) as u8) << 4 | (buf[12] & 0x0f);
        buf.extend_from_slice(&options[..opt_len]);
        buf.extend_from_slice(&payload);
        let verdict = TcpSegment::parse_unchecked(&buf);
        prop_assert_eq!(
            verdict.map(|s| s.options),
            reference_options(&options[..opt_len])
        );
        let Ok(seg) = verdict else { return Ok(()) };
        let h = seg.header();
        let mut out = [0u8; 200];
        match h.emit(seg.payload, [0u8; 4].into(), [0u8; 4].into(), &mut out) {
            Ok(n) => {
                let again = TcpSegment::parse_unchecked(&out[..n]).unwrap();
                prop_assert_eq!(again.header(), h);
                prop_assert_eq!(again.payload, seg.payload);
            }
            Err(e) => {
                prop_assert_eq!(e, WireError::OptionsTooLong);
                prop_assert!(h.options.wire_len() > 40);
            }
        }
    }
}

/// The raw byte layout of a Linux SYN as packetdrill prints it:
/// `mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7`.
#[test]
fn wf07_linux_syn_bytes_match_etherparse_elements() {
    let tcp = TcpHeader {
        src_port: 1,
        dst_port: 2,
        flags: TcpFlags::SYN,
        options: TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(Timestamps { tsval: 1, tsecr: 0 }),
            sack: SackBlocks::new(),
            user_timeout: None,
        },
        ..Default::default()
    };
    let ip = IpHeader {
        src: Ipv4Addr::LOCALHOST.into(),
        dst: Ipv4Addr::LOCALHOST.into(),
        protocol: PROTO_TCP,
        ttl: 64,
        tos: 0,
        ident: 0,
        dont_fragment: true,
        flow_label: 0,
    };
    let buf = emit(&ip, &tcp, &[]);
    let h = PacketHeaders::from_ip_slice(&buf).unwrap();
    let Some(TransportHeader::Tcp(t)) = h.transport else {
        panic!("no TCP");
    };
    let elements: Vec<_> = t.options.elements_iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        elements,
        [
            TcpOptionElement::MaximumSegmentSize(1460),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(1, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(7),
        ]
    );
}
