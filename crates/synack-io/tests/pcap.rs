//! A pcap capture of a live stack holds every datagram, in and out.

mod common;

use common::*;
use std::io::Write;
use std::sync::{Arc, Mutex};
use synack_io::device::{ChannelDevice, Pcap};
use synack_io::net::{TcpListener, TcpStream};
use synack_io::{Stack, StackConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A writer the test can read while the stack owns the capture.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The records of a little-endian pcap file.
fn records(file: &[u8]) -> Vec<&[u8]> {
    assert_eq!(&file[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(u32::from_le_bytes(file[20..24].try_into().unwrap()), 101);
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= file.len() {
        let len = u32::from_le_bytes(file[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(&file[at + 16..at + 16 + len]);
        at += 16 + len;
    }
    out
}

#[tokio::test]
async fn capture_of_a_connection() {
    let (da, db) = ChannelDevice::pair(1500).unwrap();
    let cap = Shared::default();
    let a = Stack::new(Pcap::new(da, cap.clone()).unwrap(), StackConfig::new(A)).unwrap();
    let b = Stack::new(db, StackConfig::new(B)).unwrap();
    let l = TcpListener::bind(&b, addr(B, 7)).await.unwrap();
    let mut c = within(2, TcpStream::connect(&a, addr(B, 7))).await.unwrap();
    let (mut s, _) = l.accept().await.unwrap();
    c.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    within(2, s.read_exact(&mut buf)).await.unwrap();
    s.write_all(b"world").await.unwrap();
    within(2, c.read_exact(&mut buf)).await.unwrap();

    let file = cap.0.lock().unwrap().clone();
    let recs = records(&file);
    // SYN, SYN-ACK, ACK, "hello", its ACK (or "world"), "world" ...
    assert!(recs.len() >= 5, "{} records", recs.len());
    let mut out = 0;
    let mut with_data = 0;
    for r in &recs {
        let (ip, seg) = synack_wire::parse_ip_tcp(r).expect("a whole TCP/IP datagram");
        if ip.src == A {
            out += 1;
        }
        if !seg.payload.is_empty() {
            with_data += 1;
        }
    }
    assert!(out >= 3 && out < recs.len(), "both directions captured");
    assert_eq!(with_data, 2);
}
