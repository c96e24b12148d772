//! An Ethernet layer over any device that carries frames (a TAP link, or a
//! [`ChannelDevice`](super::ChannelDevice) in tests): it presents IP
//! datagrams upward, answers ARP and neighbor solicitations for our
//! addresses, and resolves next hops before sending.

use super::arp::{self, ARP_LEN, ArpPacket, ETHERTYPE_ARP};
use super::ndp::{self, Ndp};
use super::neighbor::{NeighborCache, NeighborConfig, Resolve};
use super::{Device, DeviceCounters};
use core::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::RawFd;
use std::time::Instant;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const HEADER_LEN: usize = 14;

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// A locally administered unicast address (02:...) derived from an IP
    /// address, so each stack on a link gets a distinct one by default.
    pub fn from_ip(ip: IpAddr) -> MacAddr {
        let tail = match ip {
            IpAddr::V4(v4) => v4.octets(),
            IpAddr::V6(v6) => {
                let o = v6.octets();
                [o[12], o[13], o[14], o[15]]
            }
        };
        MacAddr([0x02, 0x00, tail[0], tail[1], tail[2], tail[3]])
    }

    /// Group bit set: multicast or broadcast.
    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Our identity on the Ethernet segment.
#[derive(Clone, Debug)]
pub struct EthernetConfig {
    /// Our MAC address.
    pub mac: MacAddr,
    /// Our IPv4 address and prefix length, answered in ARP.
    pub ipv4: Option<(Ipv4Addr, u8)>,
    /// Our IPv6 address and prefix length, answered in neighbor discovery.
    pub ipv6: Option<(Ipv6Addr, u8)>,
    /// Next hop for IPv4 destinations outside our prefix; without one every
    /// destination is taken to be on the link.
    pub gateway_v4: Option<Ipv4Addr>,
    /// Next hop for IPv6 destinations outside our prefix.
    pub gateway_v6: Option<Ipv6Addr>,
    /// Neighbor-cache bounds and timers.
    pub neighbor: NeighborConfig,
}

impl EthernetConfig {
    /// A host with address `ip` (prefix /24 for IPv4, /64 for IPv6), no
    /// gateway, and a MAC derived from `ip`.
    pub fn new(ip: IpAddr) -> EthernetConfig {
        let mut c = EthernetConfig {
            mac: MacAddr::from_ip(ip),
            ipv4: None,
            ipv6: None,
            gateway_v4: None,
            gateway_v6: None,
            neighbor: NeighborConfig::default(),
        };
        c.add_address(ip);
        c
    }

    /// Adds (or replaces) the address of `ip`'s family.
    pub fn add_address(&mut self, ip: IpAddr) -> &mut Self {
        match ip {
            IpAddr::V4(v4) => self.ipv4 = Some((v4, 24)),
            IpAddr::V6(v6) => self.ipv6 = Some((v6, 64)),
        }
        self
    }

    /// The next hop toward `dst`: itself if on the link, else the gateway.
    fn next_hop(&self, dst: IpAddr) -> IpAddr {
        match dst {
            IpAddr::V4(d) => match (self.gateway_v4, self.ipv4) {
                (Some(gw), Some((ours, len))) if !same_prefix(&d.octets(), &ours.octets(), len) => {
                    IpAddr::V4(gw)
                }
                _ => dst,
            },
            IpAddr::V6(d) => match (self.gateway_v6, self.ipv6) {
                (Some(gw), Some((ours, len))) if !same_prefix(&d.octets(), &ours.octets(), len) => {
                    IpAddr::V6(gw)
                }
                _ => dst,
            },
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], len: u8) -> bool {
    let bits = usize::from(len).min(a.len() * 8);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// What the Ethernet layer sent of its own. What it dropped is in
/// [`Device::counters`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EthernetStats {
    /// ARP requests we sent to resolve a next hop.
    pub arp_requests: u64,
    /// ARP replies we sent for our address.
    pub arp_replies: u64,
    /// Neighbor solicitations we sent.
    pub neighbor_solicits: u64,
    /// Neighbor advertisements we sent.
    pub neighbor_adverts: u64,
}

/// IP over Ethernet over a device `D` that carries frames.
pub struct Ethernet<D> {
    link: D,
    cfg: EthernetConfig,
    cache: NeighborCache,
    /// Scratch space for frames and link-layer replies, reused.
    frame: Vec<u8>,
    scratch: Vec<u8>,
    stats: EthernetStats,
    /// This layer's drops; the link's own are added when asked.
    dropped: DeviceCounters,
}

impl<D: Device> Ethernet<D> {
    /// Wraps `link`, which must carry whole Ethernet frames without FCS.
    pub fn new(link: D, cfg: EthernetConfig) -> Ethernet<D> {
        Ethernet {
            cache: NeighborCache::new(cfg.neighbor.clone()),
            link,
            cfg,
            frame: Vec::new(),
            scratch: Vec::new(),
            stats: EthernetStats::default(),
            dropped: DeviceCounters::default(),
        }
    }

    /// Our configuration.
    pub fn config(&self) -> &EthernetConfig {
        &self.cfg
    }

    /// What this layer sent of its own.
    pub fn stats(&self) -> &EthernetStats {
        &self.stats
    }

    /// The MAC address cached for `ip`, if fresh.
    pub fn neighbor(&self, ip: IpAddr) -> Option<MacAddr> {
        self.cache.lookup(ip, Instant::now())
    }

    /// The underlying link.
    pub fn link(&self) -> &D {
        &self.link
    }

    fn emit(&mut self, dst: MacAddr, ethertype: u16, payload: &[u8]) -> io::Result<()> {
        self.frame.clear();
        self.frame.extend_from_slice(&dst.0);
        self.frame.extend_from_slice(&self.cfg.mac.0);
        self.frame.extend_from_slice(&ethertype.to_be_bytes());
        self.frame.extend_from_slice(payload);
        self.link.send(&self.frame)
    }

    /// Sends a frame of this layer's own making (ARP, neighbor discovery,
    /// a datagram released by an answer): no caller waits on its result,
    /// so a failure is counted as a drop rather than returned.
    fn emit_own(&mut self, dst: MacAddr, ethertype: u16, payload: &[u8]) {
        if self.emit(dst, ethertype, payload).is_err() {
            self.dropped.tx_dropped += 1;
        }
    }

    fn emit_all(&mut self, dst: MacAddr, packets: impl IntoIterator<Item = Vec<u8>>) {
        for p in packets {
            self.emit_own(dst, ip_ethertype(&p), &p);
        }
    }

    /// Asks the link who has `ip`. Without an address of `ip`'s family
    /// there is nothing to ask from: the held datagrams are dropped, and
    /// counted, when the last try is over.
    fn solicit(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(target) => {
                let Some((ours, _)) = self.cfg.ipv4 else {
                    return;
                };
                let req = ArpPacket::request(self.cfg.mac, ours, target).to_bytes();
                self.stats.arp_requests += 1;
                self.emit_own(MacAddr::BROADCAST, ETHERTYPE_ARP, &req);
            }
            IpAddr::V6(target) => {
                let Some((ours, _)) = self.cfg.ipv6 else {
                    return;
                };
                let mut ns = std::mem::take(&mut self.scratch);
                ndp::solicit(ours, self.cfg.mac, target, &mut ns);
                self.stats.neighbor_solicits += 1;
                self.emit_own(
                    multicast_mac(IpAddr::V6(ndp::solicited_node(target))),
                    ETHERTYPE_IPV6,
                    &ns,
                );
                self.scratch = ns;
            }
        }
    }

    fn on_arp(&mut self, body: &[u8], now: Instant) {
        let Some(p) = ArpPacket::parse(body) else {
            self.dropped.arp_in_errors += 1;
            return;
        };
        let ours = self.cfg.ipv4.map(|(ip, _)| ip);
        let out = arp::receive(&p, self.cfg.mac, ours, &mut self.cache, now);
        if let Some(reply) = out.reply {
            self.stats.arp_replies += 1;
            let bytes: [u8; ARP_LEN] = reply.to_bytes();
            self.emit_own(reply.tha, ETHERTYPE_ARP, &bytes);
        }
        self.emit_all(p.sha, out.released);
    }

    /// Handles neighbor discovery; returns false if `datagram` is not ND
    /// and should go up.
    fn on_ndp(&mut self, src_mac: MacAddr, datagram: &[u8], now: Instant) -> bool {
        let Some(msg) = ndp::parse(datagram) else {
            return false;
        };
        match msg {
            Ndp::Solicit {
                src,
                target,
                source_ll,
            } => {
                let Some((ours, _)) = self.cfg.ipv6.filter(|(ip, _)| *ip == target) else {
                    self.dropped.ndisc_ignored += 1;
                    return true;
                };
                let mac = source_ll.unwrap_or(src_mac);
                if !src.is_unspecified() {
                    let released = self.cache.learn(IpAddr::V6(src), mac, now, true);
                    self.emit_all(mac, released);
                }
                // A DAD probe from :: is answered to all nodes, unsolicited.
                let (dst, solicited) = if src.is_unspecified() {
                    (Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), false)
                } else {
                    (src, true)
                };
                let mut na = std::mem::take(&mut self.scratch);
                ndp::advert(ours, self.cfg.mac, dst, solicited, &mut na);
                self.stats.neighbor_adverts += 1;
                let to = if solicited {
                    mac
                } else {
                    multicast_mac(IpAddr::V6(dst))
                };
                self.emit_own(to, ETHERTYPE_IPV6, &na);
                self.scratch = na;
            }
            Ndp::Advert { target, target_ll } => {
                let mac = target_ll.unwrap_or(src_mac);
                let released = self.cache.learn(IpAddr::V6(target), mac, now, false);
                self.emit_all(mac, released);
            }
            Ndp::Unused => self.dropped.ndisc_ignored += 1,
            Ndp::Invalid => self.dropped.ndisc_in_errors += 1,
        }
        true
    }
}

impl<D: Device> Device for Ethernet<D> {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // Link-layer traffic is handled here and never surfaces, so read on
        // until an IP datagram or nothing.
        loop {
            let Some(n) = self.link.recv(buf)? else {
                return Ok(None);
            };
            let now = Instant::now();
            if n < HEADER_LEN {
                self.dropped.rx_length_errors += 1;
                continue;
            }
            let dst = MacAddr(buf[0..6].try_into().unwrap_or([0; 6]));
            let src = MacAddr(buf[6..12].try_into().unwrap_or([0; 6]));
            if dst != self.cfg.mac && !dst.is_multicast() {
                self.dropped.rx_otherhost_dropped += 1;
                continue;
            }
            match u16::from_be_bytes([buf[12], buf[13]]) {
                ETHERTYPE_ARP => self.on_arp(&buf[HEADER_LEN..n], now),
                ETHERTYPE_IPV4 => {
                    buf.copy_within(HEADER_LEN..n, 0);
                    return Ok(Some(n - HEADER_LEN));
                }
                ETHERTYPE_IPV6 => {
                    if !self.on_ndp(src, &buf[HEADER_LEN..n], now) {
                        buf.copy_within(HEADER_LEN..n, 0);
                        return Ok(Some(n - HEADER_LEN));
                    }
                }
                _ => self.dropped.rx_nohandler += 1,
            }
        }
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        let Some(dst) = ip_destination(packet) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not an IP datagram",
            ));
        };
        let ethertype = ip_ethertype(packet);
        if dst.is_multicast() || dst == IpAddr::V4(Ipv4Addr::BROADCAST) {
            return self.emit(multicast_mac(dst), ethertype, packet);
        }
        let hop = self.cfg.next_hop(dst);
        match self.cache.resolve(hop, packet, Instant::now()) {
            Resolve::Known(mac) => self.emit(mac, ethertype, packet),
            Resolve::Refresh(mac) => {
                let sent = self.emit(mac, ethertype, packet);
                // Confirm the entry whether or not the datagram went out.
                self.solicit(hop);
                sent
            }
            Resolve::Solicit => {
                self.solicit(hop);
                Ok(())
            }
            Resolve::Queued => Ok(()),
            Resolve::Dropped => {
                self.dropped.unresolved_discards += 1;
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.link.flush()
    }

    fn raw_fd(&self) -> RawFd {
        self.link.raw_fd()
    }

    fn mtu(&self) -> usize {
        self.link.mtu().saturating_sub(HEADER_LEN)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let own = self.cache.poll_timeout();
        match (own, self.link.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.link.handle_timeout(now);
        let (again, dropped) = self.cache.handle_timeout(now);
        self.dropped.unresolved_discards += dropped as u64;
        for ip in again {
            self.solicit(ip);
        }
    }

    fn counters(&self) -> DeviceCounters {
        let mut c = self.link.counters();
        c.merge(&self.dropped);
        c
    }
}

/// The destination address of an IPv4 or IPv6 datagram.
fn ip_destination(p: &[u8]) -> Option<IpAddr> {
    match p.first()? >> 4 {
        4 if p.len() >= 20 => Some(IpAddr::from(<[u8; 4]>::try_from(&p[16..20]).ok()?)),
        6 if p.len() >= 40 => Some(IpAddr::from(<[u8; 16]>::try_from(&p[24..40]).ok()?)),
        _ => None,
    }
}

fn ip_ethertype(p: &[u8]) -> u16 {
    if p.first().is_some_and(|b| b >> 4 == 6) {
        ETHERTYPE_IPV6
    } else {
        ETHERTYPE_IPV4
    }
}

/// The Ethernet group address of an IP multicast or broadcast address (RFC
/// 1112 6.4, RFC 2464 7).
fn multicast_mac(ip: IpAddr) -> MacAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_multicast() => {
            let o = v4.octets();
            MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        IpAddr::V4(_) => MacAddr::BROADCAST,
        IpAddr::V6(v6) => {
            let o = v6.octets();
            MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_next_hops() {
        assert!(same_prefix(&[198, 18, 0, 1], &[198, 18, 0, 200], 24));
        assert!(!same_prefix(&[198, 18, 1, 1], &[198, 18, 0, 1], 24));
        assert!(same_prefix(&[198, 19, 1, 1], &[198, 18, 0, 1], 15));
        assert!(same_prefix(&[1, 2, 3, 4], &[5, 6, 7, 8], 0));
        let mut cfg = EthernetConfig::new("198.18.0.2".parse().unwrap());
        let far: IpAddr = "198.19.0.9".parse().unwrap();
        assert_eq!(cfg.next_hop(far), far);
        cfg.gateway_v4 = Some("198.18.0.1".parse().unwrap());
        assert_eq!(cfg.next_hop(far), "198.18.0.1".parse::<IpAddr>().unwrap());
        let near: IpAddr = "198.18.0.7".parse().unwrap();
        assert_eq!(cfg.next_hop(near), near);
    }

    #[test]
    fn macs() {
        let m = MacAddr::from_ip("198.18.0.2".parse().unwrap());
        assert_eq!(m.to_string(), "02:00:c6:12:00:02");
        assert!(!m.is_multicast());
        assert!(MacAddr::BROADCAST.is_multicast());
        assert_eq!(
            multicast_mac("ff02::1:ff00:2".parse().unwrap()),
            MacAddr([0x33, 0x33, 0xff, 0, 0, 2])
        );
        assert_eq!(
            multicast_mac("224.0.0.251".parse().unwrap()),
            MacAddr([1, 0, 0x5e, 0, 0, 251])
        );
    }
}
