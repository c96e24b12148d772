//! STATUS (RFC 9293 3.10.6): what an application or `ss` may learn about a
//! connection.

use crate::event::OpenKind;
use crate::seq::SeqNum;
use crate::state::State;
use crate::tcb::{RecoveryState, Timer};
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
    /// The MSS our SYN or SYN-ACK offered (Linux's `tcpi_advmss`).
    pub advertised_mss: u16,
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
    /// TS.Recent, the peer's timestamp we echo (RFC 7323 4.3), when
    /// timestamps are in use.
    pub ts_recent: Option<u32>,
    /// SACK permitted.
    pub sack: bool,
    /// ECN negotiated (RFC 3168).
    pub ecn: bool,
    /// The user timeout in force (R2 by time; RFC 9293 3.8.3), `None` for
    /// none.
    pub user_timeout: Option<core::time::Duration>,
    /// The connection's next timer and when it fires, if one is armed:
    /// what `ss -o` shows as `timer:(...)`.
    pub timer: Option<(Timer, Instant)>,
    /// Where the connection stands with loss (`tcp_info`'s ca_state).
    pub recovery: RecoveryState,
    /// The congestion-control algorithm.
    pub congestion_control: &'static str,
    /// The smallest RTT measured.
    pub min_rtt: Option<Duration>,
    /// Bytes delivered per second over the last round trip.
    pub delivery_rate: u64,
    /// The congestion controller's pacing rate, if it paces.
    pub pacing_rate: Option<u64>,
    /// Bytes in flight (RFC 6675's pipe).
    pub in_flight: u32,
    /// Segments the peer SACKed and has not yet acknowledged cumulatively.
    pub sacked: u32,
    /// Segments marked lost and not yet delivered.
    pub lost: u32,
    /// Retransmissions in flight.
    pub retrans_in_flight: u32,
    /// Reordering was seen on the connection (RACK, RFC 8985).
    pub reordering_seen: bool,
    /// How many quarter-min-RTTs RACK's reordering window spans.
    pub reorder_window_mult: u8,
}
