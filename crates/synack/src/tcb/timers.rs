//! A connection's timers: one named deadline per purpose, in a table whose
//! size comes from the enum (after quinn-proto). The endpoint's timer heap
//! holds only each connection's earliest deadline; which timer that is,
//! and what it does, is the connection's business (`timeout.rs`).
//!
//! No timer is told apart by the connection's state: a TIME-WAIT timer is
//! `Timer::TimeWait`, whatever else the connection is doing.

use crate::time::Instant;

/// What a connection timer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timer {
    /// The retransmission timer (RFC 6298), also for SYN and SYN-ACK.
    Retransmit,
    /// RACK's tail loss probe (RFC 8985 7.2).
    LossProbe,
    /// RACK's reordering timer (RFC 8985 6.2 step 5).
    Reorder,
    /// Zero-window probing (RFC 9293 3.8.6.1).
    Persist,
    /// A delayed ACK (RFC 9293 3.8.6.3, `Config::delayed_ack`).
    DelayedAck,
    /// Keep-alive probing (RFC 9293 3.8.4, `Config::keepalive`).
    Keepalive,
    /// 2 x MSL in TIME-WAIT (RFC 9293 3.10.7.4).
    TimeWait,
    /// How long a connection the application has closed waits in
    /// FIN-WAIT-2 for the peer's FIN (`Config::fin_wait2_timeout`).
    FinWait2,
}

impl Timer {
    /// Every timer, in table order.
    pub const ALL: [Timer; 8] = [
        Timer::Retransmit,
        Timer::LossProbe,
        Timer::Reorder,
        Timer::Persist,
        Timer::DelayedAck,
        Timer::Keepalive,
        Timer::TimeWait,
        Timer::FinWait2,
    ];
    const COUNT: usize = Timer::ALL.len();

    /// A short name, as `ss -o` prints timers (`on`, `probe`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Timer::Retransmit => "on",
            Timer::LossProbe => "tlp",
            Timer::Reorder => "reorder",
            Timer::Persist => "persist",
            Timer::DelayedAck => "delack",
            Timer::Keepalive => "keepalive",
            Timer::TimeWait => "timewait",
            Timer::FinWait2 => "finwait2",
        }
    }
}

/// The deadlines, `Instant::NEVER` when stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timers([Instant; Timer::COUNT]);

impl Default for Timers {
    fn default() -> Self {
        Timers([Instant::NEVER; Timer::COUNT])
    }
}

impl Timers {
    #[inline]
    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = at;
    }

    #[inline]
    pub(crate) fn stop(&mut self, t: Timer) {
        self.0[t as usize] = Instant::NEVER;
    }

    /// The deadline of `t`, if it is running.
    #[inline]
    pub(crate) fn get(&self, t: Timer) -> Option<Instant> {
        let at = self.0[t as usize];
        (at != Instant::NEVER).then_some(at)
    }

    #[inline]
    pub(crate) fn is_set(&self, t: Timer) -> bool {
        self.0[t as usize] != Instant::NEVER
    }

    /// Stops every timer (the connection closed).
    pub(crate) fn stop_all(&mut self) {
        *self = Timers::default();
    }

    /// The earliest deadline, `Instant::NEVER` if none runs.
    #[inline]
    pub(crate) fn earliest(&self) -> Instant {
        self.0.iter().copied().min().unwrap_or(Instant::NEVER)
    }

    /// The earliest running timer and its deadline.
    pub(crate) fn next(&self) -> Option<(Timer, Instant)> {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.get(t).map(|at| (t, at)))
            .min_by_key(|&(_, at)| at)
    }

    /// A timer that is due at `now`, stopped as it is taken (earliest
    /// first).
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<Timer> {
        let (t, at) = self.next()?;
        if at > now {
            return None;
        }
        self.stop(t);
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_only_when_due() {
        let mut t = Timers::default();
        assert_eq!(t.earliest(), Instant::NEVER);
        assert_eq!(t.next(), None);
        t.set(Timer::TimeWait, Instant::from_millis(300));
        t.set(Timer::Retransmit, Instant::from_millis(100));
        t.set(Timer::Persist, Instant::from_millis(200));
        assert_eq!(t.earliest(), Instant::from_millis(100));
        assert_eq!(t.take_due(Instant::from_millis(99)), None);
        assert_eq!(
            t.take_due(Instant::from_millis(250)),
            Some(Timer::Retransmit)
        );
        assert_eq!(t.take_due(Instant::from_millis(250)), Some(Timer::Persist));
        assert_eq!(t.take_due(Instant::from_millis(250)), None);
        assert_eq!(t.get(Timer::TimeWait), Some(Instant::from_millis(300)));
        t.stop_all();
        assert!(!t.is_set(Timer::TimeWait));
    }
}
