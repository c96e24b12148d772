//! How a relay ended: bytes and ending of each direction, and the error
//! type that carries them when an I/O error ended it.

use std::fmt;
use std::io;

/// One of the two connections of a relay: `A` is the first argument of
/// [`relay`](super::relay), `B` the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first connection.
    A,
    /// The second connection.
    B,
}

/// Why one direction of a relay stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DirectionEnd {
    /// The source's end of stream was reached and, after all its data,
    /// forwarded as a FIN (a half-close).
    Finished,
    /// That side reset its connection (`ConnectionReset`,
    /// `ConnectionAborted`, or `BrokenPipe` on a write); the relay aborted
    /// the other.
    Reset(Side),
    /// A read or write on that side failed otherwise (the error is in
    /// [`RelayError`]); the relay aborted both sides.
    Error(Side),
    /// No byte moved either way for the idle timeout; the relay aborted
    /// both sides.
    IdleTimeout,
    /// The other direction had finished and this one moved no byte for
    /// the half-close timeout; the relay aborted both sides.
    HalfCloseTimeout,
}

/// What one direction of a relay carried, and how it stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DirectionStats {
    /// Bytes written to the destination (accepted into its send buffer;
    /// after an abort, not all of them need have arrived).
    pub bytes: u64,
    /// Why the direction stopped. A direction that had already
    /// [`Finished`](DirectionEnd::Finished) keeps that ending when the
    /// other stops otherwise.
    pub end: DirectionEnd,
}

/// What a relay did, for a forwarder's log. Its `Display` reads like
/// `a->b 1024 bytes (finished), b->a 17 bytes (reset by b)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RelayStats {
    /// From side A to side B.
    pub a_to_b: DirectionStats,
    /// From side B to side A.
    pub b_to_a: DirectionStats,
}

impl RelayStats {
    /// Both directions finished with an end of stream: both connections
    /// were closed gracefully, nothing was aborted.
    pub fn is_clean(&self) -> bool {
        self.a_to_b.end == DirectionEnd::Finished && self.b_to_a.end == DirectionEnd::Finished
    }
}

/// An I/O error other than a reset ended a relay. Both sides were aborted.
/// Converts into the `io::Error` (same kind) for `?`.
#[derive(Debug)]
pub struct RelayError {
    pub(super) side: Side,
    pub(super) error: io::Error,
    pub(super) stats: RelayStats,
}

impl RelayError {
    /// The side whose read or write failed.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The error.
    pub fn error(&self) -> &io::Error {
        &self.error
    }

    /// What the relay carried before the error.
    pub fn stats(&self) -> &RelayStats {
        &self.stats
    }

    /// The error, without the rest.
    pub fn into_io_error(self) -> io::Error {
        self.error
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::A => "a",
            Side::B => "b",
        })
    }
}

impl fmt::Display for DirectionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectionEnd::Finished => f.write_str("finished"),
            DirectionEnd::Reset(s) => write!(f, "reset by {s}"),
            DirectionEnd::Error(s) => write!(f, "error on {s}"),
            DirectionEnd::IdleTimeout => f.write_str("idle timeout"),
            DirectionEnd::HalfCloseTimeout => f.write_str("half-close timeout"),
        }
    }
}

impl fmt::Display for RelayStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a->b {} bytes ({}), b->a {} bytes ({})",
            self.a_to_b.bytes, self.a_to_b.end, self.b_to_a.bytes, self.b_to_a.end
        )
    }
}

impl fmt::Display for RelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "relay failed on side {}: {} ({})",
            self.side, self.error, self.stats
        )
    }
}

impl std::error::Error for RelayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<RelayError> for io::Error {
    fn from(e: RelayError) -> io::Error {
        io::Error::new(e.error.kind(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_conversion() {
        let stats = RelayStats {
            a_to_b: DirectionStats {
                bytes: 1024,
                end: DirectionEnd::Finished,
            },
            b_to_a: DirectionStats {
                bytes: 17,
                end: DirectionEnd::Reset(Side::B),
            },
        };
        assert_eq!(
            stats.to_string(),
            "a->b 1024 bytes (finished), b->a 17 bytes (reset by b)"
        );
        assert!(!stats.is_clean());
        let e = RelayError {
            side: Side::A,
            error: io::ErrorKind::TimedOut.into(),
            stats,
        };
        assert_eq!(e.side(), Side::A);
        let e: io::Error = e.into();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
