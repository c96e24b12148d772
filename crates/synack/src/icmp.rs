//! ICMP errors about our segments (RFC 9293 3.9.2.2, RFC 1122 4.2.3.9,
//! RFC 5927). The device layer parses the ICMP message and the TCP header it
//! quotes; the engine decides what the error means for the connection.

use crate::seq::SeqNum;
use std::net::SocketAddr;

/// What an ICMP or ICMPv6 error said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IcmpErrorKind {
    /// ICMPv4 destination unreachable code 0, ICMPv6 no route (code 0).
    NetUnreachable,
    /// ICMPv4 code 1, ICMPv6 address unreachable (code 3).
    HostUnreachable,
    /// ICMPv4 code 2.
    ProtocolUnreachable,
    /// ICMPv4 code 3, ICMPv6 code 4.
    PortUnreachable,
    /// ICMPv4 code 4 with the next-hop MTU (RFC 1191).
    FragmentationNeeded {
        /// Next-hop MTU, 0 if the router did not say.
        mtu: u16,
    },
    /// ICMPv6 packet too big (RFC 8201).
    PacketTooBig {
        /// The MTU of the next hop.
        mtu: u32,
    },
    /// ICMPv4 code 5.
    SourceRouteFailed,
    /// ICMPv4 type 11, ICMPv6 type 3.
    TimeExceeded,
    /// ICMPv4 type 12, ICMPv6 type 4.
    ParameterProblem,
    /// Administratively prohibited (ICMPv4 codes 9, 10, 13; ICMPv6 code 1).
    AdminProhibited,
    /// Anything else that quotes our segment.
    Other,
}

impl IcmpErrorKind {
    /// Hard errors abort a connection that is still opening (RFC 9293
    /// SHLD-26: codes 2-4; fragmentation needed is PMTU, not an abort).
    pub fn is_hard(self) -> bool {
        matches!(
            self,
            IcmpErrorKind::ProtocolUnreachable | IcmpErrorKind::PortUnreachable
        )
    }
}

/// An ICMP error that quotes one of our TCP segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpError {
    /// Our socket (the quoted segment's source).
    pub local: SocketAddr,
    /// The peer's socket (the quoted segment's destination).
    pub remote: SocketAddr,
    /// The quoted segment's sequence number.
    pub seq: SeqNum,
    /// What went wrong.
    pub kind: IcmpErrorKind,
}
