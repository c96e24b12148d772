//! Loss recovery: when a recovery episode starts and ends, how fast the
//! sender may send during it, and how a reduction found spurious is
//! undone. What each ACK tells the scoreboard is in `sack.rs`, the state
//! itself in `loss.rs`.
//!
//! - With SACK: RACK marks losses by time (RFC 8985), recovery follows
//!   RFC 6675 (RecoveryPoint, NextSeg over the scoreboard) and the
//!   reduction is paced by PRR (RFC 6937).
//! - Without SACK: fast retransmit on the third duplicate ACK and NewReno
//!   partial ACKs (RFC 5681 3.2, RFC 6582), each duplicate ACK standing for
//!   one delivered segment, which also gives limited transmit (RFC 3042).
//! - Timeouts: every segment not SACKed is lost and resent under slow start
//!   (RFC 6298, RFC 6675 5.1), with F-RTO (RFC 5682) to catch a spurious one.
//! - Undo (RFC 3522, RFC 2883): a timestamp echo older than the first
//!   retransmission, or D-SACKs for every retransmission, restore the
//!   window as it was.
//! - Tail loss probes (RFC 8985 7): a probe after 2 SRTT of silence
//!   instead of a timeout.
//!
//! The state lives in a box taken from the endpoint's pool while data is
//! in flight, so an idle connection carries one pointer of it.

use super::loss::{Frto, Loss, Prr, RecoveryState, Tlp, Undo};
use super::rack::DUP_THRESH;
use super::sack::AckInfo;
use super::scoreboard::{PROBE, before};
use super::{Ctx, Flags, Tcb};
use crate::cc::{AckEvent, CongestionEvent, Signal};
use crate::time::Instant;
use synack_wire::TcpSegment;

/// Which reduction a recovery episode starts with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reduction {
    /// The episode's own (RFC 5681 3.2 step 2).
    First,
    /// A second one for a lost retransmission (RFC 5681 4.3).
    Repeated,
    /// None: an ECN-Echo reduced this window already (RFC 3168 6.1.2).
    MadeByEcn,
}

impl Tcb {
    /// Bytes in flight: RFC 6675's pipe.
    pub(crate) fn in_flight(&self) -> u32 {
        let outstanding = self.snd_nxt.since(self.snd_una);
        match &self.loss {
            Some(l) => l.board.in_flight(outstanding).saturating_sub(l.reno_sacked),
            None => outstanding,
        }
    }

    /// The window the sender may fill now: PRR's during fast recovery,
    /// the congestion controller's otherwise.
    pub(crate) fn send_cwnd(&self) -> u32 {
        match &self.loss {
            Some(l) if matches!(l.state, RecoveryState::Recovery | RecoveryState::Cwr) => {
                l.prr.cwnd
            }
            _ => self.cc.cwnd(),
        }
    }

    /// The recovery state (Open when nothing is in flight).
    pub(crate) fn recovery_state(&self) -> RecoveryState {
        self.loss.as_ref().map_or(RecoveryState::Open, |l| l.state)
    }

    /// The loss state, taken from the pool on the first segment sent.
    #[inline]
    pub(crate) fn loss_mut(&mut self, ctx: &mut Ctx<'_>) -> &mut Loss {
        let (snd_una, now) = (self.snd_una, ctx.now);
        self.loss.get_or_insert_with(|| {
            let mut l = ctx.loss_pool.take();
            // The first delivery-rate round starts here: a round end left
            // at sequence number 0 would lie "ahead" of half of all ISSs
            // until the numbers wrapped, and no rate would ever show.
            l.round_start = now;
            l.round_end = snd_una;
            l
        })
    }

    /// Gives the loss state back once nothing is in flight and no episode
    /// is open.
    pub(crate) fn release_loss(&mut self, ctx: &mut Ctx<'_>) {
        // Kept while a late D-SACK could still undo the last reduction, or
        // a tail loss probe waits for its verdict: both need the episode's
        // records after the last byte is acknowledged.
        let idle = self.loss.as_ref().is_some_and(|l| {
            l.board.is_empty()
                && l.state == RecoveryState::Open
                && l.tlp.end.is_none()
                && (l.undo.marker.is_none() || l.undo.retrans == 0)
        });
        if idle && let Some(l) = self.loss.take() {
            ctx.loss_pool.give(l);
        }
    }

    /// Frees the loss state (the connection ends).
    pub(crate) fn drop_loss(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(l) = self.loss.take() {
            ctx.loss_pool.give(l);
        }
    }

    /// The microsecond clock records are stamped with.
    pub(crate) fn clock_us(now: Instant) -> u32 {
        now.micros() as u32
    }

    /// Steps 3 and 4: loss detection, the recovery episode, undo and PRR,
    /// then the congestion controller. Runs after SND.UNA moved.
    pub(crate) fn recovery_ack(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>, info: &AckInfo) {
        let AckInfo {
            acked,
            prior_in_flight,
            dupack,
            rtt,
            ..
        } = *info;
        let mss = u32::from(self.snd_mss);
        let (snd_una, snd_nxt) = (self.snd_una, self.snd_nxt);
        if info.dsack {
            self.reo.on_dsack(snd_una, snd_nxt);
            // A duplicate of a retransmission means the original arrived:
            // reordering or a needless timeout, either way not loss.
            self.reo.seen = true;
        }
        if info.reordered {
            self.reo.seen = true;
            ctx.counters.sack_reorder += 1;
        }
        let echo = seg
            .options
            .timestamps
            .filter(|_| self.flags.has(Flags::TS_OK))
            .map(|t| t.tsecr);
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        let mut delivered = info.delivered;
        // Most ACKs, by far, acknowledge data in order on a connection with
        // nothing SACKed, lost, retransmitted, probed or pending: none of
        // the machinery below can find anything in them (RACK can only
        // judge a segment sent before one delivered, and in-order delivery
        // leaves none undelivered), so they skip straight to the
        // bookkeeping and the congestion controller.
        let quiet = !info.dsack
            && !info.sacked
            && !dupack
            && l.state == RecoveryState::Open
            && l.board.sacked == 0
            && l.board.lost == 0
            && l.board.ever_retrans == 0
            && l.dupacks == 0
            && l.tlp.end.is_none()
            && l.reo_wait_us.is_none();
        if !quiet {
            delivered = self.recovery_episode(ctx, info, echo, delivered);
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        // The stamp of the earliest outstanding retransmission goes once no
        // retransmitted data is outstanding.
        if l.board.ever_retrans == 0 {
            l.retrans_stamp = None;
        }
        // The application-limited mark ends once its data is acknowledged.
        let app_limited = l.app_limited_end.is_some_and(|e| !snd_una.gt(e));
        if !app_limited {
            l.app_limited_end = None;
        }
        // Delivery rate, per round trip.
        l.round_delivered += u64::from(delivered);
        if !snd_una.lt(l.round_end) {
            let elapsed_us = ctx.now.micros().saturating_sub(l.round_start.micros());
            if elapsed_us > 0 && l.round_delivered > 0 {
                let rate = l.round_delivered.saturating_mul(1_000_000) / elapsed_us;
                self.delivery_rate = u32::try_from(rate).unwrap_or(u32::MAX);
            }
            l.round_delivered = 0;
            l.round_start = ctx.now;
            l.round_end = snd_nxt;
        }
        // After a timeout (Loss) the window grows by slow start; only fast
        // recovery and an ECN reduction hold it (PRR paces the sender).
        let in_recovery = matches!(l.state, RecoveryState::Recovery | RecoveryState::Cwr);
        let in_flight = self.in_flight();
        // The window grows only on ACKs of new data (RFC 5681 3.1): a
        // duplicate ACK or a SACK alone proves delivery past a hole, not
        // room in the network, and growing on it would send two segments
        // per duplicate ACK where limited transmit allows one (RFC 3042).
        if acked > 0 {
            self.cc.on_ack(&AckEvent {
                now: ctx.now,
                acked,
                delivered,
                prior_in_flight,
                in_flight,
                rtt,
                min_rtt: (self.min_rtt_us > 0)
                    .then(|| core::time::Duration::from_micros(u64::from(self.min_rtt_us))),
                srtt: self.rtt.srtt(),
                app_limited,
                in_recovery,
                mss,
                snd_nxt: snd_nxt.0,
                snd_una: snd_una.0,
            });
        }
    }

    /// The parts of an ACK's processing that only an ACK with something to
    /// say needs: duplicate ACKs, the tail-loss-probe outcome, undo, loss
    /// detection, the recovery episode and PRR. Returns the bytes the ACK
    /// counts as delivered (duplicate ACKs of a peer without SACK stand
    /// for a segment each).
    #[inline(never)]
    fn recovery_episode(
        &mut self,
        ctx: &mut Ctx<'_>,
        info: &AckInfo,
        echo: Option<u32>,
        mut delivered: u32,
    ) -> u32 {
        let AckInfo {
            acked,
            prior_in_flight,
            dupack,
            ..
        } = *info;
        let mss = u32::from(self.snd_mss);
        let sack_ok = self.flags.has(Flags::SACK_OK);
        let (snd_una, snd_nxt) = (self.snd_una, self.snd_nxt);
        let Some(l) = self.loss.as_deref_mut() else {
            return delivered;
        };

        // Duplicate ACKs of a peer without SACK (RFC 5681 2): each stands
        // for one segment delivered past the hole.
        if !sack_ok {
            if dupack {
                l.dupacks += 1;
                let outstanding = snd_nxt.since(snd_una);
                let room = outstanding.saturating_sub(l.board.lost + mss);
                let add = mss.min(room.saturating_sub(l.reno_sacked));
                l.reno_sacked += add;
                delivered += add;
            } else if acked > 0 {
                l.dupacks = 0;
                // The cumulative ACK covers what the duplicates stood for.
                let covered = l.reno_sacked.min(acked);
                delivered = delivered.saturating_sub(covered);
                l.reno_sacked -= covered;
            }
        }

        // Tail loss probe outcome (RFC 8985 7.4).
        if let Some(end) = l.tlp.end {
            let advanced = acked > 0;
            let verdict = if !l.tlp.retrans {
                // A probe of new data: an ACK reaching it ends the watch.
                (!snd_una.lt(end)).then_some(false)
            } else if l.tlp.dsacked {
                // The original arrived as well: no loss.
                Some(false)
            } else if snd_una.gt(end) {
                // Acknowledged beyond the probe with no D-SACK for it:
                // the probe alone repaired a loss (7.4.2).
                Some(true)
            } else if snd_una == end && !advanced && !info.sacked && info.pure_dup {
                // A pure duplicate ACK at the probe: original and probe
                // both arrived.
                Some(false)
            } else {
                // An ACK of exactly TLP.end_seq waits: a D-SACK may follow.
                None
            };
            if let Some(repaired) = verdict {
                l.tlp = Tlp::default();
                if repaired && matches!(l.state, RecoveryState::Open | RecoveryState::Disorder) {
                    // Only the probe repaired a loss: reduce once, as for
                    // a loss (RFC 8985 7.4.2).
                    self.cc.on_congestion(&CongestionEvent {
                        now: ctx.now,
                        signal: Signal::Loss,
                        in_flight: info.prior_flight,
                        mss,
                        repeated: false,
                    });
                    self.cc.on_recovery_end(ctx.now);
                    ctx.counters.loss_probe_recovery += 1;
                }
            }
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return delivered;
        };

        // Undo: a timeout shown spurious by F-RTO (RFC 5682) ...
        let mut undo = false;
        if l.state == RecoveryState::Loss && l.frto.active {
            if info.original_delivered {
                undo = true;
                ctx.counters.spurious_rtos += 1;
            } else if acked > 0 && !l.frto.new_data {
                l.frto.new_data = true;
            } else if dupack || info.sacked {
                // The retransmission was needed after all.
                l.frto.active = false;
            }
        }
        // ... or a reduction shown spurious by the ACK that ends the
        // episode echoing a timestamp older than any retransmission (Eifel,
        // RFC 3522): the originals arrived after all ...
        let ending = matches!(l.state, RecoveryState::Recovery | RecoveryState::Loss)
            && !snd_una.lt(l.recover);
        if ending
            && let (Some(stamp), Some(e)) = (l.retrans_stamp, echo)
            && before(e, stamp)
        {
            if l.state == RecoveryState::Loss && !undo {
                ctx.counters.spurious_rtos += 1;
            }
            undo = true;
        }
        // ... or by D-SACKs for every retransmission (RFC 2883, RFC 3708),
        // during the episode or after it.
        if info.dsack && l.undo.marker.is_some() && l.undo.retrans == 0 {
            undo = true;
            ctx.counters.dsack_undo += 1;
        }
        if undo {
            l.undo = Undo::default();
            l.frto = Frto::default();
            l.board.unmark_lost();
            l.state = RecoveryState::Open;
            self.cc.on_spurious(ctx.now);
            ctx.counters.loss_undo += 1;
        }

        // Loss detection, then the episode: it ends when RecoveryPoint is
        // acknowledged (RFC 6675 5 (A)) and starts on the first loss
        // outside one.
        let (newly_lost, lost_retrans) = if sack_ok {
            self.rack_detect(ctx)
        } else {
            (self.reno_detect(acked), false)
        };
        let ended = self.end_recovery(ctx);
        let mut entering = newly_lost > 0
            && !ended
            && self.enter_recovery(ctx, prior_in_flight, info.prior_flight);
        if lost_retrans && !entering {
            entering = self.lost_retransmission(ctx, prior_in_flight, info.prior_flight);
        }
        let Some(l) = self.loss.as_deref_mut() else {
            return delivered;
        };
        if matches!(l.state, RecoveryState::Open | RecoveryState::Disorder) {
            l.state = if l.board.sacked > 0 || l.dupacks > 0 {
                RecoveryState::Disorder
            } else {
                RecoveryState::Open
            };
            if l.state == RecoveryState::Open {
                l.limited_out = 0;
            }
        }
        // RFC 6582 3.2 step 5: every partial ACK of a NewReno episode
        // retransmits the next hole at once, whatever PRR's count (the
        // duplicate ACKs before it may have spent it already).
        let partial =
            !sack_ok && l.state == RecoveryState::Recovery && acked > 0 && snd_una.lt(l.recover);
        // Impatient (RFC 6582 4): the first partial ACK restarts the
        // retransmission timer, later ones do not (on_ack asks).
        l.partial_seen |= partial;
        self.prr_update(delivered, entering || partial);
        delivered
    }

    /// RACK's loss marking (RFC 8985 6.2 step 5); returns the bytes newly
    /// marked lost and whether a retransmission was among them, and leaves
    /// the reordering timer's wait in the state.
    #[inline(never)]
    fn rack_detect(&mut self, ctx: &Ctx<'_>) -> (u32, bool) {
        let srtt_us = self.rtt.srtt_us().unwrap_or(0);
        let (reo, min_rtt) = (self.reo, self.min_rtt_us);
        let now_us = Self::clock_us(ctx.now);
        let Some(l) = self.loss.as_deref_mut() else {
            return (0, false);
        };
        let recovering = matches!(l.state, RecoveryState::Recovery | RecoveryState::Loss);
        let reo_wnd = reo.window_us(recovering, l.board.sacked_segs, min_rtt, srtt_us);
        let (marked, wait, lost_retrans) = l.rack.detect_loss(&mut l.board, now_us, reo_wnd);
        l.reo_wait_us = wait;
        (marked, lost_retrans)
    }

    /// Loss marking for a peer without SACK: the third duplicate ACK (RFC
    /// 5681 3.2), entered only once the cumulative ACK passed `recover`
    /// (RFC 6582 3.2 step 1); in recovery, a partial ACK shows the next
    /// hole (step 5). Returns the bytes newly marked lost.
    #[inline(never)]
    fn reno_detect(&mut self, acked: u32) -> u32 {
        let snd_una = self.snd_una;
        let Some(l) = self.loss.as_deref_mut() else {
            return 0;
        };
        let Some(first) = l.board.get(0).copied() else {
            return 0;
        };
        let in_recovery = l.state == RecoveryState::Recovery;
        let fast_retransmit = !in_recovery
            && l.state != RecoveryState::Loss
            && l.dupacks >= DUP_THRESH
            && (l.undo.marker.is_none() || snd_una.gt(l.recover));
        let partial = in_recovery && acked > 0 && snd_una.lt(l.recover);
        if (fast_retransmit || partial) && l.board.mark_lost(0) {
            first.len
        } else {
            0
        }
    }

    /// Ends the episode if its recovery point is acknowledged: the window
    /// settles at ssthresh after fast recovery (RFC 6582 3.2 step 3; after
    /// a timeout slow start is already under way). Returns whether it did.
    #[inline(never)]
    fn end_recovery(&mut self, ctx: &Ctx<'_>) -> bool {
        let snd_una = self.snd_una;
        let Some(l) = self.loss.as_deref_mut() else {
            return false;
        };
        if !matches!(
            l.state,
            RecoveryState::Recovery | RecoveryState::Loss | RecoveryState::Cwr
        ) || snd_una.lt(l.recover)
        {
            return false;
        }
        let was = l.state;
        l.state = RecoveryState::Open;
        l.frto = Frto::default();
        l.rescue_rxt = None;
        l.partial_seen = false;
        l.reduced_again = false;
        l.limited_out = 0;
        if matches!(was, RecoveryState::Recovery | RecoveryState::Cwr) {
            self.cc.on_recovery_end(ctx.now);
        }
        self.reo.on_recovery_end();
        true
    }

    /// Starts fast recovery on a loss, unless one is under way (RFC 6675 5
    /// steps 4.1-4.2, RFC 5681 3.2 step 2): RecoveryPoint is SND.NXT, the
    /// controller chooses ssthresh from FlightSize before this ACK less
    /// what limited transmit sent, and PRR starts counting from the pipe.
    /// Returns whether it started.
    #[inline(never)]
    fn enter_recovery(
        &mut self,
        ctx: &mut Ctx<'_>,
        prior_in_flight: u32,
        prior_flight: u32,
    ) -> bool {
        let snd_una = self.snd_una;
        let sack_ok = self.flags.has(Flags::SACK_OK);
        let Some(l) = self.loss.as_deref_mut() else {
            return false;
        };
        // A loss in a window already reduced for ECN (RFC 3168 6.1.2: one
        // response per window) starts recovery without a second reduction.
        let reduced = l.state == RecoveryState::Cwr;
        if !matches!(
            l.state,
            RecoveryState::Open | RecoveryState::Disorder | RecoveryState::Cwr
        ) {
            return false;
        }
        // An ECN reduction is never undone, so neither is this episode.
        l.undo = Undo {
            marker: (!reduced).then_some(snd_una),
            ..Undo::default()
        };
        if sack_ok {
            ctx.counters.sack_recovery += 1;
        } else {
            ctx.counters.reno_recovery += 1;
        }
        let reduction = if reduced {
            Reduction::MadeByEcn
        } else {
            Reduction::First
        };
        self.start_reduction(ctx, prior_in_flight, prior_flight, reduction);
        true
    }

    /// A retransmission was lost (RACK found it): the loss of a
    /// retransmission is a second sign of congestion, and RFC 5681 4.3
    /// lowers cwnd and ssthresh twice, so fast recovery reduces again
    /// (once per episode). After a timeout nothing changes: RFC 6675 5.1
    /// keeps the sender out of fast recovery until RecoveryPoint is
    /// acknowledged, and the timeout's slow start from one segment paces
    /// the resends already (Linux switches to fast recovery here; the RFC
    /// is followed). Returns whether a reduction started.
    #[inline(never)]
    fn lost_retransmission(
        &mut self,
        ctx: &mut Ctx<'_>,
        prior_in_flight: u32,
        prior_flight: u32,
    ) -> bool {
        let Some(l) = self.loss.as_deref_mut() else {
            return false;
        };
        if l.state != RecoveryState::Recovery || l.reduced_again {
            return false;
        }
        l.reduced_again = true;
        l.limited_out = 0;
        // Lowered from where the first reduction left it: FlightSize still
        // counts the window the first reduction was made for.
        let flight = prior_in_flight.min(prior_flight).min(self.cc.ssthresh());
        self.start_reduction(ctx, prior_in_flight, flight, Reduction::Repeated);
        true
    }

    /// The common part of a reduction: Recovery, RecoveryPoint, PRR and
    /// the controller's response (none when an ECN-Echo in this window
    /// made it already).
    #[inline(never)]
    fn start_reduction(
        &mut self,
        ctx: &mut Ctx<'_>,
        prior_in_flight: u32,
        prior_flight: u32,
        reduction: Reduction,
    ) {
        let (snd_nxt, mss) = (self.snd_nxt, u32::from(self.snd_mss));
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        // Limited transmit sends at most two segments (RFC 3042).
        let flight = prior_flight.saturating_sub(l.limited_out.min(2 * mss));
        l.limited_out = 0;
        l.state = RecoveryState::Recovery;
        l.recover = snd_nxt;
        l.rescue_rxt = None;
        l.partial_seen = false;
        l.prr = Prr {
            recover_fs: prior_in_flight.max(1),
            ..Prr::default()
        };
        if reduction == Reduction::MadeByEcn {
            return;
        }
        self.cc.on_congestion(&CongestionEvent {
            now: ctx.now,
            signal: Signal::Loss,
            in_flight: flight,
            mss,
            repeated: reduction == Reduction::Repeated,
        });
    }

    /// PRR (RFC 6937 3): in recovery, send in proportion to what was
    /// delivered while the flight is above ssthresh, then slow start back
    /// up to it (PRR-SSRB).
    pub(crate) fn prr_update(&mut self, delivered: u32, force: bool) {
        if !matches!(
            self.recovery_state(),
            RecoveryState::Recovery | RecoveryState::Cwr
        ) {
            return;
        }
        let mss = u32::from(self.snd_mss);
        let pipe = self.in_flight();
        let ssthresh = self.cc.ssthresh();
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        let prr = &mut l.prr;
        prr.delivered = prr.delivered.saturating_add(delivered);
        let sndcnt = if pipe > ssthresh {
            let share = (u64::from(prr.delivered) * u64::from(ssthresh))
                .div_ceil(u64::from(prr.recover_fs)) as u32;
            share.saturating_sub(prr.out)
        } else {
            // PRR-SSRB: at most one MSS more than delivered.
            let limit = prr.delivered.saturating_sub(prr.out).max(delivered) + mss;
            (ssthresh - pipe).min(limit)
        };
        // The fast retransmit itself always goes (RFC 6937 3: on entering
        // recovery one segment is sent whatever the count), as does the
        // retransmission a NewReno partial ACK calls for. Until something
        // has gone, every ACK keeps that allowance: ACKs processed in one
        // batch would otherwise each recompute it away (PRR-SSRB's
        // ssthresh - pipe can be a fraction of a segment) and leave the
        // lost segment waiting for a timeout.
        let sndcnt = if force || prr.out == 0 {
            sndcnt.max(mss)
        } else {
            sndcnt
        };
        // Whole segments: a share worth part of a segment lets one go, as
        // PRR counting in packets does (Linux). Counted in bytes and
        // truncated, the share of each ACK stayed below a segment while
        // the receiver coalesced its ACKs (one per hole filled, SACKs
        // compressed), nothing more was sent to draw ACKs, and one lost
        // ACK then left the episode to the retransmission timer. prr_out
        // counts what is actually sent, so the total stays within the
        // rounded-up proportion.
        let sndcnt = sndcnt.div_ceil(mss) * mss;
        prr.cwnd = pipe + sndcnt;
    }

    /// RACK marking outside an ACK (the reordering timer, RFC 8985 6.3):
    /// a loss found starts recovery as it would on an ACK.
    #[inline(never)]
    pub(crate) fn detect_loss_by_time(&mut self, ctx: &mut Ctx<'_>, prior_in_flight: u32) {
        if !self.flags.has(Flags::SACK_OK) {
            return;
        }
        let prior_flight = self.snd_nxt.since(self.snd_una);
        let (lost, lost_retrans) = self.rack_detect(ctx);
        let started = (lost > 0 && self.enter_recovery(ctx, prior_in_flight, prior_flight))
            || (lost_retrans && self.lost_retransmission(ctx, prior_in_flight, prior_flight));
        if started {
            self.prr_update(0, true);
        }
    }

    /// A retransmission timeout for data (RFC 6298 5.4-5.6, RFC 5681 3.1):
    /// everything not SACKed is lost, cwnd goes to the loss window, and
    /// F-RTO watches for proof that the timeout was spurious.
    #[inline(never)]
    pub(crate) fn enter_loss(&mut self, ctx: &mut Ctx<'_>) {
        let mss = u32::from(self.snd_mss);
        let in_flight = self.in_flight();
        let snd_una = self.snd_una;
        let snd_nxt = self.snd_nxt;
        let frto = ctx.cfg.frto && self.flags.has(Flags::SACK_OK);
        let now_us = Self::clock_us(ctx.now);
        let Some(l) = self.loss.as_deref_mut() else {
            return;
        };
        // RFC 5681 eq. 4 only for the first timeout of this data.
        let first = l.state != RecoveryState::Loss;
        if first {
            l.undo = Undo {
                marker: Some(snd_una),
                ..Undo::default()
            };
            l.frto = Frto {
                active: frto,
                rto_us: now_us,
                new_data: false,
            };
        } else {
            l.frto.active = false;
        }
        l.board.mark_all_lost();
        l.reno_sacked = 0;
        l.dupacks = 0;
        l.state = RecoveryState::Loss;
        l.recover = snd_nxt;
        l.tlp = Tlp::default();
        l.rescue_rxt = None;
        l.limited_out = 0;
        l.reduced_again = false;
        // Slow start follows whatever the application did before: the
        // mark of an application-limited flight would hold cwnd at the
        // loss window.
        l.app_limited_end = None;
        self.cc.on_timeout(ctx.now, in_flight, mss, first);
    }

    /// Marks the connection application-limited if it has nothing more to
    /// send while the window has room (RFC 7661, RFC 9438 5.8), or limited
    /// by the peer's window rather than cwnd: either way ACKs of what is
    /// in flight say nothing about room for more, and must not grow cwnd
    /// (RFC 9438 4.6, since CUBIC reduces from cwnd).
    pub(crate) fn note_app_limited(&mut self) {
        let peer_limited = self
            .snd_nxt
            .add(u32::from(self.snd_mss))
            .gt(self.snd_una.add(self.snd_wnd));
        if self.unsent() > 0 && !peer_limited {
            return;
        }
        let in_flight = self.in_flight();
        let cwnd = self.send_cwnd();
        let snd_nxt = self.snd_nxt;
        if let Some(l) = self.loss.as_deref_mut()
            && in_flight < cwnd
        {
            l.app_limited_end = Some(snd_nxt);
        }
    }

    /// The zero-window probe octet is the only thing in flight.
    pub(crate) fn probe_only(&self) -> bool {
        self.loss
            .as_ref()
            .is_some_and(|l| l.board.len() == 1 && l.board.get(0).is_some_and(|s| s.has(PROBE)))
    }
}
