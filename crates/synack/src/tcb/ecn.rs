//! Explicit Congestion Notification (RFC 3168; CE-18, CC-15): negotiated
//! in the handshake, then a router's CE mark reaches the sender as ECE
//! and the sender answers with one reduction per window and CWR.
//!
//! - **Setup** (6.1.1): a SYN asks with ECE and CWR (`EcnMode::Request`);
//!   a SYN-ACK agrees with ECE alone, and only to a SYN that asked
//!   (`EcnMode::Accept` and `Request`; Accept is the default, as Linux's
//!   `tcp_ecn = 2`). SYN and SYN-ACK are Not-ECT. A connection opened by a
//!   SYN cookie, or by crossing SYNs, does without.
//! - **Sending** (6.1.2, 6.1.5, 6.1.6): new data goes out ECT(0);
//!   retransmissions, probes, pure ACKs and control segments Not-ECT.
//! - **Receiving** (6.1.3): a CE-marked packet makes every later segment
//!   carry ECE until a segment with CWR arrives; the mark itself is
//!   acknowledged at once.
//! - **Reacting** (6.1.2): an ACK with ECE reduces cwnd through the
//!   congestion controller (`Signal::Ecn`) at most once per window of
//!   data (the CWR state until what was in flight is acknowledged), and
//!   the next new data segment carries CWR.

use super::loss::{Prr, RecoveryState};
use super::{Ctx, Flags, Tcb};
use crate::cc::{CongestionEvent, Signal};
use crate::config::EcnMode;
use synack_wire::TcpFlags;

/// The IP header's ECN field (RFC 3168 5): ECT(0) on what we mark.
pub(crate) const ECT0: u8 = 0b10;
/// Congestion Experienced.
pub(crate) const CE: u8 = 0b11;

impl Tcb {
    /// The ECN flags of our SYN (`with_ack` false) or SYN-ACK.
    pub(crate) fn ecn_syn_flags(&self, mode: EcnMode, with_ack: bool) -> TcpFlags {
        match (with_ack, mode) {
            (true, _) if self.flags.has(Flags::ECN_OK) => TcpFlags::ECE,
            (false, EcnMode::Request) => TcpFlags(TcpFlags::ECE.0 | TcpFlags::CWR.0),
            _ => TcpFlags(0),
        }
    }

    /// A passive open's SYN asked for ECN (ECE and CWR both set) and we
    /// accept it.
    pub(crate) fn ecn_syn_received(&mut self, mode: EcnMode, syn: TcpFlags) {
        if mode != EcnMode::Off && syn.ece() && syn.cwr() {
            self.flags.set(Flags::ECN_OK);
        }
    }

    /// An active open's SYN-ACK: ECN is on if we asked and it answered
    /// with ECE alone (a SYN-ACK with both is a peer echoing flags it does
    /// not understand, RFC 3168 6.1.1).
    pub(crate) fn ecn_syn_ack_received(&mut self, mode: EcnMode, syn_ack: TcpFlags) {
        if mode == EcnMode::Request && syn_ack.ece() && !syn_ack.cwr() {
            self.flags.set(Flags::ECN_OK);
        }
    }

    /// The packet carrying a segment for this connection came marked CE:
    /// echo ECE from now on, and acknowledge at once.
    pub(crate) fn ce_received(&mut self, ctx: &mut Ctx<'_>) {
        if self.flags.has(Flags::ECN_OK) {
            ctx.counters.ecn_ce_received += 1;
            self.flags.set(Flags::ECE_PENDING);
            self.flags.set(Flags::ACK_NOW);
        }
    }

    /// An acceptable segment with CWR stops our echo (6.1.3).
    pub(crate) fn cwr_received(&mut self, f: TcpFlags) {
        if f.cwr() {
            self.flags.clear(Flags::ECE_PENDING);
        }
    }

    /// ECE on an acceptable ACK: reduce, unless this window reduced
    /// already (a CWR or fast-recovery episode is under way). Called
    /// before the congestion controller hears of the ACK, so the window
    /// reduced is the one the congestion happened in, not one grown by
    /// the very ACK that reports it.
    pub(crate) fn ece_received(&mut self, ctx: &mut Ctx<'_>, f: TcpFlags) {
        if !self.flags.has(Flags::ECN_OK) || !f.ece() || f.syn() {
            return;
        }
        if !matches!(
            self.recovery_state(),
            RecoveryState::Open | RecoveryState::Disorder
        ) {
            return;
        }
        let in_flight = self.snd_nxt.since(self.snd_una);
        let (snd_nxt, mss) = (self.snd_nxt, u32::from(self.snd_mss));
        self.cc.on_congestion(&CongestionEvent {
            now: ctx.now,
            signal: Signal::Ecn,
            in_flight,
            mss,
            repeated: false,
        });
        ctx.counters.ecn_reductions += 1;
        self.flags.set(Flags::CWR_PENDING);
        if in_flight > 0 {
            // Until what is in flight now is acknowledged, further ECEs
            // are about the same window; meanwhile PRR brings the flight
            // down to the new ssthresh, as in fast recovery (Linux's CWR
            // state does the same).
            let pipe = self.in_flight();
            let l = self.loss_mut(ctx);
            l.state = RecoveryState::Cwr;
            l.recover = snd_nxt;
            l.prr = Prr {
                recover_fs: pipe.max(1),
                ..Prr::default()
            };
        } else {
            self.cc.on_recovery_end(ctx.now);
        }
    }

    /// CWR for the next new data segment after a reduction (and then no
    /// more). ECE rides on every segment while echoing (`header`).
    #[inline]
    pub(crate) fn take_cwr(&mut self) -> TcpFlags {
        if self.flags.has(Flags::CWR_PENDING) {
            self.flags.clear(Flags::CWR_PENDING);
            TcpFlags::CWR
        } else {
            TcpFlags(0)
        }
    }

    /// Whether new data goes out ECT(0).
    #[inline]
    pub(crate) fn ect(&self) -> bool {
        self.flags.has(Flags::ECN_OK)
    }
}
