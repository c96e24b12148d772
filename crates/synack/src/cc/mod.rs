//! Congestion control (RFC 5681, RFC 5033): the [`CongestionControl`] trait
//! that every algorithm implements, and the algorithms that come with the
//! engine: [`NewReno`] (RFC 5681, RFC 6582) and [`Cubic`] (RFC 9438) with
//! HyStart++ (RFC 9406), the default, as in Linux.
//!
//! The division of labour follows Linux's: the connection detects loss
//! (SACK, RACK-TLP, duplicate ACKs, timeouts), decides when a recovery
//! episode starts and ends, and during recovery paces its sending with
//! Proportional Rate Reduction (RFC 6937) towards the `ssthresh` the
//! algorithm chose. The algorithm decides how far to reduce (`ssthresh`),
//! how to grow outside recovery, and what to restore when a reduction
//! turns out to have been spurious.
//!
//! The connection calls, in this order for each acknowledgment: `on_ack`
//! (outside recovery the algorithm grows cwnd here), then, if this ACK
//! revealed loss, `on_congestion`; `on_recovery_end` when the episode's
//! recovery point is acknowledged; `on_timeout` on a retransmission
//! timeout; `on_spurious` when the last reduction is undone.

mod cubic;
mod hystart;
mod newreno;

use crate::time::Instant;
use core::fmt;
use core::time::Duration;
use std::sync::Arc;

pub use cubic::Cubic;
pub use hystart::HyStart;
pub use newreno::NewReno;

/// What one acknowledgment told the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AckEvent {
    /// When the ACK was processed.
    pub now: Instant,
    /// Bytes newly acknowledged cumulatively (SND.UNA moved by this much;
    /// SYN and FIN not counted).
    pub acked: u32,
    /// Bytes delivered for the first time by this ACK: cumulatively
    /// acknowledged or selectively (SACK) acknowledged.
    pub delivered: u32,
    /// Bytes in flight before this ACK was processed (RFC 6675's pipe).
    pub prior_in_flight: u32,
    /// Bytes in flight after it.
    pub in_flight: u32,
    /// The RTT sample this ACK gave, if any (Karn's rule applied).
    pub rtt: Option<Duration>,
    /// The smallest RTT seen on the connection.
    pub min_rtt: Option<Duration>,
    /// The smoothed RTT (RFC 6298).
    pub srtt: Option<Duration>,
    /// The data this ACK delivered was sent while the sender had less to
    /// send than cwnd allowed (application-limited, RFC 7661): growth
    /// measured over it says nothing about the path.
    pub app_limited: bool,
    /// The connection is in loss recovery: cwnd must not grow (the
    /// connection's PRR paces sending), though the algorithm may keep its
    /// own bookkeeping (rounds, RTT minima) up to date.
    pub in_recovery: bool,
    /// Current sender maximum segment size, in bytes.
    pub mss: u32,
    /// The highest sequence number sent so far (SND.NXT), for algorithms
    /// that count rounds (one round ends when this is acknowledged).
    pub snd_nxt: u32,
    /// The cumulative acknowledgment (SND.UNA after this ACK).
    pub snd_una: u32,
}

/// What signalled congestion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signal {
    /// Loss: fast retransmit, RACK, or a tail-loss probe that repaired a
    /// loss.
    Loss,
    /// An ECN-Echo (RFC 3168): reduce as for loss, without a loss.
    Ecn,
}

/// The start of a congestion episode (at most one per window of data: the
/// connection guarantees it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CongestionEvent {
    /// When it was detected.
    pub now: Instant,
    /// Loss or ECN.
    pub signal: Signal,
    /// Bytes in flight when it was detected (RFC 5681's FlightSize).
    pub in_flight: u32,
    /// Current sender maximum segment size.
    pub mss: u32,
}

/// A congestion-control algorithm, one instance per connection.
///
/// Windows are in bytes. Implementations must never return a cwnd below
/// one MSS, and must keep `ssthresh` at least two MSS once reduced (RFC
/// 5681 equation 4).
pub trait CongestionControl: fmt::Debug + Send {
    /// A short name (`"cubic"`, `"newreno"`), as `ss -i` prints it.
    fn name(&self) -> &'static str;

    /// The connection is established: its MSS and initial window (RFC
    /// 5681 3.1, RFC 6928; one segment if the SYN was lost) are known.
    /// Also called when a connection switches algorithm, with its current
    /// cwnd as the initial window.
    fn init(&mut self, now: Instant, mss: u32, initial_window: u32);

    /// An ACK that delivered data (or advanced SND.UNA).
    fn on_ack(&mut self, ack: &AckEvent);

    /// Congestion was detected: choose `ssthresh` (RFC 5681 eq. 4, RFC
    /// 9438 4.6). cwnd may be left as it is; the connection reduces its
    /// sending through PRR until [`on_recovery_end`](Self::on_recovery_end).
    fn on_congestion(&mut self, ev: &CongestionEvent);

    /// The recovery episode ended (its recovery point was acknowledged):
    /// set cwnd to what the algorithm wants to continue with (normally
    /// `ssthresh`).
    fn on_recovery_end(&mut self, now: Instant);

    /// A retransmission timeout (RFC 5681 3.1, RFC 9438 4.8): cwnd to one
    /// segment (the loss window). `first` is false when the same data
    /// timed out again, which keeps `ssthresh` where the first timeout put
    /// it.
    fn on_timeout(&mut self, now: Instant, in_flight: u32, mss: u32, first: bool);

    /// The last reduction was spurious (detected by D-SACK, timestamps or
    /// F-RTO, RFC 3522, RFC 5682): restore the state before it.
    fn on_spurious(&mut self, now: Instant);

    /// The connection sent nothing for more than one RTO and is about to
    /// send again (RFC 5681 4.1): restart from at most `restart_window`.
    fn on_idle_restart(&mut self, now: Instant, restart_window: u32);

    /// The MSS changed (path MTU discovery): scale the windows by new/old
    /// (RFC 5681 3.1, checklist CC-11).
    fn on_mss_change(&mut self, old: u32, new: u32);

    /// The congestion window, in bytes.
    fn cwnd(&self) -> u32;

    /// The slow-start threshold, in bytes (`u32::MAX` before the first
    /// reduction).
    fn ssthresh(&self) -> u32;

    /// A pacing rate in bytes per second, for algorithms that pace.
    fn pacing_rate(&self) -> Option<u64> {
        None
    }
}

/// The algorithm a connection uses, chosen in [`Config`](crate::Config)
/// or per connection with `Endpoint::set_congestion_control`.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// RFC 9438 CUBIC with HyStart++ (RFC 9406): the default, as in Linux.
    #[default]
    Cubic,
    /// RFC 5681 slow start and congestion avoidance, halving on loss.
    NewReno,
    /// Your own: called once per connection.
    Custom(Arc<dyn Fn() -> Box<dyn CongestionControl> + Send + Sync>),
}

impl fmt::Debug for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Algorithm::Cubic => f.write_str("Cubic"),
            Algorithm::NewReno => f.write_str("NewReno"),
            Algorithm::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// A connection's algorithm. The built-in ones are held inline and called
/// without dynamic dispatch (every ACK calls into them); only a custom one
/// costs a box.
#[derive(Debug)]
// CUBIC, the default, is the large variant: boxing it would cost most
// connections an allocation to save space on the few that choose NewReno.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Cc {
    NewReno(NewReno),
    Cubic(Cubic),
    Custom(Box<dyn CongestionControl>),
}

/// Calls `$m` on whichever algorithm `$cc` holds.
macro_rules! dispatch {
    ($cc:expr, $c:ident => $e:expr) => {
        match $cc {
            Cc::NewReno($c) => $e,
            Cc::Cubic($c) => $e,
            Cc::Custom($c) => $e,
        }
    };
}

impl Cc {
    /// A fresh instance of `alg`, not yet initialised.
    pub(crate) fn new(alg: &Algorithm) -> Cc {
        match alg {
            Algorithm::Cubic => Cc::Cubic(Cubic::default()),
            Algorithm::NewReno => Cc::NewReno(NewReno::default()),
            Algorithm::Custom(make) => Cc::Custom(make()),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        dispatch!(self, c => c.name())
    }
    pub(crate) fn init(&mut self, now: Instant, mss: u32, iw: u32) {
        dispatch!(self, c => c.init(now, mss, iw))
    }
    #[inline]
    pub(crate) fn on_ack(&mut self, ack: &AckEvent) {
        dispatch!(self, c => c.on_ack(ack))
    }
    pub(crate) fn on_congestion(&mut self, ev: &CongestionEvent) {
        dispatch!(self, c => c.on_congestion(ev))
    }
    pub(crate) fn on_recovery_end(&mut self, now: Instant) {
        dispatch!(self, c => c.on_recovery_end(now))
    }
    pub(crate) fn on_timeout(&mut self, now: Instant, in_flight: u32, mss: u32, first: bool) {
        dispatch!(self, c => c.on_timeout(now, in_flight, mss, first))
    }
    pub(crate) fn on_spurious(&mut self, now: Instant) {
        dispatch!(self, c => c.on_spurious(now))
    }
    pub(crate) fn on_idle_restart(&mut self, now: Instant, restart_window: u32) {
        dispatch!(self, c => c.on_idle_restart(now, restart_window))
    }
    pub(crate) fn on_mss_change(&mut self, old: u32, new: u32) {
        dispatch!(self, c => c.on_mss_change(old, new))
    }
    #[inline]
    pub(crate) fn cwnd(&self) -> u32 {
        dispatch!(self, c => c.cwnd()).max(1)
    }
    #[inline]
    pub(crate) fn ssthresh(&self) -> u32 {
        dispatch!(self, c => c.ssthresh())
    }
    pub(crate) fn pacing_rate(&self) -> Option<u64> {
        dispatch!(self, c => c.pacing_rate())
    }
}

/// The initial window (RFC 5681 3.1 equation 1), in bytes: 2 to 4
/// segments by SMSS.
pub fn rfc5681_initial_window(smss: u32) -> u32 {
    if smss > 2190 {
        2 * smss
    } else if smss > 1095 {
        3 * smss
    } else {
        4 * smss
    }
}

/// The initial window of RFC 6928, in bytes: min(10 SMSS, max(2 SMSS,
/// 14600)).
pub fn rfc6928_initial_window(smss: u32) -> u32 {
    (10 * smss).min((2 * smss).max(14_600))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CC-01: both initial windows, by SMSS.
    #[test]
    fn cc_01_initial_windows() {
        assert_eq!(rfc5681_initial_window(1460), 3 * 1460);
        assert_eq!(rfc5681_initial_window(536), 4 * 536);
        assert_eq!(rfc5681_initial_window(8960), 2 * 8960);
        assert_eq!(rfc6928_initial_window(1460), 14_600);
        assert_eq!(rfc6928_initial_window(1448), 14_480);
        assert_eq!(rfc6928_initial_window(536), 5360);
        assert_eq!(rfc6928_initial_window(8960), 17_920);
    }
}
