//! `synack bench tun`: single-connection throughput between the Linux
//! kernel and synack over a TUN device, both ways, beside the kernel
//! talking to itself over a veth pair between two namespaces.
//!
//! Everything runs in namespaces this process creates (deleted at the
//! end), on 198.18.0.0/15 addresses. synack runs in this process, on a
//! thread that entered the namespace, on a current-thread tokio runtime
//! (its event loop and the application share that thread, as in `synack
//! serve`); the kernel's side is a plain `std::net` socket on another
//! thread. Each transfer moves `size` bytes or stops after [`CAP`].

use crate::report::Report;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use synack_io::device::{Device, DeviceCounters, Pcap, Tun};
use synack_io::{Stack, StackConfig};
use synack_testbed::{Netns, VethPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The longest one transfer may run.
const CAP: Duration = Duration::from_secs(10);
/// How long any one socket call may block before the run is declared
/// stuck.
const STUCK: Duration = Duration::from_secs(30);
const CHUNK: usize = 256 * 1024;

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

pub fn run(size: u64, pcap: Option<&Path>, r: &mut Report) -> Result<(), String> {
    if let Some(why) = synack_testbed::unavailable() {
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
    r.note(format!(
        "single connection, {} MiB per transfer (or {} s), kernel side std::net, synack on a \
         current-thread tokio runtime",
        size >> 20,
        CAP.as_secs()
    ));
    let (k2s, s2k, (c, dev)) = over_tun(size, pcap.map(Path::to_path_buf))?;
    let veth = over_veth(size)?;
    let ratio = |t: Transfer| t.mib_per_sec() / veth.mib_per_sec();
    r.figure("tun_kernel_to_synack", k2s.mib_per_sec(), 1, "MiB/s");
    r.figure("tun_synack_to_kernel", s2k.mib_per_sec(), 1, "MiB/s");
    r.figure("veth_kernel_to_kernel", veth.mib_per_sec(), 1, "MiB/s");
    r.figure("ratio_kernel_to_synack_vs_veth", ratio(k2s), 3, "x");
    r.figure("ratio_synack_to_kernel_vs_veth", ratio(s2k), 3, "x");
    for (name, t) in [
        ("kernel->synack", k2s),
        ("synack->kernel", s2k),
        ("veth (median of 3)", veth),
    ] {
        r.note(format!("{name}: {} bytes in {:.3} s", t.bytes, t.secs));
    }
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
    Ok(())
}

fn err(what: &str) -> impl Fn(io::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// The kernel (198.18.0.1) and synack (198.18.0.2) over `tun0`: first the
/// kernel sends to synack, then synack to the kernel.
fn over_tun(
    size: u64,
    pcap: Option<PathBuf>,
) -> Result<(Transfer, Transfer, SideCounters), String> {
    let ns = Netns::new("benchtun").map_err(err("namespace"))?;
    ns.add_device("tun0", "tun").map_err(err("tun device"))?;
    let (listening_tx, listening_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let synack = ns.thread(move || synack_side(size, pcap, listening_tx, go_rx));
    let kernel = ns.thread(move || -> Result<(Transfer, Transfer), String> {
        listening_rx
            .recv_timeout(STUCK)
            .map_err(|_| "synack did not start".to_string())?;
        let k2s = send(addr("198.18.0.2:5001"), size).map_err(err("kernel->synack"))?;
        let l = TcpListener::bind(addr("198.18.0.1:5002")).map_err(err("kernel listen"))?;
        let _ = go_tx.send(());
        let s2k = receive(&l).map_err(err("synack->kernel"))?;
        Ok((k2s, s2k))
    });
    let result = kernel
        .join()
        .map_err(|_| "the kernel's side panicked".to_string())?;
    // synack's side finishes once the kernel's has; if the kernel's failed,
    // synack's may be stuck waiting and is left behind (it ends with us).
    let (k2s, s2k) = result?;
    let counters = synack
        .join()
        .map_err(|_| "synack's side panicked".to_string())??;
    Ok((k2s, s2k, counters))
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a literal address")
}

/// What synack's side counted: the engine's counters and the device's.
type SideCounters = (synack::Counters, DeviceCounters);

/// synack's side: accept and drain the kernel's transfer, then connect to
/// the kernel and send.
fn synack_side(
    size: u64,
    pcap: Option<PathBuf>,
    listening: mpsc::Sender<()>,
    go: tokio::sync::oneshot::Receiver<()>,
) -> Result<SideCounters, String> {
    use synack_io::net::{TcpListener, TcpStream};
    let rt = crate::live::runtime().map_err(err("runtime"))?;
    rt.block_on(async move {
        let tun = Tun::open("tun0").map_err(err("tun0"))?;
        let dev: Box<dyn Device> = match pcap {
            Some(p) => Box::new(Pcap::create(tun, &p).map_err(err("pcap"))?),
            None => Box::new(tun),
        };
        let stack = Stack::new(dev, StackConfig::new("198.18.0.2".parse().unwrap()))
            .map_err(err("stack"))?;
        let l = TcpListener::bind(&stack, addr("198.18.0.2:5001"))
            .await
            .map_err(err("listen"))?;
        let _ = listening.send(());
        let (mut s, _) = l.accept().await.map_err(err("accept"))?;
        let mut buf = vec![0u8; CHUNK];
        while s.read(&mut buf).await.map_err(err("synack read"))? > 0 {}
        drop(s);
        go.await
            .map_err(|_| "the kernel's side gave up".to_string())?;
        let mut s = TcpStream::connect(&stack, addr("198.18.0.1:5002"))
            .await
            .map_err(err("connect"))?;
        let start = Instant::now();
        let mut left = size;
        while left > 0 && start.elapsed() < CAP {
            let n = left.min(CHUNK as u64) as usize;
            s.write_all(&buf[..n]).await.map_err(err("synack write"))?;
            left -= n as u64;
        }
        s.shutdown().await.map_err(err("synack shutdown"))?;
        // The kernel closes once it has read everything.
        while s.read(&mut buf).await.map_err(err("synack read"))? > 0 {}
        drop(s);
        // Let the last FIN exchange finish before the stack goes.
        let until = Instant::now() + Duration::from_secs(2);
        while !stack.connections().is_empty() && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok((stack.counters(), stack.device_counters()))
    })
}

/// Connects, sends `size` bytes (or for [`CAP`]), half-closes, and waits
/// for the peer's close: the time is from connect to that close.
fn send(to: SocketAddr, size: u64) -> io::Result<Transfer> {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&to, STUCK)?;
    s.set_write_timeout(Some(STUCK))?;
    s.set_read_timeout(Some(STUCK))?;
    let buf = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    while sent < size && start.elapsed() < CAP {
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

/// Accepts one connection and reads it to the end: the time is from
/// accept to the end of stream.
fn receive(l: &TcpListener) -> io::Result<Transfer> {
    let (mut s, _) = l.accept()?;
    let start = Instant::now();
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
        runs.push(veth_once(&pair, port, size)?);
    }
    runs.sort_by(|a, b| a.mib_per_sec().total_cmp(&b.mib_per_sec()));
    Ok(runs[1])
}

fn veth_once(pair: &VethPair, port: u16, size: u64) -> Result<Transfer, String> {
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
        send(to, size)
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
