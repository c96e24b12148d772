//! The engine on a real link: `synack serve`, `synack connect`,
//! `synack forward` and `synack ss`.
//!
//! `serve` and `connect` run a [`Stack`] on a TUN or TAP device on a
//! current-thread tokio runtime: the stack's event loop and the
//! application share one thread, as a small server would. Both can open a
//! Unix control socket that `ss` reads.

pub mod apps;
pub mod connect;
pub mod control;
pub mod forward;
pub mod kernel_side;
pub mod serve;
pub mod ss;
pub mod upstream;

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use synack_io::device::{Device, EthernetConfig, Pcap, Tap, Tun};
use synack_io::{Stack, StackConfig};

/// Which kind of device carries the stack's packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// IP datagrams (`--tun`).
    Tun,
    /// Ethernet frames, with ARP and neighbor discovery (`--tap`).
    Tap,
}

/// The link a command runs its stack on: `--tun`/`--tap IFNAME`, `--ip
/// ADDR`, `--pcap FILE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub kind: DeviceKind,
    pub ifname: String,
    pub ip: IpAddr,
    pub pcap: Option<PathBuf>,
    /// TUN segmentation offloads, where the kernel has them (`--no-offload`
    /// turns them off).
    pub offload: bool,
}

impl Link {
    /// Opens the device (wrapped in a capture if asked) and starts a stack
    /// on it, in the current tokio runtime; says whether the TUN offloads
    /// are on.
    pub fn open(&self) -> Result<(Stack, bool), String> {
        self.open_with(StackConfig::new(self.ip))
    }

    /// [`open`](Self::open) with a stack configuration of the caller's
    /// (more addresses, engine settings).
    pub fn open_with(&self, config: StackConfig) -> Result<(Stack, bool), String> {
        let mut offload = false;
        let existed = kernel_side::exists(&self.ifname);
        let what = match self.kind {
            DeviceKind::Tun => "TUN",
            DeviceKind::Tap => "TAP",
        };
        let dev: Box<dyn Device> = match self.kind {
            DeviceKind::Tun if self.offload => Tun::open(&self.ifname).map(|d| {
                offload = d.offload();
                Box::new(d) as Box<dyn Device>
            }),
            DeviceKind::Tun => {
                Tun::open_without_offload(&self.ifname).map(|d| Box::new(d) as Box<dyn Device>)
            }
            DeviceKind::Tap => Tap::open(&self.ifname, EthernetConfig::new(self.ip))
                .map(|d| Box::new(d) as Box<dyn Device>),
        }
        .map_err(|e| {
            let hint = if e.kind() == io::ErrorKind::PermissionDenied {
                " (needs root, CAP_NET_ADMIN, or a persistent device created for this user: \
                 ip tuntap add dev IFNAME mode tun user $USER)"
            } else {
                ""
            };
            format!("cannot open {what} device {}: {e}{hint}", self.ifname)
        })?;
        if !existed {
            tracing::info!(device = %self.ifname, "created {what} device {}", self.ifname);
        }
        for missing in kernel_side::what_is_missing(&self.ifname, self.ip, !existed) {
            tracing::warn!("{missing}");
        }
        let dev: Box<dyn Device> = match &self.pcap {
            Some(path) => Box::new(
                Pcap::create(dev, path)
                    .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
            ),
            None => dev,
        };
        let stack = Stack::new(dev, config).map_err(|e| format!("cannot start the stack: {e}"))?;
        Ok((stack, offload))
    }
}

/// Says on standard error whether the TUN offloads are on (standard
/// output carries the lines scripts wait for).
pub fn report_offload(link: &Link, offload: bool) {
    eprintln!(
        "synack: {}: segmentation offloads {}",
        link.ifname,
        if offload {
            "on"
        } else if link.offload {
            "unavailable (one datagram per system call)"
        } else {
            "off (--no-offload)"
        }
    );
}

/// The runtime `serve`, `connect` and `forward` run on.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// How a command leaves its runtime when its work is done.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Drop the runtime and its tasks (connections, the event loop, the
    /// capture, which flushes its file).
    Drop,
    /// Do not wait for tasks that may block (a thread reading a terminal).
    Background,
}

/// Runs a command's work on [`runtime`] (inside a `LocalSet`, for
/// `spawn_local`) and turns its result into the exit code: 0, or 1 with
/// the error on standard error.
pub fn run_to_exit<F>(work: F, finish: Finish) -> std::process::ExitCode
where
    F: std::future::Future<Output = Result<(), String>>,
{
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("synack: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let result = rt.block_on(tokio::task::LocalSet::new().run_until(work));
    match finish {
        Finish::Drop => drop(rt),
        Finish::Background => rt.shutdown_background(),
    }
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// What a failed connection tells the user: the words `ss` and `nc` use.
pub fn reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by peer".into(),
        io::ErrorKind::TimedOut => "connection timed out".into(),
        io::ErrorKind::ConnectionAborted => "connection aborted".into(),
        io::ErrorKind::HostUnreachable => "host unreachable".into(),
        io::ErrorKind::NetworkUnreachable => "network unreachable".into(),
        _ => e.to_string(),
    }
}

/// `ss`'s short names for the states.
pub fn ss_state(s: synack::State) -> &'static str {
    use synack::State::*;
    match s {
        Closed => "UNCONN",
        Listen => "LISTEN",
        SynSent => "SYN-SENT",
        SynReceived => "SYN-RECV",
        Established => "ESTAB",
        FinWait1 => "FIN-WAIT-1",
        FinWait2 => "FIN-WAIT-2",
        CloseWait => "CLOSE-WAIT",
        Closing => "CLOSING",
        LastAck => "LAST-ACK",
        TimeWait => "TIME-WAIT",
    }
}

/// A byte count for people: 1.5 MiB.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
