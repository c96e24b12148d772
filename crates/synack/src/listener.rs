//! Listeners (RFC 9293 LISTEN): a bounded SYN queue of half-open children
//! and a bounded accept queue of established ones.

use crate::endpoint::TableHasher;
use crate::event::ConnId;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

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
    /// What its children start with.
    pub(crate) child: ChildSettings,
    /// For an intercepting listener, the destinations it takes (it is then
    /// not in `ListenAddrs`).
    pub(crate) intercept: Option<Box<crate::intercept::Intercept>>,
}

/// Per-connection settings a listener gives the connections it accepts
/// (as Linux's children inherit their listener's socket options).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ChildSettings {
    /// The MSS cap (`set_listener_max_segment`); 0 for none.
    pub(crate) user_mss: u16,
    /// The receive buffer (`set_listener_recv_buffer`); `None`: `Config`'s.
    pub(crate) recv_buffer: Option<usize>,
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
            child: ChildSettings::default(),
            intercept: None,
        }
    }

    pub(crate) fn syn_queue_full(&self) -> bool {
        self.syn_queue >= self.syn_backlog
    }

    /// Whether each SYN waits for the application's decision.
    pub(crate) fn decides(&self) -> bool {
        self.intercept
            .as_ref()
            .is_some_and(|r| r.mode() == crate::intercept::InterceptMode::Decide)
    }

    pub(crate) fn accept_queue_full(&self) -> bool {
        self.accept_queue.len() >= self.accept_backlog
    }
}

/// Which listener owns which (address, port), found by port first: a SYN
/// hashes two bytes, then compares the few addresses that listen on that
/// port (usually one), its own address before the wildcard.
pub(crate) struct ListenAddrs(HashMap<u16, Vec<(IpAddr, u32)>, TableHasher>);

impl ListenAddrs {
    pub(crate) fn new(hasher: TableHasher) -> Self {
        ListenAddrs(HashMap::with_hasher(hasher))
    }

    pub(crate) fn contains(&self, addr: SocketAddr) -> bool {
        self.0
            .get(&addr.port())
            .is_some_and(|v| v.iter().any(|&(ip, _)| ip == addr.ip()))
    }

    pub(crate) fn insert(&mut self, addr: SocketAddr, index: u32) {
        self.0
            .entry(addr.port())
            .or_default()
            .push((addr.ip(), index));
    }

    pub(crate) fn remove(&mut self, addr: SocketAddr) {
        if let Some(v) = self.0.get_mut(&addr.port()) {
            v.retain(|&(ip, _)| ip != addr.ip());
            if v.is_empty() {
                self.0.remove(&addr.port());
            }
        }
    }

    /// The listener for a segment to `local_ip:port`: one bound to that
    /// address, else one bound to the unspecified address of its family.
    #[inline]
    pub(crate) fn find(&self, local_ip: IpAddr, port: u16) -> Option<u32> {
        let v = self.0.get(&port)?;
        let mut wildcard = None;
        for &(ip, index) in v {
            if ip == local_ip {
                return Some(index);
            }
            if ip.is_unspecified() && ip.is_ipv4() == local_ip.is_ipv4() {
                wildcard = Some(index);
            }
        }
        wildcard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ListenAddrs {
        ListenAddrs::new(TableHasher::with_seeds(1, 2, 3, 4))
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A listener bound to the segment's own address wins over a wildcard
    /// on the same port; the wildcard serves only its own family.
    #[test]
    fn specific_address_before_wildcard_of_the_same_family() {
        let mut t = table();
        t.insert(sa("0.0.0.0:80"), 1);
        t.insert(sa("198.18.0.2:80"), 2);
        t.insert(sa("[::]:443"), 3);
        assert_eq!(t.find("198.18.0.2".parse().unwrap(), 80), Some(2));
        assert_eq!(t.find("198.18.0.9".parse().unwrap(), 80), Some(1));
        assert_eq!(t.find("2001:db8::2".parse().unwrap(), 80), None);
        assert_eq!(t.find("2001:db8::2".parse().unwrap(), 443), Some(3));
        assert_eq!(t.find("198.18.0.2".parse().unwrap(), 443), None);
        assert_eq!(t.find("198.18.0.2".parse().unwrap(), 81), None);
        assert!(t.contains(sa("198.18.0.2:80")));
        assert!(!t.contains(sa("198.18.0.3:80")));
        t.remove(sa("198.18.0.2:80"));
        assert_eq!(t.find("198.18.0.2".parse().unwrap(), 80), Some(1));
        t.remove(sa("0.0.0.0:80"));
        assert_eq!(t.find("198.18.0.2".parse().unwrap(), 80), None);
    }
}
