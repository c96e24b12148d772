//! The loss-recovery state a connection carries while data is in flight:
//! the scoreboard and RACK's record, the episode (RecoveryPoint, PRR),
//! what undo and the tail loss probe need, and the pool the boxes are
//! recycled through. The algorithms that move it are in `recovery.rs`.

use super::rack::Rack;
use super::scoreboard::{Board, Sent};
use crate::seq::SeqNum;
use crate::time::Instant;

/// Where a connection stands with loss, as Linux's `tcp_info` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RecoveryState {
    /// Nothing amiss.
    #[default]
    Open,
    /// SACKs or duplicate ACKs show something out of order; no loss yet.
    Disorder,
    /// Fast recovery (RFC 6675, RFC 6582) after a loss.
    Recovery,
    /// Recovery after a retransmission timeout.
    Loss,
    /// cwnd was reduced for an ECN-Echo (RFC 3168 6.1.2) and the window
    /// of data it covered is not yet acknowledged.
    Cwr,
}

impl RecoveryState {
    /// A lowercase name (`ss -i`'s `ca_state`).
    pub fn name(self) -> &'static str {
        match self {
            RecoveryState::Open => "open",
            RecoveryState::Disorder => "disorder",
            RecoveryState::Recovery => "recovery",
            RecoveryState::Loss => "loss",
            RecoveryState::Cwr => "cwr",
        }
    }
}

/// Proportional Rate Reduction (RFC 6937).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Prr {
    /// prr_delivered: bytes delivered since recovery began.
    pub(crate) delivered: u32,
    /// prr_out: bytes sent since recovery began.
    pub(crate) out: u32,
    /// RecoverFS: bytes in flight when it began.
    pub(crate) recover_fs: u32,
    /// The window PRR allows now: pipe plus sndcnt at the last ACK.
    pub(crate) cwnd: u32,
}

/// What undoing the last reduction needs (RFC 3522, RFC 2883, RFC 5682).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Undo {
    /// SND.UNA when the reduction began; `None` when there is nothing to
    /// undo.
    pub(crate) marker: Option<SeqNum>,
    /// Retransmissions of the episode that no D-SACK has yet shown
    /// unnecessary.
    pub(crate) retrans: u32,
}

/// A tail loss probe in flight (RFC 8985 7.3): TLP.end_seq and whether it
/// was a retransmission.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tlp {
    pub(crate) end: Option<SeqNum>,
    pub(crate) retrans: bool,
    /// A D-SACK reported the probe: the original arrived too.
    pub(crate) dsacked: bool,
}

/// F-RTO (RFC 5682, the SACK-enhanced form): after a timeout, whether an
/// ACK for data sent before it and never retransmitted shows the timeout
/// spurious.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Frto {
    pub(crate) active: bool,
    /// Records sent before this (µs clock) left before the timeout.
    pub(crate) rto_us: u32,
    /// Step 2: the first ACK after the timeout advanced SND.UNA, so new
    /// data goes out before further retransmissions.
    pub(crate) new_data: bool,
}

/// The loss-recovery state of a connection with data in flight.
#[derive(Debug, Default)]
pub(crate) struct Loss {
    pub(crate) board: Board,
    pub(crate) rack: Rack,
    pub(crate) state: RecoveryState,
    /// RFC 6675 RecoveryPoint, RFC 6582 `recover`: SND.NXT when the
    /// episode began.
    pub(crate) recover: SeqNum,
    pub(crate) prr: Prr,
    /// Duplicate ACKs in a row (peers without SACK).
    pub(crate) dupacks: u32,
    /// Bytes those duplicate ACKs stand for: one segment each, what a
    /// SACK would have reported as delivered.
    pub(crate) reno_sacked: u32,
    pub(crate) undo: Undo,
    pub(crate) tlp: Tlp,
    pub(crate) frto: Frto,
    /// RFC 6675 RescueRxt: the end of the episode's first retransmission
    /// (no rescue until it is acknowledged), then RecoveryPoint once the
    /// one rescue went; `None` until the first retransmission.
    pub(crate) rescue_rxt: Option<SeqNum>,
    /// New data sent while in Disorder: limited transmit (RFC 3042), which
    /// FlightSize leaves out when ssthresh is chosen (RFC 5681 3.2).
    pub(crate) limited_out: u32,
    /// A partial ACK came in this NewReno episode: only the first restarts
    /// the retransmission timer (RFC 6582 3.2 step 5, Impatient).
    pub(crate) partial_seen: bool,
    /// The episode already reduced the window a second time for a lost
    /// retransmission (RFC 5681 4.3).
    pub(crate) reduced_again: bool,
    /// Our TSval on the earliest retransmission still outstanding, across
    /// episodes (Eifel detection, RFC 3522): an ACK echoing anything older
    /// was sent for an original transmission.
    pub(crate) retrans_stamp: Option<u32>,
    /// How long until RACK may mark another segment lost (the reordering
    /// timer), from the last check.
    pub(crate) reo_wait_us: Option<u32>,
    /// The application left the window unused: ACKs for data up to here
    /// measure the application, not the path (RFC 7661).
    pub(crate) app_limited_end: Option<SeqNum>,
    /// Bytes delivered in the current round and when it began, for the
    /// delivery rate.
    pub(crate) round_delivered: u64,
    pub(crate) round_start: Instant,
    pub(crate) round_end: SeqNum,
}

impl Loss {
    /// Makes a pooled box new again, keeping the scoreboard's storage.
    pub(crate) fn reset(&mut self) {
        let mut board = core::mem::take(&mut self.board);
        board.clear();
        *self = Loss {
            board,
            ..Loss::default()
        };
    }
}

/// Storage of loss states not in use, recycled between connections (a
/// short connection would otherwise allocate and free one per exchange).
#[derive(Debug, Default)]
// Boxed: a loss state moves between the pool and a TCB's `Option<Box<Loss>>`
// by pointer, never by copying its 200 bytes.
#[allow(clippy::vec_box)]
pub(crate) struct LossPool(Vec<Box<Loss>>);

/// Boxes the pool keeps at most; boards grown past this many records go
/// back to the allocator.
const POOLED: usize = 1024;
const POOLED_RECORDS: usize = 64;

impl Loss {
    /// RFC 6675 NextSeg rule 4: the rescue retransmission may go once
    /// HighACK has passed RescueRxt.
    pub(crate) fn rescue_allowed(&self, snd_una: SeqNum) -> bool {
        self.rescue_rxt.is_some_and(|r| !snd_una.lt(r)) && self.rescue_rxt != Some(self.recover)
    }
}

impl LossPool {
    pub(crate) fn take(&mut self) -> Box<Loss> {
        self.0.pop().unwrap_or_default()
    }

    pub(crate) fn give(&mut self, mut l: Box<Loss>) {
        if self.0.len() < POOLED && l.board.capacity_bytes() <= POOLED_RECORDS * size_of::<Sent>() {
            l.reset();
            self.0.push(l);
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0
            .iter()
            .map(|l| size_of::<Loss>() + l.board.capacity_bytes())
            .sum::<usize>()
            + self.0.capacity() * size_of::<Box<Loss>>()
    }
}
