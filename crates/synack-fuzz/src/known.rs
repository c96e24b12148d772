//! Engine bugs the harness found that are not fixed yet (see FINDINGS.md).
//! Each check tolerates exactly its bug, so fuzzing can go on and find the
//! next one; delete a tolerance once the fix is merged, and the finding's
//! input in the corpus turns back into a regression test.

use synack::{ConnInfo, OpenKind};

/// Finding 1: a SYN-ACK with a zero window, to a connection that queued
/// data in SYN-SENT, leaves it ESTABLISHED with nothing in flight, the
/// window closed and no (persist) timer. Nothing arms one later until an
/// ACK comes, so a CLOSE carries the state into FIN-WAIT-1 (or, after the
/// peer's FIN, CLOSE-WAIT and LAST-ACK): the signature is an active open
/// whose first data byte is still unacknowledged and unsent.
pub(crate) fn zero_window_syn_ack(i: &ConnInfo) -> bool {
    seen(
        1,
        i.state.is_synchronized()
            && i.how == OpenKind::Active
            && i.snd_una == i.iss.add(1)
            && i.snd_nxt == i.snd_una
            && i.snd_wnd == 0
            && i.send_queue > 0
            && i.timer.is_none(),
    )
}

/// Finding 2: with the table full, every cookie ACK that returns still
/// inserts a TCB, so `connection_count` passes `max_connections` by at
/// most the connections that cookies opened.
pub(crate) fn cookie_overflow(count: usize, max: usize, cookies: usize) -> bool {
    seen(2, count <= max + cookies)
}

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

/// Records that finding `n` showed, when it did.
fn seen(n: usize, tolerated: bool) -> bool {
    if tolerated {
        crate::coverage::saw_known(n);
    }
    tolerated
}
