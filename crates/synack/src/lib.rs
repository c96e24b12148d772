//! synack: a sans-IO TCP engine after RFC 9293.
//!
//! Packets, time and application calls go in; packets, events and the next
//! deadline come out. No I/O, no clock, no threads inside.
//!
//! # Where to start
//!
//! - [`Endpoint`] is the engine: one host's connections, listeners and
//!   TIME-WAIT entries. Its documentation states the calling contract
//!   (what to call when, time, buffers, bad input) and runs two endpoints
//!   through a whole connection.
//! - [`Config`] holds every stack-wide setting, with RFC references and
//!   defaults; [`Event`] is what the application hears back.
//! - [`sim::Network`] runs endpoints on a deterministic simulated network
//!   with delay, loss, reordering and a virtual clock: what the tests and
//!   `synack demo` use.
//! - The `synack-io` crate runs an endpoint on a real link (TUN, TAP)
//!   with a real clock, behind sockets shaped like tokio's and std's.
//!
//! # What is implemented
//!
//! The connection model of RFC 9293 end to end: demultiplexing by 4-tuple in
//! a hash table, listeners with bounded SYN and accept queues, SYN cookies
//! (RFC 4987), ISNs per RFC 6528, ephemeral ports per RFC 6056, active,
//! passive and simultaneous open with strict validation (nothing is
//! established unless ISS + 1 is acknowledged exactly; [`OpenKind`] records
//! how each connection opened), all eleven states and their transitions,
//! RFC 5961 RST/SYN/ACK hardening with per-connection challenge-ACK limits,
//! TIME-WAIT in a compact table with RFC 6191 reopening, in-order data with
//! send and receive buffers, an out-of-order queue, window management (scaling, receiver and sender
//! SWS avoidance, Nagle, zero-window probing), retransmission with the
//! RFC 6298 estimator, Karn's rule and backoff, R1/R2 and the user timeout,
//! a bounded wait in FIN-WAIT-2 for a connection the application has
//! closed (`Config::fin_wait2_timeout`, as Linux's `tcp_fin_timeout`),
//! keep-alive (RFC 9293 3.8.4: off by default, per connection, with
//! [`Keepalive`]'s idle time, interval and probe count),
//! and the MSS, window-scale, timestamp and SACK options.
//!
//! Loss recovery: SACK on by default (RFC 2018) with D-SACK (RFC 2883),
//! an immediate ACK per out-of-order or duplicate segment; a per-connection
//! timer table ([`Timer`]); a sender scoreboard; RACK-TLP loss detection
//! (RFC 8985) with a D-SACK-widened reordering window and tail loss
//! probes; RFC 6675 NextSeg with the rescue retransmission, paced by PRR
//! (RFC 6937); NewReno fast recovery with partial ACKs and limited transmit
//! for peers without SACK (RFC 5681, RFC 6582, RFC 3042); F-RTO (RFC 5682)
//! and undo of spurious reductions by timestamps or D-SACK (RFC 3522,
//! RFC 2883); congestion control as a public trait ([`cc`]) with NewReno
//! and CUBIC (RFC 9438, the default) with HyStart++ (RFC 9406); an initial
//! window of 10 segments (RFC 6928, or RFC 5681's by [`InitialWindow`]) and
//! the restart after idle. [`ConnInfo`] and [`Counters`] show it as Linux's
//! `tcp_info` and `netstat` counters do ([`RecoveryState`]). A tail loss
//! probe also goes in fast recovery once every lost segment has been
//! resent (`Config::recovery_tail_probe`, a deliberate departure from RFC
//! 8985 7.2 explained there).
//!
//! The rest of the TCB: delayed ACKs (every second full-sized segment, a
//! 40 ms timer, at once for out-of-order data, filled holes, FINs, window
//! updates and the first 16 segments, one ACK per batch up to
//! `Config::max_ack_stretch`; per-connection quick ACKs); PAWS and the
//! RFC 7323 timestamp rules; urgent data kept inline
//! ([`Endpoint::send_urgent`], [`Event::Urgent`],
//! [`Endpoint::urgent_pending`]); ECN (RFC 3168, [`EcnMode`]); path MTU
//! discovery from ICMP and black-hole detection at R1; per-connection TTL,
//! DSCP and error reports; FLUSH ([`Endpoint::flush`]); the User Timeout
//! option (RFC 5482, [`UserTimeoutOption`], off by default).
//!
//! # Checklist rows left to later work
//!
//! Rows of `RFC-CHECKLIST.md` in the groups this crate covers that are not
//! implemented, and why:
//!
//! - WF-17 / CE-17 (TCP Fast Open): an optional extension, not started.
//! - IP-07 asks for packetization-layer PMTU probing (RFC 4821); synack
//!   falls back to a smaller MSS after repeated timeouts instead and never
//!   probes back up.
//! - API-08's IPv4 source routing (MUST-51..53) is not implemented: source
//!   routes are filtered on practically every path; the received DSCP
//!   (MAY-9) is not exposed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod seq;
pub mod time;

pub mod cc;
mod config;
mod control;
pub mod cookie;
mod counters;
mod endpoint;
mod error;
mod event;
mod icmp;
mod info;
pub mod intercept;
pub mod isn;
mod keepalive;
mod listener;
pub mod ports;
pub mod rtt;
pub mod secret;
mod state;
mod tcb;
mod timewait;
mod tuple;
mod tuple_map;

pub mod sim;

pub use config::{Config, EcnMode, InitialWindow, SynCookieMode, UserTimeoutOption};
pub use counters::{Counters, DropReason};
pub use endpoint::Endpoint;
pub use error::Error;
pub use event::{
    CloseReason, ConnId, Event, ListenerId, OpenKind, Sockets, SoftError, StateChange,
};
pub use icmp::{IcmpError, IcmpErrorKind};
pub use info::ConnInfo;
pub use intercept::{AbandonReason, Intercept, InterceptMode, RequestId, SynRequest};
pub use keepalive::Keepalive;
pub use secret::Secret;
pub use seq::SeqNum;
pub use state::State;
pub use tcb::{RecoveryState, Timer};
pub use time::Instant;
pub use tuple::FourTuple;
