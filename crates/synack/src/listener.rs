//! Listeners (RFC 9293 LISTEN): a bounded SYN queue of half-open children
//! and a bounded accept queue of established ones.

use crate::event::ConnId;
use std::collections::VecDeque;
use std::net::SocketAddr;

/// One passive OPEN.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) addr: SocketAddr,
    /// Half-open children (SYN-RECEIVED) counted against `syn_backlog`.
    pub(crate) syn_queue: usize,
    pub(crate) syn_backlog: usize,
    /// Established children waiting for `accept`.
    pub(crate) accept_queue: VecDeque<ConnId>,
    pub(crate) accept_backlog: usize,
    /// When the SYN queue last overflowed; cookies are checked only for a
    /// while after that in `WhenQueueFull` mode (as Linux does).
    pub(crate) last_overflow: Option<crate::time::Instant>,
}

impl Listener {
    pub(crate) fn new(addr: SocketAddr, syn_backlog: usize, accept_backlog: usize) -> Listener {
        Listener {
            addr,
            syn_queue: 0,
            syn_backlog,
            accept_queue: VecDeque::new(),
            accept_backlog,
            last_overflow: None,
        }
    }

    pub(crate) fn syn_queue_full(&self) -> bool {
        self.syn_queue >= self.syn_backlog
    }

    pub(crate) fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.accept_backlog
    }
}
