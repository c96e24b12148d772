//! Urgent data against the Linux kernel (issue 9; DT-12): synack on a TUN
//! device in a namespace of this test's own, a kernel socket at the other
//! end. The kernel sends with `MSG_OOB` and synack's application learns
//! that the bytes up to the kernel's urgent pointer are urgent; synack
//! sends urgent data and the kernel, reading with `SO_OOBINLINE`, finds
//! its out-of-band mark at the last urgent byte (BSD's reading of the
//! pointer, which Linux follows) with every byte in order. Root only
//! (skipped with a printed reason otherwise, failed under
//! `SYNACK_REQUIRE_INTEROP=1`).

mod tun;

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;
use synack_io::StackConfig;
use synack_io::net::TcpStream;
use synack_testbed::require;
use tokio::io::AsyncReadExt;

/// `ioctl(SIOCATMARK)` (what `sockatmark(3)` does): whether the next
/// byte read is the out-of-band mark.
fn at_mark(s: &std::net::TcpStream) -> bool {
    /// SIOCATMARK from <asm-generic/sockios.h>.
    const SIOCATMARK: libc::c_ulong = 0x8905;
    let mut at: libc::c_int = 0;
    // SAFETY: a valid socket descriptor, owned by `s` for the call, and a
    // c_int for the kernel to write.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), SIOCATMARK, &mut at) };
    assert!(r >= 0, "SIOCATMARK: {}", std::io::Error::last_os_error());
    at == 1
}

#[test]
fn urgent_data_both_ways_with_the_kernel() {
    let Some(_) = require(&[]) else {
        return;
    };
    let ns = tun::namespace("urgent");
    let listener = tun::kernel_listener(&ns, "198.18.0.1:7300");
    let kernel = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let one: libc::c_int = 1;
        // SAFETY: a valid socket and a c_int option value of the right size.
        let r = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_OOBINLINE,
                (&one as *const libc::c_int).cast(),
                core::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(r, 0, "SO_OOBINLINE");
        // Ordinary bytes, then three sent with MSG_OOB: Linux sets URG
        // with the pointer after the last of them.
        s.write_all(b"plain:").unwrap();
        let oob = b"abc";
        // SAFETY: a valid socket and a buffer of the given length.
        let n = unsafe { libc::send(s.as_raw_fd(), oob.as_ptr().cast(), oob.len(), libc::MSG_OOB) };
        assert_eq!(n, 3, "send MSG_OOB: {}", std::io::Error::last_os_error());
        // synack's answer: "then:" and, urgent, "xyz". With SO_OOBINLINE
        // a read stops at the mark, which is on the last urgent byte.
        let mut got = Vec::new();
        let mut marks = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < 8 {
            if at_mark(&s) {
                marks.push(got.len());
            }
            let n = s.read(&mut buf).expect("kernel read");
            assert!(n > 0, "synack's stream ended early");
            got.extend_from_slice(&buf[..n]);
        }
        (got, marks)
    });
    let cfg = StackConfig::new("198.18.0.2".parse().unwrap());
    let synack = tun::on_tun(&ns, cfg, move |stack| async move {
        let mut s = TcpStream::connect(&stack, "198.18.0.1:7300")
            .await
            .expect("connect");
        // Wait until all nine bytes have arrived, then ask before reading.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while s.info().unwrap().recv_queue < 9 {
            assert!(tokio::time::Instant::now() < deadline, "the kernel's bytes");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let pending_before = s.urgent_pending().unwrap();
        let mut got = [0u8; 9];
        s.read_exact(&mut got).await.unwrap();
        let pending_after = s.urgent_pending().unwrap();
        s.set_nodelay(true).unwrap();
        use tokio::io::AsyncWriteExt;
        s.write_all(b"then:").await.unwrap();
        assert_eq!(s.send_urgent(b"xyz").unwrap(), 3);
        // Hold the connection until the kernel has read everything.
        tokio::time::sleep(Duration::from_millis(500)).await;
        (pending_before, got, pending_after, stack.counters().clone())
    });
    let (before, got, after, _counters) = synack.join().expect("synack thread");
    assert_eq!(
        &got, b"plain:abc",
        "the urgent bytes are read inline, in order"
    );
    assert_eq!(
        before,
        Some(9),
        "the urgent data ends after the kernel's MSG_OOB bytes"
    );
    assert_eq!(after, None, "nothing urgent left once read");
    let (kgot, marks) = kernel.join().expect("kernel thread");
    assert_eq!(&kgot, b"then:xyz");
    assert_eq!(
        marks,
        vec![7],
        "the kernel's mark is on synack's last urgent byte"
    );
}
