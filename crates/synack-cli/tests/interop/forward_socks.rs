//! `synack forward --socks5`: the `forward` topology with a minimal SOCKS5
//! proxy (RFC 1928: no authentication, CONNECT to an IPv4 or IPv6
//! address) in the router, on 198.18.40.1:1080. synack dials every
//! destination through it; the server sees the proxy's connection, and
//! the proxy's failure replies reach the client as the refusals they
//! stand for.

use crate::common::*;
use crate::forward_bed::*;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Where the proxy listens: an address of the router's loopback.
const PROXY: &str = "198.18.40.1:1080";

/// What the proxy did with one CONNECT: the destination asked for, its
/// reply code, and (on success) the local address of its own connection.
#[derive(Debug, Clone, PartialEq)]
struct Proxied {
    dst: SocketAddr,
    reply: u8,
    from: Option<SocketAddr>,
}

/// Starts the proxy in the router; each CONNECT it handles is reported.
fn start_proxy(bed: &Bed) -> (Servers, Receiver<Proxied>) {
    bed.router
        .ip(&["addr", "add", "198.18.40.1/32", "dev", "lo"])
        .unwrap();
    let (tx, rx) = channel();
    let proxy: SocketAddr = PROXY.parse().unwrap();
    let servers = Servers::start_at(&bed.router, proxy.ip(), &[proxy.port()], socks5(tx));
    (servers, rx)
}

/// The proxy's handler: one SOCKS5 session, then a relay both ways until
/// each side has ended.
fn socks5(report: Sender<Proxied>) -> Handler {
    let report = Mutex::new(report);
    Arc::new(move |c: TcpStream| {
        if let Ok(Some(p)) = socks5_session(c) {
            let _ = report.lock().unwrap().send(p);
        }
    })
}

/// The reply code for a failed connect (RFC 1928 section 6).
fn reply_code(e: &io::Error) -> u8 {
    match e.kind() {
        ErrorKind::ConnectionRefused => 0x05,
        ErrorKind::HostUnreachable => 0x04,
        ErrorKind::NetworkUnreachable => 0x03,
        _ => 0x01,
    }
}

/// A reply with the bound address `bound` (IPv4 0.0.0.0:0 when none).
fn reply(c: &mut TcpStream, code: u8, bound: Option<SocketAddr>) -> io::Result<()> {
    let bound = bound.unwrap_or_else(|| SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0));
    let mut r = vec![5, code, 0];
    match bound.ip() {
        IpAddr::V4(a) => {
            r.push(1);
            r.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            r.push(4);
            r.extend_from_slice(&a.octets());
        }
    }
    r.extend_from_slice(&bound.port().to_be_bytes());
    c.write_all(&r)
}

/// Greeting, CONNECT, reply; then the relay. `None` for a session that
/// never asked for a CONNECT by address.
fn socks5_session(mut c: TcpStream) -> io::Result<Option<Proxied>> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head)?;
    let mut methods = vec![0u8; usize::from(head[1])];
    c.read_exact(&mut methods)?;
    if head[0] != 5 || !methods.contains(&0) {
        c.write_all(&[5, 0xff])?;
        return Ok(None);
    }
    c.write_all(&[5, 0])?;
    let mut req = [0u8; 4];
    c.read_exact(&mut req)?;
    if req[0] != 5 || req[1] != 1 {
        reply(&mut c, 0x07, None)?; // command not supported
        return Ok(None);
    }
    let ip: IpAddr = match req[3] {
        1 => {
            let mut a = [0u8; 4];
            c.read_exact(&mut a)?;
            Ipv4Addr::from(a).into()
        }
        4 => {
            let mut a = [0u8; 16];
            c.read_exact(&mut a)?;
            Ipv6Addr::from(a).into()
        }
        _ => {
            reply(&mut c, 0x08, None)?; // address type not supported
            return Ok(None);
        }
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port)?;
    let dst = SocketAddr::new(ip, u16::from_be_bytes(port));
    let up = match TcpStream::connect_timeout(&dst, IO_TIMEOUT) {
        Ok(up) => up,
        Err(e) => {
            let code = reply_code(&e);
            reply(&mut c, code, None)?;
            return Ok(Some(Proxied {
                dst,
                reply: code,
                from: None,
            }));
        }
    };
    let from = up.local_addr()?;
    reply(&mut c, 0, Some(from))?;
    up.set_read_timeout(Some(IO_TIMEOUT))?;
    up.set_write_timeout(Some(IO_TIMEOUT))?;
    let (mut c_in, mut up_out) = (c.try_clone()?, up.try_clone()?);
    let upward = thread::spawn(move || {
        let _ = io::copy(&mut c_in, &mut up_out);
        let _ = up_out.shutdown(Shutdown::Write);
    });
    let (mut up_in, mut c_out) = (up, c);
    let _ = io::copy(&mut up_in, &mut c_out);
    let _ = c_out.shutdown(Shutdown::Write);
    let _ = upward.join();
    Ok(Some(Proxied {
        dst,
        reply: 0,
        from: Some(from),
    }))
}

/// An echo server that reports each connection's peer address.
fn echo_reporting_peer() -> (Handler, Receiver<SocketAddr>) {
    let (tx, rx) = channel();
    let tx = Mutex::new(tx);
    let echo = echo();
    let h: Handler = Arc::new(move |s: TcpStream| {
        if let Ok(peer) = s.peer_addr() {
            let _ = tx.lock().unwrap().send(peer);
        }
        echo(s);
    });
    (h, rx)
}

#[test]
fn forward_socks5_open_port_echoes_through_the_proxy() {
    let Some(mut bed) = Bed::new("fwsocks", &[]) else {
        return;
    };
    let (_proxy, proxied) = start_proxy(&bed);
    let (handler, peers) = echo_reporting_peer();
    let _servers = Servers::start(&bed.server, &[7800], handler);
    let data = Arc::new(random_bytes(1 << 20, 5));
    let to = SocketAddr::new(server_ip(5).into(), 7800);
    let (kernel, ours) = bed.both(&["--socks5", PROXY], |bed| {
        let sent = data.clone();
        let hash = bed.in_client(move || sha256(&echo_exchange(to, sent)));
        let peer = peers.recv_timeout(IO_TIMEOUT).expect("the server's report");
        (hash, peer)
    });
    assert_eq!(kernel.0, sha256(&data), "the reference run");
    let client: SocketAddr = "198.18.10.2:0".parse().unwrap();
    assert_eq!(kernel.1.ip(), client.ip(), "the reference run's peer");
    assert_eq!(ours.0, kernel.0, "through synack; log:\n{}", bed.log());
    let p = proxied
        .recv_timeout(IO_TIMEOUT)
        .expect("the proxy's report");
    assert_eq!(p.dst, to, "the destination synack asked the proxy for");
    assert_eq!(p.reply, 0);
    assert_eq!(
        Some(ours.1),
        p.from,
        "the server's peer is the proxy's connection"
    );
    assert!(proxied.try_recv().is_err(), "one CONNECT only");
}

#[test]
fn forward_socks5_refusals_reach_the_client() {
    let Some(mut bed) = Bed::new("fwsocksno", &[]) else {
        return;
    };
    let (_proxy, proxied) = start_proxy(&bed);
    let closed = SocketAddr::new(server_ip(5).into(), 7801);
    let nobody = SocketAddr::new(NOBODY.parse().unwrap(), 7801);
    let (kernel, ours) = bed.both(&["--socks5", PROXY], |bed| {
        bed.in_client(move || {
            (
                try_dial(closed, Duration::from_secs(15)).map(|_| ()),
                try_dial(nobody, Duration::from_secs(15)).map(|_| ()),
            )
        })
    });
    let want = (
        Err(ErrorKind::ConnectionRefused),
        Err(ErrorKind::HostUnreachable),
    );
    assert_eq!(kernel, want, "the reference run");
    assert_eq!(
        ours,
        want,
        "through synack and the proxy; log:\n{}",
        bed.log()
    );
    let replies: Vec<Proxied> = (0..2)
        .map(|_| {
            proxied
                .recv_timeout(IO_TIMEOUT)
                .expect("the proxy's report")
        })
        .collect();
    let want = [(closed, 0x05), (nobody, 0x04)].map(|(dst, reply)| Proxied {
        dst,
        reply,
        from: None,
    });
    assert_eq!(replies, want, "the proxy's answers");
}
