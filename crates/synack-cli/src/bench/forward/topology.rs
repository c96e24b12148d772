//! The topology of `bench forward`: a client, a router and a server, each
//! a namespace of this process's own (deleted on drop), and which way the
//! router sends what the client sends.
//!
//! ```text
//! client c0 198.18.10.2 ── r0 198.18.10.1  router  r1 198.18.30.254 ── s0 server
//!        tun0 (synack forward)  198.18.0.1, synack 198.18.0.2          198.18.30.1-10
//!        tun1 (tun2proxy)       198.18.1.1
//!        tun2 (the idle run's synack forward) 198.18.2.1, synack 198.18.2.2
//! ```
//!
//! With no policy rule the router's kernel forwards ([`Path::Kernel`]);
//! `ip rule add iif r0 lookup T` sends what arrives from the client into
//! the table whose default route is one of the TUN devices. The
//! forwarders' own kernel sockets follow the main table out, to the
//! server. Switching paths is one rule, so the rounds of every path can
//! be interleaved.

use super::err;
use std::io::{self, BufRead, BufReader, Read};
use std::net::Ipv4Addr;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use synack_testbed::Netns;

/// The server's addresses: 198.18.30.1 to .10.
pub const SERVER_ADDRS: u8 = 10;
pub fn server_ip(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 30, i)
}

/// Which way the router sends the client's traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The router's kernel forwards it.
    Kernel,
    /// Into `tun0`, to `synack forward`.
    Synack,
    /// Into `tun1`, to tun2proxy.
    Tun2proxy,
    /// Into `tun2`, to the idle run's `synack forward`.
    SynackIdle,
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Path::Kernel => "kernel",
            Path::Synack | Path::SynackIdle => "synack",
            Path::Tun2proxy => "tun2proxy",
        }
    }

    /// The device and routing table the policy rule points at.
    pub fn device(self) -> Option<(&'static str, u32)> {
        match self {
            Path::Kernel => None,
            Path::Synack => Some(("tun0", 100)),
            Path::Tun2proxy => Some(("tun1", 101)),
            Path::SynackIdle => Some(("tun2", 102)),
        }
    }
}

pub struct Bed {
    pub client: Netns,
    pub router: Netns,
    pub server: Netns,
    /// The policy rule in place, if any.
    rule: Option<u32>,
}

impl Bed {
    pub fn new() -> Result<Bed, String> {
        let client = Netns::new("bfwdc").map_err(err("client namespace"))?;
        let router = Netns::new("bfwdr").map_err(err("router namespace"))?;
        let server = Netns::new("bfwds").map_err(err("server namespace"))?;
        let bed = Bed {
            client,
            router,
            server,
            rule: None,
        };
        bed.build().map_err(err("building the topology"))?;
        Ok(bed)
    }

    fn build(&self) -> io::Result<()> {
        let (c, r, s) = (&self.client, &self.router, &self.server);
        r.veth_to("r0", c, "c0")?;
        r.veth_to("r1", s, "s0")?;
        r.ip(&["addr", "add", "198.18.10.1/24", "dev", "r0"])?;
        r.ip(&["addr", "add", "198.18.30.254/24", "dev", "r1"])?;
        c.ip(&["addr", "add", "198.18.10.2/24", "dev", "c0"])?;
        for i in 1..=SERVER_ADDRS {
            s.ip(&["addr", "add", &format!("{}/24", server_ip(i)), "dev", "s0"])?;
        }
        for (ns, dev) in [(r, "r0"), (r, "r1"), (c, "c0"), (s, "s0")] {
            ns.ip(&["link", "set", dev, "up"])?;
        }
        c.ip(&["route", "add", "default", "via", "198.18.10.1"])?;
        s.ip(&["route", "add", "default", "via", "198.18.30.254"])?;
        // The TUN devices synack attaches to (tun2proxy makes its own).
        for (dev, net) in [("tun0", 0), ("tun2", 2)] {
            r.ip(&["tuntap", "add", "dev", dev, "mode", "tun"])?;
            r.ip(&["addr", "add", &format!("198.18.{net}.1/24"), "dev", dev])?;
            r.ip(&["link", "set", dev, "up"])?;
        }
        r.sysctl("net/ipv4/ip_forward", "1")?;
        // The forwarders' answers come out of their devices from the
        // server's addresses, whose route is r1.
        for dev in ["all", "default", "tun0", "tun2"] {
            r.sysctl(&format!("net/ipv4/conf/{dev}/rp_filter"), "0")?;
        }
        // Ephemeral ports for the connection-rate and idle runs, on the
        // client and on the router (the forwarders' own sockets).
        for ns in [c, r] {
            ns.sysctl("net/ipv4/ip_local_port_range", "1024 65535")?;
        }
        // The listen queues: bursts of SYNs must not be dropped.
        s.sysctl("net/core/somaxconn", "65535")?;
        s.sysctl("net/ipv4/tcp_max_syn_backlog", "65535")?;
        Ok(())
    }

    /// Sends the client's traffic along `path` from now on (connections
    /// open on another path break: switch between rounds).
    pub fn route(&mut self, path: Path) -> Result<(), String> {
        if let Some(table) = self.rule.take() {
            let t = table.to_string();
            self.router
                .ip(&["rule", "del", "iif", "r0", "lookup", &t])
                .map_err(err("removing the policy rule"))?;
        }
        if let Some((dev, table)) = path.device() {
            let t = table.to_string();
            self.router
                .ip(&["route", "replace", "default", "dev", dev, "table", &t])
                .map_err(err("the policy route"))?;
            self.router
                .ip(&["rule", "add", "iif", "r0", "lookup", &t])
                .map_err(err("the policy rule"))?;
            self.rule = Some(table);
        }
        Ok(())
    }
}

/// A forwarder running as a child process inside the router: stopped
/// (SIGTERM, then SIGKILL) and reaped when dropped.
pub struct Forwarder {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    what: String,
}

impl Forwarder {
    /// Starts `program args...` in `ns`, its standard output read line by
    /// line, its standard error kept.
    pub fn spawn(
        ns: &Netns,
        program: &str,
        args: &[&str],
        what: &str,
    ) -> Result<Forwarder, String> {
        let mut child = ns
            .command(program)
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {what}: {e}"))?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut e) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = e.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = sink.lock() {
                        // Enough to say why it failed.
                        if s.len() < 1 << 20 {
                            s.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            });
        }
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Forwarder {
            child,
            lines,
            stderr,
            what: what.to_string(),
        })
    }

    /// Waits up to `limit` for a line of standard output satisfying `ready`.
    pub fn wait_for_line(
        &mut self,
        limit: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let until = Instant::now() + limit;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if ready(&l) => return Ok(()),
                Ok(_) => {}
                Err(_) => {
                    return Err(format!(
                        "{} did not start within {limit:?}{}",
                        self.what,
                        self.why()
                    ));
                }
            }
        }
    }

    /// Polls `ready` until it holds, the child exits, or `limit` passes.
    pub fn wait_until(&mut self, limit: Duration, ready: impl Fn() -> bool) -> Result<(), String> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if ready() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("{} exited ({status}){}", self.what, self.why()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "{} did not start within {limit:?}{}",
            self.what,
            self.why()
        ))
    }

    /// `; stderr: ...` if it said anything.
    fn why(&self) -> String {
        let e = self
            .stderr
            .lock()
            .map(|s| String::from_utf8_lossy(&s).into_owned());
        let out: Vec<String> = self.lines.try_iter().collect();
        let out = out.join(" | ");
        let out = &out[out.floor_char_boundary(out.len().saturating_sub(2000))..];
        let mut why = String::new();
        if let Ok(s) = e
            && !s.trim().is_empty()
        {
            why += &format!("; its stderr: {}", s.trim());
        }
        if !out.is_empty() {
            why += &format!("; its output: {out}");
        }
        why
    }

    /// Still running?
    pub fn check(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited ({status}){}", self.what, self.why())),
            Err(e) => Err(format!("{}: {e}", self.what)),
        }
    }

    /// The process id (`ip netns exec` execs the program: the same one).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill has no memory preconditions; the pid is our
            // child's, not yet reaped, so it cannot have been reused.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
            let until = Instant::now() + Duration::from_secs(3);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The resident set of a process, in bytes.
pub fn vm_rss(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(err("/proc/PID/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| "no VmRSS in /proc/PID/status".to_string())
}

/// `synack forward --tun DEV --ip IP` (this very binary) in the router,
/// once it says it is forwarding.
pub fn start_synack(bed: &Bed, dev: &str, ip: &str) -> Result<Forwarder, String> {
    let exe = std::env::current_exe().map_err(err("this program's path"))?;
    let exe = exe.to_string_lossy().into_owned();
    let mut f = Forwarder::spawn(
        &bed.router,
        &exe,
        &["forward", "--tun", dev, "--ip", ip],
        "synack forward",
    )?;
    let want = format!("forwarding on {dev}");
    f.wait_for_line(Duration::from_secs(10), |l| l == want)?;
    Ok(f)
}
