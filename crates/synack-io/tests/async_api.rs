//! The async sockets between two stacks over an in-memory link.

mod common;

use common::*;
use std::io::ErrorKind;
use std::time::Duration;
use synack::State;
use synack_io::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Accepts connections forever and echoes each until its EOF.
fn spawn_echo(listener: TcpListener) {
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (mut r, mut w) = s.into_split();
                tokio::io::copy(&mut r, &mut w).await.unwrap();
                w.shutdown().await.unwrap();
            });
        }
    });
}

#[tokio::test]
async fn echo_one_mebibyte() {
    let (a, b) = pair();
    spawn_echo(TcpListener::bind(&b, addr(B, 7)).await.unwrap());
    let s = within(2, TcpStream::connect(&a, addr(B, 7))).await.unwrap();
    assert_eq!(s.peer_addr().unwrap(), addr(B, 7));
    assert_eq!(s.local_addr().unwrap().ip(), A);
    let data = pattern(1 << 20);
    let (mut r, mut w) = s.into_split();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
        w
    });
    let mut got = Vec::new();
    within(5, r.read_to_end(&mut got)).await.unwrap();
    assert!(got == data, "echo differs");
    let w = writer.await.unwrap();
    let s = r.reunite(w).unwrap();
    // Both FINs are through: the engine has forgotten the connection.
    assert_eq!(s.info().unwrap_err().kind(), ErrorKind::NotConnected);
    assert!(a.counters().out_segs > 700);
}

#[tokio::test]
async fn half_close_both_ways() {
    let (a, b) = pair();
    let l = TcpListener::bind(&b, addr(B, 9)).await.unwrap();
    // Client closes first; the server still answers.
    let mut c = TcpStream::connect(&a, addr(B, 9)).await.unwrap();
    let (mut s, peer) = l.accept().await.unwrap();
    assert_eq!(peer, c.local_addr().unwrap());
    c.write_all(b"ping").await.unwrap();
    c.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(2, s.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"ping");
    assert_eq!(s.info().unwrap().state, State::CloseWait);
    s.write_all(b"pong").await.unwrap();
    s.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(2, c.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"pong");
    // Writing after our own shutdown is a broken pipe.
    let e = c.write_all(b"x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BrokenPipe);

    // Server closes first; the client still sends.
    let mut c = TcpStream::connect(&a, addr(B, 9)).await.unwrap();
    let (mut s, _) = l.accept().await.unwrap();
    s.shutdown().await.unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(within(2, c.read(&mut buf)).await.unwrap(), 0);
    c.write_all(b"late").await.unwrap();
    c.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(2, s.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"late");
}

#[tokio::test]
async fn connect_without_listener_is_refused() {
    let (a, _b) = pair();
    let e = within(2, TcpStream::connect(&a, addr(B, 81)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn abort_resets_the_peer() {
    let (a, b) = pair();
    let l = TcpListener::bind(&b, addr(B, 10)).await.unwrap();
    let mut c = TcpStream::connect(&a, addr(B, 10)).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    s.abort();
    let mut buf = [0u8; 8];
    let e = within(2, c.read(&mut buf)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    let e = c.write_all(b"x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn dropping_with_unread_data_resets() {
    let (a, b) = pair();
    let l = TcpListener::bind(&b, addr(B, 11)).await.unwrap();
    let mut c = TcpStream::connect(&a, addr(B, 11)).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    c.write_all(b"never read").await.unwrap();
    // Let the data arrive before the close.
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(s);
    let mut buf = [0u8; 8];
    let e = within(2, c.read(&mut buf)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn bind_twice_is_addr_in_use() {
    let (_a, b) = pair();
    let _l = TcpListener::bind(&b, addr(B, 12)).await.unwrap();
    let e = TcpListener::bind(&b, addr(B, 12)).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::AddrInUse);
}

#[tokio::test]
async fn fifty_concurrent_connections() {
    let (a, b) = pair();
    spawn_echo(TcpListener::bind(&b, addr(B, 7)).await.unwrap());
    let mut tasks = Vec::new();
    for i in 0..50usize {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(&a, addr(B, 7)).await.unwrap();
            let msg = pattern(10_000 + i);
            s.write_all(&msg).await.unwrap();
            s.shutdown().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            assert!(got == msg, "connection {i} echoed wrong bytes");
        }));
    }
    within(5, async {
        for t in tasks {
            t.await.unwrap();
        }
    })
    .await;
    assert_eq!(a.counters().active_opens, 50);
    assert_eq!(b.counters().passive_opens, 50);
}

#[tokio::test]
async fn ipv6_echo() {
    let c6: std::net::IpAddr = "fd00::1".parse().unwrap();
    let s6: std::net::IpAddr = "fd00::2".parse().unwrap();
    let (a, b) = pair_of(c6, s6);
    spawn_echo(TcpListener::bind(&b, addr(s6, 7)).await.unwrap());
    let mut s = within(2, TcpStream::connect(&a, addr(s6, 7)))
        .await
        .unwrap();
    let msg = pattern(100_000);
    s.write_all(&msg).await.unwrap();
    s.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(2, s.read_to_end(&mut got)).await.unwrap();
    assert!(got == msg);
    // A v4 destination from a v6-only stack has no source address.
    let e = TcpStream::connect(&a, addr(B, 7)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrNotAvailable);
}

#[tokio::test]
async fn stack_reports_connections() {
    let (a, b) = pair();
    let l = TcpListener::bind(&b, addr(B, 13)).await.unwrap();
    let c = TcpStream::connect(&a, addr(B, 13)).await.unwrap();
    c.set_nodelay(true).unwrap();
    let (_s, _) = l.accept().await.unwrap();
    assert_eq!(c.info().unwrap().state, State::Established);
    let conns = a.connections();
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0].state, State::Established);
    assert_eq!(conns[0].remote, addr(B, 13));
    assert_eq!(a.local_ip(), A);
    assert!(a.io_counters().tx_packets >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_on_a_multi_thread_runtime() {
    let (a, b) = pair();
    spawn_echo(TcpListener::bind(&b, addr(B, 7)).await.unwrap());
    let s = within(2, TcpStream::connect(&a, addr(B, 7))).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let msg = pattern(512 * 1024);
    let sent = msg.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    within(5, r.read_to_end(&mut got)).await.unwrap();
    writer.await.unwrap();
    assert!(got == msg);
}
