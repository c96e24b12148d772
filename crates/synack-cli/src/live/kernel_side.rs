//! What the kernel's side of a TUN or TAP device still needs before
//! traffic for the stack's address can arrive: the link up, and a route
//! (or an address on the link, which brings one) covering that address.
//! Read from `/sys/class/net` and `/proc/net`, which need no privileges;
//! anything unreadable counts as "cannot tell" and says nothing.

use std::net::IpAddr;
use std::path::Path;

/// Whether a network interface of this name exists in our namespace.
pub fn exists(ifname: &str) -> bool {
    Path::new("/sys/class/net").join(ifname).exists()
}

/// Whether the interface is administratively up (IFF_UP); `None` if its
/// flags cannot be read.
pub fn is_up(ifname: &str) -> Option<bool> {
    let flags =
        std::fs::read_to_string(Path::new("/sys/class/net").join(ifname).join("flags")).ok()?;
    let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).ok()?;
    Some(flags & 1 != 0)
}

/// Whether the kernel routes `ip` out of `ifname`; `None` if the routing
/// table cannot be read.
pub fn routes_to(ifname: &str, ip: IpAddr) -> Option<bool> {
    match ip {
        IpAddr::V4(a) => {
            let table = std::fs::read_to_string("/proc/net/route").ok()?;
            Some(v4_route(&table, ifname, u32::from(a)))
        }
        IpAddr::V6(a) => {
            let table = std::fs::read_to_string("/proc/net/ipv6_route").ok()?;
            Some(v6_route(&table, ifname, u128::from(a)))
        }
    }
}

/// `/proc/net/route`: `Iface Destination Gateway Flags RefCnt Use Metric
/// Mask ...`, each address printed as the host-order integer whose bytes
/// in memory are the address in network order.
fn v4_route(table: &str, ifname: &str, ip: u32) -> bool {
    let addr = |s: &str| {
        u32::from_str_radix(s, 16)
            .ok()
            .map(|v| u32::from_be_bytes(v.to_ne_bytes()))
    };
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        match (
            f.first(),
            f.get(1).and_then(|s| addr(s)),
            f.get(7).and_then(|s| addr(s)),
        ) {
            (Some(&name), Some(dst), Some(mask)) if name == ifname => ip & mask == dst & mask,
            _ => false,
        }
    })
}

/// `/proc/net/ipv6_route`: `dest prefixlen src srcprefixlen nexthop metric
/// refcnt use flags iface`, addresses as 32 hex digits.
fn v6_route(table: &str, ifname: &str, ip: u128) -> bool {
    table.lines().any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[9] != ifname {
            return false;
        }
        let (Ok(dst), Ok(len)) = (
            u128::from_str_radix(f[0], 16),
            u32::from_str_radix(f[1], 16),
        ) else {
            return false;
        };
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len.min(128))
        };
        ip & mask == dst & mask
    })
}

/// One line for each thing the kernel's side still lacks, to tell the
/// user; `created` says synack made the device just now.
pub fn what_is_missing(ifname: &str, ip: IpAddr, created: bool) -> Vec<String> {
    let mut out = Vec::new();
    let made = if created {
        format!("synack created the device {ifname} (it did not exist); ")
    } else {
        String::new()
    };
    if is_up(ifname) == Some(false) {
        out.push(format!(
            "{made}{ifname} is down, so no traffic reaches synack: ip link set {ifname} up"
        ));
    }
    if routes_to(ifname, ip) == Some(false) {
        let peer = match ip {
            IpAddr::V4(_) => "an address in the same subnet",
            IpAddr::V6(_) => "an address in the same prefix",
        };
        out.push(format!(
            "{made}the kernel has no route to {ip} through {ifname}, so its traffic for \
             {ip} does not reach synack: give the kernel's side {peer} \
             (ip addr add ADDR dev {ifname}) or a route (ip route add {ip} dev {ifname})"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_routes_from_proc_format() {
        // 198.18.0.0/24 on tun0 (bytes 0xC6 0x12 0x00 0x00, little-endian
        // in the file) and a default route on eth0.
        let table = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n\
                     tun0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                     eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
        let ip = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
        if cfg!(target_endian = "little") {
            assert!(v4_route(table, "tun0", ip("198.18.0.2")));
            assert!(!v4_route(table, "tun0", ip("198.18.1.2")));
            assert!(v4_route(table, "eth0", ip("1.2.3.4")), "default route");
        }
        assert!(!v4_route(table, "nosuch", ip("198.18.0.2")));
    }

    #[test]
    fn v6_routes_from_proc_format() {
        let table = "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 \
                     00000000000000000000000000000000 00000100 00000001 00000000 00000001 tun0\n";
        let ip = |s: &str| u128::from(s.parse::<std::net::Ipv6Addr>().unwrap());
        assert!(v6_route(table, "tun0", ip("2001:db8::2")));
        assert!(!v6_route(table, "tun0", ip("2001:db9::2")));
        assert!(!v6_route(table, "tun1", ip("2001:db8::2")));
    }
}
