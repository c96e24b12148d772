//! Packet-level conformance tests of the engine (depth 2 of DESIGN.md: exact
//! segments in, exact segments out, virtual time). Each test names the
//! RFC-CHECKLIST.md row it checks; `transitions` walks RFC 9293 section 3.10
//! state by state.

mod checker;
mod harness;
mod script;

mod api;
mod attacks;
mod close;
mod congestion;
mod delayed_ack;
mod ecn;
mod handshake;
mod hardening;
mod icmp;
mod intercept;
mod keepalive;
mod paws;
mod receiving;
mod recovery;
mod retransmission;
mod security;
mod sending;
mod timeouts;
mod transitions;
mod urgent;
mod uto;
mod wire;
