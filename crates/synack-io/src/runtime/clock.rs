//! The real clock, as the engine counts time: microseconds since the stack
//! was created.

use core::time::Duration;

/// Converts between `std::time::Instant` and `synack::Instant`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    base: std::time::Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            base: std::time::Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> synack::Instant {
        self.engine_time(std::time::Instant::now())
    }

    /// A real instant in engine time; earlier than the base is the epoch.
    pub(crate) fn engine_time(&self, t: std::time::Instant) -> synack::Instant {
        let us = t.saturating_duration_since(self.base).as_micros();
        synack::Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    /// An engine instant in real time; `None` for `NEVER` or beyond what
    /// the platform's clock can represent.
    pub(crate) fn real_time(&self, t: synack::Instant) -> Option<std::time::Instant> {
        if t == synack::Instant::NEVER {
            return None;
        }
        self.base.checked_add(Duration::from_micros(t.micros()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Clock::new();
        let t = synack::Instant::from_millis(1500);
        assert_eq!(c.engine_time(c.real_time(t).unwrap()), t);
        assert_eq!(c.real_time(synack::Instant::NEVER), None);
        assert!(c.now() < synack::Instant::from_secs(60));
    }
}
