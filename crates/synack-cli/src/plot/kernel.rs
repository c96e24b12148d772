//! A capture of the Linux kernel talking to itself: two namespaces of this
//! test's own joined by a veth pair (198.18.1.1 and 198.18.1.2), 1 %
//! random loss on arrival at the receiver (iptables' statistic match;
//! these kernels have no netem), tcpdump on the sender's end (`-s 128`, so
//! payloads are cut short in the file), 2 MiB sent and the connection
//! closed. The page made from it must load in Chromium without a console
//! message, draw every segment and every transition, show
//! retransmissions, and show each side's close as RFC 9293 has it.
//!
//! Needs root, `ip`, `iptables`, `tcpdump` and `chromium`; skipped
//! without them, failed without them under `SYNACK_REQUIRE_INTEROP=1`.
//! The namespaces are deleted when the test ends, pass or fail.

use super::browser::{Expect, check_page, chromium, done, root_attr, scratch, tcp_packets};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use synack_testbed::{Crossing, VethPair};

const SIZE: usize = 2 << 20;
const PORT: u16 = 5001;
/// Bounds a stall of the kernel's sockets; a healthy transfer takes well
/// under a second.
const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// tcpdump, stopped (and reaped) however the test ends.
struct Tcpdump(Child);

impl Drop for Tcpdump {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Tcpdump {
    /// Waits for tcpdump's "listening on" line: from then on it captures.
    fn wait_listening(&mut self) {
        let err = self.0.stderr.take().expect("tcpdump's stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = String::new();
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains("listening on") {
                    let _ = tx.send(Ok(()));
                    return;
                }
            }
            let _ = tx.send(Err(seen));
        });
        match rx.recv_timeout(IO_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(said)) => panic!("tcpdump did not start:\n{said}"),
            Err(_) => panic!("tcpdump said nothing in {IO_TIMEOUT:?}"),
        }
    }

    /// Stops it as ^C does, so it writes out what it holds, and waits.
    fn stop(&mut self) {
        let pid = self.0.id() as libc::pid_t;
        // SAFETY: kill has no memory preconditions; the pid is our child,
        // not yet reaped (so not reused).
        unsafe { libc::kill(pid, libc::SIGINT) };
        let started = Instant::now();
        while self.0.try_wait().expect("waiting for tcpdump").is_none() {
            assert!(
                started.elapsed() < IO_TIMEOUT,
                "tcpdump did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// B's side: accepts one connection, reads to its end, closes.
fn receive(bound: mpsc::Sender<()>) -> std::io::Result<usize> {
    let l = TcpListener::bind(("198.18.1.2", PORT))?;
    let _ = bound.send(());
    let (mut s, _) = l.accept()?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut buf)? {
            0 => return Ok(got),
            n => got += n,
        }
    }
}

/// A's side: connects, sends everything, closes first, reads to the end.
fn send() -> std::io::Result<()> {
    let mut s = TcpStream::connect(("198.18.1.2", PORT))?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 + i / 1000) as u8).collect();
    s.write_all(&data)?;
    s.shutdown(Shutdown::Write)?;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)?;
    Ok(())
}

#[test]
fn kernel_capture_under_loss_in_the_browser() {
    let Some(_ready) = synack_testbed::require(&["iptables", "tcpdump"]) else {
        return;
    };
    let Some(chromium) = chromium() else { return };
    let dir = scratch("kernel");
    let pair = VethPair::new("plot").expect("creating the veth pair");
    // One packet on the link is one segment: what tcpdump shows, and what
    // the drop rule draws for.
    pair.a
        .segment_in_software("veth0")
        .expect("TSO off on veth0");
    pair.b
        .segment_in_software("veth1")
        .expect("GRO off on veth1");
    let lose = pair
        .b
        .random_drop("INPUT", Crossing::In("veth1"), 0.01)
        .expect("the drop rule");
    let pcap = dir.join("kernel.pcap");
    let mut dump = Tcpdump(
        pair.a
            .command("tcpdump")
            .args([
                "-i",
                "veth0",
                "-s",
                "128",
                "-n",
                "-U",
                "--immediate-mode",
                "-w",
            ])
            .arg(&pcap)
            .arg("tcp")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting tcpdump"),
    );
    dump.wait_listening();

    let (bound, is_bound) = mpsc::channel();
    let server = pair.b.thread(move || receive(bound));
    is_bound
        .recv_timeout(IO_TIMEOUT)
        .expect("the receiver did not bind");
    let client = pair.a.thread(send);
    client
        .join()
        .expect("sender thread")
        .expect("sending 2 MiB");
    let got = server.join().expect("receiver thread").expect("receiving");
    assert_eq!(got, SIZE, "bytes received");
    // The last ACK leaves as the sender reads the end; a moment for it to
    // reach the capture (the page is checked against the file whatever
    // it holds, so this bounds nothing).
    std::thread::sleep(Duration::from_millis(300));
    dump.stop();
    let dropped = lose.counters().map(|c| c.dropped).unwrap_or(0);

    let bytes = std::fs::read(&pcap).expect("reading the capture");
    let page = super::render_titled(&bytes, None, "kernel to kernel over veth, 1 % loss")
        .expect("rendering the kernel's capture");
    let html = dir.join("kernel.html");
    std::fs::write(&html, &page.html).expect("writing the page");
    let k = page.counts;
    let dom = check_page(
        &chromium,
        &html,
        tcp_packets(&bytes),
        Expect::All(k.transitions),
    );
    assert_eq!(k.connections, 1, "one connection in the capture ({k:?})");
    assert!(
        root_attr(&dom, "retransmissions").is_some_and(|n| n > 0),
        "no retransmission drawn though the rule dropped {dropped} packets ({k:?})"
    );
    // The close as RFC 9293 has it: A closes first and ends in TIME-WAIT,
    // B passes through CLOSE-WAIT and LAST-ACK to CLOSED.
    for (side, from, to) in [
        ("a", "CLOSED", "SYN-SENT"),
        ("b", "LISTEN", "SYN-RECEIVED"),
        ("a", "ESTABLISHED", "FIN-WAIT-1"),
        ("b", "ESTABLISHED", "CLOSE-WAIT"),
        ("b", "CLOSE-WAIT", "LAST-ACK"),
        ("b", "LAST-ACK", "CLOSED"),
    ] {
        let label = format!(r#"<g class="state side-{side}" data-from="{from}" data-to="{to}""#);
        assert!(
            dom.contains(&label),
            "no {from} to {to} on side {side} ({k:?})"
        );
    }
    assert!(
        dom.contains(r#"class="state side-a" data-from="FIN-WAIT-2" data-to="TIME-WAIT""#)
            || dom.contains(r#"class="state side-a" data-from="CLOSING" data-to="TIME-WAIT""#),
        "side A never reached TIME-WAIT ({k:?})"
    );
    drop(pair);
    done(&dir);
}
