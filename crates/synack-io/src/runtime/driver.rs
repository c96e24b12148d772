//! The event loop: read what the device has, feed the engine, send what it
//! answers, wake whoever its events concern, then sleep until the device is
//! readable, a call needs an earlier deadline, or the deadline comes.

use super::shared::Shared;
use crate::device::MAX_SUPER_SEGMENT;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Waker;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Datagrams read per wakeup before the loop yields, so one busy device
/// cannot starve the tasks of the runtime it shares.
const BATCH: usize = 64;
/// Consecutive read errors after which the device is taken for dead and no
/// longer polled (an error that leaves the descriptor readable would spin).
const MAX_READ_ERRORS: u32 = 64;

/// The device's descriptor, borrowed for readiness only. It holds the
/// shared state, and with it the device that owns and closes the
/// descriptor, so the descriptor stays open as long as this exists.
pub(crate) struct DeviceFd {
    fd: RawFd,
    _owner: Arc<Shared>,
}

impl AsRawFd for DeviceFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

/// Registers the device's descriptor with the current runtime's reactor.
pub(crate) fn register(shared: &Arc<Shared>) -> io::Result<AsyncFd<DeviceFd>> {
    let fd = DeviceFd {
        fd: shared.lock().dev.raw_fd(),
        _owner: shared.clone(),
    };
    // SAFETY: the descriptor belongs to the device inside `_owner`, which
    // is never replaced and lives at least as long as `DeviceFd` (it holds
    // the `Arc`); `Device::raw_fd` promises the same descriptor for the
    // device's whole life.
    Ok(unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?)
}

/// What one pass found.
struct Pass {
    /// The device said "would block": safe to wait for readiness.
    drained: bool,
    /// The device failed for good.
    link_down: bool,
    deadline: Option<std::time::Instant>,
    connections: usize,
}

/// Runs the stack until its last handle is dropped and its connections are
/// gone (or the linger time is up).
pub(crate) async fn run(shared: Arc<Shared>, fd: AsyncFd<DeviceFd>) {
    let mut fd = Some(fd);
    let mut rx = vec![0u8; MAX_SUPER_SEGMENT];
    let mut read_errors = 0u32;
    let mut linger_until: Option<std::time::Instant> = None;
    loop {
        let pass = one_pass(&shared, &mut rx, fd.is_some(), &mut read_errors);
        if pass.link_down {
            fd = None;
        }
        let mut deadline = pass.deadline;
        if shared.stopping.load(Ordering::Acquire) {
            let until =
                *linger_until.get_or_insert_with(|| std::time::Instant::now() + shared.linger);
            if pass.connections == 0 || std::time::Instant::now() >= until {
                return;
            }
            deadline = Some(deadline.map_or(until, |d| d.min(until)));
        }
        if !pass.drained {
            tokio::task::yield_now().await;
            continue;
        }
        let lost = {
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            let readable = async {
                match &fd {
                    // Readiness is cleared only here, right before the next
                    // pass reads until "would block" again, so no packet is
                    // left behind a cleared flag.
                    Some(fd) => fd.readable().await.map(|mut g| g.clear_ready()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = readable => r.is_err(),
                () = shared.notify.notified() => false,
                () = sleep => false,
            }
        };
        if lost {
            fd = None;
        }
    }
}

fn one_pass(shared: &Shared, rx: &mut [u8], link_up: bool, read_errors: &mut u32) -> Pass {
    let mut wake: Vec<Waker> = Vec::new();
    let mut drained = true;
    let mut link_down = false;
    let pass = {
        let mut g = shared.lock();
        g.io.wakeups += 1;
        let now = shared.clock.now();
        if link_up {
            drained = false;
            for _ in 0..BATCH {
                match g.dev.recv_offloaded(rx) {
                    Ok(Some(r)) => {
                        *read_errors = 0;
                        g.input(now, &rx[..r.len], r, &shared.addrs);
                    }
                    Ok(None) => {
                        drained = true;
                        break;
                    }
                    Err(e) => {
                        g.io.rx_errors += 1;
                        *read_errors += 1;
                        link_down = fatal(&e) || *read_errors >= MAX_READ_ERRORS;
                        super::trace::read_error(&e, link_down);
                        drained = true;
                        break;
                    }
                }
            }
        }
        let now_std = std::time::Instant::now();
        if g.dev.poll_timeout().is_some_and(|t| t <= now_std) {
            g.dev.handle_timeout(now_std);
        }
        g.ep.handle_timeout(now);
        g.flush(now);
        g.pump(&mut wake);
        let deadline = g.next_deadline(&shared.clock);
        g.driver_deadline = deadline;
        Pass {
            drained,
            link_down,
            deadline: shared.clock.real_time(deadline),
            connections: g.ep.connection_count(),
        }
    };
    for w in wake {
        w.wake();
    }
    pass
}

/// Errors that say the device is gone rather than that one read failed.
fn fatal(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotConnected | io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof
    )
}
