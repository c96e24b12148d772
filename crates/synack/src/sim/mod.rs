//! A deterministic simulated IP network for driving endpoints in tests.
//!
//! Nodes (anything implementing [`Node`]) are attached to a [`Network`]
//! under one or more IP addresses. The network collects the datagrams they
//! send, routes each by destination address through the one-way link
//! between sender and receiver, applies that link's impairments
//! ([`LinkConfig`]: delay, jitter, bandwidth with a drop-tail queue in
//! packets or bytes, random and burst loss, duplication, reordering,
//! corruption, MTU), and hands survivors to the receiver on a virtual
//! clock. Nodes' timers fire on the same clock.
//!
//! Everything is deterministic: every random choice comes from one
//! [`SimRng`] seeded by the network's seed, simultaneous events are ordered
//! by a sequence counter, and no hash-map iteration order is ever observed.
//! So a seed plus the nodes' behaviour reproduces a run byte for byte, which
//! is what makes a failing randomized test debuggable.
//!
//! Runs can be watched through counters (whole-network [`NetStats`], and
//! per link direction [`LinkStats`], which also count the TCP data
//! segments dropped), a tracer callback (every packet with its fate, for
//! ladder diagrams) or captured to a classic pcap file ([`PcapWriter`]) for
//! Wireshark.

mod link;
mod network;
mod pcap;
mod rng;
mod route;
mod trace;

#[cfg(test)]
mod testnode;
#[cfg(test)]
mod tests;

pub use link::{GilbertElliott, LinkConfig};
pub use network::{DEFAULT_TRANSMIT_LIMIT, Network, SimError};
pub use pcap::{LINKTYPE_RAW, PCAP_MAGIC, PCAP_SNAPLEN, PcapWriter};
pub use rng::SimRng;
pub use trace::{Fate, FateCounts, LinkStats, NetStats, NodeId, TraceEvent};

use crate::time::Instant;

/// Anything that speaks IP datagrams with a virtual clock.
///
/// The engine's endpoint implements this; tests implement it with small
/// doubles. The network calls these methods only with non-decreasing `now`.
pub trait Node {
    /// Takes one inbound IP datagram (possibly corrupted, duplicated or out
    /// of order) at `now`.
    fn handle_packet(&mut self, now: Instant, packet: &[u8]);

    /// Writes the next outbound IP datagram into `buf` and returns its
    /// length; `None` when nothing is queued. `buf` is 65535 bytes.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;

    /// The next instant this node wants [`handle_timeout`](Self::handle_timeout)
    /// called; `None` (or [`Instant::NEVER`]) for no timer. An instant in
    /// the past fires at once.
    fn poll_timeout(&mut self) -> Option<Instant>;

    /// Called at (or, if it was reported in the past, after) the instant
    /// last returned by [`poll_timeout`](Self::poll_timeout).
    fn handle_timeout(&mut self, now: Instant);
}

/// Lets one network hold different kinds of node as `Box<dyn Node>`.
impl<N: Node + ?Sized> Node for Box<N> {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        (**self).handle_packet(now, packet)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        (**self).poll_transmit(now, buf)
    }
    fn poll_timeout(&mut self) -> Option<Instant> {
        (**self).poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now)
    }
}
