//! Timers and the bookkeeping that follows every input: the lazy timer
//! heap, TIME-WAIT expiry, and moving TCBs between tables as their state
//! changes.

use super::Endpoint;
use super::timer_heap::TimerHeap;
use crate::control::ControlSegment;
use crate::event::{CloseReason, ConnId, Event, Sockets};
use crate::state::State;
use crate::tcb::{Flags, Tcb, Timer};
use crate::time::Instant;
use crate::timewait::TimeWaitEntry;
use synack_wire::{TcpFlags, TcpOptions, Timestamps};

impl Endpoint {
    /// When [`Endpoint::handle_timeout`] should next be called: the
    /// earliest timer of any connection or TIME-WAIT entry. `None` when no
    /// timer is armed (then only a packet or an application call gives the
    /// endpoint work). Any input can move it, so ask after each.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let heap = self.timers.next_deadline();
        let now_ms = self.now.millis();
        let tw = self.time_wait.next_expiry_ms(now_ms as u32).map(|e| {
            let delta = e.wrapping_sub(now_ms as u32) as i32;
            Instant::from_millis(now_ms.saturating_add_signed(i64::from(delta)))
        });
        let earliest = match (heap, tw) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (earliest, self.next_request_expiry()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs every timer due at `now`. Safe to call at any time.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        while let Some((t, id)) = self.timers.pop_due(now) {
            let Some((tcb, mut ctx)) = self.split(id, now) else {
                continue;
            };
            if tcb.armed == t {
                tcb.armed = Instant::NEVER;
            }
            let prev = tcb.state;
            // A stale entry (the timer moved later) only re-arms; waking the
            // connection for output would be wasted work.
            let due = tcb.timers.earliest() <= now;
            tcb.on_timeout(&mut ctx);
            if due {
                self.schedule(id);
            }
            self.after(id, prev);
        }
        if self.requests.len() > 0 {
            self.expire_requests(now);
        }
        let now_ms = now.millis() as u32;
        while let Some(expired) = self.time_wait.expire_one(now_ms) {
            if let (Some(t), true) = (expired, self.cfg.trace_states) {
                self.events
                    .push_back(Event::TimeWaitEnded(Box::new(Sockets {
                        local: t.local(),
                        remote: t.remote(),
                    })));
            }
        }
    }

    /// Queues the connection for `poll_transmit`.
    #[inline]
    pub(super) fn schedule(&mut self, id: ConnId) {
        let Some((tcb, _)) = self.split(id, self.now) else {
            return;
        };
        if !tcb.flags.has(Flags::QUEUED_TX) {
            tcb.flags.set(Flags::QUEUED_TX);
            self.tx_queue.push_back(id);
        }
    }

    /// Pushes a heap entry if the TCB's timer moved earlier (see
    /// [`TimerHeap::arm`]).
    pub(super) fn arm(&mut self, id: ConnId) {
        if let Some(tcb) = self.conns.get_mut(id) {
            self.timers.arm(id, tcb);
        }
    }

    /// Bookkeeping after a TCB handled an input or a timer: listener queues,
    /// removal at CLOSED, compaction into TIME-WAIT, timer arming.
    pub(super) fn after(&mut self, id: ConnId, prev: State) {
        let Some(tcb) = self.conns.get_mut(id) else {
            return;
        };
        if !settle(&mut self.timers, id, tcb, prev) {
            self.state_changed(id, prev);
        }
    }

    /// The rest of `after`, when [`settle`] cannot do it alone.
    pub(super) fn state_changed(&mut self, id: ConnId, prev: State) {
        let Some(tcb) = self.conns.get(id) else {
            return;
        };
        let state = tcb.state;
        let listener = tcb.listener;
        let time_wait = state == State::TimeWait;
        let visible = tcb.flags.has(Flags::VISIBLE);
        let unread = !tcb.rcv_buf.is_empty() && visible;
        if prev == State::SynReceived
            && state != State::SynReceived
            && let Some(l) = listener
        {
            let established = state.is_synchronized();
            if let Some(li) = self.listener_mut(l) {
                li.syn_queue = li.syn_queue.saturating_sub(1);
                if established && !visible {
                    li.accept_queue.push_back(id);
                    self.events.push_back(Event::Accepted { listener: l });
                }
            }
            if established && visible {
                // An intercepted SYN the application accepted: it holds
                // the connection already (`accept_request`), so it is
                // told directly, and the connection leaves its listener
                // as an accepted one does.
                self.events.push_back(Event::Connected {
                    conn: id,
                    how: crate::event::OpenKind::Passive,
                });
                if let Some((tcb, mut ctx)) = self.split(id, self.now) {
                    tcb.accepted(&mut ctx);
                }
            }
        }
        // A child that ends (closed, or compacted into TIME-WAIT) before it
        // was accepted leaves the accept queue, so the queue's length and
        // `accept` agree.
        if (state == State::Closed || time_wait)
            && let Some(l) = listener
            && let Some(li) = self.listener_mut(l)
        {
            li.accept_queue.retain(|c| *c != id);
        }
        if state == State::Closed {
            // A normal close can leave data the application has not read
            // yet: keep the TCB, unreachable from the network, until it has.
            if unread {
                if let Some(tcb) = self.conns.get(id) {
                    let tuple = tcb.tuple;
                    self.unmap(&tuple, id);
                }
            } else {
                self.remove_tcb(id);
            }
            return;
        }
        if time_wait {
            self.compact_time_wait(id, unread);
            return;
        }
        self.arm(id);
    }

    /// Replaces a TCB that reached TIME-WAIT by a compact entry, sending the
    /// ACK it still owed: from now on the entry answers for the 4-tuple.
    /// Data the application has not read yet keeps the TCB, unreachable
    /// from the network, until it has (as a closed connection's does).
    fn compact_time_wait(&mut self, id: ConnId, unread: bool) {
        // Read in place, then free the slot: moving the TCB out would copy
        // all of it.
        let Some(tcb) = self.conns.get(id) else {
            return;
        };
        let window = tcb.window_field();
        let ts_ok = tcb.flags.has(Flags::TS_OK);
        let tuple = tcb.tuple;
        let visible = tcb.flags.has(Flags::VISIBLE);
        let entry = TimeWaitEntry {
            snd_nxt: tcb.snd_nxt.0,
            rcv_nxt: tcb.rcv_nxt.0,
            ts_recent: tcb.ts_recent,
            expires_ms: tcb
                .timers
                .get(Timer::TimeWait)
                .unwrap_or(self.now + 2 * self.cfg.msl)
                .millis() as u32,
            window,
            rcv_shift: tcb.rcv_shift,
            ts_ok,
        };
        if tcb.flags.has(Flags::ACK_NOW) {
            let mut options = TcpOptions::default();
            if ts_ok {
                options.timestamps = Some(Timestamps {
                    tsval: tcb.ts_now(self.now),
                    tsecr: tcb.ts_recent,
                });
            }
            let seg = ControlSegment {
                tuple,
                seq: tcb.snd_nxt,
                ack: Some(tcb.rcv_nxt),
                flags: TcpFlags::ACK,
            };
            self.control
                .push_full(seg, window, options, &mut self.counters);
        }
        if unread {
            self.unmap(&tuple, id);
            if let Some(tcb) = self.conns.get_mut(id) {
                tcb.handed_to_time_wait();
            }
        } else {
            self.remove_tcb(id);
        }
        if self.time_wait.insert(&tuple, entry) {
            self.counters.time_wait_overflow += 1;
        }
        if visible {
            self.events.push_back(Event::Closed {
                conn: id,
                reason: CloseReason::Normal,
            });
        }
    }
}

/// The common case of [`Endpoint::after`], by far: no table needs the TCB
/// moved, so only the timer may need an entry. Returns false when the rest
/// of `after` must run: when a listener's child leaves SYN-RECEIVED (its
/// listener's queues change), and always in CLOSED and TIME-WAIT (the TCB
/// is freed or compacted, at once or once the application has read what is
/// left).
pub(super) fn settle(timers: &mut TimerHeap, id: ConnId, tcb: &mut Tcb, prev: State) -> bool {
    let state = tcb.state;
    let leaves_listener =
        prev == State::SynReceived && state != State::SynReceived && tcb.listener.is_some();
    if leaves_listener || state == State::Closed || state == State::TimeWait {
        return false;
    }
    timers.arm(id, tcb);
    true
}
