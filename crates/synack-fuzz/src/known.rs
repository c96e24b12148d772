//! Engine bugs the harness found that are not fixed yet (see FINDINGS.md).
//! Each check tolerates exactly its bug, so fuzzing can go on and find the
//! next one; delete a tolerance once the fix is merged, and the finding's
//! input in the corpus turns back into a regression test.

use synack::{ConnInfo, SeqNum};

/// Finding 3: `close()` on a connection that holds unread data and the
/// peer's FIN aborts it (RST, as SHLD-3 wants) but keeps the TCB in CLOSED
/// with the data, for an application that has just said it reads no more:
/// the TCB and its receive buffer are never freed.
pub(crate) fn closed_with_unread(i: &ConnInfo, app_closed: bool) -> bool {
    seen(
        3,
        i.state == synack::State::Closed && app_closed && i.recv_queue > 0,
    )
}

/// Finding 4: a TIME-WAIT entry removed early (reopened by a SYN, or
/// reset) leaves its key in the table's expiry FIFO until the FIFO's front
/// expires, so a flood of reopened or reset TIME-WAIT connections grows the
/// FIFO past any bound, and its storage is never given back. Each early
/// removal costs one key (at most 36 bytes), twice over for the
/// `VecDeque`'s doubling.
pub(crate) fn time_wait_fifo(heap: usize, bound: usize, left_early: usize) -> bool {
    seen(4, heap <= bound + 72 * left_early)
}

/// Finding 5: a listener's child that reaches TIME-WAIT before `accept`
/// takes it (the application closed it through the handle a trace event
/// named) is compacted and freed, but its handle stays in the accept
/// queue: `accept_queue_len` counts it and `accept` pops it and returns
/// `None`, although connections may be queued behind it.
pub(crate) fn stale_accept(stale: usize) -> bool {
    seen(5, stale > 0)
}

/// Finding 6: an ACK that opens the peer's window and acknowledges the
/// zero-window probe octet leaves SND.NXT one behind SND.UNA
/// (`window_opened` takes the probe back before `ack_new_data` moves
/// SND.UNA past it). The next segment then starts at SND.UNA - 1 but
/// carries the data from SND.UNA: every byte one place early, and its FIN
/// (or a later retransmission's) one place early too. `shifted_right`:
/// the segment would be right one place on.
pub(crate) fn probe_ack_shift(seq: u32, snd_una: SeqNum, shifted_right: bool) -> bool {
    seen(6, seq.wrapping_add(1) == snd_una.0 && shifted_right)
}

/// Finding 6 again, when nothing is sent after that ACK: SND.NXT one
/// behind SND.UNA and no timer, the queued data stuck.
pub(crate) fn probe_ack_stall(i: &ConnInfo) -> bool {
    seen(6, i.snd_nxt.add(1) == i.snd_una && i.timer.is_none())
}

/// Records that finding `n` showed, when it did.
fn seen(n: usize, tolerated: bool) -> bool {
    if tolerated {
        crate::coverage::saw_known(n);
    }
    tolerated
}
