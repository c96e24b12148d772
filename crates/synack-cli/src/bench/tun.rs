//! `synack bench tun`: single-connection throughput between the Linux
//! kernel and synack over a TUN device, both ways, beside the kernel
//! talking to itself over a veth pair between two namespaces; with
//! `--loss P`, the same under P % random loss each way.
//!
//! Everything runs in namespaces this process creates (deleted at the
//! end), on 198.18.0.0/15 addresses. synack runs in this process, on a
//! thread that entered the namespace, on a current-thread tokio runtime
//! (its event loop and the application share that thread, as in `synack
//! serve`); the kernel's side is a plain `std::net` socket on another
//! thread. Each transfer moves `size` bytes or stops sending after a cap.
//!
//! Under loss the kernel's sockets sit one router away; [`lossy`] says why.

mod lossy;

use crate::report::Report;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use synack_io::device::{Device, DeviceCounters, Pcap, Tun};
use synack_io::{Stack, StackConfig};
use synack_testbed::{Netns, VethPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest one transfer may send for.
const CAP: Duration = Duration::from_secs(10);
/// How long any one socket call may block before the run is declared
/// stuck.
const STUCK: Duration = Duration::from_secs(30);
const CHUNK: usize = 256 * 1024;
/// synack's listening port; the kernel listens on one port per transfer
/// from here up, so no transfer meets another's TIME-WAIT.
const SYNACK_PORT: u16 = 5001;
const KERNEL_PORTS: u16 = 5100;

/// One measured transfer.
#[derive(Clone, Copy, Debug)]
struct Transfer {
    bytes: u64,
    secs: f64,
}

impl Transfer {
    fn mib_per_sec(self) -> f64 {
        self.bytes as f64 / (1 << 20) as f64 / self.secs
    }
}

/// `percent`: `--loss`, random loss each way, or `None` for the lossless
/// benchmark.
/// `min_rto`: `--min-rto`, synack's minimum retransmission timeout in
/// place of the engine's default (RFC 6298's 1 s), to compare with the
/// kernel's 200 ms.
pub fn run(
    size: u64,
    percent: Option<f64>,
    min_rto: Option<Duration>,
    pcap: Option<&Path>,
    r: &mut Report,
) -> Result<(), String> {
    let programs: &[&str] = if percent.is_some() {
        &["iptables"]
    } else {
        &[]
    };
    if let Some(why) = synack_testbed::unavailable_for(programs) {
        // CI runs this as root: a skip there would hide that nothing ran.
        if synack_testbed::strict() {
            return Err(format!(
                "cannot run: {why} ({} is set: a skip is a failure)",
                synack_testbed::REQUIRE_VAR
            ));
        }
        r.note(format!("skipped: {why}"));
        return Ok(());
    }
    if let Some(m) = min_rto {
        r.note(format!(
            "synack's minimum RTO: {} ms (--min-rto; the default is 1000)",
            m.as_millis()
        ));
    }
    match percent {
        None => lossless(size, min_rto, pcap, r),
        Some(p) => lossy::run(size, p, min_rto, pcap, r),
    }
}

fn lossless(
    size: u64,
    min_rto: Option<Duration>,
    pcap: Option<&Path>,
    r: &mut Report,
) -> Result<(), String> {
    r.note(format!(
        "single connection, {} MiB per transfer (or {} s), kernel side std::net, synack on a \
         current-thread tokio runtime",
        size >> 20,
        CAP.as_secs()
    ));
    // With offloads (the default), then without, each on a TUN device
    // of its own, then the kernel to itself over veth.
    let mut rows = Vec::new();
    for offload in [true, false] {
        let ns = Netns::new(if offload {
            "benchtun"
        } else {
            "benchtun-nooff"
        })
        .map_err(err("namespace"))?;
        ns.add_device("tun0", "tun").map_err(err("tun device"))?;
        let link = TunLink::start(
            &ns,
            &ns,
            [198, 18, 0, 1].into(),
            size,
            CAP,
            Side {
                min_rto,
                pcap: pcap.filter(|_| offload).map(Path::to_path_buf),
                offload,
            },
        )?;
        let (k2s, _) = link.kernel_to_synack()?;
        let (s2k, _) = link.synack_to_kernel(KERNEL_PORTS)?;
        let (c, dev) = link.finish()?;
        rows.push((offload, k2s, s2k, c, dev));
    }
    let veth = over_veth(size)?;
    let ratio = |t: Transfer| t.mib_per_sec() / veth.mib_per_sec();
    r.note("offloads: the TUN device with IFF_VNET_HDR and TSO/checksum offloads (the default; synack's segments leave as super-segments of up to 64 KiB); no_offload: one datagram per system call");
    for (offload, k2s, s2k, c, dev) in &rows {
        let sfx = if *offload { "" } else { "_no_offload" };
        r.figure(
            &format!("tun_kernel_to_synack{sfx}"),
            k2s.mib_per_sec(),
            1,
            "MiB/s",
        );
        r.figure(
            &format!("tun_synack_to_kernel{sfx}"),
            s2k.mib_per_sec(),
            1,
            "MiB/s",
        );
        if *offload {
            r.figure("veth_kernel_to_kernel", veth.mib_per_sec(), 1, "MiB/s");
        }
        r.figure(
            &format!("ratio_kernel_to_synack_vs_veth{sfx}"),
            ratio(*k2s),
            3,
            "x",
        );
        r.figure(
            &format!("ratio_synack_to_kernel_vs_veth{sfx}"),
            ratio(*s2k),
            3,
            "x",
        );
        let how = if *offload { "offloads" } else { "no offload" };
        for (name, t) in [("kernel->synack", k2s), ("synack->kernel", s2k)] {
            r.note(format!(
                "{name} ({how}): {} bytes in {:.3} s",
                t.bytes, t.secs
            ));
        }
        note_side_counters(r, c, dev);
    }
    r.note(format!(
        "veth (median of 3): {} bytes in {:.3} s",
        veth.bytes, veth.secs
    ));
    Ok(())
}

fn note_side_counters(r: &mut Report, c: &synack::Counters, dev: &DeviceCounters) {
    r.note(format!(
        "synack's TCP: {} segments in, {} out, {} retransmitted, {} dropped on arrival",
        c.in_segs,
        c.out_segs,
        c.retrans_segs,
        c.drops.iter().sum::<u64>()
    ));
    // Writes the TUN queue refused are losses TCP had to repair.
    r.note(format!(
        "the TUN device: {} writes dropped on a full queue, {} frames too long",
        dev.tx_dropped, dev.rx_length_errors
    ));
}

fn err<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn addr(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// What synack's side is asked to do, one transfer at a time.
enum Job {
    /// Accept the kernel's connection and read it to the end.
    Receive,
    /// Connect to the kernel there and send `size` bytes.
    Send(SocketAddr),
    /// Stop, reporting the stack's counters.
    Finish,
}

enum Reply {
    Listening,
    /// A job is done; the counters around it. (Counters are half a
    /// kilobyte: boxed, the replies are small.)
    Done(Box<Done>),
    Finished(Box<SideCounters>),
}

/// What synack counted around one transfer.
struct Done {
    before: synack::Counters,
    after: synack::Counters,
    dev_before: DeviceCounters,
    dev_after: DeviceCounters,
}

impl Done {
    /// How much the counter `name` (as `Counters::iter` names it) moved.
    fn delta(&self, name: &str) -> u64 {
        let get = |c: &synack::Counters| c.iter().find(|(n, _)| *n == name).map_or(0, |x| x.1);
        get(&self.after) - get(&self.before)
    }

    /// Every counter that moved, besides the segment totals: `Name=N`.
    fn moved(&self) -> String {
        self.after
            .iter()
            .zip(self.before.iter())
            .filter(|((n, a), (_, b))| a != b && !matches!(*n, "InSegs" | "OutSegs"))
            .map(|((n, a), (_, b))| format!("{n}={}", a - b))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What synack's side counted: the engine's counters and the device's.
type SideCounters = (synack::Counters, DeviceCounters);

/// synack on `tun0` in one namespace (its own thread, taking [`Job`]s),
/// the kernel's sockets in another (or the same) at `kernel_ip`.
struct TunLink<'a> {
    kernel: &'a Netns,
    kernel_ip: IpAddr,
    size: u64,
    cap: Duration,
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
    replies: mpsc::Receiver<Result<Reply, String>>,
    _synack: JoinHandle<()>,
}

impl<'a> TunLink<'a> {
    fn start(
        synack_ns: &Netns,
        kernel: &'a Netns,
        kernel_ip: IpAddr,
        size: u64,
        cap: Duration,
        side: Side,
    ) -> Result<TunLink<'a>, String> {
        let (jobs, jobs_rx) = tokio::sync::mpsc::unbounded_channel();
        let (reply, replies) = mpsc::channel();
        let synack = synack_ns.thread(move || {
            if let Err(e) = synack_side(size, cap, side, jobs_rx, &reply) {
                let _ = reply.send(Err(e));
            }
        });
        let link = TunLink {
            kernel,
            kernel_ip,
            size,
            cap,
            jobs,
            replies,
            _synack: synack,
        };
        match link.reply("start")? {
            Reply::Listening => Ok(link),
            _ => Err("synack's side answered out of turn".into()),
        }
    }

    /// synack's side's answer to the last job. If a transfer failed,
    /// synack's side may be stuck and is left behind (it ends with us).
    fn reply(&self, what: &str) -> Result<Reply, String> {
        match self.replies.recv_timeout(STUCK) {
            Ok(r) => r,
            Err(_) => Err(format!("synack's side did not {what} within {STUCK:?}")),
        }
    }

    fn done(&self, what: &str) -> Result<Done, String> {
        match self.reply(what)? {
            Reply::Done(d) => Ok(*d),
            _ => Err("synack's side answered out of turn".into()),
        }
    }

    fn ask(&self, job: Job) -> Result<(), String> {
        self.jobs
            .send(job)
            .map_err(|_| "synack's side has stopped".to_string())
    }

    /// The kernel connects to synack and sends; timed by the kernel, from
    /// connect to synack's close.
    fn kernel_to_synack(&self) -> Result<(Transfer, Done), String> {
        self.ask(Job::Receive)?;
        let to = addr(STACK_IP, SYNACK_PORT);
        let (size, cap) = (self.size, self.cap);
        let t = self
            .kernel
            .thread(move || send(to, size, cap))
            .join()
            .map_err(|_| "the kernel's side panicked".to_string())?
            .map_err(err("kernel->synack"))?;
        Ok((t, self.done("finish receiving")?))
    }

    /// synack connects to a kernel listener on `port` and sends; timed by
    /// the kernel, from accept to the end of stream.
    fn synack_to_kernel(&self, port: u16) -> Result<(Transfer, Done), String> {
        let at = addr(self.kernel_ip, port);
        let (ready_tx, ready_rx) = mpsc::channel();
        let kernel = self.kernel.thread(move || -> io::Result<Transfer> {
            let l = TcpListener::bind(at)?;
            let _ = ready_tx.send(());
            receive(&l)
        });
        ready_rx
            .recv_timeout(STUCK)
            .map_err(|_| "the kernel did not listen".to_string())?;
        self.ask(Job::Send(at))?;
        let t = kernel
            .join()
            .map_err(|_| "the kernel's side panicked".to_string())?
            .map_err(err("synack->kernel"))?;
        Ok((t, self.done("finish sending")?))
    }

    /// Stops synack's side: its counters over the whole run.
    fn finish(self) -> Result<SideCounters, String> {
        self.ask(Job::Finish)?;
        match self.reply("stop")? {
            Reply::Finished(c) => Ok(*c),
            _ => Err("synack's side answered out of turn".into()),
        }
    }
}

const STACK_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2));

/// How synack's side runs.
struct Side {
    /// In place of the engine's minimum RTO.
    min_rto: Option<Duration>,
    /// Capture synack's side there.
    pcap: Option<PathBuf>,
    /// The TUN segmentation offloads.
    offload: bool,
}

/// synack's side: a stack on `tun0`, listening, doing jobs in order.
fn synack_side(
    size: u64,
    cap: Duration,
    side: Side,
    mut jobs: tokio::sync::mpsc::UnboundedReceiver<Job>,
    reply: &mpsc::Sender<Result<Reply, String>>,
) -> Result<(), String> {
    use synack_io::net::{TcpListener, TcpStream};
    let rt = crate::live::runtime().map_err(err("runtime"))?;
    rt.block_on(async move {
        let Side {
            min_rto,
            pcap,
            offload,
        } = side;
        let tun = if offload {
            Tun::open("tun0")
        } else {
            Tun::open_without_offload("tun0")
        }
        .map_err(err("tun0"))?;
        let dev: Box<dyn Device> = match pcap {
            Some(p) => Box::new(Pcap::create(tun, &p).map_err(err("pcap"))?),
            None => Box::new(tun),
        };
        let mut config = StackConfig::new(STACK_IP);
        if let Some(m) = min_rto {
            config.engine.rtt.min_rto = m;
        }
        let stack = Stack::new(dev, config).map_err(err("stack"))?;
        let l = TcpListener::bind(&stack, addr(STACK_IP, SYNACK_PORT))
            .await
            .map_err(err("listen"))?;
        let _ = reply.send(Ok(Reply::Listening));
        let mut buf = vec![0u8; CHUNK];
        while let Some(job) = jobs.recv().await {
            let before = stack.counters();
            let dev_before = stack.device_counters();
            match job {
                Job::Receive => {
                    let (mut s, _) = l.accept().await.map_err(err("accept"))?;
                    while s.read(&mut buf).await.map_err(err("synack read"))? > 0 {}
                }
                Job::Send(to) => {
                    let mut s = TcpStream::connect(&stack, to)
                        .await
                        .map_err(err("connect"))?;
                    let start = Instant::now();
                    let mut left = size;
                    while left > 0 && start.elapsed() < cap {
                        let n = left.min(CHUNK as u64) as usize;
                        s.write_all(&buf[..n]).await.map_err(err("synack write"))?;
                        left -= n as u64;
                    }
                    s.shutdown().await.map_err(err("synack shutdown"))?;
                    // The kernel closes once it has read everything.
                    while s.read(&mut buf).await.map_err(err("synack read"))? > 0 {}
                }
                Job::Finish => {
                    let c = Box::new((stack.counters(), stack.device_counters()));
                    let _ = reply.send(Ok(Reply::Finished(c)));
                    return Ok(());
                }
            }
            // Let the last FIN exchange finish (a lost FIN waits for a
            // retransmission) so it counts with this transfer.
            let until = Instant::now() + Duration::from_secs(5);
            while !stack.connections().is_empty() && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let done = Box::new(Done {
                before,
                after: stack.counters(),
                dev_before,
                dev_after: stack.device_counters(),
            });
            if reply.send(Ok(Reply::Done(done))).is_err() {
                return Ok(());
            }
        }
        Ok(())
    })
}

/// Connects, sends `size` bytes (or for `cap`), half-closes, and waits
/// for the peer's close: the time is from connect to that close.
fn send(to: SocketAddr, size: u64, cap: Duration) -> io::Result<Transfer> {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&to, STUCK)?;
    s.set_write_timeout(Some(STUCK))?;
    s.set_read_timeout(Some(STUCK))?;
    let buf = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    while sent < size && start.elapsed() < cap {
        let n = (size - sent).min(CHUNK as u64) as usize;
        s.write_all(&buf[..n])?;
        sent += n as u64;
    }
    s.shutdown(Shutdown::Write)?;
    let mut sink = [0u8; 4096];
    while s.read(&mut sink)? > 0 {}
    Ok(Transfer {
        bytes: sent,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Accepts one connection (within [`STUCK`]) and reads it to the end: the
/// time is from accept to the end of stream.
fn receive(l: &TcpListener) -> io::Result<Transfer> {
    l.set_nonblocking(true)?;
    let until = Instant::now() + STUCK;
    let mut s = loop {
        match l.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < until => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "nobody connected"));
            }
            Err(e) => return Err(e),
        }
    };
    let start = Instant::now();
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(STUCK))?;
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    s.flush()?;
    Ok(Transfer { bytes: got, secs })
}

/// The baseline: the kernel to itself, one namespace to another over veth,
/// measured as the kernel->synack transfer is (sender, connect to close).
/// It is so fast that one run is noisy: the median of three.
fn over_veth(size: u64) -> Result<Transfer, String> {
    let pair = VethPair::new("benchveth").map_err(err("veth pair"))?;
    let mut runs = Vec::new();
    for port in 5003..5006 {
        runs.push(veth_once(&pair, port, size, CAP)?);
    }
    runs.sort_by(|a, b| a.mib_per_sec().total_cmp(&b.mib_per_sec()));
    Ok(runs[1])
}

fn veth_once(pair: &VethPair, port: u16, size: u64, cap: Duration) -> Result<Transfer, String> {
    let to = SocketAddr::new([198, 18, 1, 1].into(), port);
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let server = pair.a.thread(move || -> io::Result<Transfer> {
        let l = TcpListener::bind(to)?;
        let _ = ready_tx.send(());
        receive(&l)
    });
    let client = pair.b.thread(move || -> io::Result<Transfer> {
        ready_rx
            .recv_timeout(STUCK)
            .map_err(|_| io::Error::other("the receiver did not start"))?;
        send(to, size, cap)
    });
    let sent = client
        .join()
        .map_err(|_| "veth sender panicked".to_string())?
        .map_err(err("veth"))?;
    server
        .join()
        .map_err(|_| "veth receiver panicked".to_string())?
        .map_err(err("veth"))?;
    Ok(sent)
}
