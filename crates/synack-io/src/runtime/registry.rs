//! Who is waiting for what: the wakers of every connection and listener
//! that has a user handle, and what the engine's events mean for them.

use super::trace;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::task::Waker;
use synack::{AbandonReason, CloseReason, ConnId, Event, ListenerId, RequestId};

/// One connection as its handles see it.
#[derive(Default)]
pub(crate) struct ConnSlot {
    pub reader: Option<Waker>,
    pub writer: Option<Waker>,
    pub connector: Option<Waker>,
    /// The handshake completed (an accepted connection starts so).
    pub connected: bool,
    /// Why the engine finished the connection; its calls answer
    /// `NotConnected` from then on, and this says what to tell the user.
    pub closed: Option<CloseReason>,
    /// The user shut down reading (`Shutdown::Read`): reads return 0.
    pub read_shut: bool,
    /// Our socket and the peer's, for the log when the connection ends
    /// (the engine may have freed its TCB by then).
    pub tuple: Option<(SocketAddr, SocketAddr)>,
    /// `take_error` has reported the close reason already.
    pub error_taken: bool,
}

/// The waker tables.
#[derive(Default)]
pub(crate) struct Registry {
    conns: HashMap<ConnId, ConnSlot>,
    /// Tasks waiting in `accept`; several may wait on one listener.
    listeners: HashMap<ListenerId, Vec<Waker>>,
    /// The 4-tuples of connections whose handles are gone but which the
    /// engine has not finished yet (a close still exchanging FINs), so
    /// that the log can name them when they end. Only for the log: past
    /// `LINGERING_MAX` entries it is cleared rather than grown.
    lingering: HashMap<ConnId, (SocketAddr, SocketAddr)>,
    /// Intercepting listeners' requests not yet taken, and the tasks
    /// waiting for one.
    interceptors: HashMap<ListenerId, (VecDeque<RequestId>, Vec<Waker>)>,
    /// Requests handed to the application and not yet decided: why the
    /// engine gave one up, once it has, and who waits to hear it.
    pub(crate) requests: HashMap<RequestId, (Option<AbandonReason>, Option<Waker>)>,
}

/// Bound on `Registry::lingering`.
const LINGERING_MAX: usize = 65536;

/// Stores `w` in `slot` unless the same task is already there.
pub(crate) fn park(slot: &mut Option<Waker>, w: &Waker) {
    if !slot.as_ref().is_some_and(|old| old.will_wake(w)) {
        *slot = Some(w.clone());
    }
}

impl Registry {
    /// A connection got a handle: accepted (`connected`) or opening.
    pub(crate) fn add_conn(
        &mut self,
        id: ConnId,
        connected: bool,
        local: SocketAddr,
        remote: SocketAddr,
    ) {
        trace::opened(
            id,
            local,
            remote,
            if connected { "accepted" } else { "connecting" },
        );
        self.conns.insert(
            id,
            ConnSlot {
                connected,
                tuple: Some((local, remote)),
                ..ConnSlot::default()
            },
        );
    }

    pub(crate) fn conn(&self, id: ConnId) -> Option<&ConnSlot> {
        self.conns.get(&id)
    }

    pub(crate) fn conn_mut(&mut self, id: ConnId) -> Option<&mut ConnSlot> {
        self.conns.get_mut(&id)
    }

    pub(crate) fn remove_conn(&mut self, id: ConnId) {
        if let Some(ConnSlot {
            closed: None,
            tuple: Some(t),
            ..
        }) = self.conns.remove(&id)
        {
            if self.lingering.len() >= LINGERING_MAX {
                self.lingering.clear();
            }
            self.lingering.insert(id, t);
        }
    }

    /// The 4-tuple of a connection with a handle, or of one whose handle
    /// went while it was still open.
    fn tuple(&self, id: ConnId) -> Option<(SocketAddr, SocketAddr)> {
        self.conns
            .get(&id)
            .and_then(|s| s.tuple)
            .or_else(|| self.lingering.get(&id).copied())
    }

    pub(crate) fn add_listener(&mut self, id: ListenerId) {
        self.listeners.insert(id, Vec::new());
    }

    pub(crate) fn remove_listener(&mut self, id: ListenerId) {
        self.listeners.remove(&id);
        if let Some((_, waiters)) = self.interceptors.remove(&id) {
            // Their next poll finds the listener gone.
            waiters.into_iter().for_each(Waker::wake);
        }
    }

    pub(crate) fn add_interceptor(&mut self, id: ListenerId) {
        self.listeners.insert(id, Vec::new());
        self.interceptors.insert(id, (VecDeque::new(), Vec::new()));
    }

    /// The next request an intercepting listener holds, or the task parked
    /// until one comes; `None` inside if the listener is gone.
    pub(crate) fn next_request(&mut self, id: ListenerId, w: &Waker) -> Option<Option<RequestId>> {
        let (queue, waiters) = self.interceptors.get_mut(&id)?;
        match queue.pop_front() {
            Some(r) => Some(Some(r)),
            None => {
                if !waiters.iter().any(|old| old.will_wake(w)) {
                    waiters.push(w.clone());
                }
                Some(None)
            }
        }
    }

    pub(crate) fn park_acceptor(&mut self, id: ListenerId, w: &Waker) {
        if let Some(waiters) = self.listeners.get_mut(&id)
            && !waiters.iter().any(|old| old.will_wake(w))
        {
            waiters.push(w.clone());
        }
    }

    /// Translates one engine event into state and wakers to wake (once the
    /// lock is released). Events for connections without a handle (not yet
    /// accepted, or already dropped) concern nobody.
    pub(crate) fn dispatch(&mut self, ev: Event, wake: &mut Vec<Waker>) {
        match ev {
            Event::Accepted { listener } => {
                if let Some(waiters) = self.listeners.get_mut(&listener) {
                    wake.append(waiters);
                }
            }
            Event::Connected { conn, how } => {
                trace::established(conn, self.tuple(conn), how);
                if let Some(s) = self.conns.get_mut(&conn) {
                    s.connected = true;
                    wake.extend(s.connector.take());
                    wake.extend(s.writer.take());
                }
            }
            Event::Readable { conn } => {
                if let Some(s) = self.conns.get_mut(&conn) {
                    wake.extend(s.reader.take());
                }
            }
            Event::Writable { conn } => {
                if let Some(s) = self.conns.get_mut(&conn) {
                    wake.extend(s.writer.take());
                }
            }
            Event::Closed { conn, reason } => {
                trace::closed(conn, self.tuple(conn), reason);
                self.lingering.remove(&conn);
                if let Some(s) = self.conns.get_mut(&conn) {
                    s.closed = Some(reason);
                    wake.extend(s.connector.take());
                    wake.extend(s.reader.take());
                    wake.extend(s.writer.take());
                }
            }
            Event::SoftError { conn, error } => trace::soft_error(conn, error),
            Event::SynRequest { listener, request } => {
                if let Some((queue, waiters)) = self.interceptors.get_mut(&listener) {
                    queue.push_back(request);
                    wake.append(waiters);
                }
            }
            Event::SynRequestAbandoned { request, reason } => {
                trace::abandoned(request, reason);
                if let Some((r, waiter)) = self.requests.get_mut(&request) {
                    *r = Some(reason);
                    wake.extend(waiter.take());
                }
            }
            // Trace records change no socket's state.
            _ => {}
        }
    }
}
