//! smoltcp's side of `synack bench throughput`: two smoltcp `Interface`s
//! with one TCP socket each, their devices two queues of raw IPv4
//! datagrams (`Medium::Ip`, checksums computed and verified in software),
//! driven in one thread exactly as synack's pair is: the sender writes
//! what the socket takes, the datagrams move, the receiver copies out
//! what arrived, the acknowledgments move back; virtual time jumps ahead
//! only when nothing moves.
//!
//! smoltcp runs with its defaults but for its socket buffers, of the
//! row's size, and the `socket-tcp-cubic` feature (as in `bench lossy`).

use crate::bench::smoltcp_queues::Queues;
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration as SmolDuration, Instant as SmolInstant};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

use super::{CLIENT, PORT, SERVER};

/// One side: an interface, its device and its one socket.
struct Side {
    iface: Interface,
    dev: Queues,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
}

impl Side {
    fn new(ip: [u8; 4], buf: usize, now: SmolInstant, seed: u64) -> Side {
        let mut dev = Queues::default();
        let mut cfg = IfaceConfig::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut dev, now);
        iface.update_ip_addrs(|addrs| {
            let [a, b, c, d] = ip;
            // One address on an empty list: cannot overflow.
            let _ = addrs.push(IpCidr::new(IpAddress::v4(a, b, c, d), 24));
        });
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; buf]),
            tcp::SocketBuffer::new(vec![0; buf]),
        );
        let mut sockets = SocketSet::new(Vec::new());
        let handle = sockets.add(socket);
        Side {
            iface,
            dev,
            sockets,
            handle,
        }
    }

    fn poll(&mut self, now: SmolInstant) {
        self.iface.poll(now, &mut self.dev, &mut self.sockets);
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.handle)
    }
}

/// Moves what `from` sent into `to`'s receive queue; returns how many.
fn carry(from: &mut Side, to: &mut Side) -> usize {
    let n = from.dev.tx.len();
    to.dev.rx.extend(from.dev.tx.drain(..));
    n
}

/// One round: bytes per second of wall-clock time for `size` bytes.
pub fn round(buf: usize, size: u64) -> Result<f64, String> {
    let mut now = SmolInstant::from_secs(1);
    let mut client = Side::new(CLIENT, buf, now, 1);
    let mut server = Side::new(SERVER, buf, now, 2);
    server
        .socket()
        .listen(PORT)
        .map_err(|e| format!("smoltcp listen: {e}"))?;
    let [a, b, c, d] = SERVER;
    let Side {
        iface,
        sockets,
        handle,
        ..
    } = &mut client;
    sockets
        .get_mut::<tcp::Socket>(*handle)
        .connect(iface.context(), (IpAddress::v4(a, b, c, d), PORT), 49_152)
        .map_err(|e| format!("smoltcp connect: {e}"))?;
    // The handshake.
    for _ in 0..10 {
        client.poll(now);
        carry(&mut client, &mut server);
        server.poll(now);
        carry(&mut server, &mut client);
    }
    if !client.socket().may_send() {
        return Err(format!(
            "smoltcp: not established ({})",
            client.socket().state()
        ));
    }

    let chunk = vec![0x5a_u8; 64 << 10];
    let mut into = vec![0_u8; 64 << 10];
    let (mut sent, mut received) = (0_u64, 0_u64);
    let start = std::time::Instant::now();
    while received < size {
        let before = (sent, received);
        // The sending application, then the stack.
        while sent < size && client.socket().can_send() {
            let n = chunk.len().min((size - sent) as usize);
            match client.socket().send_slice(&chunk[..n]) {
                Ok(0) => break,
                Ok(k) => sent += k as u64,
                Err(e) => return Err(format!("smoltcp send: {e}")),
            }
        }
        client.poll(now);
        let moved = carry(&mut client, &mut server);
        // The receiving stack, then the application.
        server.poll(now);
        while server.socket().can_recv() {
            match server.socket().recv_slice(&mut into) {
                Ok(0) => break,
                Ok(k) => received += k as u64,
                Err(e) => return Err(format!("smoltcp recv: {e}")),
            }
        }
        server.poll(now);
        let acks = carry(&mut server, &mut client);
        if moved + acks == 0 && before == (sent, received) {
            // Nothing moved: let its timers (a delayed ACK) run.
            now += SmolDuration::from_millis(1);
            if now > SmolInstant::from_secs(3600) {
                return Err(format!("smoltcp stalled at {received} of {size} bytes"));
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(size as f64 / secs)
}
