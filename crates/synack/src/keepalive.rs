//! Keep-alive settings (RFC 9293 3.8.4, checklist rows TM-04 to TM-06).

use crate::error::Error;
use core::time::Duration;

/// When an idle connection probes its peer, and when it gives up.
///
/// After `idle` with nothing received, the connection sends a probe (a
/// segment one octet left of SND.NXT that the peer must answer with an
/// ACK) every `interval`; after `probes` unanswered probes it resets the
/// connection and closes with `CloseReason::KeepaliveTimeout`, so a dead
/// peer is found within `idle + probes x interval`. Anything received
/// starts the idle time again. While data is in flight the retransmission
/// timer watches the peer instead.
///
/// Times are whole seconds from 1 to 32,767 and probes from 1 to 127, the
/// bounds of Linux's `TCP_KEEPIDLE`, `TCP_KEEPINTVL` and `TCP_KEEPCNT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    idle_s: u16,
    interval_s: u16,
    probes: u8,
}

impl Keepalive {
    /// The longest idle time or interval, in seconds.
    pub const MAX_SECS: u64 = 32_767;
    /// The most probes.
    pub const MAX_PROBES: u8 = 127;

    /// Keep-alive off, as a connection stores it (no valid setting has a
    /// zero idle time).
    pub(crate) const OFF: Keepalive = Keepalive {
        idle_s: 0,
        interval_s: 0,
        probes: 0,
    };

    /// RFC 9293's (and Linux's) defaults: probing starts after two hours
    /// idle (MUST-28's floor), every 75 s, and 9 unanswered probes end the
    /// connection (2 h 11 min 15 s for a dead peer).
    pub const RFC: Keepalive = Keepalive {
        idle_s: 7200,
        interval_s: 75,
        probes: 9,
    };

    /// For connections that must survive a NAT or a stateful firewall:
    /// a probe after 60 s of silence keeps the middlebox's mapping alive
    /// (home routers and cloud load balancers drop idle TCP mappings after
    /// 2 to 10 minutes, well under RFC 5382's recommended 2 h 4 min), and a
    /// dead peer is found after 60 s + 4 x 15 s = 2 minutes. Each idle
    /// connection then sends one small segment a minute.
    pub const NAT: Keepalive = Keepalive {
        idle_s: 60,
        interval_s: 15,
        probes: 4,
    };

    /// Settings of one's own; `Error::InvalidArgument` if a time is not a
    /// whole number of seconds from 1 to [`Keepalive::MAX_SECS`] or
    /// `probes` is not from 1 to [`Keepalive::MAX_PROBES`].
    pub fn new(idle: Duration, interval: Duration, probes: u8) -> Result<Keepalive, Error> {
        let secs = |d: Duration| {
            (d.subsec_nanos() == 0 && (1..=Self::MAX_SECS).contains(&d.as_secs()))
                .then_some(d.as_secs() as u16)
                .ok_or(Error::InvalidArgument)
        };
        if !(1..=Self::MAX_PROBES).contains(&probes) {
            return Err(Error::InvalidArgument);
        }
        Ok(Keepalive {
            idle_s: secs(idle)?,
            interval_s: secs(interval)?,
            probes,
        })
    }

    /// Silence before the first probe.
    pub fn idle(&self) -> Duration {
        Duration::from_secs(u64::from(self.idle_s))
    }

    /// Time between probes.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.interval_s))
    }

    /// Unanswered probes before the connection is reset.
    pub fn probes(&self) -> u8 {
        self.probes
    }
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive::RFC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_checked() {
        let s = Duration::from_secs;
        assert!(Keepalive::new(s(1), s(1), 1).is_ok());
        assert!(Keepalive::new(s(32_767), s(32_767), 127).is_ok());
        for (idle, interval, probes) in [
            (s(0), s(1), 1),
            (s(1), s(0), 1),
            (s(32_768), s(1), 1),
            (s(1), s(1), 0),
            (s(1), s(1), 128),
            (Duration::from_millis(1500), s(1), 1),
        ] {
            assert_eq!(
                Keepalive::new(idle, interval, probes),
                Err(Error::InvalidArgument),
                "{idle:?} {interval:?} {probes}"
            );
        }
        let k = Keepalive::new(s(10), s(2), 3).unwrap();
        assert_eq!((k.idle(), k.interval(), k.probes()), (s(10), s(2), 3));
        assert_eq!(Keepalive::default().idle(), s(7200));
    }
}
