//! Ephemeral port selection (RFC 6056 section 3.3.4, Algorithm 4,
//! "Double-Hash Port Selection").
//!
//! Predictable ephemeral ports make blind attacks on a connection easier:
//! the attacker has to guess the port as well as the sequence numbers
//! (RFC 6056 section 1). Algorithm 4 starts each search at a secret,
//! per-destination offset, so ports to one peer reveal nothing about ports
//! to another, and adds a perturbation taken from a small table indexed by a
//! second hash. The table entry advances with every use, so repeated
//! connections to the same destination walk through the range instead of
//! colliding with the TIME-WAIT state of their predecessors, while
//! destinations that share a table slot are still hard to relate.
//!
//! ```text
//! offset = F(local_ip, remote_ip, remote_port, key)
//! index  = G(local_ip, remote_ip, remote_port, key) mod TABLE_LEN
//! port   = min + (offset + table[index] + i) mod num_ephemeral,  i = 0, 1, ...
//! ```
//!
//! F and G are the low and the high half of one SipHash-2-4 output: the
//! halves of a PRF's output are two independent keyed functions, and one
//! hash per connection costs half as much as two.

use core::net::{IpAddr, SocketAddr};
use core::ops::RangeInclusive;

use crate::secret::{HashInput, Secret};

/// Entries in the perturbation table. RFC 6056 suggests a table much
/// smaller than the number of likely destinations; 256 entries (512 bytes)
/// per endpoint is plenty.
const TABLE_LEN: usize = 256;

/// Chooses local ports for active opens.
#[derive(Clone)]
pub struct PortAllocator {
    /// First port of the range.
    min: u16,
    /// Number of ports in the range, 0 when it is empty. Up to 65535
    /// (port 0 is never used), so it needs more than 16 bits only in
    /// intermediate sums.
    num: u32,
    /// The key of F and G.
    key: (u64, u64),
    /// Per-slot perturbations, kept reduced modulo `num`.
    table: [u16; TABLE_LEN],
    /// The last destination hashed, with its offset (F mod the range)
    /// and table index (G). Both depend on the destination alone, and a
    /// client opens connection after connection to the same server (a
    /// proxy to its backend, a load generator): the keyed hash and the
    /// division are then done once, not once per connection.
    last: Option<(IpAddr, SocketAddr, u32, usize)>,
}

impl core::fmt::Debug for PortAllocator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Keys and table are secret-derived state; only show the range.
        f.debug_struct("PortAllocator")
            .field("min", &self.min)
            .field("num", &self.num)
            .finish_non_exhaustive()
    }
}

impl PortAllocator {
    /// An allocator over `range` (the engine uses 49152..=65535, the IANA
    /// dynamic range recommended by RFC 6056 section 3.2). Port 0 is
    /// dropped from the range since it is never a valid local port; an
    /// empty or reversed range gives an allocator whose
    /// [`select`](Self::select) always returns `None`.
    pub fn new(secret: &Secret, range: RangeInclusive<u16>) -> Self {
        let start = (*range.start()).max(1);
        let end = *range.end();
        let num = if range.is_empty() || start > end {
            0
        } else {
            u32::from(end - start) + 1
        };
        PortAllocator {
            min: start,
            num,
            key: secret.derive(b"synack ports rfc6056 F"),
            table: [0; TABLE_LEN],
            last: None,
        }
    }

    /// Picks a local port for a connection from `local` to `remote`,
    /// skipping every candidate for which `in_use(port)` is true. Each port
    /// of the range is offered to `in_use` at most once per call; when all
    /// of them are taken the answer is `None` (the engine reports
    /// AddrNotAvailable).
    pub fn select(
        &mut self,
        local: IpAddr,
        remote: SocketAddr,
        mut in_use: impl FnMut(u16) -> bool,
    ) -> Option<u16> {
        if self.num == 0 {
            return None;
        }
        let num = self.num;
        let (offset, index) = match self.last {
            Some((l, r, offset, index)) if l == local && r == remote => (offset, index),
            _ => {
                let h = self.hash(local, remote);
                let offset = ((h & 0xFFFF_FFFF) % u64::from(num)) as u32;
                // TABLE_LEN is a power of two, so masking is an exact
                // reduction.
                let index = ((h >> 32) as usize) & (TABLE_LEN - 1);
                self.last = Some((local, remote, offset, index));
                (offset, index)
            }
        };
        let base = u32::from(self.table[index]);
        // Walking i over 0..num with one reduction per step (rather than
        // incrementing the u16 table entry as the RFC's pseudocode does)
        // visits every port exactly once even when num does not divide
        // 65536. offset, base and i are each below num, so a reduction is
        // at most two subtractions (no division on this path).
        let reduce = |mut x: u32| {
            while x >= num {
                x -= num;
            }
            x
        };
        for i in 0..num {
            let port = u32::from(self.min) + reduce(offset + base + i);
            // min + (x mod num) <= end <= 65535, so this never truncates.
            let port = port as u16;
            if !in_use(port) {
                // Algorithm 4 advances the slot by every probe made, so the
                // next search for this slot starts past this port.
                self.table[index] = reduce(base + i + 1) as u16;
                return Some(port);
            }
        }
        // A full lap leaves the slot where it was (base + num = base mod num).
        None
    }

    fn hash(&self, local: IpAddr, remote: SocketAddr) -> u64 {
        HashInput::new()
            .ip(local)
            .ip(remote.ip())
            .bytes(&remote.port().to_be_bytes())
            .hash(self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    fn alloc(range: RangeInclusive<u16>) -> PortAllocator {
        PortAllocator::new(&Secret::from_bytes(*b"ports-secret-16b"), range)
    }

    fn local() -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))
    }

    fn remote(i: u32) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i)), 443)
    }

    /// SA-15: chosen ports stay in the configured range.
    #[test]
    fn ports_stay_in_range() {
        for range in [49152..=65535, 1024..=1100, 60000..=60006, 65530..=65535] {
            let mut a = alloc(range.clone());
            for i in 0..500 {
                let p = a.select(local(), remote(i % 7), |_| false).unwrap();
                assert!(range.contains(&p), "{p} not in {range:?}");
            }
        }
    }

    /// SA-15: ports to different destinations are spread over the range, not
    /// handed out in sequence.
    #[test]
    fn distinct_remotes_are_spread() {
        let mut a = alloc(49152..=65535);
        let ports: Vec<u16> = (0..1000)
            .map(|i| a.select(local(), remote(i), |_| false).unwrap())
            .collect();
        let consecutive = ports
            .windows(2)
            .filter(|w| w[0].abs_diff(w[1]) == 1)
            .count();
        assert!(consecutive < 100, "{consecutive} consecutive pairs");
        let distinct: HashSet<_> = ports.iter().collect();
        assert!(distinct.len() > 900, "only {} distinct", distinct.len());
        // Both halves of the range get used.
        assert!(ports.iter().any(|&p| p < 57344));
        assert!(ports.iter().any(|&p| p >= 57344));
    }

    /// The memo of the last destination's hash never answers for another
    /// destination: alternating between two gives each the port a fresh
    /// allocator would give it.
    #[test]
    fn destination_memo_follows_the_destination() {
        let mut mixed = alloc(49152..=65535);
        let mut only_a = alloc(49152..=65535);
        let mut only_b = alloc(49152..=65535);
        let (a, b) = (remote(1), remote(2));
        for _ in 0..20 {
            let pa = mixed.select(local(), a, |_| false);
            assert_eq!(pa, only_a.select(local(), a, |_| false));
            let pb = mixed.select(local(), b, |_| false);
            assert_eq!(pb, only_b.select(local(), b, |_| false));
        }
    }

    /// SA-15: repeated connections to the same destination get fresh ports
    /// because the perturbation table entry advances.
    #[test]
    fn same_remote_advances() {
        let mut a = alloc(49152..=65535);
        let r = remote(1);
        let ports: Vec<u16> = (0..50)
            .map(|_| a.select(local(), r, |_| false).unwrap())
            .collect();
        let distinct: HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len());
        // A different local address is a different destination key.
        let other = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let mut b = alloc(49152..=65535);
        let first = b.select(local(), r, |_| false);
        let mut c = alloc(49152..=65535);
        assert_ne!(first, c.select(other, r, |_| false));
    }

    /// SA-15: ports reported in use are skipped, and the selection works
    /// for IPv6 too.
    #[test]
    fn in_use_ports_skipped() {
        let mut a = alloc(40000..=40009);
        let r: SocketAddr = "[2001:db8::5]:8080".parse().unwrap();
        let l: IpAddr = "2001:db8::1".parse().unwrap();
        let mut taken = HashSet::new();
        for _ in 0..10 {
            let p = a.select(l, r, |p| taken.contains(&p)).unwrap();
            assert!(taken.insert(p), "port {p} handed out twice");
        }
        assert_eq!(a.select(l, r, |p| taken.contains(&p)), None);
        // Freeing one makes exactly that one available.
        taken.remove(&40004);
        assert_eq!(a.select(l, r, |p| taken.contains(&p)), Some(40004));
    }

    /// SA-15: with every port busy, each is probed exactly once and the
    /// answer is None.
    #[test]
    fn exhaustion_probes_each_port_once() {
        for range in [49152..=65535u16, 1000..=1006, 1..=65535] {
            let mut a = alloc(range.clone());
            let mut seen = HashSet::new();
            let mut probes = 0usize;
            let got = a.select(local(), remote(3), |p| {
                probes += 1;
                assert!(seen.insert(p), "port {p} probed twice");
                true
            });
            assert_eq!(got, None);
            assert_eq!(probes, range.len());
        }
    }

    /// SA-15: a one-port range, and empty or reversed ranges.
    #[test]
    fn degenerate_ranges() {
        let mut a = alloc(5000..=5000);
        assert_eq!(a.select(local(), remote(1), |_| false), Some(5000));
        assert_eq!(a.select(local(), remote(2), |_| false), Some(5000));
        let mut probes = 0;
        assert_eq!(
            a.select(local(), remote(1), |_| {
                probes += 1;
                true
            }),
            None
        );
        assert_eq!(probes, 1);

        #[allow(clippy::reversed_empty_ranges)]
        let mut rev = alloc(6000..=5000);
        assert_eq!(rev.select(local(), remote(1), |_| panic!("probed")), None);
        let mut zero = alloc(0..=0);
        assert_eq!(zero.select(local(), remote(1), |_| panic!("probed")), None);
        let mut exhausted = 7..=7u16;
        exhausted.next();
        let mut ex = alloc(exhausted);
        assert_eq!(ex.select(local(), remote(1), |_| panic!("probed")), None);
        // Port 0 is never handed out.
        let mut low = alloc(0..=1);
        for i in 0..10 {
            assert_eq!(low.select(local(), remote(i), |_| false), Some(1));
        }
    }
}
