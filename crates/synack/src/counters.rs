//! Stack-wide counters in the spirit of Linux's `netstat -s` (RFC 4022 MIB
//! names where one exists), plus one counter per reason a segment is dropped.

use core::fmt;

/// Why an inbound packet or segment was dropped without changing any state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DropReason {
    /// The IP header failed to parse (see `synack_wire::WireError`).
    MalformedIp,
    /// IP protocol other than TCP.
    NotTcp,
    /// The TCP header failed to parse.
    MalformedTcp,
    /// TCP checksum mismatch (RFC 9293 MUST-3).
    BadChecksum,
    /// Broadcast, multicast or unspecified address (MUST-57, MUST-63).
    BadAddress,
    /// Failed the sequence acceptability test (RFC 9293 3.10.7.4 step 1).
    OutOfWindow,
    /// An in-window RST that did not match RCV.NXT exactly (RFC 5961 3.2).
    RstNotExact,
    /// A RST outside the window, or one for no connection.
    RstIgnored,
    /// A SYN in a synchronized state (RFC 5961 4.2).
    SynInSynchronized,
    /// ACK outside [SND.UNA - MAX.SND.WND, SND.NXT] (RFC 5961 5.2).
    AckOutOfRange,
    /// A segment without ACK in a state that needs one.
    NoAck,
    /// In SYN-SENT: neither SYN nor RST, or an unacceptable ACK.
    SynSentUnexpected,
    /// Data arrived ahead of RCV.NXT; out-of-order data is not held yet.
    OutOfOrder,
    /// The receive buffer was full.
    ReceiveBufferFull,
    /// A listener's SYN queue was full and cookies were off.
    SynQueueFull,
    /// A listener's accept queue was full.
    AcceptQueueFull,
    /// A segment to a listener that was neither SYN nor a valid cookie ACK.
    ListenUnexpected,
    /// A segment for a TIME-WAIT entry that needed no answer.
    TimeWait,
    /// The control-segment queue was full (replies are dropped, never queued
    /// without bound).
    ControlQueueFull,
    /// A challenge ACK was suppressed by the per-connection rate limit.
    ChallengeAckLimited,
    /// An ICMP error quoting a sequence number we have no data in flight
    /// for, or no connection (RFC 5927).
    IcmpIgnored,
}

impl DropReason {
    /// How many reasons there are.
    pub const COUNT: usize = 21;

    /// Every reason, in order.
    pub const ALL: [DropReason; DropReason::COUNT] = [
        DropReason::MalformedIp,
        DropReason::NotTcp,
        DropReason::MalformedTcp,
        DropReason::BadChecksum,
        DropReason::BadAddress,
        DropReason::OutOfWindow,
        DropReason::RstNotExact,
        DropReason::RstIgnored,
        DropReason::SynInSynchronized,
        DropReason::AckOutOfRange,
        DropReason::NoAck,
        DropReason::SynSentUnexpected,
        DropReason::OutOfOrder,
        DropReason::ReceiveBufferFull,
        DropReason::SynQueueFull,
        DropReason::AcceptQueueFull,
        DropReason::ListenUnexpected,
        DropReason::TimeWait,
        DropReason::ControlQueueFull,
        DropReason::ChallengeAckLimited,
        DropReason::IcmpIgnored,
    ];

    /// A CamelCase name for printing.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::MalformedIp => "DropMalformedIp",
            DropReason::NotTcp => "DropNotTcp",
            DropReason::MalformedTcp => "DropMalformedTcp",
            DropReason::BadChecksum => "DropBadChecksum",
            DropReason::BadAddress => "DropBadAddress",
            DropReason::OutOfWindow => "DropOutOfWindow",
            DropReason::RstNotExact => "DropRstNotExact",
            DropReason::RstIgnored => "DropRstIgnored",
            DropReason::SynInSynchronized => "DropSynInSynchronized",
            DropReason::AckOutOfRange => "DropAckOutOfRange",
            DropReason::NoAck => "DropNoAck",
            DropReason::SynSentUnexpected => "DropSynSentUnexpected",
            DropReason::OutOfOrder => "DropOutOfOrder",
            DropReason::ReceiveBufferFull => "DropReceiveBufferFull",
            DropReason::SynQueueFull => "DropSynQueueFull",
            DropReason::AcceptQueueFull => "DropAcceptQueueFull",
            DropReason::ListenUnexpected => "DropListenUnexpected",
            DropReason::TimeWait => "DropTimeWait",
            DropReason::ControlQueueFull => "DropControlQueueFull",
            DropReason::ChallengeAckLimited => "DropChallengeAckLimited",
            DropReason::IcmpIgnored => "DropIcmpIgnored",
        }
    }
}

/// Counters for the whole endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections that went SYN-SENT from CLOSED.
    pub active_opens: u64,
    /// Connections that went SYN-RECEIVED from LISTEN (including cookies).
    pub passive_opens: u64,
    /// Opens that failed: SYN-SENT or SYN-RECEIVED to CLOSED, or
    /// SYN-RECEIVED back to LISTEN.
    pub attempt_fails: u64,
    /// Resets from ESTABLISHED or CLOSE-WAIT.
    pub estab_resets: u64,
    /// Connections now in ESTABLISHED or CLOSE-WAIT.
    pub curr_estab: u64,
    /// Segments received, including those in error.
    pub in_segs: u64,
    /// Segments sent, excluding retransmissions.
    pub out_segs: u64,
    /// Segments retransmitted.
    pub retrans_segs: u64,
    /// Segments received in error (bad checksum, malformed).
    pub in_errs: u64,
    /// Segments sent with RST.
    pub out_rsts: u64,
    /// Challenge ACKs sent (RFC 5961).
    pub challenge_acks: u64,
    /// SYN-ACKs that carried a cookie.
    pub syncookies_sent: u64,
    /// Valid cookies received.
    pub syncookies_recv: u64,
    /// Invalid cookies received.
    pub syncookies_failed: u64,
    /// Connections that entered TIME-WAIT.
    pub time_waits: u64,
    /// Drops, indexed by `DropReason as usize`.
    pub drops: [u64; DropReason::COUNT],
}

impl Counters {
    /// Counts one drop.
    pub fn drop(&mut self, reason: DropReason) {
        self.drops[reason as usize] += 1;
    }

    /// How many drops of this reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops[reason as usize]
    }

    /// Every counter as (name, value), in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        let main = [
            ("ActiveOpens", self.active_opens),
            ("PassiveOpens", self.passive_opens),
            ("AttemptFails", self.attempt_fails),
            ("EstabResets", self.estab_resets),
            ("CurrEstab", self.curr_estab),
            ("InSegs", self.in_segs),
            ("OutSegs", self.out_segs),
            ("RetransSegs", self.retrans_segs),
            ("InErrs", self.in_errs),
            ("OutRsts", self.out_rsts),
            ("ChallengeAcks", self.challenge_acks),
            ("SyncookiesSent", self.syncookies_sent),
            ("SyncookiesRecv", self.syncookies_recv),
            ("SyncookiesFailed", self.syncookies_failed),
            ("TimeWaits", self.time_waits),
        ];
        main.into_iter().chain(
            DropReason::ALL
                .into_iter()
                .map(|r| (r.name(), self.dropped(r))),
        )
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in self.iter() {
            writeln!(f, "{name}: {value}")?;
        }
        Ok(())
    }
}
