//! Endpoint configuration. Every memory bound of the engine is here.

use crate::rtt::RttConfig;
use core::ops::RangeInclusive;
use core::time::Duration;
use std::net::IpAddr;

/// When a listener answers SYNs with cookies instead of queueing them
/// (RFC 4987 section 3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SynCookieMode {
    /// Never; a full SYN queue drops SYNs.
    Off,
    /// Only when the SYN queue is full (RFC 4987 section 4: cookies should
    /// not be the default path because they lose state).
    WhenQueueFull,
    /// For every SYN (testing, or under sustained attack).
    Always,
}

/// The initial congestion window (RFC 5681 3.1, RFC 6928).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum InitialWindow {
    /// RFC 6928: min(10 MSS, max(2 MSS, 14600 bytes)), as Linux and most
    /// large deployments use.
    #[default]
    Rfc6928,
    /// RFC 5681 3.1: 2 to 4 segments by MSS.
    Rfc5681,
}

/// The TCP User Timeout option (RFC 5482): what a connection advertises
/// and the bounds within which it adopts its peer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserTimeoutOption {
    advertise: Duration,
    lower: Duration,
    upper: Duration,
}

impl UserTimeoutOption {
    /// Advertise `advertise` (ADV_UTO) in the SYN and the first segment
    /// after it, and run with USER_TIMEOUT = min(`upper`, max(ADV_UTO,
    /// the peer's UTO, `lower`)) (RFC 5482 3). `lower` (L_LIMIT) must
    /// exceed any RTO (RFC 5482 suggests 100 s) and not exceed `upper`
    /// (U_LIMIT); the option carries at most 32,767 minutes. Otherwise
    /// `Error::InvalidArgument`.
    pub fn new(
        advertise: Duration,
        lower: Duration,
        upper: Duration,
    ) -> Result<UserTimeoutOption, crate::Error> {
        let max = Duration::from_secs(0x7fff * 60);
        if lower > upper || advertise > max || lower.is_zero() {
            return Err(crate::Error::InvalidArgument);
        }
        Ok(UserTimeoutOption {
            advertise,
            lower,
            upper,
        })
    }

    /// ADV_UTO.
    pub fn advertise(&self) -> Duration {
        self.advertise
    }

    /// The user timeout to run with once the peer advertised `remote`
    /// (or `None` before it has).
    pub fn effective(&self, remote: Option<Duration>) -> Duration {
        let base = self.advertise.max(remote.unwrap_or(Duration::ZERO));
        base.max(self.lower).min(self.upper)
    }
}

/// Whether connections use ECN (RFC 3168), as Linux's `tcp_ecn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EcnMode {
    /// Never (`tcp_ecn = 0`).
    Off,
    /// When the peer's SYN asks for it (`tcp_ecn = 2`, Linux's default).
    #[default]
    Accept,
    /// Ask in our SYNs too (`tcp_ecn = 1`).
    Request,
}

/// Endpoint-wide settings. Build one from `Config::default()` and set the
/// fields you need (the type grows, so it cannot be written as a literal).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The stack's own addresses. An active OPEN with an unspecified local
    /// address takes the first of these in the remote's family (RFC 9293
    /// MUST-44: the source address is chosen before the first SYN, and
    /// kept for the whole connection, MUST-45).
    pub local_addrs: Vec<IpAddr>,
    /// Link MTU; the MSS we advertise is derived from it (RFC 9293 3.7.1:
    /// MTU - 40 for IPv4, MTU - 60 for IPv6).
    pub mtu: u16,
    /// Receive buffer per connection, in bytes (allocated on first use).
    pub recv_buffer: usize,
    /// Send buffer per connection, in bytes (allocated on first use).
    pub send_buffer: usize,
    /// Offer window scaling (RFC 7323).
    pub window_scaling: bool,
    /// Offer timestamps (RFC 7323).
    pub timestamps: bool,
    /// Offer SACK-permitted (RFC 2018) and accept it when offered. With
    /// it, losses are found by RACK (RFC 8985) and repaired as RFC 6675
    /// says; without it, by duplicate ACKs and NewReno (RFC 6582).
    pub sack: bool,
    /// The congestion-control algorithm of new connections.
    pub congestion_control: crate::cc::Algorithm,
    /// The initial congestion window.
    pub initial_window: InitialWindow,
    /// RFC 5681 4.1: after more than an RTO with nothing sent, restart
    /// from at most the initial window (on by default, a SHOULD; Linux's
    /// `tcp_slow_start_after_idle`, which production hosts often turn off).
    pub slow_start_after_idle: bool,
    /// A RST that aborts a synchronized connection (close with unread
    /// data, ABORT) carries an ACK of RCV.NXT, as Linux sends it. Off by
    /// default: RFC 9293 3.10.5's form is `<SEQ=SND.NXT><CTL=RST>`.
    pub rst_with_ack: bool,
    /// The ACK of a FIN that arrives in ESTABLISHED after data waits for
    /// the delayed-ACK timer, as Linux's does (its FIN turns on its
    /// "pingpong" mode). Off by default: a FIN is acknowledged at once,
    /// since the peer's close waits on it.
    pub delayed_fin_ack: bool,
    /// A D-SACK pending when a FIN arrives is dropped, so the FIN's ACK
    /// carries none, as on Linux (which resets its SACK state on a FIN).
    /// Off by default: RFC 2883 4 reports every duplicate.
    pub fin_clears_dsack: bool,
    /// PSH also on the last segment of every run of new data sent back to
    /// back (two segments or more), as Linux pushes each multi-segment
    /// (GSO) packet so that the receiver's GRO flushes it at once. Off by
    /// default: PSH marks the segment that empties the send queue (MUST-61).
    pub psh_on_bursts: bool,
    /// Linux's ACK checks: an ACK of data never sent (SEG.ACK > SND.NXT)
    /// is dropped without the ACK RFC 5961 5.2 sends back, and a
    /// segment's TSval becomes TS.Recent only once its ACK proved
    /// acceptable (RFC 7323 5.3 orders R3 before the ACK check). Off by
    /// default.
    pub linux_ack_checks: bool,
    /// Closing a listener resets its half-open children (SYN-RECEIVED),
    /// so their peers learn at once. Off, they are dropped silently and
    /// the peer's next segment draws the RST of a closed port, as on
    /// Linux. On by default. (Established children the application never
    /// accepted are reset either way.)
    pub reset_half_open_on_listener_close: bool,
    /// F-RTO (RFC 5682): detect spurious retransmission timeouts and undo
    /// their window reduction (with SACK).
    pub frto: bool,
    /// Tail loss probes (RFC 8985 7), with SACK.
    pub tail_loss_probe: bool,
    /// Tail loss probes in fast recovery too, once every segment marked
    /// lost has been resent (on by default; needs `tail_loss_probe`).
    ///
    /// This departs from RFC 8985 7.2, which arms no probe during
    /// recovery because RACK and the ACK clock are expected to find any
    /// further loss. They cannot when the last ACK of an episode is lost:
    /// a receiver that coalesces (Linux acknowledges a filled hole and
    /// everything behind it with one cumulative ACK) leaves nothing in
    /// flight to draw another, PRR lets nothing new out until an ACK
    /// comes, and only the retransmission timeout (at least 1 s) is left.
    /// Over TUN against Linux with 1 % random loss that happened about
    /// once per 32 MiB and cost more than the rest of the transfer
    /// (`synack bench tun --loss 1`). The probe goes 2 SRTT after the
    /// last ACK, sends one new segment (or the highest unSACKed one again)
    /// whatever cwnd says, makes no reduction of its own (the episode made
    /// one), and goes one at a time, as 7.3 asks of every probe. Turn it off for
    /// RFC 8985's exact behaviour.
    pub recovery_tail_probe: bool,
    /// The peer's worst-case delayed ACK added to the probe timeout when
    /// one segment is in flight (RFC 8985 7.2's WCDelAckT).
    pub tlp_max_ack_delay: Duration,
    /// The User Timeout option (RFC 5482, TM-09): off by default (no
    /// option is sent, and a peer's is ignored). With it the connection
    /// advertises its timeout and adopts the peer's within the bounds.
    pub user_timeout_option: Option<UserTimeoutOption>,
    /// Black-hole detection for path MTU discovery (RFC 4821 7.2, RFC
    /// 2923 2.1): at R1 (`soft_retransmits` consecutive retransmission
    /// timeouts, 3 by default) with no ICMP error, the path MTU falls to 1,064 bytes (IPv4; an MSS of
    /// 1,024) or 1,280 (IPv6), so a connection through a router whose
    /// "fragmentation needed" errors are filtered still completes. On by
    /// default (Linux's `tcp_mtu_probing` is off by default, macOS's
    /// black-hole detection on); it costs a path that loses three
    /// retransmissions in a row its larger segments for the rest of the
    /// connection.
    pub pmtu_blackhole_detection: bool,
    /// ECN (RFC 3168): accepted when a peer asks by default; `Request`
    /// asks in our SYNs too.
    pub ecn: EcnMode,
    /// How long the receiver may wait before acknowledging in-order data
    /// (RFC 9293 3.8.6.3, RFC 5681 4.2): 40 ms by default, as Linux's
    /// minimum. Whatever is set, the engine waits less than 500 ms
    /// (MUST-40: 499 ms at most). `None` acknowledges every segment, or
    /// batch of segments, at once. Out-of-order data, a filled hole, a FIN,
    /// window updates and a connection's first 16 data segments are
    /// acknowledged at once either way, and at least every second
    /// full-sized segment is (SHLD-19).
    pub delayed_ack: Option<Duration>,
    /// The most full-sized segments one ACK covers when they are processed
    /// together (between two transmits): past it an ACK goes in the middle
    /// of the batch. 16 by default; 2 (the least) acknowledges every
    /// second segment even within a batch. Unbounded aggregation
    /// (MUST-58) suits a sender that counts every byte acknowledged, as
    /// Linux's does, but a sender growing by at most two segments per ACK
    /// (RFC 3465's L = 2) crawls behind stretch ACKs, and one lost stretch
    /// ACK hides the whole batch.
    pub max_ack_stretch: u16,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 3.4.2).
    pub msl: Duration,
    /// How long a connection the application has closed (`close`, not
    /// `shutdown`) waits in FIN-WAIT-2 for the peer's FIN before it is
    /// reset and freed, like Linux's `tcp_fin_timeout` (60 s). No one will
    /// read from such a connection, and RFC 9293 sets no bound on the
    /// wait, so a peer that never sends its FIN would hold the TCB
    /// forever. `None` waits forever. A connection only shut down keeps
    /// waiting: its application can still read, and decides.
    pub fin_wait2_timeout: Option<Duration>,
    /// Keep-alive for new connections (RFC 9293 3.8.4): off by default
    /// (MUST-25); `Some(Keepalive::RFC)` for RFC
    /// 9293's two hours, `Some(Keepalive::NAT)` to keep NAT mappings.
    /// `Endpoint::set_keepalive` changes one connection.
    pub keepalive: Option<crate::keepalive::Keepalive>,
    /// SYN retransmissions before connect gives up with `TimedOut`. RFC
    /// 9293 MUST-23 wants a SYN retried for at least 3 minutes: the default
    /// 7 sends SYNs at 0, 1, 3, ... 127 s and gives up at 247 s.
    pub syn_retries: u8,
    /// SYN-ACK retransmissions before a half-open connection is dropped.
    pub synack_retries: u8,
    /// Data retransmissions before the connection is closed (R2, RFC 9293
    /// 3.8.3). With the default RTO bounds this is well over 100 s.
    pub max_retransmits: u8,
    /// Retransmissions after which the connection reports trouble (R1,
    /// RFC 9293 SHLD-10: at least 3).
    pub soft_retransmits: u8,
    /// User timeout: a connection whose data stays unacknowledged this long
    /// while being retransmitted is closed (RFC 9293 3.8.3 R2 and 3.9.1.1;
    /// default 5 minutes). `None` means no time limit. Settable per
    /// connection with `Endpoint::set_user_timeout`.
    pub user_timeout: Option<Duration>,
    /// Retransmission-timer bounds (RFC 6298).
    pub rtt: RttConfig,
    /// SYN cookie policy.
    pub syn_cookies: SynCookieMode,
    /// Upper bound on the half-open connections a listener keeps, whatever
    /// backlog the application asks for.
    pub max_syn_backlog: usize,
    /// Upper bound on a listener's accept queue, whatever backlog the
    /// application asks for.
    pub max_accept_backlog: usize,
    /// Upper bound on live connections (TCBs).
    pub max_connections: usize,
    /// Upper bound on TIME-WAIT entries; when full the oldest is recycled.
    pub max_time_wait: usize,
    /// Upper bound on queued control segments (RSTs, cookie SYN-ACKs).
    pub max_control_queue: usize,
    /// Ephemeral port range (RFC 6056).
    pub ephemeral_ports: RangeInclusive<u16>,
    /// IP TTL / hop limit for every segment (RFC 9293 MUST-49).
    pub ttl: u8,
    /// Challenge ACKs allowed per connection per `challenge_ack_interval`
    /// (RFC 5961 section 7).
    pub challenge_ack_limit: u16,
    /// The window of the challenge-ACK rate limit.
    pub challenge_ack_interval: Duration,
    /// Emit `Event::StateChanged` for every transition.
    pub trace_states: bool,
    /// How long an intercepted SYN waits for the application's decision
    /// (`InterceptMode::Decide`) before it is abandoned
    /// (`Event::SynRequestAbandoned`); the client's next SYN starts a new
    /// request. 75 s, BSD's connection-establishment timer.
    pub syn_request_timeout: Duration,
    /// The most SYNs held for a decision at once; beyond it (or beyond
    /// the per-source bound) SYNs are answered at once with SYN cookies,
    /// as in `InterceptMode::AcceptFirst`, or dropped if cookies are off.
    pub max_syn_requests: usize,
    /// The most SYNs held for a decision from one source address.
    pub max_syn_requests_per_source: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            local_addrs: Vec::new(),
            syn_request_timeout: Duration::from_secs(75),
            max_syn_requests: 4096,
            max_syn_requests_per_source: 64,
            mtu: 1500,
            recv_buffer: 256 * 1024,
            send_buffer: 256 * 1024,
            window_scaling: true,
            timestamps: true,
            sack: true,
            congestion_control: crate::cc::Algorithm::default(),
            initial_window: InitialWindow::default(),
            frto: true,
            tail_loss_probe: true,
            recovery_tail_probe: true,
            tlp_max_ack_delay: Duration::from_millis(200),
            ecn: EcnMode::Accept,
            pmtu_blackhole_detection: true,
            slow_start_after_idle: true,
            rst_with_ack: false,
            delayed_fin_ack: false,
            fin_clears_dsack: false,
            psh_on_bursts: false,
            reset_half_open_on_listener_close: true,
            linux_ack_checks: false,
            user_timeout_option: None,
            delayed_ack: Some(Duration::from_millis(40)),
            max_ack_stretch: 16,
            msl: Duration::from_secs(30),
            fin_wait2_timeout: Some(Duration::from_secs(60)),
            keepalive: None,
            syn_retries: 7,
            synack_retries: 5,
            max_retransmits: 15,
            soft_retransmits: 3,
            user_timeout: Some(Duration::from_secs(300)),
            rtt: RttConfig::default(),
            syn_cookies: SynCookieMode::WhenQueueFull,
            max_syn_backlog: 4096,
            max_accept_backlog: 4096,
            max_connections: 1 << 20,
            max_time_wait: 1 << 18,
            max_control_queue: 1024,
            ephemeral_ports: 49152..=65535,
            ttl: 64,
            challenge_ack_limit: 10,
            challenge_ack_interval: Duration::from_secs(5),
            trace_states: false,
        }
    }
}

impl Config {
    /// The MSS we advertise (RFC 9293 3.7.1, RFC 6691: not reduced for
    /// options).
    pub fn advertised_mss(&self, ipv6: bool) -> u16 {
        let overhead = if ipv6 { 60 } else { 40 };
        self.mtu.saturating_sub(overhead).max(64)
    }

    /// The window-scale shift we offer: the smallest that lets the whole
    /// receive buffer be advertised (RFC 7323 2.3: at most 14).
    pub fn window_shift(&self) -> u8 {
        let mut shift = 0u8;
        while shift < 14 && (self.recv_buffer >> shift) > 65535 {
            shift += 1;
        }
        shift
    }
}
