//! Stack-wide counters in the spirit of Linux's `netstat -s` (RFC 4022 MIB
//! names where one exists), plus one counter per reason a segment is dropped.

use core::fmt;

/// Declares [`DropReason`] from one list, so the count, the list of every
/// reason and the names cannot drift apart: a new reason is one line here.
macro_rules! drop_reasons {
    ($( $(#[doc = $doc:literal])* $name:ident => $text:literal, )*) => {
        /// Why an inbound packet or segment was dropped, or a segment the
        /// engine holds was thrown away, without changing any state.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[non_exhaustive]
        pub enum DropReason {
            $( $(#[doc = $doc])* $name, )*
        }

        impl DropReason {
            /// Every reason, in declaration order (`reason as usize` is its
            /// index here).
            pub const ALL: &'static [DropReason] = &[$(DropReason::$name),*];

            /// How many reasons there are.
            pub const COUNT: usize = DropReason::ALL.len();

            /// A CamelCase name for printing.
            pub fn name(self) -> &'static str {
                match self {
                    $(DropReason::$name => $text,)*
                }
            }
        }
    };
}

drop_reasons! {
    /// The IP header failed to parse (see `synack_wire::WireError`).
    MalformedIp => "DropMalformedIp",
    /// IP protocol other than TCP.
    NotTcp => "DropNotTcp",
    /// An IPv4 fragment or an IPv6 Fragment header: the stack does no
    /// reassembly, and sets DF on everything it sends.
    Fragment => "DropFragment",
    /// The TCP header failed to parse.
    MalformedTcp => "DropMalformedTcp",
    /// TCP checksum mismatch (RFC 9293 MUST-3).
    BadChecksum => "DropBadChecksum",
    /// Broadcast, multicast or unspecified address (MUST-57, MUST-63).
    BadAddress => "DropBadAddress",
    /// Failed the sequence acceptability test (RFC 9293 3.10.7.4 step 1).
    OutOfWindow => "DropOutOfWindow",
    /// An in-window RST that did not match RCV.NXT exactly (RFC 5961 3.2).
    RstNotExact => "DropRstNotExact",
    /// A RST outside the window, or one for no connection.
    RstIgnored => "DropRstIgnored",
    /// A SYN in a synchronized state (RFC 5961 4.2).
    SynInSynchronized => "DropSynInSynchronized",
    /// PAWS (RFC 7323 5.3 R1): a segment whose timestamp is older than
    /// TS.Recent, answered with an ACK (Linux counts it as PAWSEstab).
    Paws => "DropPaws",
    /// A non-RST segment without the Timestamps option on a connection
    /// that negotiated it (RFC 7323 3.2).
    MissingTimestamp => "DropMissingTimestamp",
    /// ACK outside [SND.UNA - MAX.SND.WND, SND.NXT] (RFC 5961 5.2).
    AckOutOfRange => "DropAckOutOfRange",
    /// A segment without ACK in a state that needs one.
    NoAck => "DropNoAck",
    /// In SYN-SENT: neither SYN nor RST, or an unacceptable ACK.
    SynSentUnexpected => "DropSynSentUnexpected",
    /// Out-of-order data that could not be held (the queue's block limit).
    OutOfOrder => "DropOutOfOrder",
    /// The receive buffer was full.
    ReceiveBufferFull => "DropReceiveBufferFull",
    /// Octets of an acceptable segment that lie past the right edge of the
    /// window we advertised, trimmed off (RFC 9293 3.10.7.4).
    BeyondWindow => "DropBeyondWindow",
    /// Text after the peer's FIN (CLOSE-WAIT, CLOSING, LAST-ACK,
    /// TIME-WAIT): RFC 9293 3.10.7.4 step 7 ignores it (SM-13).
    TextAfterFin => "DropTextAfterFin",
    /// A listener's SYN queue was full and cookies were off.
    SynQueueFull => "DropSynQueueFull",
    /// A listener's accept queue was full.
    AcceptQueueFull => "DropAcceptQueueFull",
    /// The connection table is at `Config::max_connections`.
    ConnectionLimit => "DropConnectionLimit",
    /// A segment to a listener that was neither SYN nor a valid cookie ACK.
    ListenUnexpected => "DropListenUnexpected",
    /// A segment for a listener that closed while it was being handled.
    NoListener => "DropNoListener",
    /// The destination is not one of `Config::local_addrs` and no
    /// intercepting listener takes it (a host drops what is not for it).
    NotLocal => "DropNotLocal",
    /// A segment for a connection that had already closed (its TCB kept
    /// only until the application reads what is left).
    Closed => "DropClosed",
    /// A SYN that also carries FIN reached a listener (Linux drops it too:
    /// no connection opens and closes in one segment).
    SynFin => "DropSynFin",
    /// A segment for a TIME-WAIT entry that needed no answer.
    TimeWait => "DropTimeWait",
    /// The control-segment queue was full (replies are dropped, never queued
    /// without bound).
    ControlQueueFull => "DropControlQueueFull",
    /// A challenge ACK was suppressed by the per-connection rate limit.
    ChallengeAckLimited => "DropChallengeAckLimited",
    /// An ICMP error quoting a sequence number we have no data in flight
    /// for, or no connection (RFC 5927).
    IcmpIgnored => "DropIcmpIgnored",
    /// A fragmentation-needed error from a router that did not say the
    /// next-hop MTU (RFC 1191's MTU of zero): no size to lower to.
    IcmpNoMtu => "DropIcmpNoMtu",
}

/// Counters for the whole endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
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
    /// TIME-WAIT entries evicted before 2 x MSL because the table was full
    /// (Linux: TCPTimeWaitOverflow).
    pub time_wait_overflow: u64,
    /// Keep-alive probes sent (RFC 9293 3.8.4).
    pub keepalive_probes: u64,
    /// Recovery episodes started with SACK (TCPSACKRecovery).
    pub sack_recovery: u64,
    /// Recovery episodes started without SACK, on duplicate ACKs
    /// (TCPRenoRecovery).
    pub reno_recovery: u64,
    /// Tail loss probes sent (TCPLossProbes).
    pub loss_probes: u64,
    /// ACKs the delayed-ACK timer sent (DelayedACKs).
    pub delayed_acks: u64,
    /// Zero-window probes sent by the persist timer (TCPWinProbe).
    pub window_probes: u64,
    /// Path MTUs lowered because full-sized segments kept timing out with
    /// no ICMP error (a black hole, RFC 4821 7.2).
    pub pmtu_blackholes: u64,
    /// cwnd reductions for an ECN-Echo (RFC 3168).
    pub ecn_reductions: u64,
    /// Segments that arrived marked Congestion Experienced on an ECN
    /// connection.
    pub ecn_ce_received: u64,
    /// Losses repaired by a tail loss probe alone (TCPLossProbeRecovery).
    pub loss_probe_recovery: u64,
    /// Segments retransmitted in fast recovery (TCPFastRetrans).
    pub fast_retrans: u64,
    /// Retransmission timeouts for data (TCPTimeouts).
    pub timeouts: u64,
    /// Timeouts found spurious and undone (TCPSpuriousRTOs).
    pub spurious_rtos: u64,
    /// Window reductions undone as spurious (TCPLossUndo).
    pub loss_undo: u64,
    /// Reductions undone because D-SACKs showed every retransmission
    /// needless (TCPDSACKUndo).
    pub dsack_undo: u64,
    /// D-SACK blocks received (TCPDSACKRecv).
    pub dsack_recv: u64,
    /// D-SACK blocks sent for data below RCV.NXT (TCPDSACKOldSent).
    pub dsack_old_sent: u64,
    /// D-SACK blocks sent for data held out of order (TCPDSACKOfoSent).
    pub dsack_ofo_sent: u64,
    /// Reordering detected from SACKs (TCPSACKReorder).
    pub sack_reorder: u64,
    /// Peers that dropped data they had SACKed (TCPSACKReneging).
    pub sack_reneging: u64,
    /// SYNs held for the application's decision by an intercepting
    /// listener (retransmitted SYNs of one request count once).
    pub syn_requests: u64,
    /// SYNs an intercepting listener answered with a cookie at once
    /// because the pending SYNs were at their bound.
    pub syn_requests_overflow: u64,
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
            ("TCPTimeWaitOverflow", self.time_wait_overflow),
            ("TCPKeepAliveProbes", self.keepalive_probes),
            ("TCPSACKRecovery", self.sack_recovery),
            ("TCPRenoRecovery", self.reno_recovery),
            ("TCPLossProbes", self.loss_probes),
            ("TCPWinProbe", self.window_probes),
            ("DelayedACKs", self.delayed_acks),
            ("TCPECNReductions", self.ecn_reductions),
            ("TCPMTUBlackholes", self.pmtu_blackholes),
            ("TCPECNCeReceived", self.ecn_ce_received),
            ("TCPLossProbeRecovery", self.loss_probe_recovery),
            ("TCPFastRetrans", self.fast_retrans),
            ("TCPTimeouts", self.timeouts),
            ("TCPSpuriousRTOs", self.spurious_rtos),
            ("TCPLossUndo", self.loss_undo),
            ("TCPDSACKUndo", self.dsack_undo),
            ("TCPDSACKRecv", self.dsack_recv),
            ("TCPDSACKOldSent", self.dsack_old_sent),
            ("TCPDSACKOfoSent", self.dsack_ofo_sent),
            ("TCPSACKReorder", self.sack_reorder),
            ("TCPSACKReneging", self.sack_reneging),
            ("SynRequests", self.syn_requests),
            ("SynRequestsOverflow", self.syn_requests_overflow),
        ];
        main.into_iter()
            .chain(DropReason::ALL.iter().map(|&r| (r.name(), self.dropped(r))))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The list is the enum: `reason as usize` indexes `ALL` and the drop
    /// counters, and every name is distinct.
    #[test]
    fn every_reason_indexes_itself() {
        for (i, &r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r as usize, i, "{r:?}");
        }
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        let mut c = Counters::default();
        c.drop(*DropReason::ALL.last().unwrap());
        assert_eq!(c.iter().filter(|&(_, v)| v == 1).count(), 1);
    }
}
