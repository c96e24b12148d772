//! Replays the committed corpus and a fixed-seed batch of random programs
//! through the harness, so a case the fuzzer found once stays found in CI.
//! A failing random program is printed as hex: save it under
//! `corpus/endpoint/` to keep it.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs one program; on failure prints where it came from and its bytes.
fn run_reporting(name: &str, data: &[u8]) {
    if let Err(e) = catch_unwind(AssertUnwindSafe(|| synack_fuzz::run(data))) {
        eprintln!("failing input {name}: {}", hex(data));
        resume_unwind(e);
    }
}

#[test]
fn committed_corpus_replays_clean() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/endpoint");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    for f in &files {
        let data = std::fs::read(f).expect("corpus file");
        run_reporting(&f.display().to_string(), &data);
    }
}

/// xorshift64*: a generator of our own, so the cases never change under us.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn seeded_random_programs_run_clean() {
    let mut rng = Rng(0x5eed_0000_0000_0007);
    for i in 0..3000 {
        let len = (rng.next() % 600) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        run_reporting(&format!("random #{i}"), &data);
    }
    let seen = synack_fuzz::coverage::states_seen();
    eprintln!("random programs reached {} states: {seen:?}", seen.len());
}
