//! STATUS (RFC 9293 3.10.6): what an application or `ss` may learn about a
//! connection.

use crate::event::OpenKind;
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use core::time::Duration;
use std::net::SocketAddr;

/// A snapshot of one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnInfo {
    /// RFC 9293 state.
    pub state: State,
    /// Our socket.
    pub local: SocketAddr,
    /// The peer's socket.
    pub remote: SocketAddr,
    /// How the connection was opened (a simultaneous open is the path the
    /// split-handshake attack takes).
    pub how: OpenKind,
    /// Initial send sequence number.
    pub iss: SeqNum,
    /// Initial receive sequence number.
    pub irs: SeqNum,
    /// Oldest unacknowledged sequence number.
    pub snd_una: SeqNum,
    /// Next sequence number to send.
    pub snd_nxt: SeqNum,
    /// The peer's window, scaled.
    pub snd_wnd: u32,
    /// Next sequence number expected.
    pub rcv_nxt: SeqNum,
    /// Our advertised window.
    pub rcv_wnd: u32,
    /// Smoothed RTT, once measured.
    pub srtt: Option<Duration>,
    /// RTT variation, once measured.
    pub rttvar: Option<Duration>,
    /// Current retransmission timeout.
    pub rto: Duration,
    /// Congestion window, bytes.
    pub cwnd: u32,
    /// Slow-start threshold, bytes (`u32::MAX` before the first loss).
    pub ssthresh: u32,
    /// Effective send MSS.
    pub mss: u16,
    /// Retransmissions over the connection's life.
    pub retransmits: u32,
    /// Bytes queued to send (in flight and unsent).
    pub send_queue: usize,
    /// Bytes received and not yet read.
    pub recv_queue: usize,
    /// Window-scale shifts in force (send, receive).
    pub wscale: Option<(u8, u8)>,
    /// Timestamps in use.
    pub timestamps: bool,
    /// SACK permitted.
    pub sack: bool,
    /// When the connection's next timer fires (retransmission, persist or
    /// TIME-WAIT), if one is armed: what `ss -o` shows as `timer:(...)`.
    pub timer: Option<Instant>,
}
