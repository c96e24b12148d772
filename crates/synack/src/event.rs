//! What the engine tells the application.

use crate::state::State;
use std::net::SocketAddr;

/// A handle to one connection. Handles are never reused: a stale handle is
/// simply unknown to the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

/// A handle to one listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub(crate) u32);

/// How a connection was opened (RFC 9293 MUST-11 asks us to remember whether
/// SYN-RECEIVED came from a passive or an active OPEN). `Simultaneous` is the
/// crossing-SYN path that the split-handshake attack abuses, so applications
/// and firewalls can tell it apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenKind {
    /// We sent the SYN and received a SYN-ACK.
    Active,
    /// A listener received the SYN and we sent the SYN-ACK.
    Passive,
    /// We sent a SYN and received a SYN without ACK: crossing SYNs (RFC 9293
    /// section 3.5, figure 7).
    Simultaneous,
    /// A listener accepted the connection statelessly through a SYN cookie
    /// (RFC 4987 section 3.6).
    Cookie,
}

impl OpenKind {
    /// A short lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            OpenKind::Active => "active",
            OpenKind::Passive => "passive",
            OpenKind::Simultaneous => "simultaneous",
            OpenKind::Cookie => "cookie",
        }
    }
}

/// Why a connection ended (RFC 9293 MUST-12: the application can tell a
/// normal close from an abort).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// Both FINs were exchanged and acknowledged.
    Normal,
    /// A RST answered our SYN.
    Refused,
    /// The peer reset the connection.
    Reset,
    /// Retransmissions ran out (R2, or the SYN retry limit).
    TimedOut,
    /// The application aborted, or a listener closed with the connection
    /// still unaccepted.
    Aborted,
    /// The open timed out after ICMP said the host was unreachable.
    HostUnreachable,
    /// The open timed out after ICMP said the network was unreachable.
    NetworkUnreachable,
    /// The application had closed the connection, and the peer's FIN did
    /// not come within `Config::fin_wait2_timeout` of the later of our
    /// FIN's acknowledgment and the `close`: the connection was reset and
    /// freed.
    FinWait2Timeout,
    /// Keep-alive probes went unanswered (`Keepalive`): the peer is
    /// gone, and the connection was reset.
    KeepaliveTimeout,
}

/// A soft error: the connection lives on, but something is amiss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SoftError {
    /// The same segment was retransmitted R1 times (RFC 9293 3.8.3).
    ExcessiveRetransmissions,
    /// An ICMP error about one of our segments (RFC 9293 3.9.2.2: soft
    /// errors are reported, never fatal once synchronized).
    Icmp(crate::icmp::IcmpErrorKind),
}

/// Something the application may want to act on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An active open completed.
    Connected {
        /// The connection.
        conn: ConnId,
        /// How it was opened.
        how: OpenKind,
    },
    /// A listener has an established connection waiting in its accept queue.
    Accepted {
        /// The listener whose queue grew.
        listener: ListenerId,
    },
    /// Data (or the end of the stream) can be read.
    Readable {
        /// The connection.
        conn: ConnId,
    },
    /// The peer's urgent pointer arrived with no urgent data pending, or
    /// advanced (RFC 9293 MUST-32). The urgent data is in the stream;
    /// `Endpoint::urgent_pending` says how much of what is left to read
    /// is urgent.
    Urgent {
        /// The connection.
        conn: ConnId,
    },
    /// Send-buffer space became free.
    Writable {
        /// The connection.
        conn: ConnId,
    },
    /// The connection moved from one state to another. Only emitted when
    /// `Config::trace_states` is on, so production embedders are not
    /// flooded. The record is boxed (tracing is for diagnosis) so that the
    /// events every connection produces stay two words.
    StateChanged(Box<StateChange>),
    /// Trouble short of failure, reported so the application can act
    /// (RFC 9293 MUST-47, SHLD-9): retransmissions reached R1.
    SoftError {
        /// The connection.
        conn: ConnId,
        /// What went wrong.
        error: SoftError,
    },
    /// The connection's handle is finished. For an active closer this comes
    /// when it enters TIME-WAIT: the 2 x MSL wait is the endpoint's business
    /// and holds no application state, and `TimeWaitEnded` follows.
    Closed {
        /// The connection.
        conn: ConnId,
        /// Why.
        reason: CloseReason,
    },
    /// An intercepting listener in `InterceptMode::Decide` holds a new SYN:
    /// accept, reset or ignore it (`Endpoint::accept_request` and its
    /// siblings); `Endpoint::syn_request` describes it.
    SynRequest {
        /// The intercepting listener.
        listener: ListenerId,
        /// The request.
        request: crate::intercept::RequestId,
    },
    /// A SYN held for a decision went away without one: the client gave
    /// up (RST), it waited too long, or its listener closed.
    SynRequestAbandoned {
        /// The request, no longer valid.
        request: crate::intercept::RequestId,
        /// Why.
        reason: crate::intercept::AbandonReason,
    },
    /// A TIME-WAIT entry expired after 2 x MSL (TIME-WAIT -> CLOSED).
    /// Only emitted when `Config::trace_states` is on; boxed as
    /// `StateChanged` is.
    TimeWaitEnded(Box<Sockets>),
}

/// A connection's two sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sockets {
    /// Our socket.
    pub local: SocketAddr,
    /// The peer's socket.
    pub remote: SocketAddr,
}

/// A state transition, as [`Event::StateChanged`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The connection.
    pub conn: ConnId,
    /// Our socket.
    pub local: SocketAddr,
    /// The peer's socket.
    pub remote: SocketAddr,
    /// The old state.
    pub from: State,
    /// The new state.
    pub to: State,
}
