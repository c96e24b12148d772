//! ECN against the Linux kernel (issue 9; CE-18, CC-15): synack on a TUN
//! device in a namespace of this test's own, with `net.ipv4.tcp_ecn = 1`
//! there (the kernel asks for ECN in its SYNs and accepts it). A kernel
//! client negotiates ECN with synack's server (synack's default,
//! `EcnMode::Accept`), and synack's client (`EcnMode::Request`)
//! negotiates it with a kernel server; each side says so (synack's
//! `ConnInfo::ecn`, the kernel's `TCP_INFO` option bit), and 1 MiB goes
//! each way byte-exact. Root only (skipped with a printed reason
//! otherwise, failed under `SYNACK_REQUIRE_INTEROP=1`).

mod tun;

use std::io::{Read, Write};
use std::net::{TcpListener as KernelListener, TcpStream as KernelStream};
use std::os::fd::AsRawFd;
use std::time::Duration;
use synack::EcnMode;
use synack_io::StackConfig;
use synack_io::net::{TcpListener, TcpStream};
use synack_testbed::require;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SIZE: usize = 1 << 20;

fn data(side: u8) -> Vec<u8> {
    (0..SIZE).map(|i| ((i % 241) as u8) ^ side).collect()
}

/// Whether the kernel's socket negotiated ECN: `TCPI_OPT_ECN` in
/// `tcp_info.tcpi_options` (the sixth byte).
fn kernel_ecn(s: &KernelStream) -> bool {
    const TCPI_OPT_ECN: u8 = 8;
    let mut info = [0u8; 104];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: a valid socket, and a buffer of `len` bytes for the kernel
    // to fill.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    assert_eq!(r, 0, "TCP_INFO: {}", std::io::Error::last_os_error());
    info[5] & TCPI_OPT_ECN != 0
}

/// The kernel's end: sends its 1 MiB, reads synack's, and reports.
fn kernel_exchange(mut s: KernelStream) -> (bool, bool) {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let ecn = kernel_ecn(&s);
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&data(1)).unwrap());
    let mut got = vec![0u8; SIZE];
    s.read_exact(&mut got).expect("kernel read");
    writer.join().unwrap();
    (ecn, got == data(0))
}

/// synack's end: the same, and whether its side negotiated ECN.
async fn synack_exchange(s: TcpStream) -> (bool, bool) {
    let ecn = s.info().unwrap().ecn;
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        w.write_all(&data(0)).await.unwrap();
        w
    });
    let mut got = vec![0u8; SIZE];
    r.read_exact(&mut got).await.expect("synack read");
    let _w = writer.await.unwrap();
    (ecn, got == data(1))
}

#[test]
fn ecn_negotiated_with_the_kernel_both_ways() {
    let Some(_) = require(&[]) else {
        return;
    };
    let ns = tun::namespace("ecn");
    ns.thread(|| std::fs::write("/proc/sys/net/ipv4/tcp_ecn", "1"))
        .join()
        .unwrap()
        .expect("net.ipv4.tcp_ecn = 1 in the namespace");
    let kernel_server = ns
        .thread(|| KernelListener::bind("198.18.0.1:7500"))
        .join()
        .unwrap()
        .expect("bind");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let mut cfg = StackConfig::new("198.18.0.2".parse().unwrap());
    cfg.engine.ecn = EcnMode::Request;
    let synack = tun::on_tun(&ns, cfg, move |stack| async move {
        // synack's server; the kernel's client asks for ECN.
        let l = TcpListener::bind(&stack, "198.18.0.2:7501").await.unwrap();
        ready_tx.send(()).unwrap();
        let (s, _) = l.accept().await.unwrap();
        let passive = synack_exchange(s).await;
        // synack's client asks; the kernel's server agrees.
        let s = TcpStream::connect(&stack, "198.18.0.1:7500")
            .await
            .expect("connect");
        let active = synack_exchange(s).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        (passive, active)
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("synack listening");
    let kernel_client = ns
        .thread(|| {
            let s = KernelStream::connect("198.18.0.2:7501").expect("kernel connect");
            kernel_exchange(s)
        })
        .join()
        .unwrap();
    let (s, _) = kernel_server.accept().expect("kernel accept");
    let kernel_server = kernel_exchange(s);
    let (passive, active) = synack.join().expect("synack thread");
    assert_eq!(passive, (true, true), "synack's server: ECN on, data exact");
    assert_eq!(
        kernel_client,
        (true, true),
        "the kernel's client: ECN on, data exact"
    );
    assert_eq!(active, (true, true), "synack's client: ECN on, data exact");
    assert_eq!(
        kernel_server,
        (true, true),
        "the kernel's server: ECN on, data exact"
    );
}
