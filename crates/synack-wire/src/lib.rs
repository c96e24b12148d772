//! IPv4, IPv6 and TCP wire formats for synack.
//!
//! Parsing borrows from the received buffer and emitting writes into a
//! buffer the caller owns: neither allocates. Everything that comes from the
//! network is checked before use, and every rejection is a named
//! [`WireError`]; no input makes these functions panic (the `fuzz/` target
//! at the top of the repository exercises that).
//!
//! # Receive path
//!
//! ```
//! # use synack_wire::*;
//! # let mut buf = [0u8; 64];
//! # let ip = IpHeader { src: "192.0.2.1".parse().unwrap(), dst: "192.0.2.2".parse().unwrap(),
//! #     protocol: PROTO_TCP, ttl: 64, tos: 0, ident: 0, dont_fragment: true, flow_label: 0 };
//! # let n = emit_ip_tcp(&ip, &TcpHeader { flags: TcpFlags::SYN, ..Default::default() }, &[], &mut buf).unwrap();
//! # let datagram = &buf[..n];
//! let ip = parse_ip(datagram)?;
//! if ip.protocol == PROTO_TCP {
//!     let seg = TcpSegment::parse(ip.payload, ip.src, ip.dst)?;
//!     assert!(seg.flags.syn());
//! }
//! # Ok::<(), WireError>(())
//! ```
//!
//! * IPv4 ([`parse_ip`], RFC 791 3.1): version, IHL, total length, header
//!   checksum; options skipped (RFC 1122 MUST-50); fragments rejected.
//! * IPv6 (RFC 8200): payload length, extension headers walked with bounded
//!   work (IP-08); fragments, jumbograms, ESP/AH rejected.
//! * TCP ([`TcpSegment::parse`], RFC 9293 3.1): data offset, checksum over
//!   the IPv4 or IPv6 pseudo-header (WF-02), options in one pass at any
//!   alignment (WF-04), unknown options skipped (WF-05), malformed lengths
//!   rejected without over-reading (WF-06).
//!
//! # Send path
//!
//! [`emit_ip_tcp`] writes the IP header, the TCP header with options in the
//! Linux layout (so packetdrill scripts match), and the payload, and fills in
//! both checksums (WF-01). Reserved bits are zero (WF-03) and every option
//! but NOP carries a length (WF-07).
//!
//! # Checksums
//!
//! [`checksum`] sums 32 bytes per step (little-endian loads, no byte swaps)
//! into wide accumulators and folds once at the end; it is the hottest code
//! in the stack. Emitting computes the header part of both checksums from
//! the field values and sums the payload while copying it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod ip;
mod ipv4;
mod ipv6;
mod options;
mod tcp;

pub mod checksum;

pub use error::WireError;
pub use ip::{IpHeader, IpPacket, emit_ip_tcp, parse_ip, parse_ip_tcp};
pub use ipv6::MAX_EXTENSION_HEADERS;
pub use options::{
    MAX_OPTIONS_LEN, MAX_SACK_BLOCKS, SackBlocks, TcpOptions, Timestamps, UserTimeout,
};
pub use tcp::{TcpFlags, TcpHeader, TcpQuote, TcpSegment};

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;
/// Length of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;
/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of ICMP.
pub const PROTO_ICMP: u8 = 1;
/// IPv6 Next Header value of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;
