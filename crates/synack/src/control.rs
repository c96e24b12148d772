//! Segments the endpoint sends on behalf of no TCB: RSTs for unknown
//! 4-tuples, SYN-ACKs that carry cookies, ACKs from TIME-WAIT entries.
//! The queue is bounded: a flood fills it and further replies are dropped.

use crate::counters::{Counters, DropReason};
use crate::seq::SeqNum;
use crate::tuple::FourTuple;
use std::collections::VecDeque;
use synack_wire::{TcpFlags, TcpHeader, TcpOptions};

/// One segment to send without a TCB.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ControlSegment {
    pub(crate) tuple: FourTuple,
    pub(crate) seq: SeqNum,
    pub(crate) ack: Option<SeqNum>,
    pub(crate) flags: TcpFlags,
}

/// A control segment that also carries a window and options.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueuedControl {
    pub(crate) seg: ControlSegment,
    pub(crate) window: u16,
    pub(crate) options: TcpOptions,
    /// The connection's IP parameters (API-08), `IpParams::DEFAULT` for
    /// segments that belong to none.
    pub(crate) ip: IpParams,
}

/// Per-connection IP header fields (RFC 9293 MUST-48, MUST-49; API-08):
/// the TTL or hop limit (0: `Config::ttl`) and the Diffserv code point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IpParams {
    pub(crate) ttl: u8,
    pub(crate) dscp: u8,
}

impl IpParams {
    pub(crate) const DEFAULT: IpParams = IpParams { ttl: 0, dscp: 0 };

    /// The TTL to send with: this one's, or `default` (`Config::ttl`).
    pub(crate) fn ttl_or(self, default: u8) -> u8 {
        if self.ttl != 0 { self.ttl } else { default }
    }
}

/// The bounded queue.
#[derive(Debug)]
pub(crate) struct ControlQueue {
    queue: VecDeque<QueuedControl>,
    cap: usize,
}

impl ControlQueue {
    pub(crate) fn new(cap: usize) -> Self {
        ControlQueue {
            queue: VecDeque::new(),
            cap,
        }
    }

    /// Queues a bare segment (no options, window 0).
    pub(crate) fn push(&mut self, seg: ControlSegment, counters: &mut Counters) {
        self.push_full(seg, 0, TcpOptions::default(), counters);
    }

    /// Queues a segment of a connection with its IP parameters.
    pub(crate) fn push_ip(&mut self, seg: ControlSegment, ip: IpParams, counters: &mut Counters) {
        self.enqueue(seg, 0, TcpOptions::default(), ip, counters);
    }

    /// Queues a segment of a connection with its IP parameters and options.
    pub(crate) fn push_ip_options(
        &mut self,
        seg: ControlSegment,
        options: TcpOptions,
        ip: IpParams,
        counters: &mut Counters,
    ) {
        self.enqueue(seg, 0, options, ip, counters);
    }

    /// Queues a segment with a window and options.
    pub(crate) fn push_full(
        &mut self,
        seg: ControlSegment,
        window: u16,
        options: TcpOptions,
        counters: &mut Counters,
    ) {
        self.enqueue(seg, window, options, IpParams::DEFAULT, counters);
    }

    /// The one way in: full queues count a drop.
    fn enqueue(
        &mut self,
        seg: ControlSegment,
        window: u16,
        options: TcpOptions,
        ip: IpParams,
        counters: &mut Counters,
    ) {
        if self.queue.len() >= self.cap {
            counters.drop(DropReason::ControlQueueFull);
            return;
        }
        self.queue.push_back(QueuedControl {
            seg,
            window,
            options,
            ip,
        });
    }

    /// Queues a connection's ACK built in full (a duplicate ACK sent at
    /// once); false, and counted, when the queue is full.
    pub(crate) fn push_header(
        &mut self,
        tuple: FourTuple,
        h: &TcpHeader,
        ip: IpParams,
        counters: &mut Counters,
    ) -> bool {
        if self.queue.len() >= self.cap {
            counters.drop(DropReason::ControlQueueFull);
            return false;
        }
        self.queue.push_back(QueuedControl {
            seg: ControlSegment {
                tuple,
                seq: SeqNum(h.seq),
                ack: h.flags.ack().then_some(SeqNum(h.ack)),
                flags: TcpFlags(h.flags.0 & !TcpFlags::ACK.0),
            },
            window: h.window,
            options: h.options,
            ip,
        });
        true
    }

    pub(crate) fn pop(&mut self) -> Option<QueuedControl> {
        self.queue.pop_front()
    }

    /// Puts back a segment just popped that could not be sent.
    pub(crate) fn push_front(&mut self, c: QueuedControl) {
        self.queue.push_front(c);
    }
}
