//! Replays fuzz inputs through the harness. With `--log`, prints every
//! operation, datagram and event of each; at the end prints which RFC 9293
//! states and transitions the inputs reached.
//!
//! `cargo run -p synack-fuzz --example replay -- [--log] FILE|DIR...`

use std::path::Path;
use synack_fuzz::coverage::{ALL_STATES, states_seen, transitions_seen};

fn replay(path: &Path, log: bool, n: &mut usize) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("readable directory")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for e in entries {
            replay(&e, log, n);
        }
        return;
    }
    let data = std::fs::read(path).expect("readable file");
    if log {
        eprintln!("== {}", path.display());
        synack_fuzz::run_logged(&data);
    } else {
        synack_fuzz::run(&data);
    }
    *n += 1;
}

fn main() {
    let mut log = false;
    let mut n = 0;
    for arg in std::env::args().skip(1) {
        if arg == "--log" {
            log = true;
        } else {
            replay(Path::new(&arg), log, &mut n);
        }
    }
    let seen = states_seen();
    println!("{n} inputs replayed");
    println!("states reached: {} of 11", seen.len());
    for s in ALL_STATES {
        println!(
            "  {:<12} {}",
            s.name(),
            if seen.contains(&s) { "yes" } else { "NO" }
        );
    }
    let t = transitions_seen();
    println!("transitions seen: {}", t.len());
    for (a, b) in t {
        println!("  {a} -> {b}");
    }
}
