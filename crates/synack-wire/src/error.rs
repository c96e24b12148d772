//! The single error type of the crate.
//!
//! Every way a datagram from the network can be rejected has its own variant,
//! so that the engine can count drops by cause (RFC 1122 and RFC 9293 both
//! say "silently discard", but an operator still wants to know why).

use core::fmt;

/// Why a datagram was rejected by a parser, or why an emit was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WireError {
    /// The buffer ends before a fixed-size header does (empty buffer, fewer
    /// than 20 bytes of IPv4 or TCP header, fewer than 40 bytes of IPv6).
    Truncated,
    /// The IP version nibble is neither 4 nor 6, or it disagrees with the
    /// header being parsed.
    BadVersion,
    /// IPv4 IHL is below 5 or the header it claims runs past the buffer
    /// (RFC 791 3.1).
    BadIhl,
    /// IPv4 total length is smaller than the header or larger than the buffer.
    BadTotalLength,
    /// A fragment: IPv4 MF set or fragment offset non-zero, or an IPv6
    /// Fragment header. The stack does no reassembly.
    Fragmented,
    /// The IPv4 header checksum does not verify (RFC 791 3.1).
    BadIpChecksum,
    /// An IPv6 extension header that is unsupported (ESP 50, AH 51,
    /// Mobility 135, HIP 139, Shim6 140, experimental 253/254), malformed
    /// (runs past the payload, bad option TLV, Hop-by-Hop not first), carries
    /// an unrecognised option whose action bits demand a discard
    /// (RFC 8200 4.2), is a Routing header with Segments Left non-zero
    /// (RFC 8200 4.4: we are not the final destination), or the chain is
    /// longer than [`MAX_EXTENSION_HEADERS`](crate::MAX_EXTENSION_HEADERS).
    /// Carries the Next Header value that named the offending header.
    ExtensionHeader(u8),
    /// The upper-layer protocol is not TCP (carries the protocol number);
    /// IPv6 No Next Header (59) is reported as `NotTcp(59)`.
    NotTcp(u8),
    /// TCP data offset below 5, or the header it claims runs past the buffer
    /// (RFC 9293 3.1).
    BadDataOffset,
    /// The TCP checksum over pseudo-header, header and payload does not
    /// verify (RFC 9293 3.1, MUST-2/MUST-3).
    BadChecksum,
    /// A TCP option whose length byte is missing, below 2, runs past the end
    /// of the header, or is wrong for a known option kind (RFC 9293 3.1,
    /// MUST-7).
    BadOptionLength,
    /// The output buffer is too small for what is being emitted.
    BufferTooSmall,
    /// The TCP options to emit need more than 40 bytes.
    OptionsTooLong,
    /// IPv6 payload length is zero (jumbogram, RFC 2675, unsupported) or runs
    /// past the buffer; or a TCP segment is longer than its pseudo-header
    /// length field can express.
    BadPayloadLength,
    /// Source and destination addresses are of different families (one IPv4,
    /// one IPv6), so no pseudo-header or IP header can be built for them.
    AddressFamilyMismatch,
    /// Emit only: the datagram would exceed the 16-bit IPv4 total length or
    /// IPv6 payload length field (jumbograms are not emitted).
    PayloadTooLong,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WireError::Truncated => f.write_str("truncated header"),
            WireError::BadVersion => f.write_str("bad IP version"),
            WireError::BadIhl => f.write_str("bad IPv4 header length (IHL)"),
            WireError::BadTotalLength => f.write_str("bad IPv4 total length"),
            WireError::Fragmented => f.write_str("fragmented datagram"),
            WireError::BadIpChecksum => f.write_str("bad IPv4 header checksum"),
            WireError::ExtensionHeader(n) => {
                write!(f, "unsupported or malformed IPv6 extension header {n}")
            }
            WireError::NotTcp(p) => write!(f, "not TCP (protocol {p})"),
            WireError::BadDataOffset => f.write_str("bad TCP data offset"),
            WireError::BadChecksum => f.write_str("bad TCP checksum"),
            WireError::BadOptionLength => f.write_str("bad TCP option length"),
            WireError::BufferTooSmall => f.write_str("output buffer too small"),
            WireError::OptionsTooLong => f.write_str("TCP options longer than 40 bytes"),
            WireError::BadPayloadLength => f.write_str("bad payload length"),
            WireError::AddressFamilyMismatch => {
                f.write_str("source and destination address families differ")
            }
            WireError::PayloadTooLong => f.write_str("payload too long for the length field"),
        }
    }
}

impl std::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::WireError::{self, *};

    #[test]
    fn every_variant_has_a_distinct_message() {
        let all = [
            Truncated,
            BadVersion,
            BadIhl,
            BadTotalLength,
            Fragmented,
            BadIpChecksum,
            ExtensionHeader(50),
            NotTcp(17),
            BadDataOffset,
            BadChecksum,
            BadOptionLength,
            BufferTooSmall,
            OptionsTooLong,
            BadPayloadLength,
            AddressFamilyMismatch,
            PayloadTooLong,
        ];
        let msgs: Vec<String> = all.iter().map(|e| e.to_string()).collect();
        for (i, m) in msgs.iter().enumerate() {
            assert!(!m.is_empty());
            assert!(!msgs[..i].contains(m), "duplicate message {m}");
        }
        assert_eq!(
            ExtensionHeader(50).to_string(),
            "unsupported or malformed IPv6 extension header 50"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(NotTcp(17));
        assert_eq!(boxed.to_string(), "not TCP (protocol 17)");
        let _: WireError = Truncated;
    }
}
