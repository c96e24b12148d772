//! The tokio::net and std::net calls beyond reading and writing (issue
//! 12's parity list), between two stacks over an in-memory link: each
//! checked for what it does, not only that it exists.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;
use synack::Timer;
use synack_io::net::{TcpListener, TcpSocket, TcpStream};
use synack_io::{Stack, StackConfig, blocking, device::ChannelDevice};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn bind_to_port_zero_and_connect_by_string() {
    let (a, b) = pair();
    let l = TcpListener::bind(&b, "0.0.0.0:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    assert!(port >= 49152, "ephemeral port {port}");
    // A second port-0 listener gets another port.
    let l2 = TcpListener::bind(&b, (B, 0)).await.unwrap();
    assert_ne!(l2.local_addr().unwrap().port(), port);
    let c = within(2, TcpStream::connect(&a, format!("198.18.0.2:{port}")))
        .await
        .unwrap();
    let (s, peer) = within(2, l.accept()).await.unwrap();
    assert_eq!(peer, c.local_addr().unwrap());
    assert_eq!(s.peer_addr().unwrap(), c.local_addr().unwrap());
    // Several addresses: the first that connects.
    let list: Vec<SocketAddr> = vec![addr(B, 1), addr(B, port)];
    within(2, TcpStream::connect(&a, list)).await.unwrap();
}

#[tokio::test]
async fn addresses_the_stack_cannot_use_are_refused_clearly() {
    let (a, b) = pair();
    let e = TcpListener::bind(&b, "198.18.0.9:80").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrNotAvailable);
    let e = TcpStream::connect(&a, "example.com:80").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let _l = TcpListener::bind(&b, addr(B, 80)).await.unwrap();
    let e = TcpListener::bind(&b, addr(B, 80)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
}

/// A connected pair: (client on `a`, server on `b`).
async fn connected(a: &Stack, b: &Stack, port: u16) -> (TcpStream, TcpStream) {
    let l = TcpListener::bind(b, addr(B, port)).await.unwrap();
    let c = within(2, TcpStream::connect(a, addr(B, port)))
        .await
        .unwrap();
    let (s, _) = within(2, l.accept()).await.unwrap();
    (c, s)
}

#[tokio::test]
async fn peek_try_read_try_write_and_readiness() {
    let (a, b) = pair();
    let (c, mut s) = connected(&a, &b, 7).await;
    let mut buf = [0u8; 16];
    assert_eq!(
        c.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    s.write_all(b"hello").await.unwrap();
    within(2, c.readable()).await.unwrap();
    // peek leaves the bytes for the next read.
    let n = within(2, c.peek(&mut buf)).await.unwrap();
    assert_eq!(&buf[..n], b"hello");
    let n = c.try_read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
    assert_eq!(
        c.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    // try_write until the send buffer is full, then writable() waits
    // until the peer has read some.
    within(2, c.writable()).await.unwrap();
    let chunk = pattern(64 * 1024);
    let mut sent = 0;
    loop {
        match c.try_write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 64 << 20, "the send buffer never filled");
    }
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; sent];
        s.read_exact(&mut got).await.unwrap();
        s
    });
    within(5, c.writable()).await.unwrap();
    assert!(c.try_write(b"more").unwrap() > 0);
    let _s = within(5, reader).await.unwrap();
}

#[tokio::test]
async fn nodelay_ttl_and_take_error() {
    let (a, b) = pair();
    let (c, s) = connected(&a, &b, 8).await;
    assert!(!c.nodelay().unwrap());
    c.set_nodelay(true).unwrap();
    assert!(c.nodelay().unwrap());
    assert_eq!(c.ttl().unwrap(), 64);
    c.set_ttl(9).unwrap();
    assert_eq!(c.ttl().unwrap(), 9);
    assert_eq!(c.set_ttl(0).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(c.set_ttl(256).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(c.take_error().unwrap().is_none());
    s.abort();
    let mut buf = [0u8; 4];
    let mut c = c;
    let e = within(2, c.read(&mut buf)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    let e = c.take_error().unwrap().expect("the reset, once");
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    assert!(c.take_error().unwrap().is_none());
}

#[tokio::test]
async fn linger_zero_resets_on_drop() {
    let (a, b) = pair();
    let (c, mut s) = connected(&a, &b, 9).await;
    c.set_linger(Some(Duration::ZERO)).unwrap();
    assert_eq!(c.linger().unwrap(), Some(Duration::ZERO));
    drop(c);
    let mut buf = [0u8; 4];
    let e = within(2, s.read(&mut buf)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    // Without linger, a drop is a FIN: the end of the stream.
    let (c, mut s) = connected(&a, &b, 10).await;
    drop(c);
    assert_eq!(within(2, s.read(&mut buf)).await.unwrap(), 0);
}

#[tokio::test]
async fn tcp_socket_settings_reach_the_connection() {
    let (a, b) = pair();
    let l = TcpSocket::new_v4(&b).unwrap();
    l.bind(addr(B, 0)).unwrap();
    l.set_nodelay(true).unwrap();
    l.set_ttl(33).unwrap();
    l.set_recv_buffer_size(16 * 1024).unwrap();
    let l = l.listen(16).unwrap();
    let port = l.local_addr().unwrap().port();
    assert_ne!(port, 0);
    let sock = TcpSocket::new_v4(&a).unwrap();
    sock.bind(addr(A, 40000)).unwrap();
    assert_eq!(sock.local_addr().unwrap(), addr(A, 40000));
    sock.set_recv_buffer_size(8 * 1024).unwrap();
    assert_eq!(sock.recv_buffer_size().unwrap(), 8 * 1024);
    sock.set_send_buffer_size(4 * 1024).unwrap();
    sock.set_keepalive(true).unwrap();
    assert!(sock.keepalive().unwrap());
    sock.set_reuseaddr(true).unwrap();
    assert!(sock.reuseaddr().unwrap());
    sock.bind(addr(A, 1)).unwrap();
    sock.bind(addr(A, 40000)).unwrap();
    assert_eq!(
        sock.bind("198.18.0.9:1".parse().unwrap())
            .unwrap_err()
            .kind(),
        ErrorKind::AddrNotAvailable
    );
    let c = within(2, sock.connect(addr(B, port))).await.unwrap();
    let (s, peer) = within(2, l.accept()).await.unwrap();
    assert_eq!(peer, addr(A, 40000));
    // The window each side offers follows its receive buffer.
    let ci = c.info().unwrap();
    let si = s.info().unwrap();
    assert!(ci.rcv_wnd <= 8 * 1024, "client window {}", ci.rcv_wnd);
    assert!(si.rcv_wnd <= 16 * 1024, "server window {}", si.rcv_wnd);
    assert!(
        matches!(ci.timer, Some((Timer::Keepalive, _))),
        "{:?}",
        ci.timer
    );
    // The accepted connection took the listener's settings.
    assert!(s.nodelay().unwrap());
    assert_eq!(s.ttl().unwrap(), 33);
    assert!(!c.nodelay().unwrap());
    // A socket of the other family refuses the address.
    let v6 = TcpSocket::new_v6(&a).unwrap();
    assert_eq!(
        v6.bind(addr(A, 1)).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        TcpSocket::new_v4(&a)
            .unwrap()
            .set_send_buffer_size(0)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn blocking_twin() {
    let (da, db) = ChannelDevice::pair(1500).unwrap();
    let a = Stack::spawn_thread(da, StackConfig::new(A)).unwrap();
    let b = Stack::spawn_thread(db, StackConfig::new(B)).unwrap();
    let l = blocking::TcpListener::bind(&b, "198.18.0.2:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_ttl(20).unwrap();
    assert_eq!(l.ttl().unwrap(), 20);
    assert!(l.take_error().unwrap().is_none());
    let sock = blocking::TcpSocket::new_v4(&a).unwrap();
    sock.set_nodelay(true).unwrap();
    let mut c = sock.connect(addr(B, port)).unwrap();
    assert!(c.nodelay().unwrap());
    let (mut s, _) = l.accept().unwrap();
    assert_eq!(s.ttl().unwrap(), 20);
    s.write_all(b"peek me").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    let n = c.peek(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"peek me");
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"peek me");
    c.set_nonblocking(true).unwrap();
    assert_eq!(c.peek(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    c.set_nonblocking(false).unwrap();
    s.set_linger(Some(Duration::ZERO)).unwrap();
    drop(s);
    assert_eq!(
        c.read(&mut buf).unwrap_err().kind(),
        ErrorKind::ConnectionReset
    );
    assert_eq!(
        c.take_error().unwrap().map(|e| e.kind()),
        Some(ErrorKind::ConnectionReset)
    );
    assert!(c.take_error().unwrap().is_none());
    let c2 = blocking::TcpStream::connect(&a, ("198.18.0.2", port)).unwrap();
    c2.set_ttl(7).unwrap();
    assert_eq!(c2.ttl().unwrap(), 7);
    let e = blocking::TcpStream::connect_timeout(&a, &addr(B, port), Duration::ZERO).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}
