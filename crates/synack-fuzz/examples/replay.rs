//! Replays fuzz inputs through the harness. With `--log`, prints every
//! operation, datagram and event of each; at the end prints which RFC 9293
//! states and transitions the inputs reached. A failing input is named and
//! the replay goes on; the exit status says whether any failed.
//!
//! `cargo run -p synack-fuzz --example replay -- [--log] FILE|DIR...`

use std::path::Path;
use synack_fuzz::coverage::{
    ALL_STATES, max_time_wait_entries, states_seen, states_seen_v6, transitions_seen,
};

fn replay(path: &Path, log: bool, n: &mut usize, failed: &mut usize) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("readable directory")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for e in entries {
            replay(&e, log, n, failed);
        }
        return;
    }
    let data = std::fs::read(path).expect("readable file");
    if log {
        eprintln!("== {}", path.display());
    }
    let run = std::panic::catch_unwind(|| {
        if log {
            synack_fuzz::run_logged(&data);
        } else {
            synack_fuzz::run(&data);
        }
    });
    if run.is_err() {
        eprintln!("FAILED: {}", path.display());
        *failed += 1;
    }
    *n += 1;
}

fn main() {
    let mut log = false;
    let mut n = 0;
    let mut failed = 0;
    for arg in std::env::args().skip(1) {
        if arg == "--log" {
            log = true;
        } else {
            replay(Path::new(&arg), log, &mut n, &mut failed);
        }
    }
    let seen = states_seen();
    let seen_v6 = states_seen_v6();
    let mark = |b: bool| if b { "yes" } else { "NO" };
    println!("{n} inputs replayed, {failed} failed");
    println!(
        "states reached: {} of 11 ({} over IPv6)",
        seen.len(),
        seen_v6.len()
    );
    println!("  {:<12} any  IPv6", "");
    for s in ALL_STATES {
        println!(
            "  {:<12} {:<4} {}",
            s.name(),
            mark(seen.contains(&s)),
            mark(seen_v6.contains(&s))
        );
    }
    println!(
        "most TIME-WAIT entries at once: {}",
        max_time_wait_entries()
    );
    let t = transitions_seen();
    println!("transitions seen: {}", t.len());
    for (a, b) in t {
        println!("  {a} -> {b}");
    }
    if failed > 0 {
        std::process::exit(1);
    }
}
