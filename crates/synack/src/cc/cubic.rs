//! Placeholder until RFC 9438 CUBIC lands (being written on a branch):
//! NewReno's arithmetic under CUBIC's name slot, reported as such.

use super::{AckEvent, CongestionControl, CongestionEvent, NewReno};
use crate::time::Instant;

/// RFC 9438 CUBIC (placeholder: NewReno arithmetic for now).
#[derive(Clone, Debug, Default)]
pub struct Cubic(NewReno);

impl CongestionControl for Cubic {
    fn name(&self) -> &'static str {
        "newreno"
    }
    fn init(&mut self, now: Instant, mss: u32, iw: u32) {
        self.0.init(now, mss, iw)
    }
    fn on_ack(&mut self, ack: &AckEvent) {
        self.0.on_ack(ack)
    }
    fn on_congestion(&mut self, ev: &CongestionEvent) {
        self.0.on_congestion(ev)
    }
    fn on_recovery_end(&mut self, now: Instant) {
        self.0.on_recovery_end(now)
    }
    fn on_timeout(&mut self, now: Instant, in_flight: u32, mss: u32, first: bool) {
        self.0.on_timeout(now, in_flight, mss, first)
    }
    fn on_spurious(&mut self, now: Instant) {
        self.0.on_spurious(now)
    }
    fn on_idle_restart(&mut self, now: Instant, w: u32) {
        self.0.on_idle_restart(now, w)
    }
    fn on_mss_change(&mut self, old: u32, new: u32) {
        self.0.on_mss_change(old, new)
    }
    fn cwnd(&self) -> u32 {
        self.0.cwnd()
    }
    fn ssthresh(&self) -> u32 {
        self.0.ssthresh()
    }
}
