//! Where PSH goes beyond MUST-61, for `Config::psh_on_bursts`: Linux sets
//! PSH on every multi-segment (GSO) packet it sends, so that the
//! receiver's GRO flushes it at once, and sizes those packets to about a
//! millisecond of its pacing rate. synack sends segments one by one; with
//! the option it marks the segment that would end such a packet, so that
//! its segments carry PSH where Linux's would after segmentation.

use super::Tcb;

/// Linux's `tcp_min_tso_segs`.
const MIN_GSO_SEGS: u32 = 2;
/// Linux's GSO packets hold at most 64 KiB.
const MAX_GSO_BYTES: u32 = 65_536;

impl Tcb {
    /// Whether a new-data segment of `len` octets, after which `left`
    /// octets stay unsent and `usable` is what cwnd and the send window
    /// allow now, ends a GSO packet of two segments or more. Advances the
    /// count of segments in the packet being built.
    pub(super) fn ends_gso_packet(&mut self, len: usize, left: usize, usable: usize) -> bool {
        let mss = usize::from(self.snd_mss.max(1));
        let more_follow = left > 0 && usable.saturating_sub(len) >= left.min(mss);
        let position = u32::from(self.burst_sent) + 1;
        let ends = !more_follow || position >= self.gso_segs();
        self.burst_sent = if ends { 0 } else { position.min(255) as u8 };
        ends && position >= 2
    }

    /// Segments per GSO packet as Linux's `tcp_tso_autosize` picks them:
    /// its pacing rate (200 % of cwnd per SRTT in slow start below half
    /// ssthresh, 120 % otherwise) over 1024 gives the bytes; on a path of
    /// a few milliseconds or less, a share of 64 KiB more
    /// (`tcp_tso_rtt_log` 9); at least two segments. Before any RTT sample
    /// there is no pacing rate yet, and a packet is as large as it can be.
    fn gso_segs(&self) -> u32 {
        let mss = u32::from(self.snd_mss.max(1));
        let most = (MAX_GSO_BYTES / mss).max(MIN_GSO_SEGS);
        let Some(srtt_us) = self.rtt.srtt_us().filter(|s| *s > 0) else {
            return most;
        };
        let cwnd = self.cc.cwnd();
        let ratio: u64 = if cwnd < self.cc.ssthresh() / 2 {
            200
        } else {
            120
        };
        let flight = u64::from(cwnd.max(self.in_flight()));
        let rate = flight * ratio / 100 * 1_000_000 / u64::from(srtt_us);
        let mut bytes = rate >> 10;
        let r = self.min_rtt_us >> 9;
        if r < 32 {
            bytes += u64::from(MAX_GSO_BYTES >> r);
        }
        ((bytes / u64::from(mss)) as u32).clamp(MIN_GSO_SEGS, most)
    }
}
