//! The state one stack's driver and its sockets share, behind one lock:
//! the engine, the device, and the waker tables.
//!
//! Application calls do their own output: after a call the caller drains
//! the engine's transmit queue into the device, so data leaves at once
//! whichever thread or task made the call, and the driver is woken only if
//! the call moved the next deadline earlier than the driver sleeps.

use super::clock::Clock;
use super::counters::IoCounters;
use super::registry::Registry;
use super::trace;
use crate::device::{Device, Received};
use crate::icmp::{self, Icmp};
use crate::net::Unreachable;
use crate::unreachable;
use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::Duration;
use synack::{DropReason, Endpoint, Instant};
use synack_wire::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, parse_ip};
use tokio::sync::Notify;

/// The largest IP datagram; buffers this size take whatever a device gives.
pub(crate) const MAX_DATAGRAM: usize = 65535;

/// Everything behind the lock.
pub(crate) struct Inner {
    pub(crate) ep: Endpoint,
    pub(crate) dev: Box<dyn Device>,
    pub(crate) reg: Registry,
    pub(crate) io: IoCounters,
    /// Output buffer for `poll_transmit` and ICMP replies.
    tx: Vec<u8>,
    /// The engine instant the driver sleeps until (`NEVER` if none). A call
    /// that makes an earlier deadline wakes the driver.
    pub(crate) driver_deadline: Instant,
    /// The engine's drop counters as last logged.
    drops_seen: [u64; DropReason::COUNT],
    /// `StackConfig::not_local`.
    pub(crate) not_local: Option<Unreachable>,
    /// ICMP errors about segments not for us: the second they count in
    /// (engine time, in whole seconds) and how many went out in it.
    not_local_sent: (u64, u32),
}

/// What the driver and every handle of one stack hold.
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// Wakes the driver: a deadline moved earlier, or the stack is stopping.
    pub(crate) notify: Notify,
    pub(crate) clock: Clock,
    /// Our addresses: local addresses for `connect`, and the destinations
    /// ICMP echo answers for.
    pub(crate) addrs: Vec<IpAddr>,
    pub(crate) backlog: usize,
    pub(crate) linger: Duration,
    /// Set when the last user handle is gone.
    pub(crate) stopping: AtomicBool,
}

impl Inner {
    pub(crate) fn new(ep: Endpoint, dev: Box<dyn Device>) -> Inner {
        Inner {
            ep,
            dev,
            reg: Registry::default(),
            io: IoCounters::default(),
            tx: vec![0u8; MAX_DATAGRAM],
            driver_deadline: Instant::NEVER,
            drops_seen: [0; DropReason::COUNT],
            not_local: None,
            not_local_sent: (0, 0),
        }
    }

    /// Sends everything the engine has to send.
    pub(crate) fn flush(&mut self, now: Instant) {
        while let Some(n) = self.ep.poll_transmit(now, &mut self.tx) {
            self.transmit(n);
        }
        if self.dev.flush().is_err() {
            self.io.tx_errors += 1;
            trace::write_error(self.io.tx_errors);
        }
    }

    /// Sends a datagram built outside the engine (an ICMP error).
    pub(crate) fn send_raw(&mut self, datagram: &[u8]) {
        let n = datagram.len().min(self.tx.len());
        self.tx[..n].copy_from_slice(&datagram[..n]);
        self.transmit(n);
    }

    fn transmit(&mut self, n: usize) {
        match self.dev.send(&self.tx[..n]) {
            Ok(()) => {
                self.io.tx_packets += 1;
                self.io.tx_bytes += n as u64;
            }
            Err(_) => {
                self.io.tx_errors += 1;
                trace::write_error(self.io.tx_errors);
            }
        }
    }

    /// Moves the engine's events into the waker tables.
    pub(crate) fn pump(&mut self, wake: &mut Vec<Waker>) {
        while let Some(ev) = self.ep.poll_event() {
            self.reg.dispatch(ev, wake);
        }
        trace::drops(self.ep.counters(), &mut self.drops_seen);
    }

    /// The earlier of the engine's and the device's next deadline.
    pub(crate) fn next_deadline(&self, clock: &Clock) -> Instant {
        let ep = self.ep.poll_timeout().unwrap_or(Instant::NEVER);
        let dev = self
            .dev
            .poll_timeout()
            .map_or(Instant::NEVER, |t| clock.engine_time(t));
        ep.min(dev)
    }

    /// One datagram from the device: TCP to the engine, ICMP to the ICMP
    /// responder (whose errors go to the engine too). `verified`: the
    /// device says the kernel already checked its transport checksum.
    pub(crate) fn input(&mut self, now: Instant, packet: &[u8], r: Received, addrs: &[IpAddr]) {
        self.io.rx_packets += 1;
        self.io.rx_bytes += packet.len() as u64;
        if !maybe_icmp(packet) {
            let Some(why) = self.not_local else {
                self.tcp_input(now, packet, r);
                return;
            };
            let before = self.ep.counters().dropped(DropReason::NotLocal);
            self.tcp_input(now, packet, r);
            if self.ep.counters().dropped(DropReason::NotLocal) != before {
                self.answer_not_local(now, packet, why, addrs);
            }
            return;
        }
        let Ok(ip) = parse_ip(packet) else {
            self.ep.handle_packet(now, packet);
            return;
        };
        if ip.protocol != PROTO_ICMP && ip.protocol != PROTO_ICMPV6 {
            self.ep.handle_packet(now, packet);
            return;
        }
        match icmp::handle(&ip, addrs, self.ep.config().ttl, &mut self.tx) {
            Icmp::Reply(n) => {
                self.io.icmp_echo_replies += 1;
                self.transmit(n);
            }
            Icmp::Error(e) => {
                self.io.icmp_errors += 1;
                self.ep.handle_icmp_error(now, e);
            }
            Icmp::Ignored => self.io.icmp_ignored += 1,
        }
    }
}

impl Inner {
    fn tcp_input(&mut self, now: Instant, packet: &[u8], r: Received) {
        match r.segment_size {
            Some(size) => self.ep.handle_packet_coalesced(now, packet, size.get()),
            None if r.verified => self.ep.handle_packet_verified(now, packet),
            None => self.ep.handle_packet(now, packet),
        }
    }

    /// An ICMP destination unreachable about a segment the engine dropped
    /// as not ours, within the rate limit.
    fn answer_not_local(
        &mut self,
        now: Instant,
        packet: &[u8],
        why: Unreachable,
        addrs: &[IpAddr],
    ) {
        let second = now.micros() / 1_000_000;
        if self.not_local_sent.0 != second {
            self.not_local_sent = (second, 0);
        }
        if self.not_local_sent.1 >= super::NOT_LOCAL_ICMP_PER_SECOND {
            self.io.icmp_rate_limited += 1;
            return;
        }
        let v4 = packet.first().is_some_and(|b| b >> 4 == 4);
        let Some(&from) = addrs.iter().find(|a| a.is_ipv4() == v4) else {
            return;
        };
        let ttl = self.ep.config().ttl;
        let mut buf = [0u8; 1280];
        if let Some(n) = unreachable::write_about(packet, why, from, ttl, &mut buf) {
            self.not_local_sent.1 += 1;
            self.io.icmp_unreachables_sent += 1;
            self.send_raw(&buf[..n]);
        }
    }
}

/// Whether a datagram may be ICMP, from fixed header bytes only, so TCP
/// takes the fast path into the engine (which parses it once). IPv6 with
/// extension headers is parsed to find out.
fn maybe_icmp(p: &[u8]) -> bool {
    match p.first().map(|b| b >> 4) {
        Some(4) => p.get(9) == Some(&PROTO_ICMP),
        Some(6) => p.get(6) != Some(&PROTO_TCP),
        _ => false,
    }
}

impl Shared {
    pub(crate) fn new(
        inner: Inner,
        clock: Clock,
        addrs: Vec<IpAddr>,
        backlog: usize,
        linger: Duration,
    ) -> Shared {
        Shared {
            inner: Mutex::new(inner),
            notify: Notify::new(),
            clock,
            addrs,
            backlog,
            linger,
            stopping: AtomicBool::new(false),
        }
    }

    /// The lock. A panic while it was held leaves the engine as consistent
    /// as the engine guarantees (it does not panic on input), so poisoning
    /// is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs an application call against the engine: brings the engine's
    /// clock and timers up to date, makes the call, sends what it produced,
    /// records its events, wakes whoever the events concern (after the lock
    /// is released), and wakes the driver if its sleep is now too long.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut wake = Vec::new();
        let r = {
            let mut g = self.lock();
            let now = self.clock.now();
            // Safe to call spuriously; it also advances the engine's clock,
            // which `send` and `recv` read.
            g.ep.handle_timeout(now);
            let r = f(&mut g);
            g.flush(now);
            g.pump(&mut wake);
            let next = g.next_deadline(&self.clock);
            if next < g.driver_deadline {
                g.driver_deadline = next;
                self.notify.notify_one();
            }
            r
        };
        for w in wake {
            w.wake();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmp_sniffing() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[9] = PROTO_TCP;
        assert!(!maybe_icmp(&v4));
        v4[9] = PROTO_ICMP;
        assert!(maybe_icmp(&v4));
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[6] = PROTO_TCP;
        assert!(!maybe_icmp(&v6));
        v6[6] = 0; // hop-by-hop options: look closer
        assert!(maybe_icmp(&v6));
        assert!(!maybe_icmp(&[]));
    }
}
