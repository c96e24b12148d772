//! What an ICMP error means for one connection (RFC 9293 3.9.2.2).

use super::{Ctx, Flags, Tcb};
use crate::counters::DropReason;
use crate::event::{CloseReason, Event, SoftError};
use crate::icmp::{IcmpError, IcmpErrorKind};
use crate::state::State;

impl Tcb {
    /// Acts on an ICMP error that quotes this connection's segment.
    pub(crate) fn on_icmp_error(&mut self, ctx: &mut Ctx<'_>, err: &IcmpError) {
        // RFC 5927 4.1: believe only errors about data we have in flight,
        // so that a blind attacker must guess the sequence space (IP-01).
        if !err.seq.in_range(self.snd_una, self.snd_nxt) {
            ctx.counters.drop(DropReason::IcmpIgnored);
            return;
        }
        let opening = matches!(self.state, State::SynSent | State::SynReceived);
        match err.kind {
            IcmpErrorKind::FragmentationNeeded { mtu } => self.lower_mtu(u32::from(mtu), ctx),
            IcmpErrorKind::PacketTooBig { mtu } => self.lower_mtu(mtu, ctx),
            kind if kind.is_hard() && opening => {
                // SHLD-26: port or protocol unreachable for our SYN: the open
                // fails at once, as a refusal (IP-04).
                self.close(ctx, CloseReason::Refused);
            }
            kind => {
                // Soft errors never abort (MUST-56); they are reported
                // (SHLD-25), and remembered for an open that later times out.
                if opening {
                    self.soft_error = match kind {
                        IcmpErrorKind::NetUnreachable => 1,
                        IcmpErrorKind::HostUnreachable => 2,
                        _ => self.soft_error,
                    };
                }
                if self.flags.has(Flags::VISIBLE) && !self.flags.has(Flags::REPORTS_OFF) {
                    ctx.events.push_back(Event::SoftError {
                        conn: self.id,
                        error: SoftError::Icmp(kind),
                    });
                }
            }
        }
    }

    /// A black hole (RFC 4821 section 7.2, RFC 2923 2.1): full-sized
    /// segments time out again and again while no ICMP error says why,
    /// as when a router on the path has a smaller MTU and its errors are
    /// filtered. At R1 (`Config::soft_retransmits` consecutive timeouts,
    /// where RFC 9293 3.8.3 has TCP tell IP to check the path), if the data
    /// was sent larger than the fallback, the path MTU falls to 1,064 bytes over
    /// IPv4 (an MSS of 1,024, Linux's `tcp_base_mss`) or IPv6's 1,280
    /// minimum, and what is in flight goes again at that size. The MSS
    /// stays there (no probing back up). Called with the timeout's count.
    pub(crate) fn blackhole_check(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.cfg.pmtu_blackhole_detection || self.retries != ctx.cfg.soft_retransmits {
            return;
        }
        let ipv6 = self.tuple.is_ipv6();
        let fallback = if ipv6 { 1280 } else { 1024 + 40 };
        let before = self.snd_mss;
        self.lower_mtu(fallback, ctx);
        if self.snd_mss < before {
            ctx.counters.pmtu_blackholes += 1;
        }
    }

    /// Path MTU discovery (RFC 1191, RFC 8201): a smaller MTU lowers the
    /// effective MSS and resends what was lost at the new size (IP-05,
    /// IP-06). An MTU of 0 (an old router) is ignored rather than guessed.
    fn lower_mtu(&mut self, mtu: u32, ctx: &mut Ctx<'_>) {
        let ipv6 = self.tuple.is_ipv6();
        let floor = if ipv6 { 1280 } else { 68 };
        if mtu == 0 {
            ctx.counters.drop(DropReason::IcmpNoMtu);
            return;
        }
        let mtu = mtu.max(floor);
        let headers = if ipv6 { 60 } else { 40 };
        let options = if self.flags.has(Flags::TS_OK) { 12 } else { 0 };
        let mss = mtu.saturating_sub(headers + options).clamp(64, 65535) as u16;
        if mss < self.snd_mss {
            let old = self.snd_mss;
            self.snd_mss = mss;
            // The window scales with the segment size (RFC 5681 3.1, CC-11).
            self.cc.on_mss_change(u32::from(old), u32::from(mss));
            if self.state.is_synchronized()
                && let Some(l) = self.loss.as_deref_mut()
            {
                // What is in flight was too big for the path: it is lost,
                // and goes again at the new size. Not congestion, so no
                // reduction beyond the scaling.
                l.board.mark_all_lost();
                self.rearm(ctx, true);
            }
        }
    }
}
