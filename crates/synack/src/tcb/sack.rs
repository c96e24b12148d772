//! What an ACK tells the sender's scoreboard (RFC 6675's Update()): the
//! cumulative acknowledgment, the SACK blocks (RFC 2018 5) taken in
//! sequence order, the D-SACK block (RFC 2883 4), reneging (RFC 2018 8),
//! and for each segment newly delivered, RACK's record (RFC 8985 6.2) and
//! an RTT sample by Karn's rule. `recovery.rs` then acts on the summary.

use super::loss::Loss;
use super::scoreboard::{EVER_RETRANS, SACKED, Sent, before};
use super::{Ctx, Flags, Tcb};
use crate::seq::SeqNum;
use synack_wire::TcpSegment;

/// What an ACK told the scoreboard.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AckInfo {
    /// Bytes delivered for the first time, cumulatively or by SACK.
    pub(crate) delivered: u32,
    /// The latest transmit time (µs clock) of a segment delivered by this
    /// ACK that was never retransmitted: an unambiguous RTT sample.
    pub(crate) sample_xmit: Option<u32>,
    /// The ACK carried a D-SACK (RFC 2883).
    pub(crate) dsack: bool,
    /// A segment never retransmitted was delivered below the highest one
    /// delivered (RFC 8985 6.2 step 3).
    pub(crate) reordered: bool,
    /// A segment sent before the last timeout, and not retransmitted since,
    /// was delivered (F-RTO's proof of a spurious timeout).
    pub(crate) original_delivered: bool,
    /// New SACK information arrived.
    pub(crate) sacked: bool,
    /// Data bytes the cumulative ACK newly acknowledged.
    pub(crate) acked: u32,
    /// Bytes in flight before the ACK (the pipe).
    pub(crate) prior_in_flight: u32,
    /// FlightSize before the ACK: SND.NXT - SND.UNA.
    pub(crate) prior_flight: u32,
    /// It was a duplicate ACK (RFC 5681 2).
    pub(crate) dupack: bool,
    /// It would be a duplicate ACK but for nothing being outstanding: no
    /// data, FIN or window change, SEG.ACK = SND.UNA.
    pub(crate) pure_dup: bool,
    /// The RTT sample it gave, Karn's rule applied.
    pub(crate) rtt: Option<core::time::Duration>,
}

impl Tcb {
    /// Steps 1 and 2 of an ACK's effect on the sender: the cumulative ACK
    /// and the SACK blocks update the scoreboard (RFC 6675 Update(), RFC
    /// 2018 5, RFC 2883 4), each newly delivered segment updates RACK.
    pub(crate) fn scoreboard_ack(
        &mut self,
        ctx: &mut Ctx<'_>,
        seg: &TcpSegment<'_>,
        ack: SeqNum,
    ) -> AckInfo {
        let mut info = AckInfo::default();
        let sack_ok = self.flags.has(Flags::SACK_OK);
        let (snd_una, snd_nxt, max_wnd, mss) = (
            self.snd_una,
            self.snd_nxt,
            self.max_snd_wnd,
            u32::from(self.snd_mss),
        );
        let min_rtt = self.min_rtt_us;
        let echo = seg
            .options
            .timestamps
            .filter(|_| self.flags.has(Flags::TS_OK))
            .map(|t| t.tsecr);
        // Our TSval for a transmission at `xmit_us` (µs clock).
        let ts_of = |xmit_us: u32, ts_offset: u32| -> u32 {
            let ago = Self::clock_us(ctx.now).wrapping_sub(xmit_us);
            let then = ctx.now - core::time::Duration::from_micros(u64::from(ago));
            crate::isn::ts_clock(then, ts_offset)
        };
        let ts_offset = self.ts_offset;
        let now_us = Self::clock_us(ctx.now);
        // The blocks: RFC 2883 4 makes a first block below the cumulative
        // ACK, or inside the second block, a report of a duplicate. (A
        // first block that merely repeats what was SACKed before is no
        // such report: receivers repeat blocks.) The others are taken in
        // sequence order: a receiver lists the most recent first, and all
        // of one ACK's blocks were delivered together, so their order says
        // nothing about reordering.
        let mut dsack = None;
        let mut blocks = [(SeqNum(0), SeqNum(0)); 4];
        let mut n_blocks = 0;
        let lowest = snd_una.sub(max_wnd);
        if sack_ok {
            let opt = seg.options.sack;
            let opt = opt.as_slice();
            for (n, &(left, right)) in opt.iter().enumerate() {
                let (left, right) = (SeqNum(left), SeqNum(right));
                if !left.lt(right) {
                    continue;
                }
                let inside_next = opt
                    .get(n + 1)
                    .is_some_and(|&(l2, r2)| !left.lt(SeqNum(l2)) && !SeqNum(r2).lt(right));
                if n == 0 && (right.le(ack) || inside_next) {
                    dsack = Some((left, right));
                    continue;
                }
                // Blocks must lie in what is outstanding (RFC 5961 spirit:
                // a SACK for data never sent is ignored).
                if left.lt(lowest) || right.gt(snd_nxt) || n_blocks == 4 {
                    continue;
                }
                blocks[n_blocks] = (left.max(ack), right);
                n_blocks += 1;
            }
            blocks[..n_blocks].sort_unstable_by_key(|b| b.0.since(lowest));
        }
        if let Some((left, right)) = dsack {
            // Counted, and the reordering history widened (recovery_ack),
            // even with nothing outstanding: a late D-SACK still says a
            // retransmission was needless.
            info.dsack = true;
            ctx.counters.dsack_recv += 1;
            if let Some(l) = self.loss.as_deref_mut() {
                l.undo.retrans = l
                    .undo
                    .retrans
                    .saturating_sub(right.since(left).div_ceil(mss.max(1)));
                if l.tlp
                    .end
                    .is_some_and(|e| !e.lt(right) && right.since(left) <= mss)
                {
                    l.tlp.dsacked = true;
                }
            }
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return info;
        };
        let Loss {
            board, rack, frto, ..
        } = l;
        // `cumulative`: delivered by the cumulative ACK, whose timestamp
        // echo tells which transmission arrived. A SACK's echo does not:
        // a receiver echoes only in-order segments' timestamps (RFC 7323
        // 4.3), so for SACKed data RACK goes by the RTT alone, as Linux
        // does.
        let mut on_delivered = |s: &Sent, cumulative: bool| {
            let echo_before = cumulative
                && s.has(EVER_RETRANS)
                && echo.is_some_and(|e| before(e, ts_of(s.xmit, ts_offset)));
            info.reordered |= rack.on_delivered(s, now_us, min_rtt, echo_before);
            if !s.has(EVER_RETRANS) {
                info.sample_xmit = Some(match info.sample_xmit {
                    Some(x) if before(s.xmit, x) => x,
                    _ => s.xmit,
                });
                if frto.active && before(s.xmit, frto.rto_us) {
                    info.original_delivered = true;
                }
            }
        };
        if snd_una.lt(ack) {
            info.delivered += board.ack(ack, |s| on_delivered(s, true));
        }
        for &(left, right) in &blocks[..n_blocks] {
            let newly = board.sack(left, right, |s| on_delivered(s, false));
            info.delivered += newly;
            info.sacked |= newly > 0;
        }
        // RFC 2018 8: a SACKed segment at the cumulative ACK means the
        // receiver dropped what it had SACKed (reneging).
        if sack_ok
            && board
                .get(0)
                .is_some_and(|s| s.has(SACKED) && !s.start.gt(ack))
        {
            board.clear_sacks();
            ctx.counters.sack_reneging += 1;
        }
        info
    }
}
