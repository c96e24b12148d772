//! Closing: half-close in both directions, and an abort that the kernel
//! sees as a reset.

use crate::client::kernel_server;
use crate::common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The kernel half-closes first and still reads everything the echo
/// server sends after that (synack in CLOSE-WAIT, still sending).
#[test]
fn kernel_half_closes_first_and_reads_the_rest() {
    let Some(ns) = testbed("halfk", "tun0", "tun", &[]) else {
        return;
    };
    let mut synack = Synack::serve(&ns, &["--tun", "tun0", "--ip", STACK_V4], "198.18.0.2:7");
    // Less than the buffers on the way hold, so the whole of it is sent
    // before anything is read back.
    let data = Arc::new(random_bytes(200 * 1024, 7));
    let sent = data.clone();
    let back = in_ns(&ns, move || {
        let mut s = dial("198.18.0.2:7".parse().unwrap());
        s.write_all(&sent).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        // Writing is over for the kernel...
        assert!(s.write_all(b"x").is_err());
        // ...and reading is not.
        thread::sleep(Duration::from_millis(200));
        read_all(&mut s).expect("reading after our FIN")
    });
    assert_same("echo after the kernel's FIN", &back, &data);
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

/// The kernel server half-closes first; `synack connect` gets the EOF,
/// keeps sending its input, then closes.
#[test]
fn kernel_server_half_closes_first_synack_keeps_sending() {
    let Some(ns) = testbed("halfk2", "tun0", "tun", &[]) else {
        return;
    };
    let server = kernel_server(&ns, "198.18.0.1:5001", |mut s| {
        s.write_all(b"greeting, then FIN\n").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        read_all(&mut s).expect("kernel read after its FIN")
    });
    let mut c = Synack::spawn(
        &ns,
        &[
            "connect",
            "--tun",
            "tun0",
            "--ip",
            STACK_V4,
            "198.18.0.1:5001",
        ],
    );
    assert_eq!(
        c.line(Duration::from_secs(10)).as_deref(),
        Some("greeting, then FIN"),
        "{}",
        c.stderr()
    );
    // The peer's FIN has arrived: synack's input goes on, then EOF.
    thread::sleep(Duration::from_millis(100));
    let input = random_bytes(1 << 20, 8);
    let mut stdin = c.stdin();
    stdin.write_all(&input).unwrap();
    drop(stdin);
    let status = c.wait(Duration::from_secs(20)).expect("connect exits");
    assert!(status.success(), "{}", c.stderr());
    assert_eq!(
        c.line(Duration::from_secs(1)),
        None,
        "nothing after the greeting"
    );
    let got = server.join().unwrap();
    assert_same("input sent after the peer's FIN", &got, &input);
}

/// `synack connect` half-closes first at the end of its input; the kernel
/// reads to the end and only then answers, and synack prints the answer.
#[test]
fn synack_half_closes_first_at_end_of_input() {
    let Some(ns) = testbed("halfs", "tun0", "tun", &[]) else {
        return;
    };
    let reply_tail = random_bytes(1 << 20, 9);
    let tail = reply_tail.clone();
    let server = kernel_server(&ns, "198.18.0.1:5002", move |mut s| {
        let got = read_all(&mut s).expect("kernel read to synack's FIN");
        // synack's FIN is in; the kernel still sends a lot.
        s.write_all(format!("{}\n", sha256(&got)).as_bytes())
            .unwrap();
        s.write_all(&tail).unwrap();
        got.len()
    });
    let input = random_bytes(3 << 20, 10);
    let (status, out, err) = connect(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "198.18.0.1:5002"],
        input.clone(),
    );
    assert!(status.success(), "{err}");
    assert_eq!(server.join().unwrap(), input.len());
    let mut expect = format!("{}\n", sha256(&input)).into_bytes();
    expect.extend_from_slice(&reply_tail);
    assert_same("answer after synack's FIN", &out, &expect);
}

/// synack aborts an accepted connection: the kernel's next read fails
/// with ECONNRESET. synack runs in this process here (the library, on the
/// TUN device, from a thread inside the namespace).
#[test]
fn abort_from_synack_is_a_reset_for_the_kernel() {
    let Some(ns) = testbed("abort", "tun0", "tun", &[]) else {
        return;
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let synack = ns.thread(move || {
        use synack_io::net::TcpListener;
        use synack_io::{Stack, StackConfig, device::Tun};
        use tokio::io::AsyncReadExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let stack = Stack::new(
                Tun::open("tun0").expect("tun0"),
                StackConfig::new(STACK_V4.parse().unwrap()),
            )
            .unwrap();
            let l = TcpListener::bind(&stack, "198.18.0.2:7000").await.unwrap();
            ready_tx.send(()).unwrap();
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"hello");
            s.abort();
            // Keep the stack up until the RST is out.
            tokio::time::sleep(Duration::from_millis(300)).await;
            stack.counters().out_rsts
        })
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("synack started");
    let to: SocketAddr = "198.18.0.2:7000".parse().unwrap();
    let err = in_ns(&ns, move || {
        let mut s = dial(to);
        s.write_all(b"hello").unwrap();
        let mut buf = [0u8; 16];
        s.read(&mut buf).map_err(|e| e.kind())
    });
    assert_eq!(err, Err(ErrorKind::ConnectionReset));
    assert_eq!(synack.join().unwrap(), 1, "one RST sent");
}
