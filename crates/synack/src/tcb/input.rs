//! SEGMENT ARRIVES (RFC 9293 section 3.10.7) for a connection that has a TCB:
//! SYN-SENT (3.10.7.3) and the other states (3.10.7.4), as one small
//! function per step of the RFC.

use super::loss::RecoveryState;
use super::reassembly::Held;
use super::{Ctx, Flags, Tcb, Timer};
use crate::control::ControlSegment;
use crate::counters::DropReason;
use crate::event::{CloseReason, Event, OpenKind};
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use core::time::Duration;
use synack_wire::{TcpFlags, TcpSegment};

/// The acceptability test of RFC 9293 3.10.7.4, table 6 (checklist SA-01).
pub(crate) fn acceptable(seq: SeqNum, seg_len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    let right = rcv_nxt.add(rcv_wnd);
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_range(rcv_nxt, right),
        (_, 0) => false,
        (len, _) => {
            let last = seq.add(len - 1);
            seq.in_range(rcv_nxt, right) || last.in_range(rcv_nxt, right)
        }
    }
}

impl Tcb {
    /// Entry point: one validated segment for this connection.
    #[inline]
    pub(crate) fn on_segment(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>) {
        match self.state {
            State::Closed | State::Listen => ctx.counters.drop(DropReason::Closed),
            State::SynSent => self.on_segment_syn_sent(ctx, seg),
            _ => self.on_segment_synchronized(ctx, seg),
        }
        self.apply_queued_close(ctx);
    }

    /// A CLOSE issued before the handshake finished takes effect once it
    /// has (RFC 9293 3.10.4: "queue for processing after entering
    /// ESTABLISHED state").
    pub(crate) fn apply_queued_close(&mut self, ctx: &mut Ctx<'_>) {
        if !self.flags.has(Flags::FIN_QUEUED) {
            return;
        }
        match self.state {
            State::Established => self.set_state(ctx, State::FinWait1),
            State::CloseWait => self.set_state(ctx, State::LastAck),
            _ => {}
        }
    }

    /// RFC 9293 3.10.7.3.
    fn on_segment_syn_sent(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>) {
        let f = seg.flags;
        let seq = SeqNum(seg.seq);
        let ack = SeqNum(seg.ack);
        // First: an ACK must acknowledge our SYN exactly, or it gets a RST
        // and changes nothing (CE-04).
        if f.ack() && (ack.le(self.iss) || ack.gt(self.snd_nxt)) {
            if !f.rst() {
                self.reset_unacceptable_ack(ctx, ack);
            }
            ctx.counters.drop(DropReason::SynSentUnexpected);
            return;
        }
        // Second: RST. Only with an acceptable ACK does it refuse (CE-05).
        if f.rst() {
            if f.ack() {
                self.close(ctx, CloseReason::Refused);
            } else {
                ctx.counters.drop(DropReason::RstIgnored);
            }
            return;
        }
        // Fourth: SYN. Anything else is dropped and we stay in SYN-SENT.
        if !f.syn() {
            ctx.counters.drop(DropReason::SynSentUnexpected);
            return;
        }
        self.irs = seq;
        self.rcv_nxt = seq.add(1);
        self.rcv_adv = self.rcv_nxt;
        self.negotiate(&seg.options, ctx.cfg);
        if let Some(ts) = seg.options.timestamps
            && self.flags.has(Flags::TS_OK)
        {
            self.set_ts_recent(ts.tsval, ctx.now);
        }
        if f.ack() {
            self.ecn_syn_ack_received(ctx.cfg.ecn, f);
            self.uto_received(ctx.cfg, &seg.options);
            // Our SYN is acknowledged exactly (ISS + 1): ESTABLISHED (CE-06).
            self.snd_una = ack;
            if self.snd_nxt.lt(ack) {
                self.snd_nxt = ack;
            }
            // RFC 7323 2.2: the window of a SYN segment is never scaled.
            self.snd_wnd = u32::from(seg.window);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.handshake_rtt(ctx, seg);
            self.handshake_done(ctx);
            self.set_state(ctx, State::Established);
            // The SYN's timer stops; data queued during the handshake that
            // meets a closed window needs the persist timer (MUST-36).
            self.rearm(ctx, true);
            ctx.events.push_back(Event::Connected {
                conn: self.id,
                how: self.open,
            });
            self.flags.set(Flags::ACK_NOW);
            // Data or FIN riding on the SYN-ACK (RFC 9293: continue at the
            // sixth step).
            self.process_text(ctx, seq.add(1), seg.payload, seg.flags.fin());
        } else {
            // Crossing SYNs: simultaneous open (CE-07, RFC 9293 figure 7).
            // SND.NXT goes back to ISS so that the SYN is sent again, now
            // with an ACK: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
            self.open = OpenKind::Simultaneous;
            self.snd_wnd = u32::from(seg.window);
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seq;
            self.snd_wl2 = self.iss;
            self.snd_nxt = self.iss;
            self.set_state(ctx, State::SynReceived);
        }
    }

    /// RFC 9293 3.10.7.4 for SYN-RECEIVED and the synchronized states.
    fn on_segment_synchronized(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>) {
        // Simultaneous open, RFC 9293 figure 7 line 6: the peer's SYN-ACK
        // repeats its SYN at IRS, one before the window. Trim the SYN off
        // (3.10.7.4: "trimming off any portions that lie outside the window
        // (including SYN and FIN)") so the segment starts at RCV.NXT and its
        // ACK of our SYN completes the open (CE-07), as in Linux.
        if self.state == State::SynReceived
            && self.open == OpenKind::Simultaneous
            && seg.flags.syn()
            && seg.flags.ack()
            && !seg.flags.rst()
            && SeqNum(seg.seq) == self.irs
        {
            let mut trimmed = *seg;
            trimmed.seq = self.irs.add(1).0;
            trimmed.flags = TcpFlags(seg.flags.0 & !TcpFlags::SYN.0);
            self.on_segment_synchronized(ctx, &trimmed);
            return;
        }
        let f = seg.flags;
        let orig_seq = SeqNum(seg.seq);
        // The peer retransmitted its SYN: our SYN-ACK was lost. Answer at
        // once rather than wait for our own timer.
        if self.state == State::SynReceived
            && f.syn()
            && !f.ack()
            && !f.rst()
            && orig_seq == self.irs
        {
            self.snd_nxt = self.iss;
            return;
        }

        // RFC 7323 5.3 R1 (PAWS) and 3.2, before the sequence number test.
        if !self.timestamps_acceptable(ctx, seg) {
            return;
        }

        // First: sequence number (SA-01, SA-02). A RST is judged by its
        // sequence number alone (RFC 5961 3.2): any payload it carries is
        // not text (SHLD-2), and a zero window must not hide it (MUST-66).
        let seg_len = if f.rst() {
            0
        } else {
            seg.payload.len() as u32 + u32::from(f.syn()) + u32::from(f.fin())
        };
        if !acceptable(orig_seq, seg_len, self.rcv_nxt, self.rcv_wnd()) {
            self.on_unacceptable(ctx, seg, seg_len);
            return;
        }
        self.keepalive_heard(ctx.now);
        if seg.options.user_timeout.is_some() {
            self.uto_received(ctx.cfg, &seg.options);
        }

        // RFC 7323 5.3 R3: remember the newest timestamp of a segment that
        // does not start beyond what we last acknowledged. With
        // `Config::linux_ack_checks` only once its ACK has proved
        // acceptable, as Linux does: a segment with a forged ACK then
        // cannot move TS.Recent.
        let mut ts_update = None;
        if let (true, Some(ts)) = (self.flags.has(Flags::TS_OK), seg.options.timestamps)
            && !f.rst()
            && orig_seq.le(self.last_ack_sent)
            && (ts.tsval.wrapping_sub(self.ts_recent) as i32 >= 0 || self.ts_recent_stale(ctx.now))
        {
            if ctx.cfg.linux_ack_checks {
                ts_update = Some(ts.tsval);
            } else {
                self.set_ts_recent(ts.tsval, ctx.now);
            }
        }

        // Second: RST (RFC 5961 3.2; SA-04).
        if f.rst() {
            self.on_rst(ctx, orig_seq);
            return;
        }

        // Fourth: SYN in a synchronized state (RFC 5961 4.2; SA-05).
        if f.syn() {
            if self.state == State::SynReceived && self.open != OpenKind::Simultaneous {
                // Passive open: back to LISTEN, which for us means dropping
                // this half-open child; the listener is untouched (CE-09).
                self.close(ctx, CloseReason::Reset);
                return;
            }
            ctx.counters.drop(DropReason::SynInSynchronized);
            self.challenge_ack(ctx);
            return;
        }

        // Fifth: ACK.
        if !f.ack() {
            ctx.counters.drop(DropReason::NoAck);
            return;
        }
        let ack = SeqNum(seg.ack);
        if self.state == State::SynReceived && !self.on_ack_syn_received(ctx, seg, ack) {
            return;
        }
        if !self.on_ack(ctx, seg, ack) {
            return;
        }
        if let Some(tsval) = ts_update {
            self.set_ts_recent(tsval, ctx.now);
        }
        self.cwr_received(f);

        // Trim what we already have (SA-14); a SYN cannot reach here.
        let (seq, payload, fin) = self.trim_received(orig_seq, seg.payload, f.fin());
        if seq != orig_seq && !seg.payload.is_empty() {
            // The front of it we had: report that part (RFC 2883 4.1.1).
            let dup_end = orig_seq.add(seg.payload.len() as u32).min(seq);
            self.note_duplicate(orig_seq, dup_end);
        }
        // Sixth: URG (urgent.rs); seventh and eighth: text and FIN.
        self.urgent_received(ctx, seg);
        self.process_text(ctx, seq, payload, fin);
    }

    /// Step 1 failed (SA-01, SA-02): answer, or not, and drop.
    fn on_unacceptable(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>, seg_len: u32) {
        let f = seg.flags;
        let orig_seq = SeqNum(seg.seq);
        if self.rcv_wnd() == 0 && orig_seq == self.rcv_nxt && !f.rst() && !f.syn() {
            // A zero window accepts no text, but "special allowance should
            // be made to accept valid ACKs, URGs, and RSTs" (RFC 9293
            // 3.10.7.4, MUST-66): process the segment as a bare ACK and say
            // again that the window is closed.
            let mut bare = *seg;
            bare.payload = &[];
            bare.flags = TcpFlags(seg.flags.0 & !TcpFlags::FIN.0);
            ctx.counters.drop(DropReason::OutOfWindow);
            self.flags.set(Flags::ACK_NOW);
            self.on_segment_synchronized(ctx, &bare);
            return;
        }
        if f.rst() {
            ctx.counters.drop(DropReason::RstIgnored);
        } else if orig_seq.add(seg_len).le(self.rcv_nxt) {
            // An old duplicate (our ACK was lost, or the peer timed out): the
            // ACK is what repairs it, so it is never rate-limited.
            ctx.counters.drop(DropReason::OutOfWindow);
            if seg.payload.is_empty() {
                self.flags.set(Flags::ACK_NOW);
            } else {
                // Data we have: report it as a duplicate (RFC 2883), in an
                // ACK of its own. A burst of needless retransmissions
                // processed together would otherwise draw one ACK, and
                // the sender would learn of one duplicate where it needs
                // every one to undo its reduction and widen its
                // reordering window (RFC 8985 6.2, as Linux counts them).
                let end = orig_seq.add(seg.payload.len() as u32);
                self.note_duplicate(orig_seq, end);
                self.ack_immediately(ctx);
            }
        } else {
            // Beyond the window: answered, but within the per-connection
            // budget (RFC 5961 section 7).
            ctx.counters.drop(DropReason::OutOfWindow);
            self.challenge_ack(ctx);
        }
    }

    /// Cuts off the octets before RCV.NXT that we already have (RFC 9293
    /// 3.10.7.4: only new octets are processed; SA-14). Returns the new
    /// start, the new octets, and whether a FIN remains.
    fn trim_received<'p>(
        &self,
        seq: SeqNum,
        payload: &'p [u8],
        fin: bool,
    ) -> (SeqNum, &'p [u8], bool) {
        if !seq.lt(self.rcv_nxt) {
            return (seq, payload, fin);
        }
        let skip = self.rcv_nxt.since(seq) as usize;
        if skip >= payload.len() {
            // Only a FIN (if any) may remain, and only if it lies at or
            // after RCV.NXT.
            (self.rcv_nxt, &[], fin && skip <= payload.len())
        } else {
            (self.rcv_nxt, &payload[skip..], fin)
        }
    }

    /// RST handling of 3.10.7.4 step 2 with RFC 5961's exact-match rule.
    fn on_rst(&mut self, ctx: &mut Ctx<'_>, seq: SeqNum) {
        if seq != self.rcv_nxt {
            ctx.counters.drop(DropReason::RstNotExact);
            self.challenge_ack(ctx);
            return;
        }
        match self.state {
            State::SynReceived => {
                // Passive: back to LISTEN (the child goes, the listener
                // stays). Active (simultaneous): connection refused (CE-09).
                let reason = if self.open == OpenKind::Simultaneous {
                    CloseReason::Refused
                } else {
                    CloseReason::Reset
                };
                self.close(ctx, reason);
            }
            State::Established | State::CloseWait => {
                ctx.counters.estab_resets += 1;
                self.close(ctx, CloseReason::Reset);
            }
            _ => self.close(ctx, CloseReason::Reset),
        }
    }

    /// Step 5 in SYN-RECEIVED: only an ACK of exactly our SYN establishes the
    /// connection (CE-08). Returns whether processing continues.
    fn on_ack_syn_received(
        &mut self,
        ctx: &mut Ctx<'_>,
        seg: &TcpSegment<'_>,
        ack: SeqNum,
    ) -> bool {
        if !(self.snd_una.lt(ack) && ack.le(self.snd_nxt)) {
            self.reset_unacceptable_ack(ctx, ack);
            ctx.counters.drop(DropReason::AckOutOfRange);
            return false;
        }
        self.snd_una = self.iss.add(1);
        if self.snd_nxt.lt(self.snd_una) {
            self.snd_nxt = self.snd_una;
        }
        self.snd_wnd = u32::from(seg.window) << self.snd_shift;
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = SeqNum(seg.seq);
        self.snd_wl2 = ack;
        self.handshake_rtt(ctx, seg);
        self.handshake_done(ctx);
        self.set_state(ctx, State::Established);
        if self.open == OpenKind::Simultaneous {
            ctx.events.push_back(Event::Connected {
                conn: self.id,
                how: self.open,
            });
        }
        true
    }

    /// Step 5 in the synchronized states (SA-06, SA-08, SA-09), and what
    /// the ACK means for the sender: the scoreboard, loss recovery and
    /// congestion control. Returns whether processing continues.
    fn on_ack(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>, ack: SeqNum) -> bool {
        // RFC 5961 5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.
        let lowest = self.snd_una.sub(self.max_snd_wnd);
        if ack.gt(self.snd_nxt) || ack.lt(lowest) {
            ctx.counters.drop(DropReason::AckOutOfRange);
            // Linux drops an ACK of data never sent without a word
            // (`Config::linux_ack_checks`); RFC 5961 and RFC 9293 answer.
            if !(ctx.cfg.linux_ack_checks && ack.gt(self.snd_nxt)) {
                self.challenge_ack(ctx);
            }
            return false;
        }
        let advanced = self.snd_una.lt(ack);
        let seq = SeqNum(seg.seq);
        let wnd = u32::from(seg.window) << self.snd_shift;
        // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries no
        // data, SYN or FIN, leaves the window as it was, and comes while
        // data is outstanding.
        let pure_dup = !advanced
            && ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.fin()
            && wnd == self.snd_wnd;
        let dupack = pure_dup && self.snd_nxt != self.snd_una && !self.probe_only();
        if !advanced && self.snd_wnd == 0 && wnd == 0 {
            // The peer answers our zero-window probes: it is alive, so the
            // probes never count towards R2 (RFC 9293 MUST-37).
            self.retries = 0;
            self.retransmitting_since = Instant::NEVER;
        }
        // Window update (RFC 9293 3.10.7.4, SA-09).
        let mut opened = false;
        if self.snd_wl1.lt(seq) || (self.snd_wl1 == seq && self.snd_wl2.le(ack)) {
            opened = self.snd_wnd == 0 && wnd > 0;
            self.snd_wnd = wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
        }
        let prior_in_flight = self.in_flight();
        let prior_flight = self.snd_nxt.since(self.snd_una);
        let partial_seen = self.loss.as_ref().is_some_and(|l| l.partial_seen);
        let mut info = self.scoreboard_ack(ctx, seg, ack);
        info.prior_in_flight = prior_in_flight;
        info.prior_flight = prior_flight;
        info.dupack = dupack;
        info.pure_dup = pure_dup;
        info.acked = if advanced {
            self.ack_new_data(ctx, ack)
        } else {
            0
        };
        // Only after the acknowledgment: a probe octet this very ACK
        // covers was taken and must not be taken back (SND.NXT would fall
        // behind SND.UNA).
        if opened {
            self.window_opened();
        }
        if advanced || info.sample_xmit.is_some() {
            info.rtt = self.rtt_sample(ctx, seg, advanced, info.sample_xmit);
        }
        self.ece_received(ctx, seg.flags);
        self.recovery_ack(ctx, seg, &info);
        self.release_loss(ctx);
        // A NewReno episode restarts the retransmission timer on its first
        // partial ACK only (RFC 6582 3.2 step 5, the Impatient variant):
        // with many holes, a timeout repairs them faster than one per RTT.
        let impatient = partial_seen && self.recovery_state() == RecoveryState::Recovery;
        self.rearm(ctx, advanced && !impatient);
        // The ACK of our FIN moves the closing states on.
        let fin_acked = self.flags.has(Flags::FIN_ACKED);
        match self.state {
            State::FinWait1 if fin_acked => {
                self.set_state(ctx, State::FinWait2);
                self.arm_fin_wait2(ctx);
            }
            State::Closing if fin_acked => self.enter_time_wait(ctx),
            State::LastAck if fin_acked => {
                self.close(ctx, CloseReason::Normal);
                return false;
            }
            _ => {}
        }
        true
    }

    /// The peer's window opened from zero. A zero-window probe octet it did
    /// not acknowledge is taken back and goes again inside a full segment, rather
    /// than being left "in flight" to hold the rest back (Nagle) until it
    /// times out.
    fn window_opened(&mut self) {
        self.flags.clear(Flags::FORCE_PROBE);
        if self.probe_only() {
            self.snd_nxt = self.snd_una;
            if let Some(l) = self.loss.as_deref_mut() {
                l.board.pop_last();
            }
        }
    }

    /// SND.UNA < SEG.ACK: free acknowledged data. Returns the data bytes
    /// acknowledged (the FIN's sequence number not counted).
    fn ack_new_data(&mut self, ctx: &mut Ctx<'_>, ack: SeqNum) -> u32 {
        let acked = ack.since(self.snd_una);
        let buffered = self.snd_buf.len() as u32;
        let data_acked = acked.min(buffered);
        if acked > buffered && self.flags.has(Flags::FIN_QUEUED) {
            // The one sequence number past the data is our FIN.
            self.flags.set(Flags::FIN_ACKED);
        }
        self.snd_buf.consume(data_acked as usize);
        self.snd_una = ack;
        self.urgent_acked();
        self.retries = 0;
        self.flags.clear(Flags::SOFT_ERROR_REPORTED);
        self.retransmitting_since = Instant::NEVER;
        if data_acked > 0 && self.flags.has(Flags::WRITE_BLOCKED) {
            self.flags.clear(Flags::WRITE_BLOCKED);
            ctx.events.push_back(Event::Writable { conn: self.id });
        }
        data_acked
    }

    /// One RTT sample per ACK: from the latest segment it delivered that
    /// was never retransmitted (Karn, RFC 6298 3; RT-05), else, when
    /// timestamps are in use and the ACK acknowledges new data, from the
    /// echoed timestamp (RFC 7323 4, RT-09), which also times
    /// retransmitted data.
    fn rtt_sample(
        &mut self,
        ctx: &Ctx<'_>,
        seg: &TcpSegment<'_>,
        advanced: bool,
        sample_xmit: Option<u32>,
    ) -> Option<Duration> {
        // The scoreboard's transmit time of a segment never retransmitted
        // times it to the microsecond; the timestamp echo (1 ms ticks)
        // only when there is none (retransmitted data, which Karn's rule
        // leaves untimed otherwise; RFC 7323 4). On a sub-millisecond path
        // the echo says 0 ms, which would make RACK's and HyStart's
        // minimum RTT meaningless.
        let now_us = Self::clock_us(ctx.now);
        let measured =
            sample_xmit.map(|x| Duration::from_micros(u64::from(now_us.wrapping_sub(x))));
        let sample = measured.or_else(|| {
            if advanced {
                self.timestamp_rtt(ctx, seg)
            } else {
                None
            }
        })?;
        // A selective acknowledgment alone may time the RTT for RACK, but
        // RFC 6298's estimator is fed by cumulative ACKs.
        if advanced {
            self.rtt.sample(sample, &ctx.cfg.rtt);
        }
        // A 0 ms echo still bounds the RTT below by nothing: only measured
        // samples lower the minimum below a millisecond.
        let us = u32::try_from(sample.as_micros()).unwrap_or(u32::MAX);
        let us = if measured.is_some() {
            us.max(1)
        } else {
            us.max(1_000)
        };
        if self.min_rtt_us == 0 || us < self.min_rtt_us {
            self.min_rtt_us = us;
        }
        Some(sample)
    }

    /// The SYN-ACK or the third ACK gives the first RTT sample, unless the
    /// SYN was retransmitted (Karn). A timed-out SYN also raises RTO to 3 s
    /// and cuts the initial window to one segment (RFC 6298 5.7, RFC 5681).
    fn handshake_rtt(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>) {
        if self.open == OpenKind::Cookie {
            // The SYN-ACK left statelessly; only its timestamp echo can
            // time it.
            if let Some(r) = self.timestamp_rtt(ctx, seg) {
                self.rtt.sample(r, &ctx.cfg.rtt);
            }
            return;
        }
        if self.flags.has(Flags::SYN_RETRANSMITTED) {
            self.rtt.syn_timed_out();
            if let Some(r) = self.timestamp_rtt(ctx, seg) {
                self.rtt.sample(r, &ctx.cfg.rtt);
            }
        } else {
            let us = (ctx.now.micros() as u32).wrapping_sub(self.rtt_start_us);
            let r = Duration::from_micros(u64::from(us));
            self.rtt.sample(r, &ctx.cfg.rtt);
        }
    }

    /// The handshake is complete: the SYN's retransmission count decides
    /// the initial window, its timer stops, congestion control starts.
    fn handshake_done(&mut self, ctx: &mut Ctx<'_>) {
        self.syn_retries = self.retries;
        self.retries = 0;
        self.timers.stop(Timer::Retransmit);
        self.init_cc(ctx);
        if let Some(r) = self.rtt.srtt() {
            // A handshake timed by the clock is measured to the
            // microsecond; one timed only by a timestamp echo (a cookie's
            // or a retransmitted SYN's) has millisecond ticks, and its 0
            // means "under a millisecond", not a minimum RTT of nothing.
            let measured =
                self.open != OpenKind::Cookie && !self.flags.has(Flags::SYN_RETRANSMITTED);
            let us = u32::try_from(r.as_micros()).unwrap_or(u32::MAX);
            self.min_rtt_us = if measured { us.max(1) } else { us.max(1_000) };
        }
    }

    /// The RTT the echoed timestamp measures, if it is believable (RFC 7323
    /// 4: TSecr is our own clock, so now minus TSecr is one round trip).
    fn timestamp_rtt(&self, ctx: &Ctx<'_>, seg: &TcpSegment<'_>) -> Option<Duration> {
        let ts = seg
            .options
            .timestamps
            .filter(|_| self.flags.has(Flags::TS_OK))?;
        let ms = self.ts_now(ctx.now).wrapping_sub(ts.tsecr);
        (ts.tsecr != 0 && ms < 120_000).then(|| Duration::from_millis(u64::from(ms)))
    }

    /// `<SEQ=SEG.ACK><CTL=RST>` for an ACK of something we never sent
    /// (RFC 9293 3.10.7.3 and 3.10.7.4, SYN-RECEIVED).
    fn reset_unacceptable_ack(&self, ctx: &mut Ctx<'_>, ack: SeqNum) {
        let rst = ControlSegment {
            tuple: self.tuple,
            seq: ack,
            ack: None,
            flags: TcpFlags::RST,
        };
        ctx.control.push_ip(rst, self.ip, ctx.counters);
    }

    /// Steps 7 and 8: in-order text into the receive buffer, then the FIN.
    pub(crate) fn process_text(
        &mut self,
        ctx: &mut Ctx<'_>,
        seq: SeqNum,
        payload: &[u8],
        fin: bool,
    ) {
        if !self.state.can_receive() || self.flags.has(Flags::FIN_RECEIVED) {
            // SM-13: after the peer's FIN, text is ignored; say where we are.
            if !payload.is_empty() {
                ctx.counters.drop(DropReason::TextAfterFin);
                self.flags.set(Flags::ACK_NOW);
            }
            return;
        }
        if payload.is_empty() && !fin {
            return;
        }
        if self.flags.has(Flags::APP_CLOSED) && !payload.is_empty() {
            // The application closed and will read no more: tell the peer
            // its data is lost with a RST (RFC 9293 SHLD-3, SM-11).
            self.abort(ctx);
            return;
        }
        if seq != self.rcv_nxt {
            // Ahead of RCV.NXT (trimming left nothing before it): held
            // until the gap fills; an immediate duplicate ACK tells the
            // sender where the gap is (RFC 5681 4.2).
            match self.ooo.insert(seq, payload, fin, self.rcv_adv) {
                Held::All => {}
                Held::Trimmed => ctx.counters.drop(DropReason::BeyondWindow),
                Held::Refused => ctx.counters.drop(DropReason::OutOfOrder),
            }
            // A duplicate ACK for every out-of-order segment, at once, even
            // in a batch (RFC 5681 4.2, LR-06): a sender counting them, or
            // reading their SACK blocks, must see each one.
            self.ack_immediately(ctx);
            return;
        }
        // Whatever lies inside the window we advertised is taken, even past
        // the configured size: the window field is rounded up to the scale
        // unit so it never shrinks (RFC 7323 2.4), which can promise up to
        // 2^shift - 1 bytes more than the buffer's free space. Dropping them
        // would discard the rest of the peer's flight as out of order.
        let cap = self
            .recv_cap(ctx.cfg)
            .max(self.rcv_buf.len() + self.rcv_wnd() as usize);
        let accepted = self.rcv_buf.push(payload, cap, ctx.pool);
        if accepted > 0 {
            self.rcv_nxt = self.rcv_nxt.add(accepted as u32);
            self.notify_readable(ctx);
        }
        let refused = payload.len() > accepted;
        if refused {
            ctx.counters.drop(DropReason::ReceiveBufferFull);
        }
        // A segment that fills a hole is acknowledged at once (RFC 5681
        // 4.2), as is one the buffer could not take whole; one that ends
        // with the FIN is acknowledged at once below.
        if !fin || refused {
            self.data_received(ctx, accepted as u32, refused || !self.ooo.is_empty());
        }
        let mut fin = fin && accepted == payload.len();
        if accepted == payload.len() && !fin && !self.ooo.is_empty() {
            // The gap may have filled: take what was held behind it.
            let Tcb { ooo, rcv_buf, .. } = self;
            let (moved, held_fin) = ooo.drain(self.rcv_nxt, |b| rcv_buf.push(b, cap, ctx.pool));
            if moved > 0 {
                self.rcv_nxt = self.rcv_nxt.add(moved);
                self.notify_readable(ctx);
            }
            fin = held_fin;
        }
        if fin {
            // A FIN is acknowledged at once: the peer's close waits on it
            // (unless `Config::delayed_fin_ack` says otherwise).
            self.rcv_nxt = self.rcv_nxt.add(1);
            if ctx.cfg.fin_clears_dsack {
                let _ = self.ooo.take_dsack();
            }
            self.fin_received_ack(ctx, payload.len());
            self.flags.set(Flags::FIN_RECEIVED);
            self.notify_readable(ctx);
            match self.state {
                State::SynReceived | State::Established => self.set_state(ctx, State::CloseWait),
                State::FinWait1 => {
                    if self.flags.has(Flags::FIN_ACKED) {
                        self.enter_time_wait(ctx);
                    } else {
                        self.set_state(ctx, State::Closing);
                    }
                }
                State::FinWait2 => self.enter_time_wait(ctx),
                _ => {}
            }
        }
    }

    fn notify_readable(&mut self, ctx: &mut Ctx<'_>) {
        if !self.flags.has(Flags::READ_NOTIFIED) && self.flags.has(Flags::VISIBLE) {
            self.flags.set(Flags::READ_NOTIFIED);
            ctx.events.push_back(Event::Readable { conn: self.id });
        }
    }

    /// TIME-WAIT for 2 x MSL (RFC 9293 3.10.7.4; SM-05).
    pub(crate) fn enter_time_wait(&mut self, ctx: &mut Ctx<'_>) {
        self.set_state(ctx, State::TimeWait);
        ctx.counters.time_waits += 1;
        self.timers.stop_all();
        self.timers.set(Timer::TimeWait, ctx.now + 2 * ctx.cfg.msl);
        self.snd_buf.clear(ctx.pool);
        self.drop_loss(ctx);
    }

    /// Remembers a duplicate to report in a D-SACK (RFC 2883), when SACK is
    /// in use.
    fn note_duplicate(&mut self, start: SeqNum, end: SeqNum) {
        if self.flags.has(Flags::SACK_OK) {
            self.ooo.note_duplicate(start, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SA-01: RFC 9293 table 6, all four cases, across the wrap.
    #[test]
    fn sa_01_acceptability_table() {
        for base in [0u32, 1000, u32::MAX - 5] {
            let nxt = SeqNum(base);
            // Zero length, zero window: only SEQ = RCV.NXT.
            assert!(acceptable(nxt, 0, nxt, 0));
            assert!(!acceptable(nxt.add(1), 0, nxt, 0));
            assert!(!acceptable(nxt.sub(1), 0, nxt, 0));
            // Zero length, open window: RCV.NXT <= SEQ < RCV.NXT + WND.
            assert!(acceptable(nxt, 0, nxt, 10));
            assert!(acceptable(nxt.add(9), 0, nxt, 10));
            assert!(!acceptable(nxt.add(10), 0, nxt, 10));
            assert!(!acceptable(nxt.sub(1), 0, nxt, 10));
            // Data, zero window: never.
            assert!(!acceptable(nxt, 5, nxt, 0));
            // Data, open window: either end inside.
            assert!(acceptable(nxt.sub(3), 5, nxt, 10));
            assert!(!acceptable(nxt.sub(5), 5, nxt, 10));
            assert!(acceptable(nxt.add(9), 5, nxt, 10));
            assert!(!acceptable(nxt.add(10), 5, nxt, 10));
        }
    }
}
