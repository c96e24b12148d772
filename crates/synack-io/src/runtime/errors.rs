//! What a finished connection's calls return. The engine forgets a closed
//! connection (its calls then say `NotConnected`), so the socket layer
//! answers from the recorded `CloseReason`, with the error kinds that
//! `std::net` users already handle.

use std::io;
use synack::CloseReason;

/// The error for any call on a connection that ended abnormally.
pub(crate) fn close_error(reason: CloseReason) -> io::Error {
    let (kind, msg) = match reason {
        CloseReason::Normal => (io::ErrorKind::NotConnected, "connection closed"),
        CloseReason::Refused => (io::ErrorKind::ConnectionRefused, "connection refused"),
        CloseReason::Reset => (io::ErrorKind::ConnectionReset, "connection reset by peer"),
        CloseReason::TimedOut => (io::ErrorKind::TimedOut, "connection timed out"),
        CloseReason::Aborted => (io::ErrorKind::ConnectionAborted, "connection aborted"),
        CloseReason::HostUnreachable => (io::ErrorKind::HostUnreachable, "host unreachable"),
        CloseReason::NetworkUnreachable => {
            (io::ErrorKind::NetworkUnreachable, "network unreachable")
        }
        CloseReason::FinWait2Timeout => (
            io::ErrorKind::TimedOut,
            "timed out waiting for the peer to close",
        ),
        CloseReason::KeepaliveTimeout => (
            io::ErrorKind::TimedOut,
            "the peer stopped answering keep-alive probes",
        ),
        _ => (io::ErrorKind::Other, "connection failed"),
    };
    io::Error::new(kind, msg)
}

/// A read after the end: end of stream after a normal close.
pub(crate) fn read_after(reason: CloseReason) -> io::Result<usize> {
    match reason {
        CloseReason::Normal => Ok(0),
        r => Err(close_error(r)),
    }
}

/// A write after the end: a broken pipe after a normal close.
pub(crate) fn write_after(reason: CloseReason) -> io::Error {
    match reason {
        CloseReason::Normal => io::Error::new(io::ErrorKind::BrokenPipe, "connection closed"),
        r => close_error(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(read_after(CloseReason::Normal).unwrap(), 0);
        assert_eq!(
            read_after(CloseReason::Reset).unwrap_err().kind(),
            io::ErrorKind::ConnectionReset
        );
        assert_eq!(
            write_after(CloseReason::Normal).kind(),
            io::ErrorKind::BrokenPipe
        );
        assert_eq!(
            write_after(CloseReason::Refused).kind(),
            io::ErrorKind::ConnectionRefused
        );
        assert_eq!(
            close_error(CloseReason::TimedOut).kind(),
            io::ErrorKind::TimedOut
        );
        assert_eq!(
            close_error(CloseReason::Aborted).kind(),
            io::ErrorKind::ConnectionAborted
        );
    }
}
