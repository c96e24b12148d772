//! `synack script PATH...`: runs packetdrill scripts against the engine,
//! in-process, and prints PASS or FAIL per script.

use std::path::PathBuf;
use std::process::ExitCode;
use synack_script::{Profile, RunOptions, collect, run_file_logged};

#[derive(Debug, PartialEq)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub profile: Profile,
    pub verbose: bool,
    pub defines: Vec<String>,
    pub rcv_wnd: Option<usize>,
    pub tolerance_usecs: Option<i64>,
}

pub fn run(o: &Options) -> ExitCode {
    let mut files = Vec::new();
    for p in &o.paths {
        match collect(p) {
            Ok(f) if f.is_empty() => {
                eprintln!("synack: {}: no .pkt scripts there", p.display());
                return ExitCode::from(2);
            }
            Ok(f) => files.extend(f),
            Err(e) => {
                eprintln!("synack: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
    }
    let opts = RunOptions {
        profile: o.profile,
        verbose: o.verbose,
        defines: o.defines.clone(),
        rcv_wnd: o.rcv_wnd,
        tolerance_usecs: o.tolerance_usecs,
    };
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        if o.verbose {
            outln!("{}", f.display());
        }
        let (result, log) = run_file_logged(f, &opts);
        for l in &log {
            outln!("    {l}");
        }
        match result {
            Ok(()) => {
                passed += 1;
                outln!("PASS {}", f.display());
            }
            Err(e) => {
                failed += 1;
                outln!("FAIL {}: {e}", f.display());
            }
        }
    }
    outln!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
