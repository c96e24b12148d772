//! synack: a sans-IO TCP engine after RFC 9293.
//!
//! Packets, time and application calls go in; packets, events and the next
//! deadline come out. No I/O, no clock, no threads inside.

pub mod seq;
pub mod time;

pub mod cookie;
pub mod isn;
pub mod ports;
pub mod rtt;
pub mod secret;

pub mod sim;

pub use seq::SeqNum;
pub use time::Instant;
