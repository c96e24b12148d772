//! The neighbor cache shared by ARP (RFC 826) and IPv6 neighbor discovery
//! (RFC 4861): IP address to MAC address, bounded, with expiry, and a small
//! queue of packets per address being resolved.

use super::ethernet::MacAddr;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Bounds and timers of the neighbor cache.
#[derive(Clone, Debug)]
pub struct NeighborConfig {
    /// Resolved entries kept at most; the one closest to expiry is evicted.
    pub capacity: usize,
    /// How long an answer is believed before it is confirmed again.
    pub lifetime: Duration,
    /// Time between solicitations for an unanswered address (RFC 1122
    /// 2.3.2.1: at most one per second per address).
    pub retry_interval: Duration,
    /// Solicitations sent before the address is given up and its queued
    /// packets dropped (RFC 4861 MAX_MULTICAST_SOLICIT is 3).
    pub max_tries: u8,
    /// Packets held per address while it is resolved (RFC 1122 asks for at
    /// least one).
    pub queue_per_destination: usize,
    /// Addresses being resolved at once; more are dropped at once.
    pub max_pending: usize,
}

impl Default for NeighborConfig {
    fn default() -> Self {
        NeighborConfig {
            capacity: 256,
            lifetime: Duration::from_secs(60),
            retry_interval: Duration::from_secs(1),
            max_tries: 3,
            queue_per_destination: 4,
            max_pending: 64,
        }
    }
}

struct Entry {
    mac: MacAddr,
    expires: Instant,
    /// Set when the entry expired and a confirmation was asked for; the old
    /// answer is used meanwhile, so a busy connection does not stall every
    /// `lifetime` (Linux's STALE state).
    refreshing_since: Option<Instant>,
}

struct Pending {
    queue: VecDeque<Vec<u8>>,
    tries: u8,
    next_try: Instant,
}

/// What to do with a packet for a next hop.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resolve {
    /// Send it to this MAC.
    Known(MacAddr),
    /// Send it to this MAC, and solicit the address to confirm the entry.
    Refresh(MacAddr),
    /// Held; solicit the address now (first packet for it).
    Solicit,
    /// Held behind a solicitation already sent.
    Queued,
    /// Dropped: the address's queue or the pending table is full.
    Dropped,
}

/// The cache itself. Times are passed in, so it is tested without a clock.
pub(super) struct NeighborCache {
    cfg: NeighborConfig,
    entries: HashMap<IpAddr, Entry>,
    pending: HashMap<IpAddr, Pending>,
}

impl NeighborCache {
    pub(super) fn new(cfg: NeighborConfig) -> NeighborCache {
        NeighborCache {
            cfg,
            entries: HashMap::new(),
            pending: HashMap::new(),
        }
    }

    /// Looks `ip` up for `packet`, holding a copy of the packet if the
    /// address is not resolved yet.
    pub(super) fn resolve(&mut self, ip: IpAddr, packet: &[u8], now: Instant) -> Resolve {
        let give_up = self.cfg.retry_interval * u32::from(self.cfg.max_tries);
        if let Some(e) = self.entries.get_mut(&ip) {
            if now < e.expires {
                return Resolve::Known(e.mac);
            }
            match e.refreshing_since {
                None => {
                    e.refreshing_since = Some(now);
                    return Resolve::Refresh(e.mac);
                }
                Some(t) if now.saturating_duration_since(t) < give_up => {
                    return Resolve::Known(e.mac);
                }
                // Unconfirmed for too long: the neighbor may be gone.
                Some(_) => {
                    self.entries.remove(&ip);
                }
            }
        }
        if let Some(p) = self.pending.get_mut(&ip) {
            if p.queue.len() >= self.cfg.queue_per_destination {
                return Resolve::Dropped;
            }
            p.queue.push_back(packet.to_vec());
            return Resolve::Queued;
        }
        if self.pending.len() >= self.cfg.max_pending || self.cfg.queue_per_destination == 0 {
            return Resolve::Dropped;
        }
        self.pending.insert(
            ip,
            Pending {
                queue: VecDeque::from([packet.to_vec()]),
                tries: 1,
                next_try: now + self.cfg.retry_interval,
            },
        );
        Resolve::Solicit
    }

    /// Records that `ip` is at `mac` and returns the packets that waited
    /// for it. With `create` false only an address already known or being
    /// resolved is updated (RFC 826's merge rule: a packet not addressed to
    /// us must not fill the cache).
    pub(super) fn learn(
        &mut self,
        ip: IpAddr,
        mac: MacAddr,
        now: Instant,
        create: bool,
    ) -> VecDeque<Vec<u8>> {
        let known = self.entries.contains_key(&ip) || self.pending.contains_key(&ip);
        if !create && !known {
            return VecDeque::new();
        }
        if !self.entries.contains_key(&ip) && self.entries.len() >= self.cfg.capacity {
            self.evict_one();
        }
        if self.cfg.capacity > 0 {
            self.entries.insert(
                ip,
                Entry {
                    mac,
                    expires: now + self.cfg.lifetime,
                    refreshing_since: None,
                },
            );
        }
        self.pending
            .remove(&ip)
            .map(|p| p.queue)
            .unwrap_or_default()
    }

    fn evict_one(&mut self) {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, e)| e.expires)
            .map(|(ip, _)| *ip);
        if let Some(ip) = oldest {
            self.entries.remove(&ip);
        }
    }

    /// The MAC for `ip` if known and fresh.
    pub(super) fn lookup(&self, ip: IpAddr, now: Instant) -> Option<MacAddr> {
        self.entries
            .get(&ip)
            .filter(|e| now < e.expires)
            .map(|e| e.mac)
    }

    /// When the next solicitation is due.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.next_try).min()
    }

    /// Retries due solicitations. Returns the addresses to solicit again and
    /// how many held packets were dropped for addresses given up.
    pub(super) fn handle_timeout(&mut self, now: Instant) -> (Vec<IpAddr>, usize) {
        let mut again = Vec::new();
        let mut dropped = 0;
        let max_tries = self.cfg.max_tries;
        let retry = self.cfg.retry_interval;
        self.pending.retain(|ip, p| {
            if p.next_try > now {
                return true;
            }
            if p.tries >= max_tries {
                dropped += p.queue.len();
                return false;
            }
            p.tries += 1;
            p.next_try = now + retry;
            again.push(*ip);
            true
        });
        (again, dropped)
    }

    /// Resolved entries.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([198, 18, 0, n])
    }

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 9]);

    #[test]
    fn queues_until_learned_then_releases_in_order() {
        let t0 = Instant::now();
        let mut c = NeighborCache::new(NeighborConfig::default());
        assert_eq!(c.resolve(ip(1), b"a", t0), Resolve::Solicit);
        assert_eq!(c.resolve(ip(1), b"b", t0), Resolve::Queued);
        let released = c.learn(ip(1), MAC, t0, false);
        assert_eq!(released, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(c.resolve(ip(1), b"c", t0), Resolve::Known(MAC));
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn per_destination_queue_is_bounded() {
        let t0 = Instant::now();
        let mut c = NeighborCache::new(NeighborConfig::default());
        assert_eq!(c.resolve(ip(1), b"0", t0), Resolve::Solicit);
        for _ in 1..4 {
            assert_eq!(c.resolve(ip(1), b"x", t0), Resolve::Queued);
        }
        assert_eq!(c.resolve(ip(1), b"x", t0), Resolve::Dropped);
    }

    #[test]
    fn three_tries_then_drop() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut c = NeighborCache::new(NeighborConfig::default());
        c.resolve(ip(1), b"a", t0);
        c.resolve(ip(1), b"b", t0);
        assert_eq!(c.poll_timeout(), Some(t0 + s));
        assert_eq!(c.handle_timeout(t0), (vec![], 0));
        assert_eq!(c.handle_timeout(t0 + s), (vec![ip(1)], 0));
        assert_eq!(c.handle_timeout(t0 + 2 * s), (vec![ip(1)], 0));
        assert_eq!(c.handle_timeout(t0 + 3 * s), (vec![], 2));
        assert_eq!(c.poll_timeout(), None);
        // A fresh attempt starts over.
        assert_eq!(c.resolve(ip(1), b"c", t0 + 3 * s), Resolve::Solicit);
    }

    #[test]
    fn capacity_evicts_oldest_and_merge_rule_holds() {
        let t0 = Instant::now();
        let cfg = NeighborConfig {
            capacity: 2,
            ..NeighborConfig::default()
        };
        let mut c = NeighborCache::new(cfg);
        c.learn(ip(1), MAC, t0, true);
        c.learn(ip(2), MAC, t0 + Duration::from_secs(1), true);
        c.learn(ip(3), MAC, t0 + Duration::from_secs(2), true);
        assert_eq!(c.len(), 2);
        assert_eq!(c.lookup(ip(1), t0), None);
        assert!(c.lookup(ip(3), t0).is_some());
        // Not addressed to us and unknown: not learned.
        c.learn(ip(4), MAC, t0, false);
        assert_eq!(c.lookup(ip(4), t0), None);
    }

    #[test]
    fn expired_entry_is_used_while_confirmed() {
        let t0 = Instant::now();
        let mut c = NeighborCache::new(NeighborConfig::default());
        c.learn(ip(1), MAC, t0, true);
        let later = t0 + Duration::from_secs(61);
        assert_eq!(c.resolve(ip(1), b"a", later), Resolve::Refresh(MAC));
        assert_eq!(c.resolve(ip(1), b"a", later), Resolve::Known(MAC));
        // No answer for the whole retry budget: resolve from scratch.
        let much_later = later + Duration::from_secs(3);
        assert_eq!(c.resolve(ip(1), b"a", much_later), Resolve::Solicit);
    }
}
