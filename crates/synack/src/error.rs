//! Errors of the application-facing calls.

use core::fmt;
use std::io;

/// Why an application call failed. Converts into `std::io::Error` with the
/// kinds users already handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The handle names no live connection or listener.
    InvalidHandle,
    /// Nothing can be done now; try again after the next event.
    WouldBlock,
    /// The connection is not (or no longer) open for this call.
    NotConnected,
    /// The send side was shut down.
    BrokenPipe,
    /// The peer refused the connection.
    ConnectionRefused,
    /// The peer reset the connection.
    ConnectionReset,
    /// The application aborted the connection.
    ConnectionAborted,
    /// Retransmissions ran out.
    TimedOut,
    /// The address (or 4-tuple) is already in use.
    AddrInUse,
    /// No ephemeral port is free for this destination.
    AddrNotAvailable,
    /// The address cannot be used (broadcast, multicast, unspecified, or a
    /// family mismatch).
    InvalidAddress,
    /// A configured limit was reached.
    LimitReached,
    /// A setting out of its range (the call's docs give the range).
    InvalidArgument,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::InvalidHandle => "no such connection or listener",
            Error::WouldBlock => "operation would block",
            Error::NotConnected => "not connected",
            Error::BrokenPipe => "sending side already shut down",
            Error::ConnectionRefused => "connection refused",
            Error::ConnectionReset => "connection reset by peer",
            Error::ConnectionAborted => "connection aborted",
            Error::TimedOut => "connection timed out",
            Error::AddrInUse => "address in use",
            Error::AddrNotAvailable => "no local port available",
            Error::InvalidAddress => "invalid address",
            Error::LimitReached => "configured limit reached",
            Error::InvalidArgument => "invalid argument",
        };
        f.write_str(s)
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match e {
            Error::InvalidHandle | Error::NotConnected => io::ErrorKind::NotConnected,
            Error::WouldBlock => io::ErrorKind::WouldBlock,
            Error::BrokenPipe => io::ErrorKind::BrokenPipe,
            Error::ConnectionRefused => io::ErrorKind::ConnectionRefused,
            Error::ConnectionReset => io::ErrorKind::ConnectionReset,
            Error::ConnectionAborted => io::ErrorKind::ConnectionAborted,
            Error::TimedOut => io::ErrorKind::TimedOut,
            Error::AddrInUse => io::ErrorKind::AddrInUse,
            Error::AddrNotAvailable => io::ErrorKind::AddrNotAvailable,
            Error::InvalidAddress => io::ErrorKind::InvalidInput,
            Error::LimitReached => io::ErrorKind::OutOfMemory,
            Error::InvalidArgument => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}
