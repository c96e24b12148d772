//! Segment generation: SYN, SYN-ACK, data under the send and congestion
//! windows with Nagle and sender-side SWS avoidance, FIN, and ACKs.

use super::{Ctx, Flags, Tcb};
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use synack_wire::{TcpFlags, TcpHeader, TcpOptions, Timestamps};

/// A segment the TCB wants sent: its header, complete, so that it goes to
/// the wire as it is (no copy into another header), and its payload,
/// `data_len` bytes of the send buffer starting `data_offset` bytes after
/// SND.UNA.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutSegment {
    pub(crate) header: TcpHeader,
    pub(crate) data_offset: usize,
    pub(crate) data_len: usize,
    pub(crate) retransmission: bool,
}

impl Tcb {
    /// The next segment to send now, if any, with SND.NXT and the timers
    /// already advanced as if it were sent.
    #[inline(always)]
    pub(crate) fn next_segment(&mut self, ctx: &mut Ctx<'_>) -> Option<OutSegment> {
        match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => self.syn_segment(ctx, false),
            State::SynReceived => {
                if self.snd_nxt == self.iss {
                    self.syn_segment(ctx, true)
                } else {
                    self.ack_segment(ctx)
                }
            }
            State::TimeWait => self.ack_segment(ctx),
            _ => self.data_segment(ctx).or_else(|| self.ack_segment(ctx)),
        }
    }

    /// Whether `next_segment` may have something now. Never false when it
    /// would send (that would stall the connection); may be true when Nagle
    /// or the windows then hold the data back.
    pub(crate) fn wants_transmit(&self) -> bool {
        if self.flags.has(Flags::ACK_NOW) {
            return true;
        }
        match self.state {
            State::Closed | State::Listen | State::TimeWait => false,
            State::SynSent | State::SynReceived => self.snd_nxt == self.iss,
            _ => {
                let buffered = self.snd_buf.len() as u32;
                let data_end = self.snd_una.add(buffered);
                let unsent = data_end.since(self.snd_nxt);
                let window = self.snd_wnd.min(self.cc.cwnd);
                let fin_due = self.flags.has(Flags::FIN_QUEUED)
                    && !self.flags.has(Flags::FIN_ACKED)
                    && self.snd_nxt == data_end;
                fin_due
                    || (unsent > 0
                        && (window > self.flight() || self.flags.has(Flags::FORCE_PROBE)))
            }
        }
    }

    /// SYN (active) or SYN-ACK (passive or simultaneous) with our options.
    #[inline(always)]
    fn syn_segment(&mut self, ctx: &mut Ctx<'_>, with_ack: bool) -> Option<OutSegment> {
        if self.snd_nxt != self.iss {
            return None;
        }
        let cfg = ctx.cfg;
        let mut options = TcpOptions {
            mss: Some(cfg.advertised_mss(self.tuple.is_ipv6())),
            ..TcpOptions::default()
        };
        let tsval = self.ts_now(ctx.now);
        if with_ack {
            // RFC 7323 and RFC 2018: answer only with options the SYN had.
            if self.flags.has(Flags::TS_OK) {
                options.timestamps = Some(Timestamps {
                    tsval,
                    tsecr: self.ts_recent,
                });
            }
            if self.flags.has(Flags::WS_OK) {
                options.window_scale = Some(self.rcv_shift);
            }
            options.sack_permitted = self.flags.has(Flags::SACK_OK);
        } else {
            if cfg.timestamps {
                options.timestamps = Some(Timestamps { tsval, tsecr: 0 });
            }
            if cfg.window_scaling {
                options.window_scale = Some(cfg.window_shift());
            }
            options.sack_permitted = cfg.sack;
        }
        // The window of a SYN is never scaled (RFC 7323 2.2).
        let window = cfg.recv_buffer.min(65535) as u16;
        // Sent before only if SND.MAX moved past ISS + 1 once already
        // (a simultaneous open's SYN-ACK re-sends ISS as a new SYN-ACK).
        let retransmission = self.flags.has(Flags::SYN_RETRANSMITTED);
        self.snd_nxt = self.iss.add(1);
        self.snd_max = self.snd_max.max(self.snd_nxt);
        if with_ack {
            self.rcv_adv = self.rcv_nxt.add(u32::from(window));
        }
        if !retransmission {
            self.rtt_start = ctx.now;
        }
        self.start_retransmit_timer(ctx);
        self.flags.clear(Flags::ACK_NOW);
        let mut flags = TcpFlags::SYN;
        if with_ack {
            flags = TcpFlags::SYN | TcpFlags::ACK;
        }
        let ack = if with_ack { self.rcv_nxt } else { SeqNum(0) };
        Some(OutSegment {
            header: self.header(self.iss, ack, flags, window, options),
            data_offset: 0,
            data_len: 0,
            retransmission,
        })
    }

    /// Data and/or FIN, if the windows, Nagle and SWS avoidance allow.
    #[inline(always)]
    fn data_segment(&mut self, ctx: &mut Ctx<'_>) -> Option<OutSegment> {
        let mss = usize::from(self.snd_mss);
        let offset = self.snd_nxt.since(self.snd_una) as usize;
        let buffered = self.snd_buf.len();
        let unsent = buffered.saturating_sub(offset);
        let flight = self.flight() as usize;
        let window = self.snd_wnd.min(self.cc.cwnd) as usize;
        let usable = window.saturating_sub(flight);
        let fin_queued = self.flags.has(Flags::FIN_QUEUED) && !self.flags.has(Flags::FIN_ACKED);
        // Where the FIN sits: right after the last queued byte.
        let fin_seq = self.snd_una.add(buffered as u32);

        let mut len = unsent.min(mss).min(usable);
        let probe = self.flags.has(Flags::FORCE_PROBE) && unsent > 0 && usable == 0;
        let send_data = if probe {
            // Zero-window probe: one byte past the window (RFC 9293 3.8.6.1).
            len = 1;
            true
        } else if len == 0 {
            false
        } else if len == mss {
            true
        } else if len == unsent {
            // The last of the queued data: Nagle holds it while anything is
            // unacknowledged (RFC 9293 3.7.4), unless disabled or closing.
            self.flags.has(Flags::NODELAY) || flight == 0 || fin_queued
        } else {
            // Window-limited: sender SWS avoidance (RFC 9293 3.8.6.2.1)
            // sends only if at least half the largest window fits.
            // With nothing in flight no ACK will come to clock us, so the
            // window is used as it is rather than stall (the role of the
            // RFC's override timer).
            flight == 0 || (self.max_snd_wnd > 0 && len >= (self.max_snd_wnd as usize) / 2)
        };
        let seq = self.snd_nxt;
        let end = seq.add(if send_data { len as u32 } else { 0 });
        let with_fin = fin_queued && end == fin_seq && (send_data || unsent == 0);
        if !send_data && !with_fin {
            return None;
        }
        if !send_data {
            len = 0;
        }
        if probe {
            self.flags.clear(Flags::FORCE_PROBE);
        }
        let mut flags = TcpFlags::ACK;
        if len > 0 && len == unsent {
            // MUST-61: PSH on the segment that empties the queue.
            flags |= TcpFlags::PSH;
        }
        if with_fin {
            flags |= TcpFlags::FIN;
        }
        let retransmission = seq.lt(self.snd_max);
        self.snd_nxt = end.add(u32::from(with_fin));
        self.snd_max = self.snd_max.max(self.snd_nxt);
        if !retransmission && !self.flags.has(Flags::RTT_TIMING) {
            self.flags.set(Flags::RTT_TIMING);
            self.rtt_seq = seq;
            self.rtt_start = ctx.now;
        }
        self.start_retransmit_timer(ctx);
        let window = self.advertise_window(ctx);
        self.flags.clear(Flags::ACK_NOW);
        let options = self.segment_options(ctx.now);
        Some(OutSegment {
            header: self.header(seq, self.rcv_nxt, flags, window, options),
            data_offset: offset,
            data_len: len,
            retransmission,
        })
    }

    /// Takes back a segment `next_segment` produced that could not be
    /// emitted: SND.NXT (and SND.MAX, for new data) go back to where it
    /// started and the ACK it carried is owed again, so the next call
    /// builds it anew and no sequence space is skipped.
    pub(crate) fn unsend(&mut self, seg: &OutSegment) {
        let f = seg.header.flags;
        let seq = SeqNum(seg.header.seq);
        let end = seq.add(seg.data_len as u32 + u32::from(f.syn()) + u32::from(f.fin()));
        if self.snd_nxt == end && seq != end {
            self.snd_nxt = seq;
            if !seg.retransmission && self.snd_max == end {
                self.snd_max = seq;
            }
            if self.flags.has(Flags::RTT_TIMING) && self.rtt_seq == seq {
                self.flags.clear(Flags::RTT_TIMING);
            }
        }
        self.flags.set(Flags::ACK_NOW);
    }

    /// A bare ACK, if one is owed.
    #[inline(always)]
    fn ack_segment(&mut self, ctx: &mut Ctx<'_>) -> Option<OutSegment> {
        if !self.flags.has(Flags::ACK_NOW) {
            return None;
        }
        self.flags.clear(Flags::ACK_NOW);
        let window = self.advertise_window(ctx);
        let options = self.segment_options(ctx.now);
        // The RFC's SND.NXT is our `snd_max`: after a timeout `snd_nxt` goes
        // back to SND.UNA to resend, but the peer may already hold data up
        // to `snd_max` (its RCV.NXT can be there), and an ACK numbered below
        // its RCV.NXT would fail its acceptability test, ACK field and all.
        // Two sides doing that to each other deadlock.
        Some(OutSegment {
            header: self.header(self.snd_max, self.rcv_nxt, TcpFlags::ACK, window, options),
            data_offset: 0,
            data_len: 0,
            retransmission: false,
        })
    }

    /// The header of a segment of this connection.
    fn header(
        &self,
        seq: SeqNum,
        ack: SeqNum,
        flags: TcpFlags,
        window: u16,
        options: TcpOptions,
    ) -> TcpHeader {
        TcpHeader {
            src_port: self.tuple.local_port,
            dst_port: self.tuple.remote_port,
            seq: seq.0,
            ack: ack.0,
            flags,
            window,
            urgent_ptr: 0,
            options,
        }
    }

    /// Options of a non-SYN segment: timestamps once negotiated (RFC 7323
    /// 3.2: in every segment).
    fn segment_options(&self, now: Instant) -> TcpOptions {
        let mut o = TcpOptions::default();
        if self.flags.has(Flags::TS_OK) {
            o.timestamps = Some(Timestamps {
                tsval: self.ts_now(now),
                tsecr: self.ts_recent,
            });
        }
        o
    }

    /// The window field to send, and RCV.WND behind it. The right edge never
    /// moves left (SHLD-14) and moves right only in steps of at least
    /// min(buffer / 2, MSS): receiver-side SWS avoidance (RFC 9293
    /// 3.8.6.2.2, MUST-39).
    pub(crate) fn advertise_window(&mut self, ctx: &Ctx<'_>) -> u16 {
        let right = self.possible_right_edge(ctx);
        let step = (ctx.cfg.recv_buffer / 2).min(usize::from(self.snd_mss)) as u32;
        if right.gt(self.rcv_adv) && right.since(self.rcv_adv) >= step {
            self.rcv_adv = right;
        }
        if self.rcv_adv.lt(self.rcv_nxt) {
            self.rcv_adv = self.rcv_nxt;
        }
        let wnd = self.rcv_adv.since(self.rcv_nxt);
        // Round up so the scaled edge is not below what was promised.
        let shift = u32::from(self.rcv_shift);
        let field = (wnd.saturating_add((1 << shift) - 1) >> shift).min(65535);
        let edge = self.rcv_nxt.add(field << shift);
        if edge.gt(self.rcv_adv) {
            self.rcv_adv = edge;
        }
        field as u16
    }

    /// RCV.NXT plus the free receive-buffer space, capped by what the window
    /// field can express.
    fn possible_right_edge(&self, ctx: &Ctx<'_>) -> SeqNum {
        let free = ctx.cfg.recv_buffer.saturating_sub(self.rcv_buf.len()) as u64;
        let max = 65535u64 << self.rcv_shift;
        self.rcv_nxt.add(free.min(max) as u32)
    }

    /// Whether reading freed enough space to announce (a window update,
    /// DT-10): the window was below one step and can now grow by one.
    pub(crate) fn window_update_due(&self, ctx: &Ctx<'_>) -> bool {
        let step = (ctx.cfg.recv_buffer / 2).min(usize::from(self.snd_mss)) as u32;
        let right = self.possible_right_edge(ctx);
        self.rcv_wnd() < step && right.gt(self.rcv_adv) && right.since(self.rcv_adv) >= step
    }
}
