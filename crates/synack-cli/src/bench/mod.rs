//! `synack bench`: what the engine costs, measured on this machine.
//!
//! `lifecycle` and `memory` drive two endpoints wired back to back
//! ([`pair`]), not through the simulated network, so the figures are the
//! engine's own. `tun` measures the whole stack against the Linux kernel
//! over a real TUN device (root only), with `--loss` under random loss.
//! `lossy` runs one bulk connection through a lossy bottleneck on the
//! simulated network, in virtual time, beside smoltcp on the same link.
//! `throughput` moves one bulk connection between two endpoints in one
//! thread as fast as they go, beside smoltcp in the same setup.
//! `forward` (root) measures `synack forward` as a router's transparent
//! forwarder beside the router's kernel forwarding (and tun2proxy, where
//! installed).

mod forward;
mod lifecycle;
mod lossy;
mod memory;
mod pair;
#[cfg(feature = "bench-smoltcp")]
mod smoltcp_queues;
mod throughput;
mod tun;

use crate::report::Report;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    All,
    Lifecycle,
    Memory,
    Tun,
    Lossy,
    Throughput,
    Forward,
}

impl Which {
    pub fn from_name(s: &str) -> Option<Which> {
        match s {
            "lifecycle" => Some(Which::Lifecycle),
            "memory" => Some(Which::Memory),
            "tun" => Some(Which::Tun),
            "lossy" => Some(Which::Lossy),
            "throughput" => Some(Which::Throughput),
            "forward" => Some(Which::Forward),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub which: Which,
    pub json: bool,
    pub connections: Option<usize>,
    pub batch: Option<usize>,
    /// `throughput`: idle connections per side in the idle row;
    /// `forward`: idle relayed flows.
    pub idle: Option<usize>,
    /// `tun`, `throughput`, `forward`: MiB per transfer.
    pub size_mib: Option<u64>,
    /// `tun`: capture synack's side.
    pub pcap: Option<std::path::PathBuf>,
    /// `tun`: random loss each way, in percent (`None`: the lossless run).
    pub loss_percent: Option<f64>,
    /// `tun`: synack's minimum RTO in place of the engine's default.
    pub min_rto: Option<std::time::Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            which: Which::All,
            json: false,
            connections: None,
            batch: None,
            idle: None,
            size_mib: None,
            pcap: None,
            loss_percent: None,
            min_rto: None,
        }
    }
}

pub fn run(o: &Options) -> ExitCode {
    let mut r = Report::default();
    // lossy's figures are virtual time: the same in any build.
    if cfg!(debug_assertions) && o.which != Which::Lossy {
        r.note("debug build: figures are meaningless; use cargo run --release -- bench");
    }
    let mut result = Ok(());
    if matches!(o.which, Which::All | Which::Lifecycle) {
        let n = o.connections.unwrap_or(200_000);
        result = lifecycle::run(n, o.batch, &mut r);
    }
    if result.is_ok() && matches!(o.which, Which::All | Which::Memory) {
        result = memory::run(o.connections.unwrap_or(100_000), &mut r);
    }
    if o.which == Which::Tun {
        let size = o.size_mib.unwrap_or(256) << 20;
        result = tun::run(size, o.loss_percent, o.min_rto, o.pcap.as_deref(), &mut r);
    }
    // Not part of the default run, which measures what the engine costs:
    // this measures how it recovers from loss, and takes a debug build
    // minutes.
    if o.which == Which::Lossy {
        result = lossy::run(lossy::SECONDS, &mut r);
    }
    if o.which == Which::Throughput {
        let size = o.size_mib.unwrap_or(1024) << 20;
        let idle = o.idle.unwrap_or(throughput::DEFAULT_IDLE);
        result = throughput::run(size, idle, &mut r);
    }
    if o.which == Which::Forward {
        let size = o.size_mib.unwrap_or(256) << 20;
        let connections = o.connections.unwrap_or(forward::DEFAULT_CONNECTIONS);
        let idle = o.idle.unwrap_or(forward::DEFAULT_IDLE);
        result = forward::run(size, connections, idle, &mut r);
    }
    if o.json {
        out!("{}", r.json());
    } else {
        out!("{}", r.text());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack bench: {e}");
            ExitCode::from(1)
        }
    }
}
