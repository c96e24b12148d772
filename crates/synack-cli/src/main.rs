//! The `synack` command: a demo of the engine on the simulated network,
//! benchmarks of the engine, and the engine on a real TUN or TAP device
//! (`serve`, `connect`, `ss`).
//!
//! This file only parses arguments and dispatches. Arguments are parsed by
//! hand (no dependency); every mistake is reported with a clear message and
//! exit code 2, so scripts can tell a usage error (2) from a demo whose
//! claims did not hold (1).

// First, so that its output macros are in scope in every other module.
#[macro_use]
mod out;

mod alloc;
mod bench;
mod demo;
mod host;
mod ladder;
mod live;
// `run` and `PlotOptions` wait for the CLI's `plot` subcommand.
#[allow(dead_code)]
mod plot;
mod report;
mod scenarios;
mod script;

use std::process::ExitCode;

/// Counts live heap bytes per owner, for `synack bench memory`.
#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const USAGE: &str = "\
synack: a user-space TCP/IP stack, shown on a simulated network and run on
a real one

USAGE:
    synack demo [--scenario NAME] [--seed N] [--loss PERCENT] [--pcap FILE] [--quiet]
    synack bench [lifecycle|memory|tun|lossy|throughput] [--json] [--connections N]
                 [--batch N] [--size MIB] [--idle N] [--loss PERCENT] [--min-rto MS]
                 [--pcap FILE]
    synack serve (--tun|--tap) IFNAME --ip ADDR [--port PORT] [--app APP]
                 [--control PATH] [--pcap FILE] [--no-offload]
    synack connect (--tun|--tap) IFNAME --ip ADDR HOST:PORT [--timeout SECS]
                 [--control PATH] [--pcap FILE] [--no-offload]
    synack ss --control PATH [-i|--info] [--counters]
    synack script [--profile rfc|linux|portable] [-D NAME] [--rcv-wnd N]
                 [--tolerance-usecs N] [--verbose] PATH...
    synack --help

DEMO
    Two hosts, client 198.18.0.1 and server 198.18.0.2:80, on a simulated
    10 ms link in virtual time (no root, no real network). Prints a ladder
    diagram of every segment and every state transition, then a summary.
    Exits 0 only if the scenario showed what it claims, 1 otherwise.

    --scenario NAME   basic (default), simultaneous-open, simultaneous-close,
                      refused, syn-flood, split-handshake
    --seed N          seed of the simulation (default 1): endpoint secrets,
                      link randomness, the attacker's choices
    --loss PERCENT    random loss on the link, both ways, 0 to 100
                      (basic and syn-flood only: the other scenarios claim an
                      exact exchange of segments)
    --pcap FILE       also write every segment to FILE (classic pcap, raw IP;
                      opens in Wireshark and tcpdump)
    --quiet           print the summary only

BENCH
    lifecycle         connection lifecycles per second on one core: two
                      endpoints back to back, handshake + 16 bytes + close +
                      TIME-WAIT, in virtual time, 100 and then 1,000 in
                      flight; median and best of 5 rounds after an untimed
                      warm-up round; plus a wire-only baseline
    memory            heap bytes per idle ESTABLISHED connection, after a
                      16-byte exchange, and per TIME-WAIT entry
    tun               (root) single-connection throughput between the Linux
                      kernel and synack over a TUN device in a namespace of
                      its own, both ways, with the TUN offloads and then
                      without, and the kernel to itself over a veth pair as
                      the baseline; prints each and the ratios
    lossy             one bulk connection through a 100 Mbit/s, 20 ms
                      bottleneck with a one-BDP drop-tail queue on the
                      simulated network, 60 virtual seconds per run, with
                      random loss from 0.1 to 5 % and burst loss: goodput
                      beside the Mathis bound, retransmissions beside the
                      link's drops, and smoltcp on the same link
    throughput        one bulk connection between two stacks in one thread
                      (no loss, no delay, MTU 1500, checksums both ways, the
                      receiver copying every byte out), wall clock, with
                      64 KiB and 1 MiB buffers, median of 5 rounds; smoltcp
                      in the same setup beside it, and synack again with
                      idle established connections on each side
    (no name)         lifecycle and memory

    --json            one JSON object instead of `name: value unit` lines
    --connections N   connections to run (lifecycle default 200000,
                      memory default 100000)
    --batch N         lifecycle: connections in flight at once (default: 100,
                      then 1000)
    --size MIB        tun, throughput: bytes per transfer, in MiB (tun:
                      default 256, and each transfer also stops sending
                      after 10 s, 30 s with --loss; throughput: 1024)
    --idle N          throughput: idle connections per side in the idle row
                      (default 100000; 0 leaves the row out)
    --loss PERCENT    tun: drop PERCENT % of packets at random each way
                      (iptables, in the benchmark's namespaces; below
                      100): one transfer each way without loss, then the
                      median of 3 rounds each way under loss beside the
                      kernel to itself over veth under the same loss;
                      retransmissions against the rule's drops
    --min-rto MS      tun: synack's minimum retransmission timeout (default
                      1000, RFC 6298's; Linux uses 200)
    --pcap FILE       tun: capture synack's side of the TUN transfers
                      (with offloads)

Run benchmarks from a release build: cargo run --release -- bench

SERVE
    Runs synack on the TUN device IFNAME (an existing persistent one, or a
    new one if we may create it) with address ADDR (IPv4 or IPv6), and
    serves APP on ADDR:PORT until SIGINT or SIGTERM (exit 0). Prints
    `listening on ADDR:PORT` once ready. Answers ping.

    --tun IFNAME      the device carries IP datagrams
    --tap IFNAME      the device carries Ethernet frames (ARP and neighbor
                      discovery answered by synack)
    --ip ADDR         the stack's own address, e.g. 198.18.0.2 or 2001:db8::2
    --app APP         echo (port 7, default), discard (9), source (19: an
                      endless chargen stream), http (80: a page listing the
                      stack's connections and counters)
    --port PORT       instead of the app's well-known port
    --control PATH    answer `synack ss --control PATH` on this Unix socket
                      (removed on exit)
    --pcap FILE       write every packet to FILE (pcap, raw IP)
    --no-offload      TUN: one datagram per system call each way, without
                      the kernel's segmentation offloads (on by default
                      where the kernel has them: synack's segments leave
                      as super-segments of up to 64 KiB that the kernel
                      cuts, and the kernel's arrive as such and are cut
                      back before the engine sees them)

CONNECT
    Runs synack on IFNAME as above and opens a connection to HOST:PORT
    (an IP address and port; [v6]:port for IPv6). Copies standard input to
    it and, at end of input, sends FIN; copies what arrives to standard
    output. Exits 0 once the peer has closed and everything was delivered;
    1 with a one-line reason (connection refused, reset, timed out...).
    Shows progress on standard error when it is a terminal.

    --timeout SECS    give up the handshake after SECS seconds (default 30)
    --tun, --tap, --ip, --control, --pcap   as for serve

SS
    Shows the connections of a running `synack serve` or `synack connect`
    started with --control PATH, like `ss -ant`: state, queues, addresses,
    smoothed RTT/variation, RTO, congestion window, retransmissions.

    -i, --info        under each connection, a line like `ss -ti`'s:
                      options, congestion control, window scales, rto and
                      rtt/rttvar (ms), mss, cwnd, ssthresh and inflight (in
                      segments), retrans (in flight/total), lost, sacked,
                      reordering, minrtt, pacing and delivery rates,
                      ca_state (open, disorder, recovery, loss) and the next
                      timer with its time left; fields with no value yet
                      are left out
    --counters        also print the stack's TCP and device counters

SCRIPT
    Runs packetdrill scripts (PATH: a .pkt file, or a directory searched
    recursively) against a fresh synack endpoint each, in-process, in
    virtual time: no root, no devices. The script's `<` segments are
    injected, its system calls made through the engine's API, and every
    `>` segment the engine sends is checked against the script. Prints
    PASS or FAIL per script (with the script line, what was expected and
    what happened, or `unsupported: ...` for a feature the runner or
    synack lacks), then `N passed, M failed`; exits 1 if any failed.
    Example: synack script conformance/scripts

    --profile NAME    rfc (default: synack's own defaults), linux (the
                      choices RFC 9293 leaves open made as Linux makes
                      them: initial window 10, window scale 8, minimum RTO
                      200 ms, 40 ms delayed ACKs) or portable (for scripts
                      written against another system's TCP: outbound
                      options compared as a set of kinds, without our
                      window-scale shift and TSval; our window not
                      compared; BSD sysctls mapped; SO_RCVBUF/SO_SNDBUF
                      results not compared; #ifdef; socket-count shell
                      lines answered from the stack's table)
    -D NAME           portable: define NAME for #ifdef
    --rcv-wnd N       portable: the stack's initial receive window, bytes
    --tolerance-usecs N  timing tolerance, as a harness gives it on
                      packetdrill's command line (default 4000; gVisor's
                      harness runs its scripts with 100000); a script's
                      own --tolerance_usecs line wins
    --verbose         print every segment both ways and every call
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::Help) => {
            out!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Demo(opts)) => demo::run(&opts),
        Ok(Command::Bench(opts)) => bench::run(&opts),
        Ok(Command::Serve(opts)) => live::serve::run(&opts),
        Ok(Command::Connect(opts)) => live::connect::run(&opts),
        Ok(Command::Ss(opts)) => live::ss::run(&opts),
        Ok(Command::Script(opts)) => script::run(&opts),
        Err(msg) => {
            eprintln!("synack: {msg}");
            eprintln!("Try 'synack --help'.");
            ExitCode::from(2)
        }
    }
}

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Demo(demo::Options),
    Bench(bench::Options),
    Serve(live::serve::Options),
    Connect(live::connect::Options),
    Ss(live::ss::Options),
    Script(script::Options),
}

/// Parses the arguments after the program name.
fn parse(args: &[String]) -> Result<Command, String> {
    let Some(first) = args.first() else {
        return Ok(Command::Help);
    };
    let rest = &args[1..];
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "demo" => parse_demo(rest),
        "bench" => parse_bench(rest),
        "serve" => parse_serve(rest),
        "connect" => parse_connect(rest),
        "ss" => parse_ss(rest),
        "script" => parse_script(rest),
        other => Err(format!(
            "unknown command '{other}' (expected demo, bench, serve, connect, ss or script)"
        )),
    }
}

/// Splits `--name=value` and `--name value` uniformly. `i` is advanced past
/// whatever was consumed.
struct Args<'a> {
    args: &'a [String],
    i: usize,
}

impl<'a> Args<'a> {
    fn new(args: &'a [String]) -> Self {
        Args { args, i: 0 }
    }

    /// The next argument as (flag, inline value), or `None` at the end.
    fn next(&mut self) -> Option<(&'a str, Option<&'a str>)> {
        let a = self.args.get(self.i)?;
        self.i += 1;
        Some(match a.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (a.as_str(), None),
        })
    }

    /// The value of `flag`: the inline one, or the next argument.
    fn value(&mut self, flag: &str, inline: Option<&'a str>) -> Result<&'a str, String> {
        if let Some(v) = inline {
            return Ok(v);
        }
        let v = self
            .args
            .get(self.i)
            .ok_or_else(|| format!("{flag} needs a value"))?;
        self.i += 1;
        Ok(v)
    }
}

fn parse_script(args: &[String]) -> Result<Command, String> {
    let mut o = script::Options {
        paths: Vec::new(),
        profile: synack_script::Profile::Rfc,
        verbose: false,
        defines: Vec::new(),
        rcv_wnd: None,
        tolerance_usecs: None,
    };
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--profile" => {
                let v = a.value(flag, inline)?;
                o.profile = synack_script::Profile::parse(v).ok_or_else(|| {
                    format!("--profile: unknown profile '{v}' (expected rfc, linux or portable)")
                })?;
            }
            "-D" => o.defines.push(a.value(flag, inline)?.to_string()),
            "--rcv-wnd" => {
                let v = a.value(flag, inline)?;
                o.rcv_wnd = Some(v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("--rcv-wnd: '{v}' is not a positive number of bytes")
                })?);
            }
            "--tolerance-usecs" => {
                let v = a.value(flag, inline)?;
                o.tolerance_usecs = Some(v.parse().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    format!("--tolerance-usecs: '{v}' is not a number of microseconds")
                })?);
            }
            "--verbose" | "-v" => {
                no_value(flag, inline)?;
                o.verbose = true;
            }
            f if f.starts_with('-') => return Err(format!("script: unknown option '{f}'")),
            path => o.paths.push(path.into()),
        }
    }
    if o.paths.is_empty() {
        return Err("script: give at least one .pkt file or directory".into());
    }
    Ok(Command::Script(o))
}

fn no_value(flag: &str, inline: Option<&str>) -> Result<(), String> {
    match inline {
        Some(_) => Err(format!("{flag} takes no value")),
        None => Ok(()),
    }
}

fn parse_demo(args: &[String]) -> Result<Command, String> {
    let mut o = demo::Options::default();
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--scenario" => {
                let v = a.value(flag, inline)?;
                o.scenario = demo::Scenario::from_name(v).ok_or_else(|| {
                    format!(
                        "unknown scenario '{v}' (expected one of: {})",
                        demo::Scenario::NAMES.join(", ")
                    )
                })?;
            }
            "--seed" => {
                let v = a.value(flag, inline)?;
                o.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: '{v}' is not an integer from 0 to 2^64-1"))?;
            }
            "--loss" => {
                let v = a.value(flag, inline)?;
                let p: f64 = v
                    .trim_end_matches('%')
                    .parse()
                    .map_err(|_| format!("--loss: '{v}' is not a number"))?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(format!("--loss: {v} is not a percentage from 0 to 100"));
                }
                o.loss = p;
            }
            "--pcap" => {
                let v = a.value(flag, inline)?;
                if v.is_empty() {
                    return Err("--pcap needs a file name".into());
                }
                o.pcap = Some(v.into());
            }
            "--quiet" | "-q" => {
                no_value(flag, inline)?;
                o.quiet = true;
            }
            other => return Err(format!("demo: unknown option '{other}'")),
        }
    }
    if o.loss > 0.0 && !o.scenario.supports_loss() {
        return Err(format!(
            "--loss applies to the basic and syn-flood scenarios only; '{}' claims an exact \
             exchange of segments that loss would change",
            o.scenario.name()
        ));
    }
    Ok(Command::Demo(o))
}

fn parse_bench(args: &[String]) -> Result<Command, String> {
    let mut o = bench::Options::default();
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => {
                no_value(flag, inline)?;
                o.json = true;
            }
            "--connections" => o.connections = Some(count(flag, a.value(flag, inline)?)?),
            "--batch" => o.batch = Some(count(flag, a.value(flag, inline)?)?),
            "--size" => {
                let v = a.value(flag, inline)?;
                let n: u64 = v
                    .parse()
                    .map_err(|_| format!("--size: '{v}' is not a whole number of MiB"))?;
                if n == 0 || n > 65536 {
                    return Err(format!("--size: {v} is out of range (1 to 65536 MiB)"));
                }
                o.size_mib = Some(n);
            }
            "--idle" => {
                let v = a.value(flag, inline)?;
                o.idle =
                    Some(v.parse().map_err(|_| {
                        format!("--idle: '{v}' is not a whole number of connections")
                    })?);
            }
            "--pcap" => o.pcap = Some(file(flag, a.value(flag, inline)?)?),
            "--loss" => o.loss_percent = Some(loss_percent(flag, a.value(flag, inline)?)?),
            "--min-rto" => {
                let v = a.value(flag, inline)?;
                let ms: u64 = v.parse().map_err(|_| {
                    format!("--min-rto: '{v}' is not a whole number of milliseconds")
                })?;
                if !(1..=60_000).contains(&ms) {
                    return Err(format!("--min-rto: {v} is out of range (1 to 60000 ms)"));
                }
                o.min_rto = Some(std::time::Duration::from_millis(ms));
            }
            name if !name.starts_with('-') => {
                let which = bench::Which::from_name(name).ok_or_else(|| {
                    format!(
                        "unknown benchmark '{name}' (expected lifecycle, memory, tun, lossy or \
                         throughput)"
                    )
                })?;
                if o.which != bench::Which::All {
                    return Err("name one benchmark, or none for both".into());
                }
                o.which = which;
            }
            other => return Err(format!("bench: unknown option '{other}'")),
        }
    }
    if o.which != bench::Which::Tun
        && (o.pcap.is_some() || o.loss_percent.is_some() || o.min_rto.is_some())
    {
        return Err("--loss, --min-rto and --pcap apply to bench tun only".into());
    }
    if !matches!(o.which, bench::Which::Tun | bench::Which::Throughput) && o.size_mib.is_some() {
        return Err("--size applies to bench tun and bench throughput only".into());
    }
    if o.which != bench::Which::Throughput && o.idle.is_some() {
        return Err("--idle applies to bench throughput only".into());
    }
    Ok(Command::Bench(o))
}

/// A file name that is not empty.
fn file(flag: &str, v: &str) -> Result<std::path::PathBuf, String> {
    if v.is_empty() {
        return Err(format!("{flag} needs a file name"));
    }
    Ok(v.into())
}

/// The link options `serve` and `connect` share, gathered as they come.
#[derive(Default)]
struct LinkArgs {
    dev: Option<(live::DeviceKind, String)>,
    ip: Option<std::net::IpAddr>,
    pcap: Option<std::path::PathBuf>,
    control: Option<std::path::PathBuf>,
    no_offload: bool,
}

impl LinkArgs {
    /// Takes `flag` if it is one of the link options; `Ok(false)` if not.
    fn take<'a>(
        &mut self,
        flag: &str,
        inline: Option<&'a str>,
        a: &mut Args<'a>,
    ) -> Result<bool, String> {
        match flag {
            "--tun" | "--tap" => {
                let v = a.value(flag, inline)?;
                if v.is_empty() {
                    return Err(format!("{flag} needs an interface name"));
                }
                if self.dev.is_some() {
                    return Err("give one device: --tun IFNAME or --tap IFNAME".into());
                }
                let kind = if flag == "--tun" {
                    live::DeviceKind::Tun
                } else {
                    live::DeviceKind::Tap
                };
                self.dev = Some((kind, v.into()));
            }
            "--ip" => {
                let v = a.value(flag, inline)?;
                self.ip = Some(
                    v.parse()
                        .map_err(|_| format!("--ip: '{v}' is not an IPv4 or IPv6 address"))?,
                );
            }
            "--pcap" => self.pcap = Some(file(flag, a.value(flag, inline)?)?),
            "--control" => self.control = Some(file(flag, a.value(flag, inline)?)?),
            "--no-offload" => {
                no_value(flag, inline)?;
                self.no_offload = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn link(self, cmd: &str) -> Result<(live::Link, Option<std::path::PathBuf>), String> {
        let (kind, ifname) = self
            .dev
            .ok_or_else(|| format!("{cmd}: name the device with --tun IFNAME or --tap IFNAME"))?;
        let ip = self
            .ip
            .ok_or_else(|| format!("{cmd}: give the stack's address with --ip ADDR"))?;
        if ip.is_unspecified() || ip.is_multicast() {
            return Err(format!("--ip: {ip} cannot be a host's address"));
        }
        if self.no_offload && kind != live::DeviceKind::Tun {
            return Err("--no-offload applies to --tun devices only".into());
        }
        let link = live::Link {
            kind,
            ifname,
            ip,
            pcap: self.pcap,
            offload: !self.no_offload,
        };
        Ok((link, self.control))
    }
}

fn parse_serve(args: &[String]) -> Result<Command, String> {
    let mut l = LinkArgs::default();
    let mut port = None;
    let mut app = live::apps::App::Echo;
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        if l.take(flag, inline, &mut a)? {
            continue;
        }
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" => {
                let v = a.value(flag, inline)?;
                port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|&p| p != 0)
                        .ok_or_else(|| format!("--port: '{v}' is not a port from 1 to 65535"))?,
                );
            }
            "--app" => {
                let v = a.value(flag, inline)?;
                app = live::apps::App::from_name(v).ok_or_else(|| {
                    format!(
                        "unknown app '{v}' (expected one of: {})",
                        live::apps::App::NAMES.join(", ")
                    )
                })?;
            }
            other => return Err(format!("serve: unknown option '{other}'")),
        }
    }
    let (link, control) = l.link("serve")?;
    Ok(Command::Serve(live::serve::Options {
        link,
        port,
        app,
        control,
    }))
}

fn parse_connect(args: &[String]) -> Result<Command, String> {
    let mut l = LinkArgs::default();
    let mut remote = None;
    let mut timeout = std::time::Duration::from_secs(30);
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        if l.take(flag, inline, &mut a)? {
            continue;
        }
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--timeout" => {
                let v = a.value(flag, inline)?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86400.0)
                    .ok_or_else(|| {
                        format!("--timeout: '{v}' is not a number of seconds (up to 86400)")
                    })?;
                timeout = std::time::Duration::from_secs_f64(secs);
            }
            target if !target.starts_with('-') => {
                if remote.is_some() {
                    return Err(format!("connect: one HOST:PORT only ('{target}' is extra)"));
                }
                let addr: std::net::SocketAddr = target.parse().map_err(|_| {
                    format!("connect: '{target}' is not ADDRESS:PORT (IPv6: [ADDRESS]:PORT)")
                })?;
                if addr.port() == 0 {
                    return Err(format!("connect: {target}: port 0"));
                }
                remote = Some(addr);
            }
            other => return Err(format!("connect: unknown option '{other}'")),
        }
    }
    let remote = remote.ok_or("connect: give the peer as HOST:PORT")?;
    let (link, control) = l.link("connect")?;
    if link.ip.is_ipv4() != remote.is_ipv4() {
        return Err(format!(
            "connect: the stack's address {} and the peer {remote} are of different families",
            link.ip
        ));
    }
    Ok(Command::Connect(live::connect::Options {
        link,
        remote,
        control,
        timeout,
    }))
}

fn parse_ss(args: &[String]) -> Result<Command, String> {
    let mut control = None;
    let mut counters = false;
    let mut info = false;
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--control" => control = Some(file(flag, a.value(flag, inline)?)?),
            "--counters" => {
                no_value(flag, inline)?;
                counters = true;
            }
            "-i" | "--info" => {
                no_value(flag, inline)?;
                info = true;
            }
            "--pcap" => {
                return Err(
                    "ss: --pcap belongs to the serve or connect whose table ss reads".into(),
                );
            }
            other => return Err(format!("ss: unknown option '{other}'")),
        }
    }
    let control = control.ok_or("ss: give the control socket with --control PATH")?;
    Ok(Command::Ss(live::ss::Options {
        control,
        counters,
        info,
    }))
}

/// A loss rate in percent, `5` or `5%`: below 100, where nothing would
/// ever arrive.
fn loss_percent(flag: &str, v: &str) -> Result<f64, String> {
    let p: f64 = v
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a number"))?;
    if !(0.0..100.0).contains(&p) {
        return Err(format!(
            "{flag}: {v} is not a percentage from 0 to below 100"
        ));
    }
    Ok(p)
}

/// A positive count with a sane upper bound (the benchmarks hold every
/// connection in memory; 10 million is already several GiB).
fn count(flag: &str, v: &str) -> Result<usize, String> {
    let n: usize = v
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a positive integer"))?;
    if n == 0 || n > 10_000_000 {
        return Err(format!("{flag}: {v} is out of range (1 to 10000000)"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v)
    }

    #[test]
    fn demo_defaults_and_flags() {
        let Ok(Command::Demo(o)) = p("demo") else {
            panic!("demo")
        };
        assert_eq!(o, demo::Options::default());
        let Ok(Command::Demo(o)) = p("demo --scenario=refused --seed 7 --quiet --pcap /tmp/x.pcap")
        else {
            panic!("flags")
        };
        assert_eq!(o.scenario, demo::Scenario::Refused);
        assert_eq!(o.seed, 7);
        assert!(o.quiet);
        let Ok(Command::Demo(o)) = p("demo --loss 5%") else {
            panic!("loss")
        };
        assert_eq!(o.loss, 5.0);
    }

    #[test]
    fn bad_arguments_are_errors() {
        for bad in [
            "frobnicate",
            "demo --seed",
            "demo --seed -1",
            "demo --seed x",
            "demo --loss 101",
            "demo --loss nan",
            "demo --loss 5 --scenario refused",
            "demo --scenario nope",
            "demo --quiet=yes",
            "demo --pcap=",
            "demo extra",
            "bench nope",
            "bench lifecycle memory",
            "bench --connections 0",
            "bench --batch x",
            "bench --json=1",
            "bench lifecycle --size 5",
            "bench tun --size 0",
            "bench tun --loss 100",
            "bench tun --loss -1",
            "bench tun --loss x",
            "bench memory --loss 1",
            "bench tun --min-rto 0",
            "bench tun --min-rto 0.2",
            "bench lossy --min-rto 200",
            "serve",
            "serve --tun tun0",
            "serve --ip 198.18.0.2",
            "serve --tun tun0 --tap tap0 --ip 198.18.0.2",
            "serve --tun tun0 --ip 198.18.0.300",
            "serve --tun tun0 --ip 0.0.0.0",
            "serve --tun tun0 --ip 198.18.0.2 --port 0",
            "serve --tun tun0 --ip 198.18.0.2 --port 70000",
            "serve --tun tun0 --ip 198.18.0.2 --app gopher",
            "serve --tun tun0 --ip 198.18.0.2 --pcap=",
            "connect --tun tun0 --ip 198.18.0.2",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:0",
            "connect --tun tun0 --ip 198.18.0.2 [2001:db8::1]:80",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:80 198.18.0.1:81",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:80 --timeout 0",
            "ss",
            "ss --control /tmp/x --pcap y",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn live_commands() {
        let Ok(Command::Serve(o)) = p("serve --tun tun0 --ip 198.18.0.2 --app http") else {
            panic!("serve")
        };
        assert_eq!(o.link.kind, live::DeviceKind::Tun);
        assert_eq!(o.link.ifname, "tun0");
        assert_eq!(o.app, live::apps::App::Http);
        assert_eq!(o.port, None);
        assert!(o.link.offload, "offloads by default");
        let Ok(Command::Serve(o)) = p("serve --tun tun0 --ip 198.18.0.2 --no-offload") else {
            panic!("serve --no-offload")
        };
        assert!(!o.link.offload);
        assert!(p("serve --tap tap0 --ip 198.18.0.2 --no-offload").is_err());
        assert!(p("serve --tun tun0 --ip 198.18.0.2 --no-offload=yes").is_err());
        let Ok(Command::Serve(o)) =
            p("serve --tap=tap0 --ip 2001:db8::2 --port 8080 --control /tmp/c --pcap /tmp/p")
        else {
            panic!("serve tap")
        };
        assert_eq!(o.link.kind, live::DeviceKind::Tap);
        assert_eq!(o.port, Some(8080));
        assert!(o.link.ip.is_ipv6());
        assert!(o.control.is_some() && o.link.pcap.is_some());
        let Ok(Command::Connect(o)) =
            p("connect --tun tun0 --ip 2001:db8::2 [2001:db8::1]:5000 --timeout 2.5")
        else {
            panic!("connect")
        };
        assert_eq!(o.remote.port(), 5000);
        assert_eq!(o.timeout, std::time::Duration::from_millis(2500));
        let Ok(Command::Ss(o)) = p("ss --control /tmp/c --counters") else {
            panic!("ss")
        };
        assert!(o.counters);
        assert!(!o.info);
        let Ok(Command::Bench(o)) = p("bench tun --size 16 --json") else {
            panic!("bench tun")
        };
        assert_eq!(o.which, bench::Which::Tun);
        assert_eq!(o.size_mib, Some(16));
        assert_eq!(o.loss_percent, None);
        let Ok(Command::Bench(o)) = p("bench tun --loss 0.1 --size 32") else {
            panic!("bench tun --loss")
        };
        assert_eq!(o.loss_percent, Some(0.1));
        assert_eq!(o.size_mib, Some(32));
        assert_eq!(o.min_rto, None);
        let Ok(Command::Bench(o)) = p("bench tun --loss 1 --min-rto 200") else {
            panic!("bench tun --min-rto")
        };
        assert_eq!(o.min_rto, Some(std::time::Duration::from_millis(200)));
        let Ok(Command::Bench(o)) = p("bench lossy --json") else {
            panic!("bench lossy")
        };
        assert_eq!(o.which, bench::Which::Lossy);
        assert!(o.json);
        assert!(p("bench lossy tun").is_err());
        assert!(p("bench lossy --size 4").is_err());
    }

    #[test]
    fn ss_info() {
        for args in [
            "ss --control /tmp/c -i",
            "ss -i --control=/tmp/c",
            "ss --info --control /tmp/c",
        ] {
            let Ok(Command::Ss(o)) = p(args) else {
                panic!("{args}")
            };
            assert!(o.info && !o.counters, "{args}");
            assert_eq!(o.control, std::path::PathBuf::from("/tmp/c"));
        }
        let Ok(Command::Ss(o)) = p("ss --control /tmp/c -i --counters") else {
            panic!("-i --counters")
        };
        assert!(o.info && o.counters);
        for bad in [
            "ss -i",
            "ss --info=yes --control /tmp/c",
            "ss --control /tmp/c -ix",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn script_options() {
        let Ok(Command::Script(o)) = p("script --profile linux --tolerance-usecs 100000 a.pkt dir")
        else {
            panic!("script")
        };
        assert_eq!(o.profile, synack_script::Profile::Linux);
        assert_eq!(o.tolerance_usecs, Some(100_000));
        assert_eq!(o.paths.len(), 2);
        let Ok(Command::Script(o)) = p("script a.pkt") else {
            panic!("defaults")
        };
        assert_eq!(o.tolerance_usecs, None);
        for bad in [
            "script",
            "script --tolerance-usecs x a.pkt",
            "script --tolerance-usecs -5 a.pkt",
            "script --profile bsd a.pkt",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn help() {
        assert_eq!(p(""), Ok(Command::Help));
        assert_eq!(p("--help"), Ok(Command::Help));
        assert_eq!(p("demo --help"), Ok(Command::Help));
    }
}
