//! Random packet loss inside a namespace, made with iptables' `statistic`
//! match (these kernels have no netem), with the counters to check it.
//!
//! The statistic match draws once per packet that netfilter sees, and
//! netfilter sees a socket's GSO super-packets (up to 64 KiB) before they
//! are cut into segments. A rule where one packet is one TCP segment is
//! therefore one of: a rule on packets arriving from a TUN device (synack
//! writes one segment per `write`), or one on packets that crossed a veth
//! whose sender cut them up ([`Netns::segment_in_software`]). A rule in
//! OUTPUT would also be wrong for another reason: a local sender is told
//! of the drop (`EPERM` from its transmit path) and simply sends again,
//! so it is no loss on the path at all.

use crate::{CommandFailed, Netns};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which packets a [`RandomDrop`] sees: those arriving on an interface
/// (`-i`) or those leaving by it (`-o`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crossing<'a> {
    /// Packets arriving on the named interface (`-i NAME`).
    In(&'a str),
    /// Packets leaving by the named interface (`-o NAME`).
    Out(&'a str),
}

/// What a [`RandomDrop`] counted since it was installed or last zeroed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropCounters {
    /// Packets that reached the rule.
    pub seen: u64,
    /// Packets it dropped.
    pub dropped: u64,
}

/// Random drops of the packets crossing one interface one way: a chain of
/// its own in the namespace's filter table, jumped to from `hook` for
/// those packets, holding a rule that only counts them and then the drop
/// rule. Removed with the namespace.
#[derive(Debug)]
pub struct RandomDrop {
    ns: String,
    chain: String,
}

static NEXT_CHAIN: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Runs `iptables ARGS...` inside the namespace: its own tables, so a
    /// rule added here touches no traffic outside it.
    pub fn iptables(&self, args: &[&str]) -> Result<Output, CommandFailed> {
        self.run_ok("iptables", args)
    }

    /// Drops each packet that reaches `hook` ("INPUT", "FORWARD" or
    /// "OUTPUT") `crossing` an interface with `probability` (0 to 1).
    pub fn random_drop(
        &self,
        hook: &str,
        crossing: Crossing<'_>,
        probability: f64,
    ) -> Result<RandomDrop, CommandFailed> {
        let n = NEXT_CHAIN.fetch_add(1, Ordering::Relaxed);
        let drop = RandomDrop {
            ns: self.name().to_string(),
            chain: format!("synack-loss-{n}"),
        };
        let chain = drop.chain.as_str();
        let (flag, dev) = match crossing {
            Crossing::In(dev) => ("-i", dev),
            Crossing::Out(dev) => ("-o", dev),
        };
        self.iptables(&["-N", chain])?;
        // No match and no target: it only counts what reaches the chain.
        self.iptables(&["-A", chain])?;
        self.iptables(&["-A", chain, "-j", "DROP"])?;
        drop.set_probability(probability)?;
        self.iptables(&["-A", hook, flag, dev, "-j", chain])?;
        Ok(drop)
    }

    /// Makes `dev` (a veth end) cut TCP's super-packets into segments as
    /// it sends them (TSO off; the socket still builds them, so the cost is
    /// small) and not glue received segments together (GRO off). Then every
    /// packet that crosses the link, and every packet a [`RandomDrop`]
    /// behind it sees, is one segment.
    pub fn segment_in_software(&self, dev: &str) -> io::Result<()> {
        let dev = dev.to_string();
        // The ioctl finds the device in the namespace of the socket it is
        // made on, so the socket is opened from inside.
        self.thread(move || {
            ethtool_set(&dev, ETHTOOL_STSO, 0)?;
            ethtool_set(&dev, ETHTOOL_SGRO, 0)
        })
        .join()
        .map_err(|_| io::Error::other("the ethtool thread panicked"))?
    }
}

impl RandomDrop {
    /// The chain's name in `iptables -L`.
    pub fn chain(&self) -> &str {
        &self.chain
    }

    /// Drops from now on with `probability` (0 to 1; 0 drops nothing).
    pub fn set_probability(&self, probability: f64) -> Result<(), CommandFailed> {
        assert!(
            (0.0..=1.0).contains(&probability),
            "a probability, not {probability}"
        );
        // iptables keeps it as a 31-bit fraction; nine digits say it all.
        let p = format!("{probability:.9}");
        self.iptables(&[
            "-R",
            &self.chain,
            "2",
            "-m",
            "statistic",
            "--mode",
            "random",
            "--probability",
            &p,
            "-j",
            "DROP",
        ])?;
        Ok(())
    }

    /// Packets seen and dropped since installed or [`RandomDrop::zero`].
    pub fn counters(&self) -> Result<DropCounters, CommandFailed> {
        let out = self.iptables(&["-L", &self.chain, "-v", "-x", "-n"])?;
        let text = String::from_utf8_lossy(&out.stdout);
        parse_counters(&text).ok_or_else(|| CommandFailed {
            message: format!(
                "`iptables -L {} -v -x -n` printed no two counted rules:\n{text}",
                self.chain
            ),
        })
    }

    /// Sets both counters to zero.
    pub fn zero(&self) -> Result<(), CommandFailed> {
        self.iptables(&["-Z", &self.chain])?;
        Ok(())
    }

    fn iptables(&self, args: &[&str]) -> Result<Output, CommandFailed> {
        let mut cmd = std::process::Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, "iptables"]).args(args);
        let shown = format!("iptables {} (in {})", args.join(" "), self.ns);
        crate::run_checked(cmd, &shown)
    }
}

/// The packet counts of the two rules in `iptables -L CHAIN -v -x -n`:
/// a `Chain` line, a column header, then one line per rule, packets first.
fn parse_counters(listing: &str) -> Option<DropCounters> {
    let mut rules = listing
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok());
    Some(DropCounters {
        seen: rules.next()?,
        dropped: rules.next()?,
    })
}

/// `<linux/ethtool.h>`: set TSO, set GRO (the `ethtool_value` commands,
/// which the kernel still maps onto its feature flags).
const ETHTOOL_STSO: u32 = 0x1f;
const ETHTOOL_SGRO: u32 = 0x2c;

/// `struct ethtool_value`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// One `SIOCETHTOOL` set command on `dev`, in the calling thread's
/// namespace (what `ethtool -K dev tso off` does, without the program).
fn ethtool_set(dev: &str, cmd: u32, data: u32) -> io::Result<()> {
    if dev.is_empty() || dev.len() >= libc::IFNAMSIZ {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {dev:?}"),
        ));
    }
    // SAFETY: socket has no memory-safety preconditions.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a descriptor we just opened and nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut value = EthtoolValue { cmd, data };
    // SAFETY: ifreq is plain data; all zeroes is a valid value of it.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(dev.bytes()) {
        *d = s as libc::c_char;
    }
    req.ifr_ifru.ifru_data = (&raw mut value).cast();
    // SAFETY: req names the device (NUL-terminated: zeroed past the name)
    // and points at `value`, which outlives the call; SIOCETHTOOL reads
    // and writes only those.
    let r = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCETHTOOL as _, &mut req) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return Err(io::Error::new(
            e.kind(),
            format!("SIOCETHTOOL {cmd:#x} on {dev}: {e}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{VethPair, require};

    #[test]
    fn counters_are_read_from_the_listing() {
        let listing = "Chain synack-loss-0 (1 references)\n    pkts      bytes target     \
                       prot opt in     out     source               destination\n   \
                       12345  6789012            0    --  *      *       0.0.0.0/0            \
                       0.0.0.0/0\n     117   175500 DROP       0    --  *      *       \
                       0.0.0.0/0            0.0.0.0/0            statistic mode random \
                       probability 0.01000000000\n";
        assert_eq!(
            parse_counters(listing),
            Some(DropCounters {
                seen: 12345,
                dropped: 117
            })
        );
        assert_eq!(parse_counters("Chain x\nheader\n"), None);
    }

    #[test]
    fn a_sure_drop_drops_every_packet_and_counts_it() {
        let Some(_) = require(&["ping", "iptables"]) else {
            return;
        };
        let pair = VethPair::new("selfloss").expect("veth");
        pair.a.segment_in_software("veth0").expect("offloads off");
        let drop = pair
            .b
            .random_drop("INPUT", Crossing::In("veth1"), 0.0)
            .expect("rule");
        let ping = |n: &str| {
            pair.a
                .run("ping", &["-c", n, "-i", "0.01", "-W", "1", "198.18.1.2"])
                .unwrap()
                .status
                .success()
        };
        assert!(ping("3"), "no loss yet");
        let c = drop.counters().unwrap();
        // Three echo requests at least (ARP is not IP: it passes by).
        assert!(c.seen >= 3 && c.dropped == 0, "{c:?}");
        drop.zero().unwrap();
        drop.set_probability(1.0).unwrap();
        assert!(!ping("5"), "every request dropped");
        assert_eq!(
            drop.counters().unwrap(),
            DropCounters {
                seen: 5,
                dropped: 5
            }
        );
    }
}
