//! Two endpoints wired back to back: every datagram one emits is handed
//! straight to the other through one reusable buffer, with no network, no
//! delay and no copies beyond the engine's own. Virtual time stands still
//! while packets move and jumps to the next timer when nothing moves.
//!
//! Every call into an endpoint runs under its allocation owner, so the
//! memory benchmark can tell the server's heap from the client's.

use crate::alloc::Owner;
use synack::{Config, Endpoint, Instant, Secret};

/// Largest datagram an endpoint writes (the MTU is 1500; room to spare).
const BUF: usize = 2048;

/// One of the two endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

pub struct Pair {
    pub client: Endpoint,
    pub server: Endpoint,
    pub now: Instant,
    buf: Box<[u8; BUF]>,
    /// Datagrams moved so far.
    pub segments: u64,
    /// When set, a copy of every datagram moved (for the wire baseline).
    pub record: Option<Vec<Vec<u8>>>,
}

impl Pair {
    pub fn new(cfg: Config) -> Pair {
        let now = Instant::from_secs(1);
        Pair {
            client: Owner::Client
                .enter(|| Endpoint::new(cfg.clone(), Secret::from_bytes([1; 16]), now)),
            server: Owner::Server.enter(|| Endpoint::new(cfg, Secret::from_bytes([2; 16]), now)),
            now,
            buf: Box::new([0; BUF]),
            segments: 0,
            record: None,
        }
    }

    /// Moves datagrams both ways until neither endpoint has one to send;
    /// returns how many moved.
    pub fn pump(&mut self) -> u64 {
        let mut total = 0;
        loop {
            let moved = self.flush(Side::Client) + self.flush(Side::Server);
            if moved == 0 {
                return total;
            }
            total += moved;
        }
    }

    /// Moves every datagram `from` has to send to the other endpoint, one
    /// at a time; returns how many moved. What the receiver sends in reply
    /// stays queued until its own flush: in between, its application can
    /// act on the events, so that a reply rides on the same segment as
    /// the acknowledgment (the way an event loop runs: receive a batch,
    /// let the application answer, transmit).
    pub fn flush(&mut self, from: Side) -> u64 {
        let Pair {
            client,
            server,
            now,
            buf,
            record,
            ..
        } = self;
        let now = *now;
        let (tx, rx, tx_owner, rx_owner) = match from {
            Side::Client => (client, server, Owner::Client, Owner::Server),
            Side::Server => (server, client, Owner::Server, Owner::Client),
        };
        let mut moved = 0;
        while let Some(n) = tx_owner.enter(|| tx.poll_transmit(now, &mut buf[..])) {
            if let Some(r) = record {
                r.push(buf[..n].to_vec());
            }
            rx_owner.enter(|| rx.handle_packet(now, &buf[..n]));
            moved += 1;
        }
        self.segments += moved;
        moved
    }

    /// The earlier of the two endpoints' timers.
    fn next_timer(&self) -> Option<Instant> {
        match (self.client.poll_timeout(), self.server.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Lets virtual time run to `until`, firing every timer due by then
    /// and moving what they send.
    pub fn run_until(&mut self, until: Instant) {
        while self.next_timer().is_some_and(|t| t <= until) {
            self.advance();
            self.pump();
        }
        self.now = self.now.max(until);
    }

    /// Jumps virtual time to the earlier of the two endpoints' timers and
    /// fires both; false when neither has a timer.
    pub fn advance(&mut self) -> bool {
        let Some(t) = self.next_timer() else {
            return false;
        };
        self.now = self.now.max(t);
        let now = self.now;
        Owner::Client.enter(|| self.client.handle_timeout(now));
        Owner::Server.enter(|| self.server.handle_timeout(now));
        true
    }
}
