//! The command line, declared with clap: every subcommand, its options and
//! its help text. `parse` turns what clap read into the options structs the
//! subcommands take, after the checks that span several options. Usage
//! errors exit with code 2 (clap's), so scripts can tell them from a demo
//! whose claims did not hold (1).

use crate::{bench, demo, live, plot, script};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// synack: a user-space TCP/IP stack, shown on a simulated network and run
/// on a real one.
#[derive(Parser, Debug)]
#[command(
    name = "synack",
    version,
    about = "synack: a user-space TCP/IP stack, shown on a simulated network and run on a real one",
    after_help = "Examples:\n  synack demo\n  synack bench lifecycle\n  \
                  sudo synack serve --tun tun0 --ip 198.18.0.2 --app echo\n  \
                  sudo synack forward --tun tun0 --ip 198.18.0.2\n  \
                  synack script conformance/scripts\n  synack plot demo.pcap -o demo.html"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Cmd {
    Demo(DemoArgs),
    Bench(BenchArgs),
    Serve(ServeArgs),
    Connect(ConnectArgs),
    Forward(ForwardArgs),
    Ss(SsArgs),
    Script(ScriptArgs),
    Plot(PlotArgs),
}

/// Two hosts on a simulated 10 ms link in virtual time: every segment and
/// state transition as a ladder diagram, then a summary.
///
/// Client 198.18.0.1 and server 198.18.0.2:80 (no root, no real network).
/// Exits 0 only if the scenario showed what it claims, 1 otherwise.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  synack demo\n  synack demo --scenario syn-flood\n  \
                        synack demo --loss 5 --seed 7 --pcap demo.pcap --html demo.html"
)]
pub struct DemoArgs {
    /// What to show
    #[arg(long, value_name = "NAME", default_value = "basic",
          value_parser = PossibleValuesParser::new(demo::Scenario::NAMES)
              .map(|s| demo::Scenario::from_name(&s).expect("listed")))]
    scenario: demo::Scenario,
    /// Seed of the simulation: endpoint secrets, link randomness, the
    /// attacker's choices
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Random loss on the link, both ways, 0 to 100 (basic and syn-flood
    /// only: the others claim an exact exchange of segments)
    #[arg(long, value_name = "PERCENT", default_value = "0", value_parser = percent_upto_100)]
    loss: f64,
    /// Also write every segment to FILE (classic pcap, raw IP; opens in
    /// Wireshark and tcpdump)
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Also write the run as a page of pictures (ladder, time-sequence
    /// graph, cwnd and RTT): one self-contained HTML file
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the summary only
    #[arg(short, long)]
    quiet: bool,
}

/// The benchmarks, as `name: value unit` lines (or one JSON object).
///
/// With no name: lifecycle and memory. Run them from a release build:
/// `cargo run --release -- bench`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  synack bench lifecycle\n  synack bench memory --json\n  \
                        sudo synack bench tun --loss 1 --size 32\n  \
                        synack bench throughput --size 256 --idle 0\n  \
                        sudo synack bench forward --size 256 --idle 100000"
)]
pub struct BenchArgs {
    /// lifecycle: connection lifecycles per second on one core (handshake,
    /// 16 bytes, close, TIME-WAIT; 100 and 1,000 in flight) beside a
    /// wire-only baseline. memory: heap bytes per idle connection and per
    /// TIME-WAIT entry. tun (root): the kernel and synack over a TUN device,
    /// both ways, with and without offloads, beside the kernel to itself
    /// over veth. lossy: one connection through a lossy 100 Mbit/s, 20 ms
    /// simulated bottleneck, beside smoltcp. throughput: one bulk
    /// connection between two stacks in one thread, beside smoltcp.
    /// forward (root): `synack forward` as a router's transparent forwarder
    /// beside the router's kernel forwarding (and tun2proxy where
    /// installed): bulk both ways, connections per second and connect
    /// times, memory per idle relayed flow.
    #[arg(value_name = "NAME", value_parser = PossibleValuesParser::new(
        ["lifecycle", "memory", "tun", "lossy", "throughput", "forward"])
        .map(|s| bench::Which::from_name(&s).expect("listed")))]
    which: Option<bench::Which>,
    /// One JSON object instead of `name: value unit` lines
    #[arg(long)]
    json: bool,
    /// Connections to run (lifecycle default 200000, memory 100000,
    /// forward 5000 per path)
    #[arg(long, value_name = "N", value_parser = count)]
    connections: Option<usize>,
    /// lifecycle: connections in flight at once (default 100, then 1000)
    #[arg(long, value_name = "N", value_parser = count)]
    batch: Option<usize>,
    /// tun, throughput, forward: MiB per transfer (tun 256, throughput
    /// 1024, forward 256)
    #[arg(long = "size", value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=65536))]
    size_mib: Option<u64>,
    /// throughput: idle connections per side in the idle row; forward:
    /// idle relayed flows (default 100000; 0 leaves the row out)
    #[arg(long, value_name = "N")]
    idle: Option<usize>,
    /// tun: drop PERCENT % of packets at random each way (iptables, in the
    /// benchmark's namespaces), beside the kernel to itself under the same
    /// loss
    #[arg(long = "loss", value_name = "PERCENT", value_parser = percent_below_100)]
    loss_percent: Option<f64>,
    /// tun: synack's minimum retransmission timeout in ms (default 1000,
    /// RFC 6298's; Linux uses 200)
    #[arg(long = "min-rto", value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=60_000))]
    min_rto_ms: Option<u64>,
    /// tun: capture synack's side of the TUN transfers (with offloads)
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
}

/// The device options `serve` and `connect` share.
#[derive(Args, Debug)]
#[group(id = "device", required = true, multiple = false)]
pub struct DeviceArgs {
    /// A TUN device (IP datagrams): an existing persistent one, or a new
    /// one if we may create it
    #[arg(long, value_name = "IFNAME", group = "device", value_parser = ifname)]
    tun: Option<String>,
    /// A TAP device (Ethernet frames; ARP and neighbor discovery answered
    /// by synack)
    #[arg(long, value_name = "IFNAME", group = "device", value_parser = ifname)]
    tap: Option<String>,
}

/// The link options `serve` and `connect` share.
#[derive(Args, Debug)]
pub struct LinkArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// The stack's own address, e.g. 198.18.0.2 or 2001:db8::2
    #[arg(long, value_name = "ADDR", value_parser = host_addr)]
    ip: IpAddr,
    #[command(flatten)]
    run: RunArgs,
}

/// What every command that runs a stack on a device takes besides the
/// device and its address.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Write every packet to FILE (pcap, raw IP)
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Answer `synack ss --control PATH` on this Unix socket (removed on
    /// exit)
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
    /// TUN: one datagram per system call each way, without the kernel's
    /// segmentation offloads (on by default where the kernel has them)
    #[arg(long)]
    no_offload: bool,
}

/// Runs synack on a TUN or TAP device and serves an application until
/// SIGINT or SIGTERM.
///
/// Prints `listening on ADDR:PORT` once ready; answers ping.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  sudo synack serve --tun tun0 --ip 198.18.0.2\n  \
                        sudo synack serve --tap tap0 --ip 2001:db8::2 --app http --port 8080 \
                        --control /tmp/synack.sock"
)]
pub struct ServeArgs {
    #[command(flatten)]
    link: LinkArgs,
    /// Instead of the application's well-known port
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// echo (port 7), discard (9), source (19: an endless chargen stream),
    /// http (80: a page listing the stack's connections and counters)
    #[arg(long, value_name = "APP", default_value = "echo",
          value_parser = PossibleValuesParser::new(live::apps::App::NAMES)
              .map(|s| live::apps::App::from_name(&s).expect("listed")))]
    app: live::apps::App,
}

/// Runs synack on a device and opens a connection: standard input to the
/// peer, the peer to standard output.
///
/// At end of input sends FIN. Exits 0 once the peer has closed and
/// everything was delivered; 1 with a one-line reason (refused, reset,
/// timed out...).
#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  echo hello | sudo synack connect --tun tun0 --ip 198.18.0.2 \
                        198.18.0.1:7"
)]
pub struct ConnectArgs {
    #[command(flatten)]
    link: LinkArgs,
    /// The peer: ADDRESS:PORT, or [ADDRESS]:PORT for IPv6
    #[arg(value_name = "HOST:PORT", value_parser = remote_addr)]
    remote: SocketAddr,
    /// Give up the handshake after SECS seconds
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
    timeout: Duration,
}

/// Forwards every TCP flow routed into a TUN device to its real
/// destination, transparently, until SIGINT or SIGTERM.
///
/// Each SYN waits while a kernel socket dials the address the client
/// asked for; the client then sees what the destination gave: a
/// connection, a refusal, ICMP unreachable, or silence. Route traffic into
/// the device with a policy rule (see the README). Prints `forwarding on
/// IFNAME` once ready.
#[derive(Args, Debug)]
#[command(after_help = "Example:\n  ip rule add iif veth0 lookup 100; \
                        ip route add default dev tun0 table 100\n  \
                        sudo synack forward --tun tun0 --ip 198.18.0.2 --ip 2001:db8::2 \
                        --mark 1 --mss-clamp 1360")]
pub struct ForwardArgs {
    /// The TUN device traffic is routed into
    #[arg(long, value_name = "IFNAME", required = true, value_parser = ifname)]
    tun: String,
    /// The stack's own address (ICMP errors come from it); once per family
    #[arg(long, value_name = "ADDR", required = true, value_parser = host_addr)]
    ip: Vec<IpAddr>,
    /// Give a dial up after SECS seconds, answering the client nothing
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    connect_timeout: Duration,
    /// Abort a flow when no byte moved either way for SECS seconds (0:
    /// never; default 7440, RFC 5382's)
    #[arg(long, value_name = "SECS", value_parser = seconds_or_never)]
    idle_timeout: Option<Duration>,
    /// After one side's FIN, abort when the other direction moves nothing
    /// for SECS seconds (0: only the idle timeout; default 60)
    #[arg(long, value_name = "SECS", value_parser = seconds_or_never)]
    half_close_timeout: Option<Duration>,
    /// SYNs held undecided at most; beyond, SYN cookies answer at once
    /// (default 4096)
    #[arg(long, value_name = "N", value_parser = count)]
    pending_limit: Option<usize>,
    /// The largest MSS offered to clients (88 to 32767); the TUN MTU
    /// bounds it too
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(88..=32767))]
    mss_clamp: Option<u16>,
    /// SO_MARK on the kernel sockets, for a rule that keeps relayed
    /// traffic out of the device
    #[arg(long, value_name = "N")]
    mark: Option<u32>,
    /// Bind the kernel sockets to this interface (SO_BINDTODEVICE)
    #[arg(long, value_name = "IFNAME", value_parser = ifname)]
    bind_interface: Option<String>,
    /// Dial through this SOCKS5 proxy (no authentication, CONNECT by
    /// address)
    #[arg(long, value_name = "HOST:PORT", value_parser = remote_addr)]
    socks5: Option<SocketAddr>,
    #[command(flatten)]
    run: RunArgs,
}

/// Shows the connections of a running `synack serve` or `synack connect`,
/// like `ss -ant`.
///
/// State, queues, addresses, smoothed RTT and variation, RTO, congestion
/// window, retransmissions.
#[derive(Args, Debug)]
#[command(after_help = "Example:\n  synack ss --control /tmp/synack.sock -i --counters")]
pub struct SsArgs {
    /// The control socket the stack was started with (--control PATH)
    #[arg(long, value_name = "PATH")]
    control: PathBuf,
    /// Under each connection, a line like `ss -ti`'s: options, congestion
    /// control, rto, rtt, cwnd, ssthresh, retransmissions, ca_state, timer
    #[arg(short, long)]
    info: bool,
    /// Also print the stack's TCP and device counters
    #[arg(long)]
    counters: bool,
}

/// Runs packetdrill scripts against a fresh synack endpoint each,
/// in-process, in virtual time (no root, no devices).
///
/// Prints PASS or FAIL per script (with the line, what was expected and
/// what happened, or `unsupported: ...`), then `N passed, M failed`; exits
/// 1 if any failed.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  synack script conformance/scripts\n  \
                        synack script --profile linux --verbose hello.pkt")]
pub struct ScriptArgs {
    /// .pkt files, or directories searched recursively
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// rfc: synack's own defaults; linux: the choices RFC 9293 leaves open
    /// made as Linux makes them; portable: for scripts written against
    /// another system's TCP
    #[arg(long, value_name = "NAME", default_value = "rfc",
          value_parser = PossibleValuesParser::new(["rfc", "linux", "portable"])
              .map(|s| synack_script::Profile::parse(&s).expect("listed")))]
    profile: synack_script::Profile,
    /// portable: define NAME for #ifdef
    #[arg(short = 'D', value_name = "NAME")]
    defines: Vec<String>,
    /// portable: the stack's initial receive window, bytes
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    rcv_wnd: Option<u64>,
    /// Timing tolerance, as a harness gives it on packetdrill's command
    /// line (default 4000; a script's own --tolerance_usecs line wins)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..))]
    tolerance_usecs: Option<i64>,
    /// Print every segment both ways and every call
    #[arg(short, long)]
    verbose: bool,
}

/// Draws the TCP connections of a capture as one self-contained HTML page:
/// a ladder diagram, time-sequence graphs and (for synack's own runs) cwnd
/// and RTT.
///
/// Reads classic pcap and pcapng (tcpdump, Wireshark, `synack --pcap`);
/// the page needs no network to view.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  synack demo --pcap demo.pcap && synack plot demo.pcap -o demo.html\n  \
                        tcpdump -i veth0 -s 128 -w cap.pcap; synack plot cap.pcap -o cap.html"
)]
pub struct PlotArgs {
    /// The capture to read
    #[arg(value_name = "CAPTURE")]
    input: PathBuf,
    /// The page to write
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// The page's title (default: the capture's file name)
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,
}

/// What the command line asked for, ready to run.
#[derive(Debug, PartialEq)]
pub enum Command {
    Help,
    Demo(demo::Options),
    Bench(bench::Options),
    Serve(live::serve::Options),
    Connect(live::connect::Options),
    Forward(live::forward::Options),
    Ss(live::ss::Options),
    Script(script::Options),
    Plot(plot::PlotOptions),
}

/// Parses the arguments (the program name first). Help and version
/// requests come back as clap errors of their kind, which print to
/// standard output and exit 0.
pub fn parse<I, T>(args: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    let Some(cmd) = cli.command else {
        return Ok(Command::Help);
    };
    Ok(match cmd {
        Cmd::Demo(a) => Command::Demo(a.into_options()?),
        Cmd::Bench(a) => Command::Bench(a.into_options()?),
        Cmd::Serve(a) => {
            let (link, control) = a.link.into_link()?;
            Command::Serve(live::serve::Options {
                link,
                port: a.port,
                app: a.app,
                control,
            })
        }
        Cmd::Connect(a) => {
            let (link, control) = a.link.into_link()?;
            if link.ip.is_ipv4() != a.remote.is_ipv4() {
                return Err(usage(
                    ErrorKind::ArgumentConflict,
                    format!(
                        "the stack's address {} and the peer {} are of different families",
                        link.ip, a.remote
                    ),
                ));
            }
            Command::Connect(live::connect::Options {
                link,
                remote: a.remote,
                control,
                timeout: a.timeout,
            })
        }
        Cmd::Forward(a) => Command::Forward(a.into_options()?),
        Cmd::Ss(a) => Command::Ss(live::ss::Options {
            control: a.control,
            counters: a.counters,
            info: a.info,
        }),
        Cmd::Script(a) => Command::Script(script::Options {
            paths: a.paths,
            profile: a.profile,
            verbose: a.verbose,
            defines: a.defines,
            rcv_wnd: a.rcv_wnd.map(|n| n as usize),
            tolerance_usecs: a.tolerance_usecs,
        }),
        Cmd::Plot(a) => Command::Plot(plot::PlotOptions {
            input: a.input,
            output: a.output,
            title: a.title,
        }),
    })
}

/// The top-level help text, as `synack --help` prints it.
pub fn help() -> String {
    Cli::command().render_long_help().to_string()
}

/// A usage error as one line, `synack: ` and clap's own first line (which
/// names the argument), with a pointer to `--help` on the same line.
pub fn one_line(e: &clap::Error) -> String {
    let text = e.to_string();
    // The first paragraph: the message, and for some errors the
    // arguments it names on the indented lines below it.
    let para: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let msg = para.join(" ");
    let msg = msg.strip_prefix("error: ").unwrap_or(&msg);
    format!("synack: {msg} (see --help)")
}

/// A usage error found after clap's own checks, formatted as clap formats
/// its own (and so exiting with code 2).
fn usage(kind: ErrorKind, msg: String) -> clap::Error {
    clap::Error::raw(kind, format!("{msg}\n")).format(&mut Cli::command())
}

impl DemoArgs {
    fn into_options(self) -> Result<demo::Options, clap::Error> {
        if self.loss > 0.0 && !self.scenario.supports_loss() {
            return Err(usage(
                ErrorKind::ArgumentConflict,
                format!(
                    "--loss applies to the basic and syn-flood scenarios only; '{}' claims an \
                     exact exchange of segments that loss would change",
                    self.scenario.name()
                ),
            ));
        }
        Ok(demo::Options {
            scenario: self.scenario,
            seed: self.seed,
            loss: self.loss,
            pcap: self.pcap,
            html: self.html,
            quiet: self.quiet,
        })
    }
}

impl BenchArgs {
    fn into_options(self) -> Result<bench::Options, clap::Error> {
        use bench::Which;
        let which = self.which.unwrap_or(Which::All);
        let conflict = |msg: &str| Err(usage(ErrorKind::ArgumentConflict, msg.into()));
        if which != Which::Tun
            && (self.pcap.is_some() || self.loss_percent.is_some() || self.min_rto_ms.is_some())
        {
            return conflict("--loss, --min-rto and --pcap apply to bench tun only");
        }
        if !matches!(which, Which::Tun | Which::Throughput | Which::Forward)
            && self.size_mib.is_some()
        {
            return conflict("--size applies to bench tun, throughput and forward only");
        }
        if !matches!(which, Which::Throughput | Which::Forward) && self.idle.is_some() {
            return conflict("--idle applies to bench throughput and forward only");
        }
        Ok(bench::Options {
            which,
            json: self.json,
            connections: self.connections,
            batch: self.batch,
            idle: self.idle,
            size_mib: self.size_mib,
            pcap: self.pcap,
            loss_percent: self.loss_percent,
            min_rto: self.min_rto_ms.map(Duration::from_millis),
        })
    }
}

impl ForwardArgs {
    fn into_options(self) -> Result<live::forward::Options, clap::Error> {
        let mut ips = self.ip.into_iter();
        let ip = ips.next().expect("clap requires --ip");
        let more_ips: Vec<IpAddr> = ips.collect();
        if more_ips.len() > 1 || more_ips.iter().any(|m| m.is_ipv4() == ip.is_ipv4()) {
            return Err(usage(
                ErrorKind::ArgumentConflict,
                "--ip: at most one IPv4 and one IPv6 address".into(),
            ));
        }
        Ok(live::forward::Options {
            link: live::Link {
                kind: live::DeviceKind::Tun,
                ifname: self.tun,
                ip,
                pcap: self.run.pcap,
                offload: !self.run.no_offload,
            },
            more_ips,
            control: self.run.control,
            dialer: live::upstream::Dialer {
                mark: self.mark,
                bind_interface: self.bind_interface,
                socks5: self.socks5,
                timeout: self.connect_timeout,
            },
            idle_timeout: never_if_zero(
                self.idle_timeout,
                synack_io::relay::RelayOptions::DEFAULT_IDLE,
            ),
            half_close_timeout: never_if_zero(
                self.half_close_timeout,
                synack_io::relay::RelayOptions::DEFAULT_HALF_CLOSE,
            ),
            pending_limit: self.pending_limit,
            mss_clamp: self.mss_clamp,
        })
    }
}

impl LinkArgs {
    fn into_link(self) -> Result<(live::Link, Option<PathBuf>), clap::Error> {
        let (kind, ifname) = match (self.device.tun, self.device.tap) {
            (Some(n), _) => (live::DeviceKind::Tun, n),
            (None, Some(n)) => (live::DeviceKind::Tap, n),
            // The group is required: clap has refused the line already.
            (None, None) => unreachable!("clap requires --tun or --tap"),
        };
        if self.run.no_offload && kind != live::DeviceKind::Tun {
            return Err(usage(
                ErrorKind::ArgumentConflict,
                "--no-offload applies to --tun devices only".into(),
            ));
        }
        let link = live::Link {
            kind,
            ifname,
            ip: self.ip,
            pcap: self.run.pcap,
            offload: !self.run.no_offload,
        };
        Ok((link, self.run.control))
    }
}

/// A loss rate in percent, `5` or `5%`, from 0 to 100.
fn percent_upto_100(v: &str) -> Result<f64, String> {
    let p = percent(v)?;
    if p > 100.0 {
        return Err("not a percentage from 0 to 100".into());
    }
    Ok(p)
}

/// A loss rate in percent below 100, where nothing would ever arrive.
fn percent_below_100(v: &str) -> Result<f64, String> {
    let p = percent(v)?;
    if p >= 100.0 {
        return Err("not a percentage from 0 to below 100".into());
    }
    Ok(p)
}

fn percent(v: &str) -> Result<f64, String> {
    let p: f64 = v
        .trim_end_matches('%')
        .parse()
        .map_err(|_| "not a number".to_string())?;
    if p.is_nan() || p < 0.0 {
        return Err("not a percentage (0 or more)".into());
    }
    Ok(p)
}

/// A positive count with a sane upper bound (the benchmarks hold every
/// connection in memory; 10 million is already several GiB).
fn count(v: &str) -> Result<usize, String> {
    let n: usize = v
        .replace('_', "")
        .parse()
        .map_err(|_| "not a positive integer".to_string())?;
    if n == 0 || n > 10_000_000 {
        return Err("out of range (1 to 10000000)".into());
    }
    Ok(n)
}

/// A network interface name as the kernel takes it (IFNAMSIZ is 16 with
/// the terminating NUL).
fn ifname(v: &str) -> Result<String, String> {
    if v.is_empty() || v.len() > 15 || v.contains(['/', ' ', '\0']) || v == "." || v == ".." {
        return Err("not an interface name (1 to 15 characters, no '/' or spaces)".into());
    }
    Ok(v.to_string())
}

/// An address a host can have: not unspecified, not multicast.
fn host_addr(v: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = v
        .parse()
        .map_err(|_| "not an IPv4 or IPv6 address".to_string())?;
    if ip.is_unspecified() || ip.is_multicast() {
        return Err(format!("{ip} cannot be a host's address"));
    }
    Ok(ip)
}

/// The peer of `connect`: an address and a port other than 0.
fn remote_addr(v: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = v
        .parse()
        .map_err(|_| "not ADDRESS:PORT (IPv6: [ADDRESS]:PORT)".to_string())?;
    if addr.port() == 0 {
        return Err("port 0".into());
    }
    Ok(addr)
}

/// A number of seconds up to a day, or 0 (for never).
fn seconds_or_never(v: &str) -> Result<Duration, String> {
    if v.parse::<f64>() == Ok(0.0) {
        return Ok(Duration::ZERO);
    }
    seconds(v).map_err(|_| "not a number of seconds (0 for never, up to 86400)".to_string())
}

/// A timeout option: the default when not given, `None` (never) for 0.
fn never_if_zero(given: Option<Duration>, default: Duration) -> Option<Duration> {
    match given {
        None => Some(default),
        Some(d) if d.is_zero() => None,
        Some(d) => Some(d),
    }
}

/// A positive number of seconds, up to a day.
fn seconds(v: &str) -> Result<Duration, String> {
    let secs: f64 = v
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 86400.0)
        .ok_or_else(|| "not a number of seconds (above 0, up to 86400)".to_string())?;
    Ok(Duration::from_secs_f64(secs))
}
