//! Two stacks joined by an in-memory link, and helpers the tests share.

#![allow(dead_code)]

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use synack_io::device::ChannelDevice;
use synack_io::{Stack, StackConfig};

pub const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 1));
pub const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2));

pub fn addr(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// Two stacks on the current tokio runtime, `A` and `B`, over a channel.
pub fn pair() -> (Stack, Stack) {
    pair_of(A, B)
}

pub fn pair_of(a: IpAddr, b: IpAddr) -> (Stack, Stack) {
    let (da, db) = ChannelDevice::pair(1500).unwrap();
    (
        Stack::new(da, StackConfig::new(a)).unwrap(),
        Stack::new(db, StackConfig::new(b)).unwrap(),
    )
}

/// A deterministic, non-repeating-looking payload.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Fails the test instead of hanging it.
pub async fn within<T>(secs: u64, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("timed out")
}
