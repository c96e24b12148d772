//! The timer heap: one entry per armed connection timer, earliest first.
//! Lazy: an entry is never removed when its timer is stopped or moved
//! later; it fires, finds nothing due, and is dropped or re-armed (each TCB
//! remembers its earliest entry, so moving a timer earlier is the only
//! thing that pushes).
//!
//! An entry is one `u128`, deadline in the high 64 bits, then slot index
//! and generation: the heap orders entries exactly as it would the tuple
//! (deadline, index, generation), but a comparison is one wide compare
//! rather than three, which halves the cost of a pop.

use crate::event::ConnId;
use crate::tcb::Tcb;
use crate::time::Instant;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Default)]
pub(super) struct TimerHeap(BinaryHeap<Reverse<u128>>);

impl TimerHeap {
    fn push(&mut self, deadline: Instant, id: ConnId) {
        let key = (u128::from(deadline.micros()) << 64)
            | (u128::from(id.index) << 32)
            | u128::from(id.generation);
        self.0.push(Reverse(key));
    }

    /// Pushes an entry if the TCB's timer moved earlier than its earliest
    /// entry. Later moves need none: the old entry fires, finds nothing
    /// due, and re-arms.
    pub(super) fn arm(&mut self, id: ConnId, tcb: &mut Tcb) {
        let timer = tcb.timer;
        if timer < tcb.armed {
            tcb.armed = timer;
            self.push(timer, id);
        }
    }

    /// The earliest entry.
    pub(super) fn peek(&self) -> Option<(Instant, ConnId)> {
        self.0.peek().map(|&Reverse(key)| {
            let deadline = Instant::from_micros((key >> 64) as u64);
            let id = ConnId {
                index: (key >> 32) as u32,
                generation: key as u32,
            };
            (deadline, id)
        })
    }

    /// Drops the earliest entry.
    pub(super) fn pop(&mut self) {
        self.0.pop();
    }
}
