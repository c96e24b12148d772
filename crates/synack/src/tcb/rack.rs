//! RACK (RFC 8985 section 6): loss detection by time. A segment sent
//! before the most recently delivered one is lost once it has been
//! outstanding longer than that one's RTT plus a reordering window; until
//! then the reordering timer waits for the rest of the window.
//!
//! The per-connection reordering history (whether reordering was seen,
//! how far D-SACKs widened the window) outlives any one flight and lives
//! in the TCB; the rest is here, with the scoreboard.

use super::scoreboard::{Board, EVER_RETRANS, Sent, before};
use crate::seq::SeqNum;

/// RFC 8985's RACK.xmit_ts, RACK.end_seq, RACK.rtt and RACK.fack: what
/// the most recently sent segment that was delivered says.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rack {
    /// Whether a delivered segment has been seen in this flight.
    valid: bool,
    xmit: u32,
    end: SeqNum,
    /// RACK.rtt, microseconds.
    pub(crate) rtt_us: u32,
    /// The highest end of any segment delivered (RACK.fack), once one was.
    fack: Option<SeqNum>,
}

/// How much reordering the connection has shown (RFC 8985 6.2 steps 3
/// and 4), kept for its whole life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reordering {
    /// RACK.reordering_seen.
    pub(crate) seen: bool,
    /// RACK.reo_wnd_mult: D-SACKs widen the window one step at a time.
    pub(crate) mult: u8,
    /// RACK.reo_wnd_persist: recoveries left before a widened window
    /// shrinks back.
    pub(crate) persist: u8,
    /// RACK.dsack_round: no second widening until SND.UNA passes this.
    pub(crate) dsack_round: Option<SeqNum>,
}

impl Default for Reordering {
    fn default() -> Self {
        Reordering {
            seen: false,
            mult: 1,
            persist: 0,
            dsack_round: None,
        }
    }
}

/// RFC 8985 6.2 step 4: a widened window persists for 16 recoveries.
const REO_WND_PERSIST: u8 = 16;
/// DupThresh (RFC 6675 2).
pub(crate) const DUP_THRESH: u32 = 3;

impl Reordering {
    /// A D-SACK arrived (RFC 8985 6.2 step 4): widen the window, at most
    /// once per round trip; `snd_una`/`snd_nxt` bound the round.
    pub(crate) fn on_dsack(&mut self, snd_una: SeqNum, snd_nxt: SeqNum) {
        if self.dsack_round.is_some_and(|r| snd_una.lt(r)) {
            return;
        }
        self.mult = self.mult.saturating_add(1).min(32);
        self.dsack_round = Some(snd_nxt);
        self.persist = REO_WND_PERSIST;
    }

    /// A recovery ended: a widened window shrinks back after 16 of them.
    pub(crate) fn on_recovery_end(&mut self) {
        if self.persist > 0 {
            self.persist -= 1;
            if self.persist == 0 {
                self.mult = 1;
            }
        }
    }

    /// RACK.reo_wnd in microseconds (RFC 8985 6.2 step 4): zero when no
    /// reordering was seen and the sender is recovering, or DupThresh
    /// segments were SACKed (then RACK acts as the duplicate-ACK rule
    /// would); else a quarter of the minimum RTT per step, bounded by
    /// SRTT.
    pub(crate) fn window_us(
        &self,
        recovering: bool,
        sacked_segs: u32,
        min_rtt_us: u32,
        srtt_us: u32,
    ) -> u32 {
        if !self.seen && (recovering || sacked_segs >= DUP_THRESH) {
            return 0;
        }
        (min_rtt_us / 4)
            .saturating_mul(u32::from(self.mult))
            .min(srtt_us)
    }
}

impl Rack {
    /// RFC 8985 6.2 steps 1-3 for one segment newly delivered at `now_us`
    /// (µs clock). `echo_before_xmit` says the ACK's timestamp echo
    /// predates this transmission (so an earlier transmission was
    /// delivered, RFC 8985 step 2). Returns whether the delivery reveals
    /// reordering.
    pub(crate) fn on_delivered(
        &mut self,
        s: &Sent,
        now_us: u32,
        min_rtt_us: u32,
        echo_before_xmit: bool,
    ) -> bool {
        let rtt = now_us.wrapping_sub(s.xmit);
        // Step 2: a retransmitted segment whose ACK may be for the
        // original says nothing about the time of its last transmission.
        let ambiguous = s.has(EVER_RETRANS) && (rtt < min_rtt_us || echo_before_xmit);
        if !ambiguous {
            self.rtt_us = rtt;
            let newer = !self.valid
                || before(self.xmit, s.xmit)
                || (self.xmit == s.xmit && self.end.lt(s.end()));
            if newer {
                self.valid = true;
                self.xmit = s.xmit;
                self.end = s.end();
            }
        }
        // Step 3: a segment delivered below the highest one delivered,
        // never retransmitted, arrived out of order.
        let reordered = !s.has(EVER_RETRANS) && self.fack.is_some_and(|f| s.end().lt(f));
        if self.fack.is_none_or(|f| s.end().gt(f)) {
            self.fack = Some(s.end());
        }
        reordered
    }

    /// RFC 8985 6.2 step 5: marks lost every segment sent before the
    /// RACK segment that has waited longer than RACK.rtt + `reo_wnd_us`.
    /// Returns the bytes newly marked, if some segment may still turn out
    /// lost how long until it would (for the reordering timer), and
    /// whether a retransmission was among those lost.
    pub(crate) fn detect_loss(
        &self,
        board: &mut Board,
        now_us: u32,
        reo_wnd_us: u32,
    ) -> (u32, Option<u32>, bool) {
        if !self.valid {
            return (0, None, false);
        }
        let mut marked = 0;
        let mut lost_retrans = false;
        let mut wait: Option<u32> = None;
        let limit = self.rtt_us.saturating_add(reo_wnd_us);
        for i in 0..board.len() {
            let s = board.at(i);
            if s.has(super::scoreboard::SACKED) || s.needs_retransmit() {
                continue;
            }
            // Only segments sent before the RACK segment can be judged.
            let sent_before =
                before(s.xmit, self.xmit) || (s.xmit == self.xmit && s.end().lt(self.end));
            if !sent_before {
                continue;
            }
            let waited = now_us.wrapping_sub(s.xmit);
            if waited >= limit {
                if board.mark_lost(i) {
                    marked += s.len;
                    lost_retrans |= s.has(EVER_RETRANS);
                }
            } else {
                let left = limit - waited;
                wait = Some(wait.map_or(left, |w| w.min(left)));
            }
        }
        (marked, wait, lost_retrans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LR-09: one loss with later segments delivered is marked once it has
    /// waited RACK.rtt + reo_wnd, and not before; the timer covers the gap.
    #[test]
    fn lr_09_time_based_loss_marking() {
        let mut b = Board::default();
        for k in 0..4u32 {
            b.push(SeqNum(100 * k), 100, 1_000 * k, 0);
        }
        let mut r = Rack::default();
        // Segment 3 (sent at 3 ms) is SACKed at 43 ms: RACK.rtt 40 ms.
        let now = 43_000;
        let mut delivered = Vec::new();
        b.sack(SeqNum(300), SeqNum(400), |s| delivered.push(*s));
        for s in &delivered {
            assert!(!r.on_delivered(s, now, 40_000, false));
        }
        assert_eq!(r.rtt_us, 40_000);
        // With a 5 ms reordering window nothing is lost yet: segment 0 has
        // waited 43 ms of the 45 allowed.
        let (marked, wait, _) = r.detect_loss(&mut b, now, 5_000);
        assert_eq!((marked, wait), (0, Some(2_000)));
        // At 45 ms segments 0 is lost; 1 and 2 follow as time passes.
        let (marked, wait, rexmit) = r.detect_loss(&mut b, 45_000, 5_000);
        assert_eq!((marked, wait, rexmit), (100, Some(1_000), false));
        let (marked, _, _) = r.detect_loss(&mut b, 47_000, 5_000);
        assert_eq!(marked, 200);
        assert_eq!(b.lost, 300);
    }

    /// LR-10: the reordering window is zero until reordering is seen (in
    /// recovery, or with DupThresh SACKed), a quarter min RTT per step
    /// otherwise, bounded by SRTT; D-SACKs widen it once per round trip
    /// and it shrinks back after 16 recoveries.
    #[test]
    fn lr_10_reordering_window() {
        let mut reo = Reordering::default();
        assert_eq!(reo.window_us(true, 0, 40_000, 50_000), 0);
        assert_eq!(reo.window_us(false, 3, 40_000, 50_000), 0);
        assert_eq!(reo.window_us(false, 2, 40_000, 50_000), 10_000);
        reo.seen = true;
        assert_eq!(reo.window_us(true, 9, 40_000, 50_000), 10_000);
        reo.on_dsack(SeqNum(0), SeqNum(1000));
        reo.on_dsack(SeqNum(500), SeqNum(2000));
        assert_eq!(reo.mult, 2, "one widening per round trip");
        reo.on_dsack(SeqNum(1000), SeqNum(3000));
        assert_eq!(reo.mult, 3);
        assert_eq!(
            reo.window_us(false, 0, 40_000, 25_000),
            25_000,
            "SRTT bound"
        );
        for _ in 0..16 {
            reo.on_recovery_end();
        }
        assert_eq!(reo.mult, 1);
    }

    /// RFC 8985 step 2: an ambiguous ACK of a retransmission does not
    /// move RACK; step 3: a never-retransmitted segment delivered below
    /// the highest delivered one is reordering.
    #[test]
    fn ambiguous_samples_and_reordering() {
        let mut r = Rack::default();
        let late = Sent {
            start: SeqNum(0),
            len: 100,
            xmit: 0,
            flags: 0,
        };
        let high = Sent {
            start: SeqNum(100),
            len: 100,
            xmit: 10,
            flags: 0,
        };
        assert!(!r.on_delivered(&high, 1_000, 500, false));
        assert!(r.on_delivered(&late, 1_100, 500, false));
        let rtx = Sent {
            start: SeqNum(200),
            len: 100,
            xmit: 900,
            flags: EVER_RETRANS,
        };
        r.on_delivered(&rtx, 1_000, 500, false);
        assert_eq!(
            r.rtt_us, 1_100,
            "a 100 µs sample of a retransmission is ambiguous"
        );
    }
}
