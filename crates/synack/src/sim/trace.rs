//! What happened to each packet: fates, trace events and counters.

use crate::time::Instant;

/// Index of a node in a [`Network`](super::Network), in order of addition.
pub type NodeId = usize;

/// What the network did with a packet handed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fate {
    /// On its way, intact.
    Delivered,
    /// Dropped by the link's random loss.
    Lost,
    /// On its way with one bit flipped.
    Corrupted,
    /// An extra copy of a packet (reported in addition to the original).
    Duplicated,
    /// Longer than the link's MTU; dropped.
    TooBig,
    /// Tail-dropped by a full serialization queue.
    QueueFull,
    /// No node owns the destination address; dropped.
    NoRoute,
    /// Not an IPv4 or IPv6 datagram the router can read a destination
    /// from; dropped.
    Malformed,
}

impl Fate {
    /// A short lowercase name for printing.
    pub fn name(self) -> &'static str {
        match self {
            Fate::Delivered => "delivered",
            Fate::Lost => "lost",
            Fate::Corrupted => "corrupted",
            Fate::Duplicated => "duplicated",
            Fate::TooBig => "too big",
            Fate::QueueFull => "queue full",
            Fate::NoRoute => "no route",
            Fate::Malformed => "malformed",
        }
    }
}

/// One packet entering a link, as reported to a tracer.
#[derive(Clone, Debug)]
pub struct TraceEvent<'a> {
    /// When the packet was handed to the network.
    pub time: Instant,
    /// When it will reach the receiver; `None` if it never will.
    pub deliver_at: Option<Instant>,
    /// The sending node (for injected packets, the node named as sender).
    pub from: NodeId,
    /// The node owning the destination address; `None` for
    /// [`Fate::NoRoute`] and [`Fate::Malformed`].
    pub to: Option<NodeId>,
    /// The bytes as sent, before any corruption, so a ladder diagram shows
    /// what the sender meant.
    pub packet: &'a [u8],
    /// What happened to it.
    pub fate: Fate,
}

/// Counters over a whole run.
///
/// Every packet handed to the network has exactly one fate among
/// delivered, lost, corrupted, too big, queue full, no route and malformed,
/// so those sum to `sent_packets`; `duplicated` counts extra copies on top.
/// Once nothing is in flight, `arrived_packets` equals
/// `delivered + corrupted + duplicated`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetStats {
    /// Packets handed to the network by nodes or [`inject`](super::Network::inject).
    pub sent_packets: u64,
    /// Their bytes.
    pub sent_bytes: u64,
    /// Packets handed to a node's `handle_packet`.
    pub arrived_packets: u64,
    /// Their bytes.
    pub arrived_bytes: u64,
    /// Packets whose fate was [`Fate::Delivered`].
    pub delivered: u64,
    /// [`Fate::Lost`].
    pub lost: u64,
    /// [`Fate::Corrupted`].
    pub corrupted: u64,
    /// [`Fate::Duplicated`].
    pub duplicated: u64,
    /// [`Fate::TooBig`].
    pub too_big: u64,
    /// [`Fate::QueueFull`].
    pub queue_full: u64,
    /// [`Fate::NoRoute`].
    pub no_route: u64,
    /// [`Fate::Malformed`].
    pub malformed: u64,
    /// Calls to a node's `handle_timeout`.
    pub timers_fired: u64,
    /// Times a node's timer was pushed 1 µs later because the node asked
    /// again, without anything having happened to it, for the instant at
    /// which it had just been fired (see [`Network`](super::Network)).
    pub timer_stalls: u64,
    /// Times a node still had packets after the per-drain transmit limit.
    pub transmit_overflows: u64,
    /// Capture writes that failed (capture stops at the first).
    pub pcap_errors: u64,
}

impl NetStats {
    /// Packets (or, for [`Fate::Duplicated`], copies) that met `fate`.
    pub fn count(&self, fate: Fate) -> u64 {
        match fate {
            Fate::Delivered => self.delivered,
            Fate::Lost => self.lost,
            Fate::Corrupted => self.corrupted,
            Fate::Duplicated => self.duplicated,
            Fate::TooBig => self.too_big,
            Fate::QueueFull => self.queue_full,
            Fate::NoRoute => self.no_route,
            Fate::Malformed => self.malformed,
        }
    }

    pub(crate) fn record(&mut self, fate: Fate) {
        let n = match fate {
            Fate::Delivered => &mut self.delivered,
            Fate::Lost => &mut self.lost,
            Fate::Corrupted => &mut self.corrupted,
            Fate::Duplicated => &mut self.duplicated,
            Fate::TooBig => &mut self.too_big,
            Fate::QueueFull => &mut self.queue_full,
            Fate::NoRoute => &mut self.no_route,
            Fate::Malformed => &mut self.malformed,
        };
        *n += 1;
    }
}
