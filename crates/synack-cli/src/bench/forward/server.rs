//! The server namespace's listeners, on every one of its addresses: a sink
//! and a source for the bulk transfers, a one-request server for the
//! connection rate, and listeners that never accept for the idle flows:
//! those wait established in the listeners' queues, open and silent,
//! costing the server no descriptor. Stopped (listeners closed, queued
//! connections reset) when dropped.

use super::err;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
use synack_testbed::Netns;

/// Reads the bulk size, answers one byte, closes.
pub const SINK: u16 = 9001;
/// Sends the bulk size, then closes.
pub const SOURCE: u16 = 9002;
/// Reads one request of [`REQUEST`] bytes, answers as many, closes.
pub const ONE_REQUEST: u16 = 9003;
pub const REQUEST: usize = 64;
/// Listen and never accept: ports `HOLD..HOLD + HOLD_PORTS`.
pub const HOLD: u16 = 9100;
pub const HOLD_PORTS: u16 = 8;
/// The listen queue asked for (the kernel caps it at `net.core.somaxconn`,
/// which the topology raises to as much).
pub const QUEUE: i32 = 65535;

/// Blocking socket calls give up after this long: a stuck run fails.
pub const STUCK: Duration = Duration::from_secs(30);
pub const CHUNK: usize = 256 * 1024;

pub struct Servers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    _hold: Vec<TcpListener>,
}

impl Servers {
    /// `size`: what the source sends per connection.
    pub fn start(ns: &Netns, size: u64) -> Result<Servers, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut listen = |port: u16, accepters: usize, serve: Serve| -> Result<(), String> {
            let (tx, rx) = std::sync::mpsc::channel();
            let l = listener(ns, port)?;
            for _ in 0..accepters {
                let l = l.try_clone().map_err(err("listener"))?;
                let stop = stop.clone();
                let tx = tx.clone();
                threads.push(ns.thread(move || {
                    let _ = tx.send(());
                    while let Some(s) = accept_or_stop(&l, &stop) {
                        match serve {
                            Serve::Sink => {
                                std::thread::spawn(move || sink(s, size));
                            }
                            Serve::Source => {
                                std::thread::spawn(move || source(s, size));
                            }
                            Serve::OneRequest => one_request(s),
                        }
                    }
                }));
            }
            for _ in 0..accepters {
                rx.recv_timeout(STUCK)
                    .map_err(|_| "a server thread did not start".to_string())?;
            }
            Ok(())
        };
        listen(SINK, 1, Serve::Sink)?;
        listen(SOURCE, 1, Serve::Source)?;
        listen(ONE_REQUEST, 4, Serve::OneRequest)?;
        let hold = (HOLD..HOLD + HOLD_PORTS)
            .map(|p| listener(ns, p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Servers {
            stop,
            threads,
            _hold: hold,
        })
    }
}

/// A listener on every address of `ns`, with a queue of [`QUEUE`].
fn listener(ns: &Netns, port: u16) -> Result<TcpListener, String> {
    ns.thread(move || -> io::Result<TcpListener> {
        let l = TcpListener::bind(("0.0.0.0", port))?;
        // Again, with a longer queue than std's: bursts of SYNs must not
        // be dropped.
        // SAFETY: listen on a socket we own; no memory is passed.
        if unsafe { libc::listen(l.as_raw_fd(), QUEUE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(l)
    })
    .join()
    .map_err(|_| "the listener thread panicked".to_string())?
    .map_err(err(&format!("listening on {port}")))
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[derive(Clone, Copy)]
enum Serve {
    Sink,
    Source,
    OneRequest,
}

/// The next connection, or `None` once `stop` is set. Polls in 50 ms steps
/// so that a stop is seen; a connection is taken the moment it is queued.
fn accept_or_stop(l: &TcpListener, stop: &AtomicBool) -> Option<TcpStream> {
    while !stop.load(Ordering::Relaxed) {
        let mut pfd = libc::pollfd {
            fd: l.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, living across the call.
        let n = unsafe { libc::poll(&raw mut pfd, 1, 50) };
        if n <= 0 {
            continue;
        }
        // Another accepter may have taken it: the listener is non-blocking.
        let _ = l.set_nonblocking(true);
        match l.accept() {
            Ok((s, _)) => {
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(STUCK));
                let _ = s.set_write_timeout(Some(STUCK));
                return Some(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // Out of descriptors or memory: a client will see it stuck.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    None
}

fn sink(mut s: TcpStream, size: u64) {
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    while got < size {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got += n as u64,
        }
    }
    let _ = s.write_all(b"k");
}

fn source(mut s: TcpStream, size: u64) {
    let buf = vec![0x5au8; CHUNK];
    let mut left = size;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        if s.write_all(&buf[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
    // Until the client's close, so that ours is not a reset.
    let mut rest = [0u8; 64];
    while let Ok(n) = s.read(&mut rest) {
        if n == 0 {
            break;
        }
    }
}

fn one_request(mut s: TcpStream) {
    let mut req = [0u8; REQUEST];
    if s.read_exact(&mut req).is_ok() {
        let _ = s.write_all(&req);
    }
}
