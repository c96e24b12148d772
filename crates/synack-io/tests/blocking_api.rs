//! The blocking sockets, each stack's event loop on its own thread.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::thread;
use std::time::Duration;
use synack_io::blocking::{TcpListener, TcpStream};
use synack_io::device::ChannelDevice;
use synack_io::{Stack, StackConfig};

fn threaded_pair() -> (Stack, Stack) {
    let (da, db) = ChannelDevice::pair(1500).unwrap();
    (
        Stack::spawn_thread(da, StackConfig::new(A)).unwrap(),
        Stack::spawn_thread(db, StackConfig::new(B)).unwrap(),
    )
}

#[test]
fn echo_with_std_io() {
    let (a, b) = threaded_pair();
    let l = TcpListener::bind(&b, addr(B, 7)).unwrap();
    let server = thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut r = s.try_clone().unwrap();
        std::io::copy(&mut r, &mut s).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    });
    let mut c = TcpStream::connect(&a, addr(B, 7)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let msg = pattern(256 * 1024);
    let mut w = c.try_clone().unwrap();
    let sent = msg.clone();
    let writer = thread::spawn(move || {
        w.write_all(&sent).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert!(got == msg);
    writer.join().unwrap();
    server.join().unwrap();
}

#[test]
fn refused_and_timeouts() {
    let (a, b) = threaded_pair();
    let e = TcpStream::connect(&a, addr(B, 1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);

    let l = TcpListener::bind(&b, addr(B, 2)).unwrap();
    let mut c = TcpStream::connect(&a, addr(B, 2)).unwrap();
    let (s, peer) = l.accept().unwrap();
    assert_eq!(peer, c.local_addr().unwrap());
    c.set_read_timeout(Some(Duration::from_millis(30))).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(c.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    assert!(c.set_read_timeout(Some(Duration::ZERO)).is_err());

    l.set_nonblocking(true).unwrap();
    assert_eq!(l.accept().unwrap_err().kind(), ErrorKind::WouldBlock);

    // A local read shutdown ends reading at once.
    c.shutdown(Shutdown::Read).unwrap();
    assert_eq!(c.read(&mut buf).unwrap(), 0);

    s.abort();
    thread::sleep(Duration::from_millis(50));
    let e = c.write_all(b"x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
}

#[test]
fn connect_timeout_gives_up() {
    // Nobody is behind the peer's end of the link: the SYN goes nowhere.
    let (da, _db) = ChannelDevice::pair(1500).unwrap();
    let a = Stack::spawn_thread(da, StackConfig::new(A)).unwrap();
    let e = TcpStream::connect_timeout(&a, &addr(B, 7), Duration::from_millis(100)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
}

#[test]
fn event_loop_stops_with_the_last_handle() {
    let (da, mut raw) = ChannelDevice::pair(1500).unwrap();
    let a = Stack::spawn_thread(da, StackConfig::new(A)).unwrap();
    let l = TcpListener::bind(&a, addr(A, 7)).unwrap();
    drop(a);
    let mut buf = [0u8; 64];
    // The listener still holds the stack.
    thread::sleep(Duration::from_millis(50));
    use synack_io::device::Device;
    assert!(raw.recv(&mut buf).is_ok());
    drop(l);
    // No connections left: the loop ends at once and drops the device.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        match raw.recv(&mut buf) {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::NotConnected);
                break;
            }
            Ok(_) => {
                assert!(std::time::Instant::now() < deadline, "still running");
                thread::sleep(Duration::from_millis(5));
            }
        }
    }
}
