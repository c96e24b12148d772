//! Transparent interception: a listener that takes connections to any
//! destination in some prefixes and ports, as VPN clients, tun2socks-style
//! proxies and sandboxes' network helpers need, and the SYN requests it
//! holds while the application decides what to do with each.
//!
//! In [`InterceptMode::Decide`] a valid SYN becomes a small pending record
//! (the 4-tuple, the client's ISN, window and options, when it came; no
//! buffers) and an [`Event::SynRequest`](crate::Event::SynRequest). The
//! application then accepts it (our SYN-ACK goes out from the original
//! destination), resets it, or ignores it (a black hole), typically after
//! trying the real destination itself. So a port that is closed upstream
//! does not look open here, and a host that is down does not look
//! connected and then closed. The record is bounded in total and per
//! source; beyond the bounds SYN cookies answer at once, as in
//! [`InterceptMode::AcceptFirst`].

use crate::endpoint::TableHasher;
use crate::error::Error;
use crate::event::ListenerId;
use crate::seq::SeqNum;
use crate::time::Instant;
use crate::tuple::FourTuple;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use synack_wire::{TcpFlags, TcpOptions, Timestamps, UserTimeout};

/// When an intercepted connection is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InterceptMode {
    /// Each SYN waits for the application's decision
    /// ([`Endpoint::accept_request`](crate::Endpoint::accept_request) and
    /// its siblings).
    Decide,
    /// Every valid SYN is answered at once, as by an ordinary listener
    /// (SYN cookies included); the application learns the destination
    /// only when it accepts the connection.
    AcceptFirst,
}

/// Which destinations an intercepting listener takes: any address in one
/// of its prefixes, to any port in one of its port ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intercept {
    prefixes: Vec<(IpAddr, u8)>,
    ports: Vec<(u16, u16)>,
    mode: InterceptMode,
}

impl Intercept {
    /// A rule that matches nothing yet: add prefixes and ports.
    pub fn new(mode: InterceptMode) -> Intercept {
        Intercept {
            prefixes: Vec::new(),
            ports: Vec::new(),
            mode,
        }
    }

    /// Every IPv4 and IPv6 destination, every port.
    pub fn everything(mode: InterceptMode) -> Intercept {
        Intercept {
            prefixes: vec![(IpAddr::from([0u8; 4]), 0), (IpAddr::from([0u16; 8]), 0)],
            ports: vec![(1, u16::MAX)],
            mode,
        }
    }

    /// Adds the prefix `addr/len`; `InvalidArgument` for a length beyond
    /// the address (32 or 128 bits).
    pub fn prefix(mut self, addr: IpAddr, len: u8) -> Result<Intercept, Error> {
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        if len > bits {
            return Err(Error::InvalidArgument);
        }
        self.prefixes.push((addr, len));
        Ok(self)
    }

    /// Adds the ports `first..=last`; `InvalidArgument` if empty or
    /// including port 0.
    pub fn ports(mut self, first: u16, last: u16) -> Result<Intercept, Error> {
        if first == 0 || first > last {
            return Err(Error::InvalidArgument);
        }
        self.ports.push((first, last));
        Ok(self)
    }

    /// The rule's mode.
    pub fn mode(&self) -> InterceptMode {
        self.mode
    }

    /// Whether a connection to `addr` falls under the rule.
    pub fn matches(&self, addr: SocketAddr) -> bool {
        let port = addr.port();
        self.ports.iter().any(|&(a, b)| a <= port && port <= b)
            && self
                .prefixes
                .iter()
                .any(|&(net, len)| in_prefix(addr.ip(), net, len))
    }
}

/// Whether `ip` lies in `net/len` (of the same family).
fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// A SYN waiting for the application's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId {
    index: u32,
    generation: u32,
}

/// What the application learns of a pending SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SynRequest {
    /// The intercepting listener that holds it.
    pub listener: ListenerId,
    /// The destination the client asked for: ours, once accepted.
    pub original_dst: SocketAddr,
    /// The client.
    pub peer: SocketAddr,
    /// The client's initial sequence number (what an ICMP error about
    /// its SYN quotes).
    pub isn: SeqNum,
    /// The MSS the client offered.
    pub mss: Option<u16>,
    /// When the first SYN came.
    pub received: Instant,
    /// SYNs received for it, retransmissions included.
    pub syns: u16,
}

/// Why a pending SYN went away without a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbandonReason {
    /// The client sent a RST.
    Reset,
    /// No decision within `Config::syn_request_timeout`.
    TimedOut,
    /// Its listener was closed.
    ListenerClosed,
}

/// The SYN's options as kept (no SACK blocks: a SYN has none).
#[derive(Clone, Copy, Debug)]
struct SynOptions {
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack_permitted: bool,
    tsval: Option<u32>,
    user_timeout: Option<UserTimeout>,
}

/// One pending SYN: a few dozen bytes, no buffers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pending {
    pub(crate) tuple: FourTuple,
    pub(crate) listener: ListenerId,
    pub(crate) irs: SeqNum,
    pub(crate) window: u16,
    /// The SYN's control bits (ECN's ECE and CWR ride on them).
    pub(crate) flags: TcpFlags,
    opts: SynOptions,
    pub(crate) received: Instant,
    pub(crate) syns: u16,
    /// The SYN reopened a TIME-WAIT entry: our ISS must lie above the old
    /// connection's sequence space (RFC 9293 3.6.1, RFC 6191).
    pub(crate) iss_floor: Option<SeqNum>,
}

impl Pending {
    pub(crate) fn new(
        tuple: FourTuple,
        listener: ListenerId,
        irs: SeqNum,
        window: u16,
        flags: TcpFlags,
        o: &TcpOptions,
        now: Instant,
    ) -> Pending {
        Pending {
            tuple,
            listener,
            irs,
            window,
            flags,
            opts: SynOptions {
                mss: o.mss,
                window_scale: o.window_scale,
                sack_permitted: o.sack_permitted,
                tsval: o.timestamps.map(|t| t.tsval),
                user_timeout: o.user_timeout,
            },
            received: now,
            syns: 1,
            iss_floor: None,
        }
    }

    /// The SYN's options as the listener path reads them.
    pub(crate) fn options(&self) -> TcpOptions {
        TcpOptions {
            mss: self.opts.mss,
            window_scale: self.opts.window_scale,
            sack_permitted: self.opts.sack_permitted,
            timestamps: self.opts.tsval.map(|tsval| Timestamps { tsval, tsecr: 0 }),
            user_timeout: self.opts.user_timeout,
            ..TcpOptions::default()
        }
    }

    pub(crate) fn info(&self) -> SynRequest {
        SynRequest {
            listener: self.listener,
            original_dst: self.tuple.local(),
            peer: self.tuple.remote(),
            isn: self.irs,
            mss: self.opts.mss,
            received: self.received,
            syns: self.syns,
        }
    }
}

type TupleKey = (IpAddr, IpAddr, u16, u16);

fn key(t: &FourTuple) -> TupleKey {
    (t.local_ip, t.remote_ip, t.local_port, t.remote_port)
}

/// The pending SYNs: a slab addressed by `RequestId`, an index by 4-tuple,
/// a count per source, and the order they came in for expiry.
pub(crate) struct Requests {
    slots: Vec<(u32, Option<Pending>)>,
    free: Vec<u32>,
    by_tuple: HashMap<TupleKey, u32, TableHasher>,
    per_source: HashMap<IpAddr, u32, TableHasher>,
    /// (arrival, id), oldest first; entries whose request is gone are
    /// skipped when they reach the front.
    order: VecDeque<(Instant, RequestId)>,
    len: usize,
}

impl Requests {
    pub(crate) fn new(hasher: TableHasher) -> Requests {
        Requests {
            slots: Vec::new(),
            free: Vec::new(),
            by_tuple: HashMap::with_hasher(hasher.clone()),
            per_source: HashMap::with_hasher(hasher),
            order: VecDeque::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// What the table holds on the heap (capacity, not length), with a
    /// hash table's entry counted as its key, value and control byte.
    pub(crate) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.slots.capacity() * size_of::<(u32, Option<Pending>)>()
            + self.free.capacity() * size_of::<u32>()
            + self.by_tuple.capacity() * (size_of::<(TupleKey, u32)>() + 1)
            + self.per_source.capacity() * (size_of::<(IpAddr, u32)>() + 1)
            + self.order.capacity() * size_of::<(Instant, RequestId)>()
    }

    pub(crate) fn count_from(&self, ip: IpAddr) -> u32 {
        self.per_source.get(&ip).copied().unwrap_or(0)
    }

    pub(crate) fn find(&self, t: &FourTuple) -> Option<RequestId> {
        if self.len == 0 {
            return None;
        }
        let index = *self.by_tuple.get(&key(t))?;
        Some(RequestId {
            index,
            generation: self.slots[index as usize].0,
        })
    }

    pub(crate) fn get(&self, id: RequestId) -> Option<&Pending> {
        match self.slots.get(id.index as usize) {
            Some((g, Some(p))) if *g == id.generation => Some(p),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, id: RequestId) -> Option<&mut Pending> {
        match self.slots.get_mut(id.index as usize) {
            Some((g, Some(p))) if *g == id.generation => Some(p),
            _ => None,
        }
    }

    pub(crate) fn insert(&mut self, p: Pending) -> RequestId {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push((0, None));
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.1 = Some(p);
        let id = RequestId {
            index,
            generation: slot.0,
        };
        self.by_tuple.insert(key(&p.tuple), index);
        *self.per_source.entry(p.tuple.remote_ip).or_default() += 1;
        self.order.push_back((p.received, id));
        self.len += 1;
        id
    }

    pub(crate) fn remove(&mut self, id: RequestId) -> Option<Pending> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.0 != id.generation {
            return None;
        }
        let p = slot.1.take()?;
        slot.0 = slot.0.wrapping_add(1);
        self.free.push(id.index);
        self.by_tuple.remove(&key(&p.tuple));
        if let Some(n) = self.per_source.get_mut(&p.tuple.remote_ip) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&p.tuple.remote_ip);
            }
        }
        self.len -= 1;
        if self.len == 0 {
            self.order.clear();
        }
        Some(p)
    }

    /// The oldest request that came at or before `cutoff`, removed.
    pub(crate) fn expire_one(&mut self, cutoff: Instant) -> Option<(RequestId, Pending)> {
        while let Some(&(t, id)) = self.order.front() {
            if self.get(id).is_none() {
                self.order.pop_front();
                continue;
            }
            if t > cutoff {
                return None;
            }
            self.order.pop_front();
            return self.remove(id).map(|p| (id, p));
        }
        None
    }

    /// When the oldest request arrived (possibly one already decided: a
    /// spurious wake-up, never a late one).
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.order.front().map(|&(t, _)| t)
    }

    /// Every request of listener `l`, removed.
    pub(crate) fn remove_listener(&mut self, l: ListenerId) -> Vec<RequestId> {
        let ids: Vec<RequestId> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, (g, p))| {
                p.filter(|p| p.listener == l).map(|_| RequestId {
                    index: i as u32,
                    generation: *g,
                })
            })
            .collect();
        for &id in &ids {
            self.remove(id);
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_ports() {
        let r = Intercept::new(InterceptMode::Decide)
            .prefix("10.0.0.0".parse().unwrap(), 8)
            .unwrap()
            .prefix("2001:db8::".parse().unwrap(), 32)
            .unwrap()
            .ports(80, 443)
            .unwrap();
        assert!(r.matches("10.1.2.3:80".parse().unwrap()));
        assert!(r.matches("10.255.0.1:443".parse().unwrap()));
        assert!(!r.matches("10.1.2.3:79".parse().unwrap()));
        assert!(!r.matches("11.0.0.1:80".parse().unwrap()));
        assert!(r.matches("[2001:db8:1::5]:100".parse().unwrap()));
        assert!(!r.matches("[2001:db9::5]:100".parse().unwrap()));
        let all = Intercept::everything(InterceptMode::AcceptFirst);
        assert!(all.matches("1.2.3.4:1".parse().unwrap()));
        assert!(all.matches("[::1]:65535".parse().unwrap()));
        assert!(Intercept::new(InterceptMode::Decide).ports(0, 5).is_err());
        assert!(Intercept::new(InterceptMode::Decide).ports(9, 5).is_err());
        let v4: IpAddr = "1.2.3.4".parse().unwrap();
        assert!(
            Intercept::new(InterceptMode::Decide)
                .prefix(v4, 33)
                .is_err()
        );
        assert!(!Intercept::new(InterceptMode::Decide).matches("1.2.3.4:80".parse().unwrap()));
    }

    #[test]
    fn table_ids_are_not_reused_across_generations() {
        let mut r = Requests::new(TableHasher::with_seeds(1, 2, 3, 4));
        let t = FourTuple::new(
            "10.0.0.1:80".parse().unwrap(),
            "10.0.0.2:5000".parse().unwrap(),
        );
        let p = Pending::new(
            t,
            ListenerId(0),
            SeqNum(7),
            100,
            TcpFlags::SYN,
            &TcpOptions::default(),
            Instant::from_secs(1),
        );
        let a = r.insert(p);
        assert_eq!(r.find(&t), Some(a));
        assert_eq!(r.count_from(t.remote_ip), 1);
        assert!(r.remove(a).is_some());
        assert!(r.remove(a).is_none());
        let b = r.insert(p);
        assert_ne!(a, b, "a new generation");
        assert!(r.get(a).is_none());
        assert!(r.expire_one(Instant::from_millis(999)).is_none());
        assert_eq!(
            r.expire_one(Instant::from_secs(1)).map(|(id, _)| id),
            Some(b)
        );
        assert_eq!(r.len(), 0);
        assert_eq!(r.count_from(t.remote_ip), 0);
    }
}
