//! synack: a sans-IO TCP engine after RFC 9293.
//!
//! Packets, time and application calls go in; packets, events and the next
//! deadline come out. No I/O, no clock, no threads inside. See
//! [`Endpoint`] for the calling contract and [`sim`] for the deterministic
//! simulated network that tests and demos run on.

pub mod seq;
pub mod time;

mod cc;
mod config;
mod control;
pub mod cookie;
mod counters;
mod endpoint;
mod error;
mod event;
mod info;
pub mod isn;
mod listener;
pub mod ports;
pub mod rtt;
pub mod secret;
mod state;
mod tcb;
mod timewait;
mod tuple;

pub mod sim;

pub use config::{Config, SynCookieMode};
pub use counters::{Counters, DropReason};
pub use endpoint::Endpoint;
pub use error::Error;
pub use event::{CloseReason, ConnId, Event, ListenerId, OpenKind, SoftError};
pub use info::ConnInfo;
pub use secret::Secret;
pub use seq::SeqNum;
pub use state::State;
pub use time::Instant;
pub use tuple::FourTuple;
