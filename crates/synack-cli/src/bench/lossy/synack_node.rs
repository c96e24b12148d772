//! synack's side of the lossy bench: an engine endpoint as a network node,
//! with the sending or receiving application run right after every call
//! into it (as an event loop runs: input, then the application, then
//! output).

use super::stream::{Sink, Source};
use super::{PORT, RECEIVER, SENDER, Stack};
use std::net::SocketAddr;
use synack::sim::Node;
use synack::{Config, ConnId, Endpoint, Error, Event, Instant, ListenerId, Secret};

/// What the application on this endpoint does.
enum App {
    Send(Source),
    Receive { listener: ListenerId, sink: Sink },
}

pub struct SynackNode {
    ep: Endpoint,
    conn: Option<ConnId>,
    app: App,
    /// Why the connection ended early, if it did.
    failure: Option<String>,
    shut: bool,
    buf: Box<[u8]>,
}

/// The engine's configuration in this bench: its defaults, with SACK
/// offered (Linux offers it by default, and smoltcp does in its SYN).
pub fn config() -> Config {
    let mut cfg = Config::default();
    cfg.sack = true;
    cfg
}

fn secret(seed: u64, who: u8) -> Secret {
    let mut b = [who; 16];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    Secret::from_bytes(b)
}

impl SynackNode {
    fn new(ep: Endpoint, conn: Option<ConnId>, app: App) -> SynackNode {
        SynackNode {
            ep,
            conn,
            app,
            failure: None,
            shut: false,
            buf: vec![0; 64 * 1024].into_boxed_slice(),
        }
    }

    /// The application's turn: react to events, then move data.
    fn app(&mut self) {
        while let Some(ev) = self.ep.poll_event() {
            match ev {
                Event::Accepted { .. } => {
                    if let App::Receive { listener, .. } = self.app {
                        self.conn = self.conn.or(self.ep.accept(listener));
                    }
                }
                Event::Closed { reason, .. } => {
                    let finished = matches!(&self.app, App::Receive { sink, .. } if sink.eof);
                    if !finished {
                        self.failure = Some(format!("connection closed: {reason:?}"));
                    }
                }
                _ => {}
            }
        }
        let Some(c) = self.conn else { return };
        match &mut self.app {
            App::Send(src) => {
                loop {
                    let piece = src.next(self.buf.len());
                    if piece.is_empty() {
                        break;
                    }
                    match self.ep.send(c, piece) {
                        Ok(n) if n > 0 => src.advance(n),
                        _ => break,
                    }
                }
                if src.done() && !self.shut {
                    self.shut = self.ep.shutdown(c).is_ok();
                }
            }
            App::Receive { sink, .. } => loop {
                match self.ep.recv(c, &mut self.buf) {
                    Ok(0) => {
                        sink.eof = true;
                        break;
                    }
                    Ok(n) => sink.take(&self.buf[..n]),
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        self.failure = Some(format!("recv: {e:?}"));
                        break;
                    }
                }
            },
        }
    }
}

impl Stack for SynackNode {
    const NAME: &'static str = "synack";

    fn sender(seed: u64, now: Instant, source: Source) -> Result<Self, String> {
        let mut ep = Endpoint::new(config(), secret(seed, 1), now);
        let conn = ep
            .connect(
                now,
                SocketAddr::from((SENDER, 0)),
                SocketAddr::from((RECEIVER, PORT)),
            )
            .map_err(|e| format!("synack connect: {e:?}"))?;
        Ok(SynackNode::new(ep, Some(conn), App::Send(source)))
    }

    fn receiver(seed: u64, now: Instant) -> Result<Self, String> {
        let mut ep = Endpoint::new(config(), secret(seed, 2), now);
        let listener = ep
            .listen(SocketAddr::from((RECEIVER, PORT)), 8)
            .map_err(|e| format!("synack listen: {e:?}"))?;
        let sink = Sink::new();
        Ok(SynackNode::new(ep, None, App::Receive { listener, sink }))
    }

    fn sink(&self) -> Option<&Sink> {
        match &self.app {
            App::Receive { sink, .. } => Some(sink),
            App::Send(_) => None,
        }
    }

    fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    fn retrans_segs(&self) -> Option<u64> {
        Some(self.ep.counters().retrans_segs)
    }
}

impl Node for SynackNode {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.ep.handle_packet(now, packet);
        self.app();
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.ep.poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.ep.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.app();
    }
}
