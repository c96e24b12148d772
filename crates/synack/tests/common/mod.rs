//! Shared helpers for the engine's integration tests: two endpoints on the
//! simulated network, a client and a server.

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use synack::sim::{LinkConfig, Network, NodeId};
use synack::{Config, ConnId, Endpoint, Event, Instant, ListenerId, Secret};

pub const CLIENT_IP: [u8; 4] = [198, 18, 0, 1];
pub const SERVER_IP: [u8; 4] = [198, 18, 0, 2];
pub const PORT: u16 = 80;

pub fn server_addr() -> SocketAddr {
    SocketAddr::from((SERVER_IP, PORT))
}

pub fn client_ip() -> SocketAddr {
    SocketAddr::from((CLIENT_IP, 0))
}

/// Two endpoints, client (node 0) and server (node 1), on one link.
pub struct Pair {
    pub net: Network<Endpoint>,
    pub client: NodeId,
    pub server: NodeId,
    pub listener: ListenerId,
}

impl Pair {
    pub fn new(seed: u64, cfg: Config, link: LinkConfig) -> Pair {
        let mut net = Network::new(seed);
        net.set_default_link(link).unwrap();
        let c = Endpoint::new(cfg.clone(), secret(seed, 1), Instant::ZERO);
        let mut s = Endpoint::new(cfg, secret(seed, 2), Instant::ZERO);
        let listener = s.listen(server_addr(), 128).expect("listen");
        let client = net.add_node(c, &[IpAddr::from(CLIENT_IP)]).unwrap();
        let server = net.add_node(s, &[IpAddr::from(SERVER_IP)]).unwrap();
        Pair {
            net,
            client,
            server,
            listener,
        }
    }

    pub fn connect(&mut self) -> ConnId {
        let now = self.net.now();
        self.net[self.client]
            .connect(now, client_ip(), server_addr())
            .expect("connect")
    }

    pub fn client(&mut self) -> &mut Endpoint {
        &mut self.net[self.client]
    }

    pub fn server(&mut self) -> &mut Endpoint {
        &mut self.net[self.server]
    }
}

pub fn secret(seed: u64, who: u8) -> Secret {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&seed.to_le_bytes());
    b[8] = who;
    Secret::from_bytes(b)
}

/// Drains every event of an endpoint.
pub fn events(ep: &mut Endpoint) -> Vec<Event> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}
