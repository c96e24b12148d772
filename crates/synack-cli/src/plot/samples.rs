//! What the engine itself said during a run of synack's own: congestion
//! window, slow-start threshold and smoothed RTT of each connection over
//! time (from `ConnInfo`), and every state transition it reported.

use std::collections::HashMap;
use std::net::SocketAddr;
use synack::{ConnInfo, Instant, State};

/// One reading of a connection's congestion state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Virtual (or capture-clock) microseconds, the pcap's time base.
    pub time_us: u64,
    pub cwnd: u32,
    /// None before the first loss (the engine's `u32::MAX`).
    pub ssthresh: Option<u32>,
    pub srtt_us: Option<u64>,
}

/// The readings of one connection, seen from its `local` end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub points: Vec<Sample>,
}

/// A transition as the engine reported it (`Event::StateChanged`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineTransition {
    pub time_us: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub from: State,
    pub to: State,
}

/// Everything recorded from the engine during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Samples {
    pub series: Vec<Series>,
    pub transitions: Vec<EngineTransition>,
    /// Index into `series` by (local, remote), for the newest series of
    /// those sockets.
    index: HashMap<(SocketAddr, SocketAddr), usize>,
}

impl Samples {
    /// Records a connection's state at `now`, if its cwnd, ssthresh or
    /// SRTT changed since the last reading (so a run sampled on every
    /// event stays small).
    pub fn record(&mut self, now: Instant, info: &ConnInfo) {
        let sample = Sample {
            time_us: now.micros(),
            cwnd: info.cwnd,
            ssthresh: (info.ssthresh != u32::MAX).then_some(info.ssthresh),
            srtt_us: info
                .srtt
                .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        };
        let k = (info.local, info.remote);
        let i = match self.index.get(&k) {
            Some(&i) => i,
            None => {
                self.series.push(Series {
                    local: info.local,
                    remote: info.remote,
                    points: Vec::new(),
                });
                self.index.insert(k, self.series.len() - 1);
                self.series.len() - 1
            }
        };
        let points = &mut self.series[i].points;
        let same = |p: &Sample| {
            (p.cwnd, p.ssthresh, p.srtt_us) == (sample.cwnd, sample.ssthresh, sample.srtt_us)
        };
        if !points.last().is_some_and(same) {
            points.push(sample);
        }
    }

    /// Records a transition the engine reported at `now`.
    pub fn transition(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        from: State,
        to: State,
    ) {
        if to == State::Closed {
            // A later connection on the same sockets starts a new series.
            self.index.remove(&(local, remote));
        }
        self.transitions.push(EngineTransition {
            time_us: now.micros(),
            local,
            remote,
            from,
            to,
        });
    }
}
