//! Memory with many idle relayed flows: a `synack forward` of its own (on
//! `tun2`, started fresh so that nothing the bulk runs left in its heap
//! hides the growth), its resident set before and after the client opens
//! `n` connections through it to the server's listeners that never
//! accept (each connection waits established in a listen queue, open and
//! silent, costing the server no descriptor; the client holds one each).
//!
//! The figure is the forwarder's user-space memory: the engine's side of
//! each flow, the relay task, and the user-space side of its kernel
//! socket to the server (the kernel's own memory for that socket is not
//! in it).

use super::connect_rate;
use super::server::{HOLD, HOLD_PORTS};
use super::topology::{Bed, Path, SERVER_ADDRS, server_ip, start_synack, vm_rss};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Opening gives up after this long, and reports what it had.
pub const OPEN_LIMIT: Duration = Duration::from_secs(90);
/// Client threads opening connections.
const THREADS: usize = 4;
/// Connections opened and closed before the first reading.
const WARM_UP: usize = 200;

pub struct Idle {
    /// Flows open when the second reading was taken.
    pub flows: usize,
    pub rss_before: u64,
    pub rss_after: u64,
    pub open_secs: f64,
    /// Why fewer than asked, if so.
    pub short: Option<String>,
}

impl Idle {
    pub fn bytes_per_flow(&self) -> f64 {
        self.rss_after.saturating_sub(self.rss_before) as f64 / self.flows.max(1) as f64
    }
}

pub fn run(bed: &mut Bed, n: usize) -> Result<Idle, String> {
    let mut synack = start_synack(bed, "tun2", "198.18.2.2")?;
    // The runtime, the first flows' allocations and the allocator's
    // arenas, before the reading.
    connect_rate::batch(bed, Path::SynackIdle, WARM_UP)?;
    std::thread::sleep(Duration::from_millis(500));
    synack.check()?;
    let rss_before = vm_rss(synack.pid())?;
    let start = Instant::now();
    let (streams, why) = open(bed, n, OPEN_LIMIT)?;
    let open_secs = start.elapsed().as_secs_f64();
    // Let the forwarder finish what the last handshakes started.
    std::thread::sleep(Duration::from_millis(500));
    synack.check()?;
    let rss_after = vm_rss(synack.pid())?;
    let queued = queued(bed);
    let flows = streams.len();
    let short = match (why, queued) {
        (Some(w), _) => Some(w),
        (None, Some(q)) if q < flows => Some(format!(
            "the server's listen queues hold {q} of the {flows} the client opened"
        )),
        (None, _) => None,
    };
    // Closed with a RST: no FIN exchange, no TIME-WAIT.
    for s in streams {
        let _ = synack_testbed::reset(s);
    }
    drop(synack);
    bed.route(Path::Kernel)?;
    Ok(Idle {
        flows,
        rss_before,
        rss_after,
        open_secs,
        short,
    })
}

/// The connections waiting in the server's never-accepting listeners'
/// queues (`ss`: a listener's Recv-Q), if `ss` answers.
fn queued(bed: &Bed) -> Option<usize> {
    let out = bed.server.run_ok("ss", &["-Hltn"]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let hold = HOLD..HOLD + HOLD_PORTS;
    Some(
        text.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let port: u16 = f.get(3)?.rsplit(':').next()?.parse().ok()?;
                hold.contains(&port)
                    .then(|| f.get(1)?.parse::<usize>().ok())?
            })
            .sum(),
    )
}

/// Opens up to `n` connections to the holder, spread over the server's
/// addresses, within `limit`: the streams, and why fewer, if so.
fn open(bed: &Bed, n: usize, limit: Duration) -> Result<(Vec<TcpStream>, Option<String>), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let until = Instant::now() + limit;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let mine: Vec<usize> = (t..n).step_by(THREADS).collect();
            let stop = stop.clone();
            bed.client.thread(move || {
                let mut streams = Vec::with_capacity(mine.len());
                for i in mine {
                    if stop.load(Ordering::Relaxed) {
                        return (streams, None);
                    }
                    if Instant::now() > until {
                        stop.store(true, Ordering::Relaxed);
                        return (streams, Some(format!("time limit ({limit:?}) reached")));
                    }
                    let ip = server_ip(1 + (i % usize::from(SERVER_ADDRS)) as u8);
                    let port =
                        HOLD + (i / usize::from(SERVER_ADDRS) % usize::from(HOLD_PORTS)) as u16;
                    let to = SocketAddr::new(ip.into(), port);
                    match TcpStream::connect_timeout(&to, Duration::from_secs(10)) {
                        Ok(s) => streams.push(s),
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            return (streams, Some(format!("connect: {e}")));
                        }
                    }
                }
                (streams, None)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(n);
    let mut why = None;
    for t in threads {
        let (s, w) = t
            .join()
            .map_err(|_| "a client thread panicked".to_string())?;
        all.extend(s);
        why = why.or(w);
    }
    Ok((all, why))
}
