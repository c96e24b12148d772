//! Bulk data against the kernel under random loss: 16 MiB from `synack
//! connect` to a kernel socket, and 16 MiB from a kernel socket to it, at
//! 1 % and 5 % loss each way, checked by SHA-256.
//!
//! The loss is real path loss: the kernel's sockets sit one router away
//! (`synack_testbed::Routed`) and the router's FORWARD chain drops packets
//! crossing the TUN device at random, one segment each, both ways (a rule
//! on the kernel's own output would only make it send again). Neither
//! sender hears of a drop but through TCP.
//!
//! The tests assert bytes, not speed. The deadline is far beyond what a
//! healthy stack needs, and a failure says how far the transfer got, what
//! the rules dropped, and what `synack ss` showed at that moment.

use crate::common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use synack_testbed::{Crossing, ROUTED_KERNEL_V4, RandomDrop, Routed};

const SIZE: usize = 16 << 20;
/// The whole transfer, connect to exit. A healthy stack needs seconds
/// even at 5 % loss in a debug build; this only bounds a stall.
const DEADLINE: Duration = Duration::from_secs(150);
/// The kernel's socket calls: longer than any run of backed-off
/// retransmission timeouts a healthy sender sees at these loss rates.
const STALL: Duration = Duration::from_secs(60);
const PORT: u16 = 5000;

/// A routed testbed with drops both ways across the router.
struct Lossy {
    routed: Routed,
    percent: f64,
    /// Packets from synack (its data, or its ACKs).
    from_synack: RandomDrop,
    /// Packets to synack.
    to_synack: RandomDrop,
    control: PathBuf,
}

impl Drop for Lossy {
    fn drop(&mut self) {
        // synack removes it on exit, but not when killed at the deadline.
        let _ = std::fs::remove_file(&self.control);
    }
}

impl Lossy {
    fn new(tag: &str, percent: f64) -> Option<Lossy> {
        synack_testbed::require(&["iptables"])?;
        let routed = Routed::new(tag, "tun0").expect("creating the routed testbed");
        let p = percent / 100.0;
        let from_synack = routed
            .router
            .random_drop("FORWARD", Crossing::In("tun0"), p)
            .expect("the drop rule from synack");
        let to_synack = routed
            .router
            .random_drop("FORWARD", Crossing::Out("tun0"), p)
            .expect("the drop rule to synack");
        let control =
            std::env::temp_dir().join(format!("synack-lossy-{tag}-{}.sock", std::process::id()));
        Some(Lossy {
            routed,
            percent,
            from_synack,
            to_synack,
            control,
        })
    }

    fn kernel_addr(&self) -> SocketAddr {
        SocketAddr::new(ROUTED_KERNEL_V4.parse().unwrap(), PORT)
    }

    /// Where a transfer stands, for a failure message: bytes so far, what
    /// the rules dropped, synack's own view of its connection.
    fn state(&self, what: &str, progress: &AtomicU64, started: Instant) -> String {
        let rule = |r: &RandomDrop| match r.counters() {
            Ok(c) => format!("{} of {}", c.dropped, c.seen),
            Err(e) => format!("(unreadable: {e})"),
        };
        let ss = std::process::Command::new(SYNACK)
            .args(["ss", "-i", "--counters", "--control"])
            .arg(&self.control)
            .output()
            .map(|o| {
                String::from_utf8_lossy(if o.status.success() {
                    &o.stdout
                } else {
                    &o.stderr
                })
                .into_owned()
            })
            .unwrap_or_else(|e| format!("(synack ss: {e})"));
        format!(
            "{what} at {} % loss: {} of {SIZE} bytes arrived in {:.1} s; the rules dropped {} \
             packets from synack and {} to it\nsynack ss:\n{ss}",
            self.percent,
            progress.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64(),
            rule(&self.from_synack),
            rule(&self.to_synack),
        )
    }

    /// Runs `synack connect` to the kernel with `input` on its standard
    /// input until it exits (or [`DEADLINE`]), counting what it prints
    /// into `progress`; returns its output. Fails with the transfer's
    /// state if it does not finish, or finishes with an error.
    fn connect(
        &self,
        what: &str,
        input: Vec<u8>,
        progress: Arc<AtomicU64>,
        started: Instant,
    ) -> Vec<u8> {
        let to = self.kernel_addr().to_string();
        let mut child = self
            .routed
            .router
            .command(SYNACK)
            .args(["connect", "--tun", "tun0", "--ip", STACK_V4, &to])
            .arg("--control")
            .arg(&self.control)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting synack connect");
        let mut stdin = child.stdin.take().unwrap();
        let feeder = thread::spawn(move || {
            // A write error means synack exited early; its status says why.
            let _ = stdin.write_all(&input);
        });
        let mut out = child.stdout.take().unwrap();
        let counted = progress.clone();
        let reader = thread::spawn(move || {
            let mut v = Vec::with_capacity(SIZE);
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                v.extend_from_slice(&buf[..n]);
                counted.fetch_add(n as u64, Ordering::Relaxed);
            }
            v
        });
        let mut err = child.stderr.take().unwrap();
        let err_reader = thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if started.elapsed() >= DEADLINE {
                let state = self.state(what, &progress, started);
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what}: synack connect did not finish in {DEADLINE:?}\n{state}");
            }
            thread::sleep(Duration::from_millis(20));
        };
        feeder.join().unwrap();
        let stderr = err_reader.join().unwrap();
        assert!(
            status.success(),
            "{what}: synack connect failed ({status}): {stderr}\n{}",
            self.state(what, &progress, started)
        );
        reader.join().unwrap()
    }
}

/// A kernel listener in the kernel's namespace serving one connection
/// with `f`, which gets the byte counter to keep; returns once it
/// listens. Accepting gives up after [`STALL`].
fn kernel_side<T: Send + 'static>(
    t: &Lossy,
    progress: Arc<AtomicU64>,
    f: impl FnOnce(TcpStream, &AtomicU64) -> Result<T, String> + Send + 'static,
) -> thread::JoinHandle<Result<T, String>> {
    let at = t.kernel_addr();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let h = t.routed.kernel.thread(move || {
        let l = TcpListener::bind(at).map_err(|e| format!("kernel bind: {e}"))?;
        ready_tx.send(()).unwrap();
        l.set_nonblocking(true).unwrap();
        let until = Instant::now() + STALL;
        let s = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < until => {
                    thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("kernel accept: {e}")),
            }
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(STALL)).unwrap();
        s.set_write_timeout(Some(STALL)).unwrap();
        f(s, &progress)
    });
    ready_rx.recv().expect("the kernel's side did not start");
    h
}

/// `synack connect` sends 16 MiB to a kernel socket, which reads it to
/// the end and closes.
fn synack_sends(tag: &str, percent: f64, seed: u64) {
    let Some(t) = Lossy::new(tag, percent) else {
        return;
    };
    let data = random_bytes(SIZE, seed);
    let progress = Arc::new(AtomicU64::new(0));
    let kernel = kernel_side(&t, progress.clone(), |mut s, got| {
        let mut v = Vec::with_capacity(SIZE);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ok(v),
                Ok(n) => {
                    v.extend_from_slice(&buf[..n]);
                    got.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => return Err(format!("kernel read after {} bytes: {e}", v.len())),
            }
        }
    });
    let what = "synack -> kernel";
    let started = Instant::now();
    // Nothing comes back: the counter stays the kernel's.
    let out = t.connect(what, data.clone(), progress.clone(), started);
    assert!(out.is_empty(), "the kernel sent nothing");
    let got = kernel
        .join()
        .expect("the kernel's side panicked")
        .unwrap_or_else(|e| panic!("{e}\n{}", t.state(what, &progress, started)));
    assert_same(&format!("{what} at {percent} % loss"), &got, &data);
}

/// A kernel socket sends 16 MiB to `synack connect` (whose input is
/// empty: it half-closes at once) and closes.
fn kernel_sends(tag: &str, percent: f64, seed: u64) {
    let Some(t) = Lossy::new(tag, percent) else {
        return;
    };
    let data = Arc::new(random_bytes(SIZE, seed));
    let sent = data.clone();
    let progress = Arc::new(AtomicU64::new(0));
    let kernel = kernel_side(&t, progress.clone(), move |mut s, _| {
        s.write_all(&sent)
            .map_err(|e| format!("kernel write: {e}"))?;
        s.shutdown(Shutdown::Write)
            .map_err(|e| format!("kernel shutdown: {e}"))?;
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)
            .map_err(|e| format!("kernel read: {e}"))?;
        Ok(rest.len())
    });
    let what = "kernel -> synack";
    let started = Instant::now();
    let out = t.connect(what, Vec::new(), progress.clone(), started);
    let extra = kernel
        .join()
        .expect("the kernel's side panicked")
        .unwrap_or_else(|e| panic!("{e}\n{}", t.state(what, &progress, started)));
    assert_eq!(extra, 0, "synack sent nothing");
    assert_same(&format!("{what} at {percent} % loss"), &out, &data);
}

#[test]
fn synack_sends_16mib_at_1_percent_loss() {
    synack_sends("loss1s", 1.0, 41);
}

#[test]
fn synack_sends_16mib_at_5_percent_loss() {
    synack_sends("loss5s", 5.0, 42);
}

#[test]
fn kernel_sends_16mib_at_1_percent_loss() {
    kernel_sends("loss1k", 1.0, 43);
}

#[test]
fn kernel_sends_16mib_at_5_percent_loss() {
    kernel_sends("loss5k", 5.0, 44);
}
