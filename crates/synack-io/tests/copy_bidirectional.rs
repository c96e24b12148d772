//! `tokio::io::copy_bidirectional` across synack streams, and between a
//! synack stream and a kernel socket on loopback.

mod common;

use common::*;
use synack_io::net::{TcpListener, TcpStream};
use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};

const PROXY: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 1, 1));
const SERVER: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 1, 2));

/// Sends `msg`, half-closes, and reads everything back.
async fn round_trip(s: TcpStream, msg: &[u8]) -> Vec<u8> {
    let (mut r, mut w) = s.into_split();
    let send = async {
        w.write_all(msg).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut got = Vec::new();
    let recv = r.read_to_end(&mut got);
    let ((), n) = tokio::join!(send, recv);
    n.unwrap();
    got
}

/// client stack --link 1--> proxy stack | proxy stack --link 2--> echo stack
#[tokio::test]
async fn proxy_between_two_synack_links() {
    let (client, proxy_in) = pair_of(A, PROXY);
    let (proxy_out, server) = pair_of(B, SERVER);
    let echo = TcpListener::bind(&server, addr(SERVER, 7)).await.unwrap();
    tokio::spawn(async move {
        let (s, _) = echo.accept().await.unwrap();
        let (mut r, mut w) = s.into_split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
    });
    let front = TcpListener::bind(&proxy_in, addr(PROXY, 80)).await.unwrap();
    let proxy = tokio::spawn(async move {
        let (mut inbound, _) = front.accept().await.unwrap();
        let mut outbound = TcpStream::connect(&proxy_out, addr(SERVER, 7))
            .await
            .unwrap();
        copy_bidirectional(&mut inbound, &mut outbound)
            .await
            .unwrap()
    });
    let s = within(2, TcpStream::connect(&client, addr(PROXY, 80)))
        .await
        .unwrap();
    let msg = pattern(300_000);
    let got = within(5, round_trip(s, &msg)).await;
    assert!(got == msg);
    let (up, down) = within(2, proxy).await.unwrap();
    assert_eq!((up, down), (msg.len() as u64, msg.len() as u64));
}

/// client stack --link--> proxy stack, and the proxy's other side is a
/// kernel socket to a kernel echo server on 127.0.0.1.
#[tokio::test]
async fn proxy_to_a_kernel_socket() {
    let kernel = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let kernel_addr = kernel.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut s, _) = kernel.accept().await.unwrap();
        let (mut r, mut w) = s.split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let (client, proxy_stack) = pair_of(A, PROXY);
    let front = TcpListener::bind(&proxy_stack, addr(PROXY, 80))
        .await
        .unwrap();
    let proxy = tokio::spawn(async move {
        let (mut inbound, _) = front.accept().await.unwrap();
        let mut outbound = tokio::net::TcpStream::connect(kernel_addr).await.unwrap();
        copy_bidirectional(&mut inbound, &mut outbound)
            .await
            .unwrap()
    });
    let s = within(2, TcpStream::connect(&client, addr(PROXY, 80)))
        .await
        .unwrap();
    let msg = pattern(300_000);
    let got = within(5, round_trip(s, &msg)).await;
    assert!(got == msg);
    let (up, down) = within(2, proxy).await.unwrap();
    assert_eq!((up, down), (msg.len() as u64, msg.len() as u64));
}
