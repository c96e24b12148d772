//! `synack bench`: what the engine costs, measured on this machine.
//!
//! Both benchmarks drive two endpoints wired back to back ([`pair`]), not
//! through the simulated network, so the figures are the engine's own.

mod lifecycle;
mod memory;
mod pair;

use crate::report::Report;
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    All,
    Lifecycle,
    Memory,
}

impl Which {
    pub fn from_name(s: &str) -> Option<Which> {
        match s {
            "lifecycle" => Some(Which::Lifecycle),
            "memory" => Some(Which::Memory),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub which: Which,
    pub json: bool,
    pub connections: Option<usize>,
    pub batch: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            which: Which::All,
            json: false,
            connections: None,
            batch: None,
        }
    }
}

pub fn run(o: &Options) -> ExitCode {
    let mut r = Report::default();
    if cfg!(debug_assertions) {
        r.note("debug build: figures are meaningless; use cargo run --release -- bench");
    }
    let mut result = Ok(());
    if matches!(o.which, Which::All | Which::Lifecycle) {
        let n = o.connections.unwrap_or(200_000);
        let batch = o.batch.unwrap_or(1000).min(n);
        result = lifecycle::run(n, batch, &mut r);
    }
    if result.is_ok() && matches!(o.which, Which::All | Which::Memory) {
        result = memory::run(o.connections.unwrap_or(100_000), &mut r);
    }
    if o.json {
        out!("{}", r.json());
    } else {
        out!("{}", r.text());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synack bench: {e}");
            ExitCode::from(1)
        }
    }
}
