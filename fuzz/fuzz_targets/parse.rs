//! Fuzzes the receive path of synack-wire: nothing from the network may
//! panic, and whatever parses must survive an emit -> parse round trip.
//!
//! Run with `cargo +nightly fuzz run parse` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;
use synack_wire::{
    IpHeader, IpPacket, PROTO_TCP, TcpSegment, WireError, emit_ip_tcp, parse_ip, parse_ip_tcp,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(ip) = parse_ip(data) {
        assert!(ip.header_len + ip.payload.len() <= data.len());
        if ip.protocol == PROTO_TCP {
            let checked = TcpSegment::parse(ip.payload, ip.src, ip.dst);
            // The IPv4 form the engine uses agrees, segment or error.
            if let (IpAddr::V4(s), IpAddr::V4(d)) = (ip.src, ip.dst) {
                assert_eq!(TcpSegment::parse_v4(ip.payload, s, d), checked);
            }
            let unchecked = TcpSegment::parse_unchecked(ip.payload);
            if let Ok(seg) = checked {
                // A verified segment decodes the same without verification.
                assert_eq!(unchecked, Ok(seg));
            }
            if let Ok(seg) = unchecked {
                roundtrip_ip(&ip, &seg);
            }
        }
    }
    // The raw input as a bare TCP segment reaches option parsing without
    // needing a valid IP header or checksum.
    if let Ok(seg) = TcpSegment::parse_unchecked(data) {
        let header = seg.header();
        let src = [192, 0, 2, 1].into();
        let dst = [192, 0, 2, 2].into();
        let mut out = vec![0u8; 60 + seg.payload.len()];
        match header.emit(seg.payload, src, dst, &mut out) {
            Ok(n) => {
                let again = TcpSegment::parse(&out[..n], src, dst).expect("re-parse");
                assert_eq!(again.header(), header);
                assert_eq!(again.payload, seg.payload);
            }
            // Parsed options can be re-emitted longer than received (the Linux
            // layout pads with NOPs), and a huge payload may not fit.
            Err(WireError::OptionsTooLong | WireError::PayloadTooLong) => {}
            Err(e) => panic!("emit failed: {e}"),
        }
    }
});

/// Re-emits a parsed datagram with our own IP header and checks that the
/// fields we carry over come back unchanged.
fn roundtrip_ip(ip: &IpPacket<'_>, seg: &TcpSegment<'_>) {
    let header = IpHeader {
        src: ip.src,
        dst: ip.dst,
        protocol: PROTO_TCP,
        ttl: ip.ttl,
        tos: ip.tos,
        ident: 0,
        dont_fragment: true,
        flow_label: 0,
    };
    let mut out = vec![0u8; 40 + 60 + seg.payload.len()];
    match emit_ip_tcp(&header, &seg.header(), seg.payload, &mut out) {
        Ok(n) => {
            let (ip2, seg2) = parse_ip_tcp(&out[..n]).expect("re-parse");
            assert_eq!(
                (ip2.src, ip2.dst, ip2.ttl, ip2.tos),
                (ip.src, ip.dst, ip.ttl, ip.tos)
            );
            assert_eq!(ip2.protocol, PROTO_TCP);
            assert_eq!(seg2.header(), seg.header());
            assert_eq!(seg2.payload, seg.payload);
        }
        Err(WireError::OptionsTooLong | WireError::PayloadTooLong) => {}
        Err(e) => panic!("emit failed: {e}"),
    }
}
