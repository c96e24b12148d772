//! What the event loop counts about the device, beside the engine's own
//! TCP counters. What the device drops itself, it counts itself
//! ([`DeviceCounters`](crate::device::DeviceCounters)).

/// Device and ICMP counters of one stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IoCounters {
    /// Datagrams read from the device.
    pub rx_packets: u64,
    /// Bytes read from the device.
    pub rx_bytes: u64,
    /// Datagrams handed to the device without an error (some of which it
    /// may have dropped on a full queue: `TxDropped` of its counters).
    pub tx_packets: u64,
    /// Bytes written to the device.
    pub tx_bytes: u64,
    /// Device read errors.
    pub rx_errors: u64,
    /// Device write errors (the datagram is lost; TCP retransmits).
    pub tx_errors: u64,
    /// ICMP echo requests answered.
    pub icmp_echo_replies: u64,
    /// ICMP errors quoting our segments, handed to the engine.
    pub icmp_errors: u64,
    /// ICMP messages not acted on (other types, not for us, malformed).
    pub icmp_ignored: u64,
    /// ICMP destination unreachables sent about segments not for us
    /// (`StackConfig::not_local`).
    pub icmp_unreachables_sent: u64,
    /// Such ICMP errors not sent: over the rate limit.
    pub icmp_rate_limited: u64,
    /// Times the event loop woke up.
    pub wakeups: u64,
}

impl IoCounters {
    /// Every counter as (name, value), in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("RxPackets", self.rx_packets),
            ("RxBytes", self.rx_bytes),
            ("TxPackets", self.tx_packets),
            ("TxBytes", self.tx_bytes),
            ("RxErrors", self.rx_errors),
            ("TxErrors", self.tx_errors),
            ("IcmpEchoReplies", self.icmp_echo_replies),
            ("IcmpErrors", self.icmp_errors),
            ("IcmpIgnored", self.icmp_ignored),
            ("IcmpUnreachablesSent", self.icmp_unreachables_sent),
            ("IcmpRateLimited", self.icmp_rate_limited),
            ("Wakeups", self.wakeups),
        ]
        .into_iter()
    }
}
