//! What every interop test uses: the namespace, the `synack` process, the
//! kernel's side, test data.

use sha2::{Digest, Sha256};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
pub use synack_testbed::{Netns, STACK_V4, STACK_V6};

pub const SYNACK: &str = env!("CARGO_BIN_EXE_synack");

/// How long any one kernel socket call may block before the test fails.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// A namespace with a device `dev` of `mode` ("tun" or "tap"), or `None`
/// where the testbed cannot run or one of `programs` (besides `ip`, which
/// every testbed needs) is missing: the test is then skipped, with a line
/// on standard error naming it and what to install (a failure under
/// `SYNACK_REQUIRE_INTEROP=1`; see `synack_testbed::require`).
pub fn testbed(tag: &str, dev: &str, mode: &str, programs: &[&str]) -> Option<Netns> {
    synack_testbed::require(programs)?;
    let ns = Netns::new(tag).expect("creating a namespace");
    ns.add_device(dev, mode).expect("adding the device");
    Some(ns)
}

/// A `synack` process inside a namespace; killed (if still running) when
/// dropped.
pub struct Synack {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread reading standard error, until its end (joined at the
    /// exit, so that `stderr` then holds everything).
    stderr_reader: Option<thread::JoinHandle<()>>,
}

impl Synack {
    /// Starts `synack ARGS...` inside `ns` with piped stdio (and the
    /// default logging, whatever the test's own RUST_LOG).
    pub fn spawn(ns: &Netns, args: &[&str]) -> Synack {
        Synack::spawn_logging(ns, args, None)
    }

    /// As `spawn`, with `RUST_LOG` set to `log` (or unset for `None`).
    pub fn spawn_logging(ns: &Netns, args: &[&str], log: Option<&str>) -> Synack {
        let mut cmd = ns.command(SYNACK);
        match log {
            Some(spec) => cmd.env("RUST_LOG", spec),
            None => cmd.env_remove("RUST_LOG"),
        };
        let mut child = cmd
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting synack");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let stderr_reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Synack {
            child,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    /// Starts `synack serve ARGS...` and waits for its `listening on` line,
    /// which must name `expect`.
    pub fn serve(ns: &Netns, args: &[&str], expect: &str) -> Synack {
        let mut all = vec!["serve"];
        all.extend_from_slice(args);
        let mut s = Synack::spawn(ns, &all);
        let line = s.line(Duration::from_secs(10));
        assert_eq!(
            line.as_deref(),
            Some(format!("listening on {expect}").as_str()),
            "synack serve did not start; stderr: {}",
            s.stderr()
        );
        s
    }

    /// The next line of standard output.
    pub fn line(&mut self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// What it printed on standard error so far (all of it once it has
    /// exited: after `wait` or `terminate`).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        // SAFETY: kill has no memory-safety preconditions; the pid is our
        // own child's, not yet reaped.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        self.wait(Duration::from_secs(10))
            .expect("synack did not exit on SIGTERM")
    }

    /// Waits for the exit, up to `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                // Everything it wrote is read once the pipe's end is.
                if let Some(r) = self.stderr_reader.take() {
                    let _ = r.join();
                }
                return Some(st);
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Takes standard input (to write to it, or drop it for EOF).
    pub fn stdin(&mut self) -> std::process::ChildStdin {
        self.child.stdin.take().expect("stdin already taken")
    }
}

impl Drop for Synack {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `synack connect` inside `ns`, with `input` on standard input: returns
/// the exit status, standard output and standard error.
pub fn connect(ns: &Netns, args: &[&str], input: Vec<u8>) -> (ExitStatus, Vec<u8>, String) {
    let mut child = ns
        .command(SYNACK)
        .arg("connect")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting synack connect");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut out = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let until = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("synack connect {args:?} did not finish in 30 s");
        }
        thread::sleep(Duration::from_millis(10));
    };
    feeder.join().unwrap();
    (status, reader.join().unwrap(), err_reader.join().unwrap())
}

/// Runs `f` on a thread inside `ns` and returns its result (a panic there
/// fails the test here).
pub fn in_ns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    match ns.thread(f).join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// `n` pseudo-random bytes (xorshift64*), different for each seed.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut v = Vec::with_capacity(n + 8);
    while v.len() < n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    v.truncate(n);
    v
}

pub fn sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A kernel socket connected to `to`, with timeouts.
pub fn dial(to: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&to, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("kernel connect to {to}: {e}"));
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s
}

/// Reads to the end of stream.
pub fn read_all(s: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    s.read_to_end(&mut v)?;
    Ok(v)
}

/// The kernel's side of an echo exchange: sends `data` (then FIN) from one
/// thread while reading everything back on another; returns what came
/// back. Run it inside the namespace.
pub fn echo_exchange(to: SocketAddr, data: Arc<Vec<u8>>) -> Vec<u8> {
    let mut s = dial(to);
    let mut w = s.try_clone().unwrap();
    let writer = thread::spawn(move || {
        w.write_all(&data).expect("kernel write");
        w.shutdown(Shutdown::Write).expect("kernel shutdown");
    });
    let back = read_all(&mut s).expect("kernel read");
    writer.join().unwrap();
    back
}

/// Asserts two byte strings are equal by length and SHA-256 (no megabyte
/// dumps on failure).
#[track_caller]
pub fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    assert_eq!(sha256(got), sha256(want), "{what}: SHA-256");
}
