//! Two endpoints wired back to back for the criterion benchmarks: every
//! datagram one emits goes straight into the other through one buffer, in
//! virtual time that stands still while packets move.

#![allow(dead_code)]

use std::net::SocketAddr;
use synack::{Config, ConnId, Endpoint, Event, Instant, ListenerId, Secret};

pub const MESSAGE: [u8; 16] = *b"synack bench msg";

pub fn client_addr() -> SocketAddr {
    SocketAddr::from(([198, 18, 0, 1], 0))
}

pub fn server_addr() -> SocketAddr {
    SocketAddr::from(([198, 18, 0, 2], 80))
}

pub struct Pair {
    pub client: Endpoint,
    pub server: Endpoint,
    pub listener: ListenerId,
    pub now: Instant,
    buf: Box<[u8; 2048]>,
}

impl Pair {
    /// Two endpoints with the default configuration; the server listens.
    pub fn new() -> Pair {
        let now = Instant::from_secs(1);
        let cfg = Config::default();
        let client = Endpoint::new(cfg.clone(), Secret::from_bytes([1; 16]), now);
        let mut server = Endpoint::new(cfg, Secret::from_bytes([2; 16]), now);
        let listener = server.listen(server_addr(), 128).expect("listen");
        Pair {
            client,
            server,
            listener,
            now,
            buf: Box::new([0; 2048]),
        }
    }

    /// Moves datagrams both ways until both are quiet.
    pub fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(n) = self.client.poll_transmit(self.now, &mut self.buf[..]) {
                self.server.handle_packet(self.now, &self.buf[..n]);
                moved = true;
            }
            while let Some(n) = self.server.poll_transmit(self.now, &mut self.buf[..]) {
                self.client.handle_packet(self.now, &self.buf[..n]);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// Fires the earliest timer of either endpoint; false if none.
    pub fn advance(&mut self) -> bool {
        let t = match (self.client.poll_timeout(), self.server.poll_timeout()) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => match a.or(b) {
                Some(t) => t,
                None => return false,
            },
        };
        self.now = self.now.max(t);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        true
    }

    /// Connects and completes the handshake: (client, server) handles.
    pub fn establish(&mut self) -> (ConnId, ConnId) {
        let c = self
            .client
            .connect(self.now, client_addr(), server_addr())
            .expect("connect");
        self.pump();
        let s = self.server.accept(self.listener).expect("accepted");
        while self.client.poll_event().is_some() {}
        while self.server.poll_event().is_some() {}
        (c, s)
    }

    /// Moves every datagram `from` has to send into `to`; returns how many.
    fn flush(from: &mut Endpoint, to: &mut Endpoint, now: Instant, buf: &mut [u8]) -> usize {
        let mut moved = 0;
        while let Some(n) = from.poll_transmit(now, buf) {
            to.handle_packet(now, &buf[..n]);
            moved += 1;
        }
        moved
    }

    /// One whole lifecycle: handshake, 16 bytes client -> server, the
    /// client closes, the server reads and closes, TIME-WAIT expires. As in
    /// `synack bench lifecycle`, each side's application answers before
    /// its endpoint transmits, so the message and FIN ride on the
    /// handshake's last ACK and the server's FIN on the ACK of the message:
    /// five segments.
    pub fn lifecycle(&mut self) {
        let now = self.now;
        let buf = &mut self.buf[..];
        let (client, server) = (&mut self.client, &mut self.server);
        let c = client
            .connect(now, client_addr(), server_addr())
            .expect("connect");
        let mut segments = Self::flush(client, server, now, buf); // SYN
        segments += Self::flush(server, client, now, buf); // SYN-ACK
        client.send(c, &MESSAGE).expect("send");
        client.close(c).expect("close");
        segments += Self::flush(client, server, now, buf); // message, FIN
        let s = server.accept(self.listener).expect("accepted");
        let mut got = [0u8; 64];
        let mut n = 0;
        loop {
            match server.recv(s, &mut got) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => panic!("recv: {e}"),
            }
        }
        assert_eq!(n, MESSAGE.len());
        server.close(s).expect("close");
        segments += Self::flush(server, client, now, buf); // FIN
        segments += Self::flush(client, server, now, buf); // last ACK
        assert_eq!(segments, 5);
        while self.client.time_wait_count() > 0 {
            assert!(self.advance(), "TIME-WAIT never expired");
        }
        while let Some(ev) = self.client.poll_event() {
            let _: Event = ev;
        }
        while self.server.poll_event().is_some() {}
    }
}
