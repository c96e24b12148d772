//! Congestion control per RFC 5681: slow start, congestion avoidance and the
//! reaction to a retransmission timeout. Fast retransmit and recovery, SACK
//! and CUBIC arrive with loss recovery; they plug in here.

/// cwnd and ssthresh, in bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Congestion {
    pub(crate) cwnd: u32,
    pub(crate) ssthresh: u32,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance
    /// (byte counting, RFC 5681 3.1).
    bytes_acked: u32,
}

impl Congestion {
    /// RFC 5681 3.1: IW by SMSS; ssthresh starts "arbitrarily high".
    pub(crate) fn new(smss: u32) -> Self {
        Congestion {
            cwnd: initial_window(smss),
            ssthresh: u32::MAX,
            bytes_acked: 0,
        }
    }

    /// RFC 5681 3.1: if the SYN or SYN-ACK was retransmitted, IW is one
    /// segment.
    pub(crate) fn syn_was_lost(&mut self, smss: u32) {
        self.cwnd = smss;
    }

    /// New data acknowledged.
    pub(crate) fn on_ack(&mut self, acked: u32, smss: u32) {
        if self.cwnd < self.ssthresh {
            // Slow start with appropriate byte counting (RFC 5681 eq. 2).
            self.cwnd = self.cwnd.saturating_add(acked.min(smss));
        } else {
            // Congestion avoidance: one SMSS per cwnd of bytes acknowledged.
            self.bytes_acked = self.bytes_acked.saturating_add(acked);
            if self.bytes_acked >= self.cwnd {
                self.bytes_acked -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(smss);
            }
        }
    }

    /// RFC 5681 eq. 4 on a retransmission timeout; `first` is false when the
    /// same segment times out again, which keeps ssthresh.
    pub(crate) fn on_rto(&mut self, flight: u32, smss: u32, first: bool) {
        if first {
            self.ssthresh = (flight / 2).max(2 * smss);
        }
        self.cwnd = smss;
        self.bytes_acked = 0;
    }
}

/// RFC 5681 3.1, equation 1.
pub(crate) fn initial_window(smss: u32) -> u32 {
    if smss > 2190 {
        2 * smss
    } else if smss > 1095 {
        3 * smss
    } else {
        4 * smss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CC-01: initial window by SMSS.
    #[test]
    fn cc_01_initial_window() {
        assert_eq!(initial_window(1460), 3 * 1460);
        assert_eq!(initial_window(536), 4 * 536);
        assert_eq!(initial_window(8960), 2 * 8960);
    }

    /// CC-03: slow start grows by at most SMSS per ACK (ABC).
    #[test]
    fn cc_03_slow_start_counts_bytes() {
        let mut c = Congestion::new(1000);
        let start = c.cwnd;
        c.on_ack(100, 1000);
        assert_eq!(c.cwnd, start + 100);
        c.on_ack(5000, 1000);
        assert_eq!(c.cwnd, start + 1100);
    }

    /// CC-04 and CC-05: after an RTO, one segment, then slow start up to
    /// ssthresh and linear growth beyond.
    #[test]
    fn cc_05_rto_resets_to_one_segment() {
        let mut c = Congestion::new(1000);
        c.cwnd = 20_000;
        c.on_rto(20_000, 1000, true);
        assert_eq!(c.cwnd, 1000);
        assert_eq!(c.ssthresh, 10_000);
        c.on_rto(1000, 1000, false);
        assert_eq!(c.ssthresh, 10_000);
        while c.cwnd < c.ssthresh {
            c.on_ack(1000, 1000);
        }
        let before = c.cwnd;
        for _ in 0..(before / 1000) {
            c.on_ack(1000, 1000);
        }
        assert_eq!(c.cwnd, before + 1000);
    }
}
