//! `serve --app http` seen with curl, the control socket seen with `synack
//! ss`, and a clean exit on signals.

use crate::common::*;
use std::io::Read;
use std::process::Command;
use std::time::Duration;

fn curl(ns: &Netns, args: &[&str]) -> String {
    let out = ns.run_ok("curl", args).unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn curl_sees_the_page_with_connections_and_counters() {
    let Some(ns) = testbed("http", "tun0", "tun", &["curl"]) else {
        return;
    };
    let mut synack = Synack::serve(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "--app", "http"],
        "198.18.0.2:80",
    );
    let page = curl(&ns, &["-s", "-i", "-m", "10", "http://198.18.0.2/"]);
    let (head, body) = page.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains(&format!("Content-Length: {}", body.len())),
        "{head}"
    );
    // The page lists curl's own connection, live, and the counters.
    assert!(
        body.contains("<td>ESTAB</td><td>198.18.0.2:80</td><td>198.18.0.1:"),
        "{body}"
    );
    for counter in [
        "PassiveOpens",
        "CurrEstab",
        "InSegs",
        "RxPackets",
        "IcmpEchoReplies",
    ] {
        assert!(
            body.contains(&format!("<td>{counter}</td>")),
            "{counter}: {body}"
        );
    }

    // Keep-alive: two requests, one connection.
    let w = curl(
        &ns,
        &[
            "-s",
            "-m",
            "10",
            "-o",
            "/dev/null",
            "-o",
            "/dev/null",
            "-w",
            "%{num_connects}\n",
            "http://198.18.0.2/",
            "http://198.18.0.2/",
        ],
    );
    assert_eq!(w, "1\n0\n", "the second request reuses the connection");
    // HTTP/1.0 and Connection: close are answered, then closed.
    let h = curl(&ns, &["-s", "-i", "-0", "-m", "10", "http://198.18.0.2/"]);
    assert!(h.contains("Connection: close"), "{h}");
    let h = curl(&ns, &["-s", "-i", "-m", "10", "http://198.18.0.2/nothing"]);
    assert!(h.starts_with("HTTP/1.1 404"), "{h}");
    let h = curl(&ns, &["-s", "-I", "-m", "10", "http://198.18.0.2/"]);
    assert!(
        h.starts_with("HTTP/1.1 200") && h.contains("Content-Length: "),
        "{h}"
    );
    assert!(synack.terminate().success(), "{}", synack.stderr());
}

#[test]
fn ss_reads_the_control_socket_and_signals_end_serve_cleanly() {
    let Some(ns) = testbed("ss", "tun0", "tun", &[]) else {
        return;
    };
    let sock = std::env::temp_dir().join(format!("synack-ss-{}.sock", std::process::id()));
    let sock_arg = sock.to_str().unwrap().to_string();
    let mut synack = Synack::serve(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "--control", &sock_arg],
        "198.18.0.2:7",
    );
    // A kernel connection held open while ss looks.
    let (opened_tx, opened_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let holder = ns.thread(move || {
        let mut s = dial("198.18.0.2:7".parse().unwrap());
        let local = s.local_addr().unwrap();
        opened_tx.send(local).unwrap();
        let _ = done_rx.recv_timeout(IO_TIMEOUT);
        drop(s.shutdown(std::net::Shutdown::Write));
        let mut v = Vec::new();
        let _ = s.read_to_end(&mut v);
    });
    let peer = opened_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    // ss runs outside the namespace: the control socket is a file.
    let out = Command::new(SYNACK)
        .args(["ss", "--control", &sock_arg, "--counters"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("State") && lines[0].contains("cwnd"),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("LISTEN") && l.contains("198.18.0.2:7")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ESTAB") && l.contains(&peer.to_string())),
        "{text}"
    );
    assert!(text.contains("PassiveOpens: 1"), "{text}");
    // The device's own counters follow the engine's; a TUN device that kept
    // up dropped nothing.
    for counter in ["TxDropped: 0", "RxLengthErrors: 0"] {
        assert!(lines.contains(&counter), "{counter}: {text}");
    }
    // With -i, the connection's details on the line under its row, as
    // `ss -ti` puts them; the listener has none.
    let out = Command::new(SYNACK)
        .args(["ss", "--control", &sock_arg, "-i"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.starts_with("ESTAB") && l.contains(&peer.to_string()))
        .unwrap_or_else(|| panic!("{text}"));
    let info = lines.get(row + 1).copied().unwrap_or_default();
    assert!(info.starts_with('\t'), "{text}");
    // An idle connection the kernel opened: nothing lost, the kernel's
    // options negotiated.
    for field in [" cwnd:", " mss:", " ca_state:open", " rto:", " lost:0"] {
        assert!(info.contains(field), "{field}: {text}");
    }
    assert!(info.starts_with("\tts sack "), "{text}");
    let listener = lines.iter().position(|l| l.starts_with("LISTEN")).unwrap();
    assert!(!lines[listener + 1].starts_with('\t'), "{text}");
    done_tx.send(()).unwrap();
    holder.join().unwrap();

    // SIGINT ends it with 0 and the socket file is gone.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(synack.pid(), libc::SIGINT) };
    let st = synack
        .wait(Duration::from_secs(10))
        .expect("exit on SIGINT");
    assert!(st.success(), "{}", synack.stderr());
    assert!(!sock.exists(), "control socket removed on exit");
    let out = Command::new(SYNACK)
        .args(["ss", "--control", &sock_arg])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("synack: "));
}
