//! The examples, run for real: `echo_server` and `echo_client` on a TUN
//! device in a network namespace of this test's own, against the Linux
//! kernel's TCP (root; skipped with a printed reason otherwise, failed
//! under `SYNACK_REQUIRE_INTEROP=1`).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use synack_testbed::{Netns, require};

/// Cargo builds the examples before it runs tests; they sit beside the test
/// binaries' directory.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join("examples")
        .join(name)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 253) as u8).collect()
}

#[test]
fn echo_server_example_answers_the_kernel() {
    let Some(_) = require(&[]) else { return };
    let bin = example("echo_server");
    assert!(bin.exists(), "{} not built", bin.display());
    let ns = Netns::new("ex-srv").expect("namespace");
    ns.add_device("tun0", "tun").expect("tun");
    let server = ns
        .command(bin.to_str().unwrap())
        .args(["--tun", "tun0", "--ip", "198.18.0.2", "--port", "7"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("echo_server");
    let _server = Killed(server);
    let data = payload(1 << 20);
    let sent = data.clone();
    let echoed = ns
        .thread(move || {
            // The example needs a moment to open the device and listen.
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut s = loop {
                match TcpStream::connect("198.18.0.2:7") {
                    Ok(s) => break s,
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => panic!("connect: {e}"),
                }
            };
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut r = s.try_clone().unwrap();
            let reader = std::thread::spawn(move || {
                let mut back = Vec::new();
                r.read_to_end(&mut back).map(|_| back)
            });
            s.write_all(&sent).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            reader.join().unwrap()
        })
        .join()
        .expect("kernel client thread")
        .expect("read the echo");
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "echo differs");
}

#[test]
fn echo_client_example_talks_to_a_kernel_server() {
    let Some(_) = require(&[]) else { return };
    let bin = example("echo_client");
    assert!(bin.exists(), "{} not built", bin.display());
    let ns = Netns::new("ex-cli").expect("namespace");
    ns.add_device("tun0", "tun").expect("tun");
    // A kernel echo server on its side of the link.
    let listener = ns
        .thread(|| TcpListener::bind("198.18.0.1:7007"))
        .join()
        .unwrap()
        .expect("bind");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read");
        s.write_all(&buf).expect("write");
    });
    let mut client = ns
        .command(bin.to_str().unwrap())
        .args(["--tun", "tun0", "--ip", "198.18.0.2", "198.18.0.1:7007"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("echo_client");
    let data = payload(300_000);
    client.stdin.take().unwrap().write_all(&data).unwrap();
    let out = client.wait_with_output().expect("echo_client output");
    server.join().expect("kernel server");
    assert!(
        out.status.success(),
        "echo_client failed: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data, "got {} bytes back", out.stdout.len());
}
