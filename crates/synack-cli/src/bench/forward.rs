//! `synack bench forward` (root): `synack forward` as a router's
//! transparent forwarder, next to the router's kernel forwarding the same
//! traffic, in the same run: bulk throughput each way, short connections
//! per second with their connect times, and memory per idle relayed flow.
//! Where tun2proxy is installed it runs too, in the same topology, as a
//! Rust peer.
//!
//! The topology ([`topology`]) is three namespaces of this process's own:
//! client, router, server. Every path keeps running for the whole
//! benchmark and one policy rule picks the path, so the rounds of each
//! measurement interleave the paths: a slow phase of the machine hits
//! them alike. The client's and server's sides are kernel sockets on
//! threads of this process inside their namespaces; `synack forward` is
//! this very binary, a child process in the router, offloads on as by
//! default.

mod bulk;
mod connect_rate;
mod idle;
mod server;
mod topology;
mod tun2proxy;

use crate::report::Report;
use bulk::{Direction, Transfer};
use topology::{Bed, Forwarder, Path};

/// Connections in the connection-rate run, per path.
pub const DEFAULT_CONNECTIONS: usize = 5_000;
/// Idle relayed flows in the memory run.
pub const DEFAULT_IDLE: usize = 100_000;
/// Rounds of the bulk and connection-rate runs; each figure is the median.
const ROUNDS: usize = 5;
/// Descriptors kept spare beyond the idle run's one per flow (the
/// client's end here, synack's kernel socket to the server in the
/// forwarder, which inherits this process's limit).
const SPARE_FDS: u64 = 1024;

pub fn run(size: u64, connections: usize, idle: usize, r: &mut Report) -> Result<(), String> {
    if let Some(why) = synack_testbed::unavailable() {
        return Err(format!("cannot run: {why}"));
    }
    let idle = fit_idle(idle, r);
    let mut bed = Bed::new()?;
    let _servers = server::Servers::start(&bed.server, size)?;
    let mut synack = topology::start_synack(&bed, "tun0", "198.18.0.2")?;
    let mut peer = match tun2proxy::find() {
        Ok(program) => {
            let version = tun2proxy::version(&program);
            match tun2proxy::start(&bed, &program) {
                Ok(f) => {
                    r.note(format!(
                        "tun2proxy: {} ({version}), {}",
                        program.display(),
                        tun2proxy::ARGS.join(" ")
                    ));
                    Some(f)
                }
                Err(e) => {
                    r.note(format!("tun2proxy: did not start ({e})"));
                    None
                }
            }
        }
        Err(why) => {
            r.note(format!("tun2proxy: not installed ({why})"));
            None
        }
    };
    // A first connection along each path: it works before it is timed.
    connect_rate::batch(&mut bed, Path::Kernel, 20)?;
    connect_rate::batch(&mut bed, Path::Synack, 20)?;
    if peer.is_some()
        && let Err(e) = connect_rate::batch(&mut bed, Path::Tun2proxy, 20)
    {
        r.note(format!(
            "tun2proxy: left out, a first connection failed ({e})"
        ));
        peer = None;
    }
    let bulk = bulk_rounds(&mut bed, &mut synack, &peer, size, r)?;
    let conns = connect_rounds(&mut bed, &mut synack, &peer, connections, r)?;
    drop(peer);
    drop(synack);
    report_bulk(r, size, &bulk);
    report_connect(r, &conns);
    if idle > 0 {
        let m = idle::run(&mut bed, idle)?;
        report_idle(r, idle, &m);
    }
    Ok(())
}

/// The paths, rotated by `round` so that none always goes first.
fn order(paths: &[Path], round: usize) -> Vec<Path> {
    let mut p = paths.to_vec();
    if !p.is_empty() {
        let k = round % p.len();
        p.rotate_left(k);
    }
    p
}

fn paths(with_peer: bool) -> Vec<Path> {
    let mut p = vec![Path::Kernel, Path::Synack];
    if with_peer {
        p.push(Path::Tun2proxy);
    }
    p
}

/// Every transfer, by direction and path.
type BulkRuns = Vec<(Direction, Path, Vec<Transfer>)>;

fn bulk_rounds(
    bed: &mut Bed,
    synack: &mut Forwarder,
    peer: &Option<Forwarder>,
    size: u64,
    r: &mut Report,
) -> Result<BulkRuns, String> {
    let mut runs: BulkRuns = Vec::new();
    let mut with_peer = peer.is_some();
    for round in 0..ROUNDS {
        for dir in Direction::BOTH {
            for path in order(&paths(with_peer), round) {
                let t = match (bulk::once(bed, path, dir, size, round), path) {
                    (Ok(t), _) => t,
                    (Err(e), Path::Tun2proxy) => {
                        r.note(format!(
                            "tun2proxy: failed in bulk round {} ({e}); its bulk rows are from \
                             the transfers before, and it is left out of the rest",
                            round + 1
                        ));
                        with_peer = false;
                        continue;
                    }
                    (Err(e), _) => return Err(e),
                };
                match runs.iter_mut().find(|(d, p, _)| *d == dir && *p == path) {
                    Some((_, _, v)) => v.push(t),
                    None => runs.push((dir, path, vec![t])),
                }
            }
            synack.check()?;
        }
    }
    bed.route(Path::Kernel)?;
    Ok(runs)
}

/// Connect times (seconds) and rounds' rates, by path.
type ConnectRuns = Vec<(Path, Vec<f64>, Vec<f64>)>;

fn connect_rounds(
    bed: &mut Bed,
    synack: &mut Forwarder,
    peer: &Option<Forwarder>,
    connections: usize,
    r: &mut Report,
) -> Result<ConnectRuns, String> {
    let per_round = connections.div_ceil(ROUNDS);
    let mut runs: ConnectRuns = Vec::new();
    let mut with_peer = peer.is_some();
    for round in 0..ROUNDS {
        for path in order(&paths(with_peer), round) {
            let b = match (connect_rate::batch(bed, path, per_round), path) {
                (Ok(b), _) => b,
                (Err(e), Path::Tun2proxy) => {
                    r.note(format!(
                        "tun2proxy: failed in connection round {} ({e}); left out of the rest",
                        round + 1
                    ));
                    with_peer = false;
                    continue;
                }
                (Err(e), _) => return Err(e),
            };
            let rate = b.per_sec();
            match runs.iter_mut().find(|(p, _, _)| *p == path) {
                Some((_, times, rates)) => {
                    times.extend(b.connect_secs);
                    rates.push(rate);
                }
                None => runs.push((path, b.connect_secs, vec![rate])),
            }
        }
        synack.check()?;
    }
    bed.route(Path::Kernel)?;
    Ok(runs)
}

fn report_bulk(r: &mut Report, size: u64, runs: &BulkRuns) {
    r.note(format!(
        "bulk: one connection at a time, {} MiB each, client to server and server to client, \
         through the router: its kernel forwarding, synack forward, tun2proxy where installed; \
         timed by the client from connect until the last byte arrived; median of {ROUNDS} \
         rounds, paths interleaved",
        size >> 20
    ));
    for dir in Direction::BOTH {
        let rate = |path: Path| {
            runs.iter()
                .find(|(d, p, _)| *d == dir && *p == path)
                .map(|(_, _, v)| median(&v.iter().map(|t| t.mib_per_sec()).collect::<Vec<_>>()))
        };
        for (d, path, v) in runs.iter().filter(|(d, _, _)| *d == dir) {
            let m = rate(*path).unwrap_or(f64::NAN);
            r.figure(&format!("bulk_{}_{}", d.name(), path.name()), m, 1, "MiB/s");
            let all: Vec<String> = v
                .iter()
                .map(|t| format!("{:.0}", t.mib_per_sec()))
                .collect();
            r.note(format!(
                "{} {}: rounds {} MiB/s",
                d.name(),
                path.name(),
                all.join(", ")
            ));
        }
        if let (Some(s), Some(k)) = (rate(Path::Synack), rate(Path::Kernel)) {
            let ratio = s / k;
            r.figure(
                &format!("ratio_bulk_{}_synack_vs_kernel", dir.name()),
                ratio,
                3,
                "x",
            );
            r.note(format!(
                "{}: synack {:.2} x the kernel's forwarding (target 0.5: {})",
                dir.name(),
                ratio,
                met(ratio >= 0.5)
            ));
        }
        if let (Some(s), Some(t)) = (rate(Path::Synack), rate(Path::Tun2proxy)) {
            let ratio = s / t;
            r.figure(
                &format!("ratio_bulk_{}_synack_vs_tun2proxy", dir.name()),
                ratio,
                3,
                "x",
            );
            r.note(format!(
                "{}: synack {:.2} x tun2proxy (target: above 1: {})",
                dir.name(),
                ratio,
                met(ratio > 1.0)
            ));
        }
    }
}

fn report_connect(r: &mut Report, runs: &ConnectRuns) {
    let total: usize = runs.iter().map(|(_, t, _)| t.len()).max().unwrap_or(0);
    r.note(format!(
        "connections: {total} per path in {ROUNDS} rounds, paths interleaved, {} client threads \
         each opening one after another (connect, {} bytes each way, close); connections per second: median of the rounds; connect time (until connect \
         returns; synack holds the SYN until its dial to the server has succeeded, so the dial \
         is part of it; tun2proxy completes the client's handshake before it dials): over \
         every connection",
        connect_rate::THREADS,
        server::REQUEST
    ));
    let mut rates = Vec::new();
    for (path, times, round_rates) in runs {
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let rate = median(round_rates);
        let p50 = percentile(&sorted, 50.0) * 1e6;
        let p99 = percentile(&sorted, 99.0) * 1e6;
        r.figure(&format!("conns_per_sec_{}", path.name()), rate, 0, "/s");
        r.figure(&format!("connect_p50_{}", path.name()), p50, 0, "us");
        r.figure(&format!("connect_p99_{}", path.name()), p99, 0, "us");
        rates.push((*path, rate, p99));
    }
    let get = |p: Path| rates.iter().find(|x| x.0 == p).map(|x| (x.1, x.2));
    if let Some((s, s99)) = get(Path::Synack) {
        for other in [Path::Kernel, Path::Tun2proxy] {
            if let Some((o, o99)) = get(other) {
                let n = other.name();
                r.figure(&format!("ratio_conns_per_sec_synack_vs_{n}"), s / o, 3, "x");
                r.figure(
                    &format!("ratio_connect_p99_synack_vs_{n}"),
                    s99 / o99,
                    3,
                    "x",
                );
            }
        }
    }
}

fn report_idle(r: &mut Report, asked: usize, m: &idle::Idle) {
    if let Some(why) = &m.short {
        r.note(format!(
            "idle flows: {} of {asked} opened ({why}); the figure is per flow opened",
            m.flows
        ));
    }
    r.note(format!(
        "idle flows: a fresh synack forward (on tun2), VmRSS before and after the client opens \
         {} connections through it to the server, which holds them open and silent (opened in \
         {:.1} s); synack's user-space memory only: the engine's side of each flow, its relay \
         task and the user-space side of its kernel socket to the server, not the kernel's \
         memory for that socket",
        m.flows, m.open_secs
    ));
    r.figure("idle_relayed_flows", m.flows as f64, 0, "flows");
    r.figure("idle_vmrss_before", (m.rss_before >> 10) as f64, 0, "KiB");
    r.figure("idle_vmrss_after", (m.rss_after >> 10) as f64, 0, "KiB");
    r.figure(
        "bytes_per_idle_relayed_flow",
        m.bytes_per_flow(),
        0,
        "bytes",
    );
}

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "NOT met" }
}

/// How many idle flows fit the descriptors of this process (the client's
/// ends) and of the forwarder (its kernel sockets), one per flow each:
/// `want`, after raising the limit, or fewer with a note.
fn fit_idle(want: usize, r: &mut Report) -> usize {
    if want == 0 {
        return 0;
    }
    let need = want as u64 + SPARE_FDS;
    let have = raise_nofile(need);
    if have >= need {
        return want;
    }
    let fits = have.saturating_sub(SPARE_FDS) as usize;
    r.note(format!(
        "idle flows: {fits} instead of {want}: RLIMIT_NOFILE stops at {have} descriptors here \
         (raising the hard limit needs CAP_SYS_RESOURCE; fs.nr_open bounds it), and the client \
         and synack forward each need one per flow"
    ));
    fits
}

/// Raises RLIMIT_NOFILE (soft and, as root may, hard) towards `want`; the
/// soft limit now.
fn raise_nofile(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given,
    // which lives across the calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_cur >= want {
            return lim.rlim_cur;
        }
        let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(lim.rlim_max);
        for target in [want.min(nr_open), lim.rlim_max] {
            let new = libc::rlimit {
                rlim_cur: target,
                rlim_max: target.max(lim.rlim_max),
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &new) == 0 {
                return target;
            }
        }
        lim.rlim_cur
    }
}

/// The median of some figures (the mean of the middle two for an even
/// count); NaN for none.
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// The `p`th percentile of sorted figures, nearest rank: the smallest
/// value with at least `p` % of the figures at or below it. NaN for none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn err<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        let few = [3.0, 7.0, 9.0];
        assert_eq!(percentile(&few, 99.0), 9.0);
        assert_eq!(percentile(&few, 50.0), 7.0);
        assert_eq!(percentile(&few, 34.0), 7.0);
        assert_eq!(percentile(&few, 33.0), 3.0);
        assert!(percentile(&[], 99.0).is_nan());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn every_path_leads_a_round_in_turn() {
        let p = [Path::Kernel, Path::Synack, Path::Tun2proxy];
        let firsts: Vec<Path> = (0..3).map(|r| order(&p, r)[0]).collect();
        assert_eq!(firsts, p);
        assert_eq!(
            order(&p, 4),
            vec![Path::Synack, Path::Tun2proxy, Path::Kernel]
        );
        assert!(order(&[], 2).is_empty());
    }
}
