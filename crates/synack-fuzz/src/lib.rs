//! A fuzz harness for the whole synack endpoint (issue 7).
//!
//! [`run`] decodes a byte string into a program of operations on one
//! [`synack::Endpoint`] that has a listener on IPv4 and IPv6 and makes
//! active connections of its own: segments from a few remote 4-tuples with
//! any flags, options (malformed too) and payload, their sequence and
//! acknowledgment numbers raw or aimed at what the endpoint last sent on
//! that 4-tuple; time steps; every application call on live, closed and
//! bogus handles; ICMP errors; and whole connections played along a path
//! the input picks (`lifecycle`), alone or as floods of up to 1,536 of
//! them, to reach the closing states and many TIME-WAIT entries quickly.
//! The `Config` itself comes from the first four bytes (small buffers and
//! tables, each option on or off). Every byte string is a valid program.
//!
//! After each operation it drains all output and events and asserts (by
//! panicking, which libFuzzer reports):
//!
//! - draining terminates, and every datagram has correct lengths and
//!   checksums (checked by code that shares nothing with synack-wire);
//! - the bytes `recv` returns are the peer's stream, in order, ending only
//!   at a FIN the peer sent; the data and FIN the endpoint sends are the
//!   application's stream at the right offsets;
//! - every `StateChanged` continues its connection's trace along an edge
//!   of RFC 9293's state diagram, and the trace agrees with `info`;
//! - a connection waiting to hear from its peer has a timer, and
//!   `poll_timeout` lies at or before every armed timer and, after
//!   `handle_timeout(now)`, after `now`;
//! - `connection_count`, the TIME-WAIT table, the SYN and accept queues and
//!   `heap_bytes` stay within what the `Config` allows; a CLOSED TCB is
//!   kept only while the application may still read from it;
//! - `send`, `recv`, `accept`, `is_eof` and `send_capacity` agree with
//!   `info` and the queue lengths.
//!
//! `coverage` records the states and transitions the inputs reached
//! (`examples/replay.rs` prints them). Engine bugs it found are in
//! `FINDINGS.md`, their inputs in the corpus.
//!
//! The fuzz target (`fuzz/fuzz_targets/endpoint.rs`) and the corpus replay
//! test (`tests/corpus.rs`) both call [`run`].

mod bounds;
mod checks;
pub mod coverage;
mod cursor;
mod harness;
mod lifecycle;
mod ops;
mod oracle;
mod packet;

/// Runs one program; panics with a description if any check fails.
pub fn run(data: &[u8]) {
    harness::Harness::new(data, false).run();
}

/// [`run`], printing every operation, datagram and event to stderr.
pub fn run_logged(data: &[u8]) {
    harness::Harness::new(data, true).run();
}
