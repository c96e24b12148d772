//! The other `serve` apps: discard and source (chargen).

use crate::common::*;
use std::io::{Read, Write};
use std::net::Shutdown;

#[test]
fn discard_and_source() {
    let Some(ns) = testbed("apps", "tun0", "tun", &[]) else {
        return;
    };
    let mut discard = Synack::serve(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "--app", "discard"],
        "198.18.0.2:9",
    );
    let back = in_ns(&ns, || {
        let mut s = dial("198.18.0.2:9".parse().unwrap());
        s.write_all(&random_bytes(1 << 20, 11)).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        read_all(&mut s).expect("discard closes after our FIN")
    });
    assert!(back.is_empty());
    assert!(discard.terminate().success(), "{}", discard.stderr());
    drop(discard);

    let mut source = Synack::serve(
        &ns,
        &["--tun", "tun0", "--ip", STACK_V4, "--app", "source"],
        "198.18.0.2:19",
    );
    let got = in_ns(&ns, || {
        let mut s = dial("198.18.0.2:19".parse().unwrap());
        let mut v = vec![0u8; 1 << 20];
        s.read_exact(&mut v).unwrap();
        v
    });
    // 95 lines of 72 printable characters, each one further along.
    let printable: Vec<u8> = (b' '..=b'~').collect();
    for (n, line) in got.chunks(74).take(200).enumerate() {
        let start = n % 95;
        let want: Vec<u8> = (0..72)
            .map(|i| printable[(start + i) % 95])
            .chain(*b"\r\n")
            .collect();
        assert_eq!(line, &want[..line.len()], "line {n}");
    }
    // The kernel closed with data unread (a reset); the source stops and
    // the server goes on.
    let again = in_ns(&ns, || {
        let mut s = dial("198.18.0.2:19".parse().unwrap());
        let mut v = [0u8; 74];
        s.read_exact(&mut v).unwrap();
        v
    });
    assert_eq!(&again[..4], b" !\"#");
    assert!(source.terminate().success(), "{}", source.stderr());
}
