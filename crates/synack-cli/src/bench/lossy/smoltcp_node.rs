//! smoltcp's side of the lossy bench: a smoltcp `Interface` with one TCP
//! socket as a node of synack's simulated network. The device between them
//! is two queues of raw IPv4 datagrams (`Medium::Ip`): the network fills
//! the receive queue, smoltcp fills the transmit queue, and the network
//! collects from it.
//!
//! smoltcp runs with its own defaults but for two things, said in the
//! bench's output: socket buffers of synack's size, and the crate feature
//! `socket-tcp-cubic` (its default build has no congestion control at
//! all, which no stack on a shared path should be measured with).

use super::stream::{Sink, Source};
use super::{PORT, RECEIVER, SENDER, Stack};
use crate::bench::smoltcp_queues::Queues;
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use synack::Instant;
use synack::sim::Node;

enum App {
    Send { source: Source, closed: bool },
    Receive(Sink),
}

pub struct SmoltcpNode {
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    dev: Queues,
    now: Instant,
    app: App,
    failure: Option<String>,
}

fn smol(t: Instant) -> SmolInstant {
    SmolInstant::from_micros(i64::try_from(t.micros()).unwrap_or(i64::MAX))
}

impl SmoltcpNode {
    fn new(seed: u64, now: Instant, ip: [u8; 4], app: App) -> SmoltcpNode {
        let mut dev = Queues::default();
        let mut cfg = IfaceConfig::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut dev, smol(now));
        iface.update_ip_addrs(|addrs| {
            // One address on an empty list: cannot overflow.
            let [a, b, c, d] = ip;
            let _ = addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), 24));
        });
        let buffers = super::synack_node::config();
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; buffers.recv_buffer]),
            tcp::SocketBuffer::new(vec![0; buffers.send_buffer]),
        );
        let mut sockets = SocketSet::new(Vec::new());
        let handle = sockets.add(socket);
        SmoltcpNode {
            iface,
            sockets,
            handle,
            dev,
            now,
            app,
            failure: None,
        }
    }

    /// Lets smoltcp process what arrived and send what it may, then the
    /// application move data, until the application has nothing to move.
    fn service(&mut self, now: Instant) {
        self.now = now;
        loop {
            self.iface.poll(smol(now), &mut self.dev, &mut self.sockets);
            if self.app() == 0 {
                break;
            }
        }
    }

    /// The application's turn; returns the bytes it moved.
    fn app(&mut self) -> usize {
        let socket = self.sockets.get_mut::<tcp::Socket>(self.handle);
        match &mut self.app {
            App::Send { source, closed } => {
                let mut moved = 0;
                while socket.can_send() && !source.done() {
                    match socket.send(|buf| {
                        let n = source.fill(buf);
                        (n, n)
                    }) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => moved += n,
                    }
                }
                if source.done() && !*closed {
                    socket.close();
                    *closed = true;
                }
                if !socket.is_open() && !*closed {
                    self.failure = Some(format!("connection lost in {}", socket.state()));
                }
                moved
            }
            App::Receive(sink) => {
                let mut moved = 0;
                loop {
                    match socket.recv(|buf| {
                        sink.take(buf);
                        (buf.len(), buf.len())
                    }) {
                        Ok(0) => break,
                        Ok(n) => moved += n,
                        Err(tcp::RecvError::Finished) => {
                            sink.eof = true;
                            break;
                        }
                        // Not connected yet.
                        Err(tcp::RecvError::InvalidState) => break,
                    }
                }
                moved
            }
        }
    }
}

impl Stack for SmoltcpNode {
    const NAME: &'static str = "smoltcp";

    fn sender(seed: u64, now: Instant, source: Source) -> Result<Self, String> {
        let app = App::Send {
            source,
            closed: false,
        };
        let mut node = SmoltcpNode::new(seed, now, SENDER, app);
        let [a, b, c, d] = RECEIVER;
        let socket = node.sockets.get_mut::<tcp::Socket>(node.handle);
        socket
            .connect(
                node.iface.context(),
                (IpAddress::v4(a, b, c, d), PORT),
                49152,
            )
            .map_err(|e| format!("smoltcp connect: {e}"))?;
        node.service(now);
        Ok(node)
    }

    fn receiver(seed: u64, now: Instant) -> Result<Self, String> {
        let mut node = SmoltcpNode::new(seed, now, RECEIVER, App::Receive(Sink::new()));
        node.sockets
            .get_mut::<tcp::Socket>(node.handle)
            .listen(PORT)
            .map_err(|e| format!("smoltcp listen: {e}"))?;
        Ok(node)
    }

    fn sink(&self) -> Option<&Sink> {
        match &self.app {
            App::Receive(sink) => Some(sink),
            App::Send { .. } => None,
        }
    }

    fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// smoltcp keeps no such counter; the bench counts its
    /// retransmissions on the wire.
    fn retrans_segs(&self) -> Option<u64> {
        None
    }
}

impl Node for SmoltcpNode {
    fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.dev.rx.push_back(packet.to_vec());
        self.service(now);
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let packet = self.dev.tx.pop_front()?;
        let n = packet.len().min(buf.len());
        buf[..n].copy_from_slice(&packet[..n]);
        Some(n)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let at = self.iface.poll_at(smol(self.now), &self.sockets)?;
        // "Now" comes back as instant zero: in the past, so it fires at once.
        Some(Instant::from_micros(
            u64::try_from(at.total_micros()).unwrap_or(0),
        ))
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.service(now);
    }
}
