//! `synack bench tun --loss P`: the same transfers under P % random loss
//! each way, beside the kernel to itself over veth under the same loss.
//!
//! The topology changes, for the loss to be loss: iptables
//! sees a local sender's packets before they are cut into segments (one
//! drop would lose up to 44 at once), and a local sender is told of a
//! drop in OUTPUT and sends again as if nothing was lost. So the kernel's
//! sockets move one router away (`synack_testbed::Routed`): the router
//! drops forwarded packets in FORWARD, one segment each, both ways, and
//! neither sender learns of it but by TCP. The veth reference drops in
//! INPUT on both ends, again one segment each (segmentation offload off
//! on both ends), both ways.

use super::{KERNEL_PORTS, Transfer, TunLink, err, note_side_counters, veth_once};
use crate::report::Report;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;
use synack_testbed::{Crossing, DropCounters, Netns, RandomDrop, Routed, VethPair};

/// Sending stops after this: long enough that a slow sender still moves
/// all `size` bytes at the loss rates the issue asks about, and the
/// figure is a whole transfer's, recoveries and all.
const CAP: Duration = Duration::from_secs(30);
/// Rounds per direction: the figure is their median.
const ROUNDS: usize = 3;

/// One round under loss: a transfer, what synack counted during it, and
/// what the rules dropped each way.
struct Round {
    t: Transfer,
    /// The sender's retransmitted segments (synack's counter or the
    /// kernel's `RetransSegs`).
    retrans: u64,
    /// Data direction, then ACK direction.
    data: DropCounters,
    acks: DropCounters,
    /// synack's own writes its TUN queue refused: losses no rule counted.
    tun_refused: u64,
    /// synack's counters that moved, for the record.
    detail: String,
}

/// The median round by goodput (of an odd number).
fn median(rounds: &[Round]) -> &Round {
    let mut v: Vec<&Round> = rounds.iter().collect();
    v.sort_by(|a, b| a.t.mib_per_sec().total_cmp(&b.t.mib_per_sec()));
    v[v.len() / 2]
}

pub(super) fn run(
    size: u64,
    percent: f64,
    min_rto: Option<Duration>,
    pcap: Option<&Path>,
    r: &mut Report,
) -> Result<(), String> {
    let p = percent / 100.0;
    r.note(format!(
        "single connection, {} MiB per transfer (sending stops after {} s), {percent} % random \
         loss each way (iptables statistic, one segment per packet: the TUN offloads off); one \
         round each way without loss first, then the median of {ROUNDS} rounds",
        size >> 20,
        CAP.as_secs()
    ));
    r.note(
        "TUN: the kernel's sockets one router away (198.18.2.2), drops in the router's FORWARD \
         chain; veth: drops in INPUT on both ends"
            .to_string(),
    );
    let routed = Routed::new("benchloss", "tun0").map_err(err("routed testbed"))?;
    // Packets from tun0 are synack's: its data when it sends, its ACKs
    // when it receives. Packets to tun0 are the kernel's.
    let from_synack = routed
        .router
        .random_drop("FORWARD", Crossing::In("tun0"), 0.0)
        .map_err(err("loss rule"))?;
    let to_synack = routed
        .router
        .random_drop("FORWARD", Crossing::Out("tun0"), 0.0)
        .map_err(err("loss rule"))?;
    let veth = VethPair::new("benchlossv").map_err(err("veth pair"))?;
    veth.a
        .segment_in_software("veth0")
        .map_err(err("veth offloads"))?;
    veth.b
        .segment_in_software("veth1")
        .map_err(err("veth offloads"))?;
    // veth_once's receiver is in `a`, its sender in `b`.
    let veth_data = veth
        .a
        .random_drop("INPUT", Crossing::In("veth0"), p)
        .map_err(err("loss rule"))?;
    let veth_acks = veth
        .b
        .random_drop("INPUT", Crossing::In("veth1"), p)
        .map_err(err("loss rule"))?;

    let kernel_ip: IpAddr = synack_testbed::ROUTED_KERNEL_V4.parse().unwrap();
    let link = TunLink::start(
        &routed.router,
        &routed.kernel,
        kernel_ip,
        size,
        CAP,
        // Without the TUN offloads: iptables drops whole packets, and a
        // super-segment of 45 would make one "1 %" drop a burst of 45.
        super::Side {
            min_rto,
            pcap: pcap.map(Path::to_path_buf),
            offload: false,
        },
    )?;
    let mut port = KERNEL_PORTS;
    // synack's own sending rate on this topology, before any rule drops;
    // and its receiving rate, to show what loss costs that way.
    let (clean, clean_done) = link.synack_to_kernel(port)?;
    port += 1;
    let (clean_k2s, _) = link.kernel_to_synack()?;
    from_synack.set_probability(p).map_err(err("loss rule"))?;
    to_synack.set_probability(p).map_err(err("loss rule"))?;

    let (mut s2k, mut k2s, mut k2k) = (Vec::new(), Vec::new(), Vec::new());
    // Each round does all three, so what else the machine runs weighs on
    // them alike.
    for _ in 0..ROUNDS {
        zero(&[&from_synack, &to_synack])?;
        let (t, done) = link.synack_to_kernel(port)?;
        port += 1;
        s2k.push(Round {
            t,
            retrans: done.delta("RetransSegs"),
            data: counters(&from_synack)?,
            acks: counters(&to_synack)?,
            tun_refused: done.dev_after.tx_dropped - done.dev_before.tx_dropped,
            detail: done.moved(),
        });

        zero(&[&from_synack, &to_synack])?;
        let before = kernel_retrans(&routed.kernel)?;
        let (t, done) = link.kernel_to_synack()?;
        k2s.push(Round {
            t,
            retrans: kernel_retrans(&routed.kernel)? - before,
            data: counters(&to_synack)?,
            acks: counters(&from_synack)?,
            tun_refused: done.dev_after.tx_dropped - done.dev_before.tx_dropped,
            detail: done.moved(),
        });

        zero(&[&veth_data, &veth_acks])?;
        let before = kernel_retrans(&veth.b)?;
        let t = veth_once(&veth, port, size, CAP)?;
        port += 1;
        k2k.push(Round {
            t,
            retrans: kernel_retrans(&veth.b)? - before,
            data: counters(&veth_data)?,
            acks: counters(&veth_acks)?,
            tun_refused: 0,
            detail: String::new(),
        });
    }
    let (c, dev) = link.finish()?;
    let router_drops = queue_drops(&routed.router)?;

    let (s, k, v) = (median(&s2k).t, median(&k2s).t, median(&k2k).t);
    let reference = v.mib_per_sec().min(clean.mib_per_sec());
    r.figure("loss_each_way", percent, 3, "%");
    r.figure(
        "tun_synack_to_kernel_lossless",
        clean.mib_per_sec(),
        1,
        "MiB/s",
    );
    r.figure("tun_synack_to_kernel", s.mib_per_sec(), 1, "MiB/s");
    r.figure(
        "tun_kernel_to_synack_lossless",
        clean_k2s.mib_per_sec(),
        1,
        "MiB/s",
    );
    r.figure("tun_kernel_to_synack", k.mib_per_sec(), 1, "MiB/s");
    r.figure("veth_kernel_to_kernel", v.mib_per_sec(), 1, "MiB/s");
    // The acceptance check: synack sending under loss against the
    // lesser of what the kernel manages under the same loss and what
    // synack manages without it.
    r.figure(
        "ratio_synack_sending_vs_reference",
        s.mib_per_sec() / reference,
        3,
        "x",
    );
    r.figure(
        "ratio_synack_to_kernel_vs_veth",
        s.mib_per_sec() / v.mib_per_sec(),
        3,
        "x",
    );
    r.figure(
        "ratio_synack_to_kernel_vs_lossless",
        s.mib_per_sec() / clean.mib_per_sec(),
        3,
        "x",
    );
    r.figure(
        "ratio_kernel_to_synack_vs_veth",
        k.mib_per_sec() / v.mib_per_sec(),
        3,
        "x",
    );
    let sum = |rounds: &[Round], f: fn(&Round) -> u64| rounds.iter().map(f).sum::<u64>();
    // What synack's sending lost: the rule's drops of its data, and any
    // write its own TUN queue refused.
    let s_lost = sum(&s2k, |r| r.data.dropped + r.tun_refused);
    let s_retrans = sum(&s2k, |r| r.retrans);
    r.figure("synack_retrans_segs", s_retrans as f64, 0, "segments");
    r.figure("synack_data_segs_lost", s_lost as f64, 0, "segments");
    r.figure(
        "synack_retrans_per_loss",
        s_retrans as f64 / s_lost as f64,
        2,
        "x",
    );
    // The same for the kernel: over veth it is what a healthy sender and
    // receiver show on these rules; sending to synack, anything above
    // that is retransmission synack's receiving made necessary.
    let k_lost = sum(&k2s, |r| r.data.dropped);
    let k_retrans = sum(&k2s, |r| r.retrans);
    let v_lost = sum(&k2k, |r| r.data.dropped);
    let v_retrans = sum(&k2k, |r| r.retrans);
    r.figure(
        "kernel_to_synack_retrans_per_loss",
        k_retrans as f64 / k_lost as f64,
        2,
        "x",
    );
    r.figure(
        "veth_retrans_per_loss",
        v_retrans as f64 / v_lost as f64,
        2,
        "x",
    );
    r.note(format!(
        "synack->kernel lossless (before the rules): {} bytes in {:.3} s, {} retransmitted",
        clean.bytes,
        clean.secs,
        clean_done.delta("RetransSegs")
    ));
    r.note(format!(
        "kernel->synack lossless: {} bytes in {:.3} s",
        clean_k2s.bytes, clean_k2s.secs
    ));
    for (name, rounds, sender) in [
        ("synack->kernel", &s2k, "synack"),
        ("kernel->synack", &k2s, "the kernel"),
        ("veth", &k2k, "the kernel"),
    ] {
        for (i, x) in rounds.iter().enumerate() {
            let short = if x.t.bytes < size {
                " (stopped at the cap)"
            } else {
                ""
            };
            r.note(format!(
                "{name} round {}: {} bytes{short} in {:.3} s, {:.1} MiB/s; {sender} \
                 retransmitted {}; dropped {} of {} data packets, {} of {} ACK packets{}",
                i + 1,
                x.t.bytes,
                x.t.secs,
                x.t.mib_per_sec(),
                x.retrans,
                x.data.dropped,
                x.data.seen,
                x.acks.dropped,
                x.acks.seen,
                if x.tun_refused > 0 {
                    format!(", {} more refused by synack's TUN queue", x.tun_refused)
                } else {
                    String::new()
                }
            ));
            if !x.detail.is_empty() {
                r.note(format!("  synack's counters that moved: {}", x.detail));
            }
        }
    }
    r.note(format!(
        "kernel->synack: the kernel retransmitted {k_retrans} for {k_lost} data packets dropped; \
         over veth {v_retrans} for {v_lost}"
    ));
    if !router_drops.is_empty() {
        r.note(format!(
            "the router's own queues dropped (beyond the rules): {router_drops}"
        ));
    }
    note_side_counters(r, &c, &dev);
    Ok(())
}

fn zero(rules: &[&RandomDrop]) -> Result<(), String> {
    for rule in rules {
        rule.zero().map_err(err("zeroing a loss rule"))?;
    }
    Ok(())
}

fn counters(rule: &RandomDrop) -> Result<DropCounters, String> {
    rule.counters().map_err(err("reading a loss rule"))
}

/// The kernel's `RetransSegs` in `ns` (`/proc/net/snmp` there: the
/// namespace's own TCP).
fn kernel_retrans(ns: &Netns) -> Result<u64, String> {
    let snmp = ns
        .thread(|| std::fs::read_to_string("/proc/thread-self/net/snmp"))
        .join()
        .map_err(|_| "reading /proc/net/snmp panicked".to_string())?
        .map_err(err("/proc/net/snmp"))?;
    snmp_field(&snmp, "Tcp:", "RetransSegs")
        .ok_or_else(|| "no Tcp: RetransSegs in /proc/net/snmp".to_string())
}

/// A field of `/proc/net/snmp`: a line of names, then one of values, both
/// starting with `prefix`.
fn snmp_field(snmp: &str, prefix: &str, name: &str) -> Option<u64> {
    let mut lines = snmp.lines().filter(|l| l.starts_with(prefix));
    let names = lines.next()?;
    let values = lines.next()?;
    let i = names.split_whitespace().position(|n| n == name)?;
    values.split_whitespace().nth(i)?.parse().ok()
}

/// Interfaces in `ns` that dropped packets on their queues
/// (`/proc/net/dev`: receive drops are the 4th counter, transmit drops
/// the 12th), as `dev rx N tx N` items.
fn queue_drops(ns: &Netns) -> Result<String, String> {
    let dev = ns
        .thread(|| std::fs::read_to_string("/proc/thread-self/net/dev"))
        .join()
        .map_err(|_| "reading /proc/net/dev panicked".to_string())?
        .map_err(err("/proc/net/dev"))?;
    let mut out = Vec::new();
    for line in dev.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let v: Vec<u64> = rest
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() >= 12 && (v[3] > 0 || v[11] > 0) {
            out.push(format!("{} rx {} tx {}", name.trim(), v[3], v[11]));
        }
    }
    Ok(out.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp_fields_are_found_by_name() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin \
                    RetransSegs InErrs\nTcp: 1 200 4711 0\nUdp: InDatagrams\nUdp: 3\n";
        assert_eq!(snmp_field(snmp, "Tcp:", "RetransSegs"), Some(4711));
        assert_eq!(snmp_field(snmp, "Tcp:", "OutRsts"), None);
        assert_eq!(snmp_field(snmp, "Icmp:", "InMsgs"), None);
    }
}
