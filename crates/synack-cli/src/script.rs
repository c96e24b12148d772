//! `synack script PATH...`: runs packetdrill scripts against the engine,
//! in-process, and prints PASS or FAIL per script.

use std::path::PathBuf;
use std::process::ExitCode;
use synack_script::{Failure, Profile, RunOptions, collect, run_file};

#[derive(Debug, PartialEq)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub profile: Profile,
    pub verbose: bool,
    pub defines: Vec<String>,
    pub rcv_wnd: Option<usize>,
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
    };
    let (mut passed, mut failed) = (0, 0);
    for f in &files {
        if o.verbose {
            println!("{}", f.display());
        }
        match run_file(f, &opts) {
            Ok(()) => {
                passed += 1;
                println!("PASS {}", f.display());
            }
            Err(e) => {
                failed += 1;
                let why = match &e {
                    Failure::Mismatch { line, msg } => format!("line {line}: {msg}"),
                    Failure::Unsupported { line, what } => {
                        format!("line {line}: unsupported: {what}")
                    }
                };
                println!("FAIL {}: {why}", f.display());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
