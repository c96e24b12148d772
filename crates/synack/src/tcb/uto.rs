//! The TCP User Timeout option (RFC 5482; TM-09, WF-18), when
//! `Config::user_timeout_option` turns it on: our timeout goes in the SYN
//! (or SYN-ACK) and again in the first segment after it, in case a
//! middlebox stripped it from the SYN; a peer's adjusts ours to
//! min(U_LIMIT, max(ADV_UTO, REMOTE_UTO, L_LIMIT)). The application's
//! `set_user_timeout` still has the last word.

use super::{Ctx, Flags, Tcb};
use core::time::Duration;
use synack_wire::{TcpOptions, UserTimeout};

impl Tcb {
    /// The option for our SYN or SYN-ACK, if on. (The connection runs
    /// with ADV_UTO, within the bounds, from its start until the peer says
    /// otherwise: `Tcb::reset`.)
    pub(crate) fn uto_for_syn(&self, ctx: &Ctx<'_>) -> Option<UserTimeout> {
        let u = ctx.cfg.user_timeout_option?;
        Some(UserTimeout::from_secs(u.advertise().as_secs()))
    }

    /// Adds the option to the first non-SYN segment, if on and there is
    /// room (options are at most 40 bytes).
    #[inline]
    pub(crate) fn uto_for_segment(&self, ctx: &Ctx<'_>, o: &mut TcpOptions) {
        if let Some(u) = ctx.cfg.user_timeout_option
            && !self.flags.has(Flags::UTO_SENT)
            && o.wire_len() + 4 <= synack_wire::MAX_OPTIONS_LEN
        {
            o.user_timeout = Some(UserTimeout::from_secs(u.advertise().as_secs()));
        }
    }

    /// A non-SYN segment carrying the option went out.
    #[inline]
    pub(crate) fn uto_sent(&mut self, o: &TcpOptions, syn: bool) {
        if o.user_timeout.is_some() && !syn {
            self.flags.set(Flags::UTO_SENT);
        }
    }

    /// The peer's option: adopt it within the bounds (RFC 5482 3).
    pub(crate) fn uto_received(&mut self, cfg: &crate::Config, o: &TcpOptions) {
        if let (Some(u), Some(remote)) = (cfg.user_timeout_option, o.user_timeout) {
            let remote = Duration::from_secs(remote.secs());
            self.set_user_timeout(Some(u.effective(Some(remote))));
        }
    }
}
