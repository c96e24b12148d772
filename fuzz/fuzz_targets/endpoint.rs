//! Fuzzes the whole engine: each input is a program of operations on one
//! synack `Endpoint` (segments from several peers, time, application calls,
//! ICMP errors), and every invariant the harness knows is checked after
//! each operation. The harness lives in `crates/synack-fuzz`, so that the
//! workspace's tests replay the committed corpus through the same code.
//!
//! Run with `cargo +nightly fuzz run endpoint crates/synack-fuzz/corpus/endpoint`
//! from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| synack_fuzz::run(data));
