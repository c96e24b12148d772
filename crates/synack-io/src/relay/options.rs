//! How long a relay may sit idle, and how big its buffers are.

use std::time::Duration;

/// Settings of [`relay`](super::relay). Start from
/// [`RelayOptions::new`] (the defaults) and change what you need:
///
/// ```
/// use std::time::Duration;
/// use synack_io::relay::RelayOptions;
/// let opts = RelayOptions::new()
///     .idle(Some(Duration::from_secs(600)))
///     .half_close(None);
/// assert_eq!(opts.idle_timeout(), Some(Duration::from_secs(600)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelayOptions {
    idle: Option<Duration>,
    half_close: Option<Duration>,
    buffer_size: usize,
}

impl RelayOptions {
    /// The default idle timeout: 2 hours 4 minutes, the shortest that RFC
    /// 5382 (REQ-5) lets a NAT give an established TCP connection it
    /// cannot see to be dead. A relay sits where a NAT would, and those
    /// peers expect as much (a connection without keep-alives may well be
    /// idle for an hour); yet it holds two buffers per connection, so it
    /// should not keep dead ones forever.
    pub const DEFAULT_IDLE: Duration = Duration::from_secs(2 * 3600 + 4 * 60);

    /// The default half-close timeout: 60 seconds, Linux's
    /// `tcp_fin_timeout` and conntrack's CLOSE-WAIT timeout: how long
    /// a kernel waits on a peer that stopped talking after one side's FIN.
    pub const DEFAULT_HALF_CLOSE: Duration = Duration::from_secs(60);

    /// The default for the largest buffer of each direction: 1 MiB. A
    /// direction's buffer starts at 64 KiB (or this size, if smaller) and
    /// doubles while reads fill it, so only a bulk transfer reaches it;
    /// large reads and writes are what keep a fast relay's system calls
    /// (and the kernel's work behind each one) few.
    pub const DEFAULT_BUFFER_SIZE: usize = 1024 * 1024;

    /// The defaults: idle timeout [`DEFAULT_IDLE`](Self::DEFAULT_IDLE),
    /// half-close timeout [`DEFAULT_HALF_CLOSE`](Self::DEFAULT_HALF_CLOSE),
    /// buffers of [`DEFAULT_BUFFER_SIZE`](Self::DEFAULT_BUFFER_SIZE).
    pub const fn new() -> RelayOptions {
        RelayOptions {
            idle: Some(Self::DEFAULT_IDLE),
            half_close: Some(Self::DEFAULT_HALF_CLOSE),
            buffer_size: Self::DEFAULT_BUFFER_SIZE,
        }
    }

    /// When no byte has moved either way for this long, the relay aborts
    /// both sides. `None`: never (so does a time too far to represent);
    /// zero ends the relay at once.
    pub const fn idle(mut self, timeout: Option<Duration>) -> RelayOptions {
        self.idle = timeout;
        self
    }

    /// Once one direction has ended with an end of stream (forwarded as a
    /// FIN), the other may go this long without moving a byte before the
    /// relay aborts both sides. It counts from the end of the first
    /// direction and from each chunk of data after it, like HAProxy's
    /// `timeout client-fin`, so a long download after the client's FIN
    /// goes on as long as it keeps moving. `None`: only the idle timeout
    /// applies. When both apply, the shorter wins.
    pub const fn half_close(mut self, timeout: Option<Duration>) -> RelayOptions {
        self.half_close = timeout;
        self
    }

    /// The largest buffer of each direction, in bytes: the most read from
    /// one side before it is written to the other. Zero counts as one.
    /// A direction holds no buffer while it is quiet, starts with 64 KiB
    /// (or this size, if smaller) when data comes, doubles it while reads
    /// fill it, and gives it back once reads stop filling half of it or
    /// nothing has moved for a second.
    pub const fn buffer_size(mut self, bytes: usize) -> RelayOptions {
        self.buffer_size = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// The idle timeout (see [`idle`](Self::idle)).
    pub const fn idle_timeout(&self) -> Option<Duration> {
        self.idle
    }

    /// The half-close timeout (see [`half_close`](Self::half_close)).
    pub const fn half_close_timeout(&self) -> Option<Duration> {
        self.half_close
    }

    /// The largest buffer of each direction, in bytes.
    pub const fn buffer_len(&self) -> usize {
        self.buffer_size
    }
}

impl Default for RelayOptions {
    fn default() -> RelayOptions {
        RelayOptions::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_setters() {
        let o = RelayOptions::default();
        assert_eq!(o.idle_timeout(), Some(Duration::from_secs(7440)));
        assert_eq!(o.half_close_timeout(), Some(Duration::from_secs(60)));
        assert_eq!(o.buffer_len(), 1 << 20);
        let o = o.idle(None).half_close(None).buffer_size(0);
        assert_eq!((o.idle_timeout(), o.half_close_timeout()), (None, None));
        assert_eq!(o.buffer_len(), 1);
    }
}
