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
    /// On its way, marked Congestion Experienced by a queue past the
    /// link's ECN threshold (RFC 3168 5).
    Marked,
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
            Fate::Marked => "ce-marked",
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

impl TraceEvent<'_> {
    /// The payload length if the packet is a TCP segment (in IPv4, or in
    /// IPv6 without extension headers), so a tracer can tell data segments
    /// (`Some(n)` with `n > 0`) from pure ACKs (`Some(0)`) and from other
    /// traffic (`None`).
    pub fn tcp_payload_len(&self) -> Option<usize> {
        super::route::tcp_payload_len(self.packet)
    }
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
    /// [`Fate::Marked`].
    pub marked: u64,
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
            Fate::Marked => self.marked,
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
            Fate::Marked => &mut self.marked,
            Fate::TooBig => &mut self.too_big,
            Fate::QueueFull => &mut self.queue_full,
            Fate::NoRoute => &mut self.no_route,
            Fate::Malformed => &mut self.malformed,
        };
        *n += 1;
    }
}

/// Packets that entered one direction of a link, by fate.
///
/// As in [`NetStats`], `sent` is the sum of the single fates (delivered,
/// lost, corrupted, too big, queue full) and `duplicated` counts extra
/// copies on top.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FateCounts {
    /// Packets routed into this direction.
    pub sent: u64,
    /// Their bytes.
    pub sent_bytes: u64,
    /// [`Fate::Delivered`].
    pub delivered: u64,
    /// [`Fate::Lost`]: random or burst loss.
    pub lost: u64,
    /// [`Fate::Corrupted`].
    pub corrupted: u64,
    /// [`Fate::Duplicated`].
    pub duplicated: u64,
    /// [`Fate::Marked`].
    pub marked: u64,
    /// [`Fate::TooBig`].
    pub too_big: u64,
    /// [`Fate::QueueFull`].
    pub queue_full: u64,
}

impl FateCounts {
    /// Packets (or, for [`Fate::Duplicated`], copies) that met `fate`; 0
    /// for the fates of unroutable packets, which enter no link.
    pub fn count(&self, fate: Fate) -> u64 {
        match fate {
            Fate::Delivered => self.delivered,
            Fate::Lost => self.lost,
            Fate::Corrupted => self.corrupted,
            Fate::Duplicated => self.duplicated,
            Fate::Marked => self.marked,
            Fate::TooBig => self.too_big,
            Fate::QueueFull => self.queue_full,
            Fate::NoRoute | Fate::Malformed => 0,
        }
    }

    /// Packets that never reached the far end: lost, too big or
    /// tail-dropped.
    pub fn dropped(&self) -> u64 {
        self.lost + self.too_big + self.queue_full
    }

    fn record(&mut self, fate: Fate, len: usize) {
        let n = match fate {
            Fate::Delivered => &mut self.delivered,
            Fate::Lost => &mut self.lost,
            Fate::Corrupted => &mut self.corrupted,
            Fate::Duplicated => &mut self.duplicated,
            Fate::Marked => &mut self.marked,
            Fate::TooBig => &mut self.too_big,
            Fate::QueueFull => &mut self.queue_full,
            Fate::NoRoute | Fate::Malformed => return,
        };
        *n += 1;
        if fate != Fate::Duplicated {
            self.sent += 1;
            self.sent_bytes += len as u64;
        }
    }
}

/// What one direction of a link did with the packets routed into it (see
/// [`Network::link_stats`](super::Network::link_stats)).
///
/// `tcp_data` singles out TCP segments that carry payload, as
/// [`TraceEvent::tcp_payload_len`] tells them, so a harness can set the
/// data segments a link dropped against the retransmissions of the flow
/// sending them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkStats {
    /// Every packet.
    pub packets: FateCounts,
    /// TCP segments with at least one byte of payload.
    pub tcp_data: FateCounts,
}

impl LinkStats {
    pub(crate) fn record(&mut self, fate: Fate, packet: &[u8]) {
        self.packets.record(fate, packet.len());
        if super::route::tcp_payload_len(packet).is_some_and(|n| n > 0) {
            self.tcp_data.record(fate, packet.len());
        }
    }
}
