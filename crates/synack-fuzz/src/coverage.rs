//! Which RFC 9293 states and transitions the harness has seen, across every
//! input run in this process: the evidence that the fuzzer reaches the whole
//! state diagram, printed by `examples/states.rs` and the corpus test.

use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use synack::State;

/// The eleven states in the RFC's order; a state's bit is its index here.
pub const ALL_STATES: [State; 11] = [
    State::Closed,
    State::Listen,
    State::SynSent,
    State::SynReceived,
    State::Established,
    State::FinWait1,
    State::FinWait2,
    State::CloseWait,
    State::Closing,
    State::LastAck,
    State::TimeWait,
];

static STATES: AtomicU16 = AtomicU16::new(0);
/// The same, for connections over IPv6 only.
static STATES_V6: AtomicU16 = AtomicU16::new(0);
/// The most TIME-WAIT entries the endpoint held at once.
static MAX_TIME_WAIT: AtomicUsize = AtomicUsize::new(0);
/// One row per `from` state, one bit per `to` state.
static TRANSITIONS: [AtomicU16; 11] = [const { AtomicU16::new(0) }; 11];

fn index(s: State) -> usize {
    ALL_STATES.iter().position(|&x| x == s).unwrap_or(0)
}

pub(crate) fn saw_state(s: State) {
    STATES.fetch_or(1 << index(s), Ordering::Relaxed);
}

pub(crate) fn saw_state_v6(s: State) {
    STATES_V6.fetch_or(1 << index(s), Ordering::Relaxed);
}

pub(crate) fn saw_time_wait_entries(n: usize) {
    MAX_TIME_WAIT.fetch_max(n, Ordering::Relaxed);
}

pub(crate) fn saw_transition(from: State, to: State) {
    saw_state(from);
    saw_state(to);
    TRANSITIONS[index(from)].fetch_or(1 << index(to), Ordering::Relaxed);
}

/// States seen so far, in the RFC's order.
pub fn states_seen() -> Vec<State> {
    decode(STATES.load(Ordering::Relaxed))
}

/// States seen so far on IPv6 connections (LISTEN: an IPv6 listener).
pub fn states_seen_v6() -> Vec<State> {
    decode(STATES_V6.load(Ordering::Relaxed))
}

/// The most TIME-WAIT entries the endpoint held at once.
pub fn max_time_wait_entries() -> usize {
    MAX_TIME_WAIT.load(Ordering::Relaxed)
}

fn decode(bits: u16) -> Vec<State> {
    ALL_STATES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, &s)| s)
        .collect()
}

/// Transitions seen so far.
pub fn transitions_seen() -> Vec<(State, State)> {
    let mut out = Vec::new();
    for (i, row) in TRANSITIONS.iter().enumerate() {
        let bits = row.load(Ordering::Relaxed);
        for (j, &to) in ALL_STATES.iter().enumerate() {
            if bits & (1 << j) != 0 {
                out.push((ALL_STATES[i], to));
            }
        }
    }
    out
}
