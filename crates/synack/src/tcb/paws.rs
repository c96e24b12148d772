//! Timestamps on the receiving side (RFC 7323 3.2, 4.3 and 5; SA-10 to
//! SA-13): which segments may carry a connection's TS.Recent forward,
//! and PAWS, which rejects a segment whose timestamp is older than
//! TS.Recent (an old duplicate from an earlier wrap of the sequence
//! space on a fast path).

use super::{Ctx, Flags, Tcb};
use crate::counters::DropReason;
use crate::time::Instant;
use synack_wire::TcpSegment;

/// RFC 7323 5.5: after 24 days without an update TS.Recent may be from
/// before the peer's timestamp clock wrapped its sign bit, so it no
/// longer judges anything.
const PAWS_IDLE_SECS: u32 = 24 * 24 * 60 * 60;

impl Tcb {
    /// TS.Recent := `tsval`, noting when.
    pub(crate) fn set_ts_recent(&mut self, tsval: u32, now: Instant) {
        self.ts_recent = tsval;
        self.ts_recent_secs = (now.millis() / 1000) as u32;
    }

    /// Whether TS.Recent has gone 24 days without an update (RFC 7323
    /// 5.5), so PAWS must not use it.
    pub(crate) fn ts_recent_stale(&self, now: Instant) -> bool {
        let secs = (now.millis() / 1000) as u32;
        secs.wrapping_sub(self.ts_recent_secs) > PAWS_IDLE_SECS
    }

    /// RFC 7323 before the sequence-number test, on a connection that
    /// negotiated timestamps: a non-RST segment without the option is
    /// dropped silently (3.2, SA-12); one whose TSval is older than a
    /// valid TS.Recent is an old duplicate, answered with an ACK and
    /// dropped (5.3 R1, SA-10). A RST is never judged by its timestamp.
    /// Returns whether the segment goes on.
    #[inline]
    pub(crate) fn timestamps_acceptable(
        &mut self,
        ctx: &mut Ctx<'_>,
        seg: &TcpSegment<'_>,
    ) -> bool {
        if !self.flags.has(Flags::TS_OK) || seg.flags.rst() {
            return true;
        }
        let Some(ts) = seg.options.timestamps else {
            ctx.counters.drop(DropReason::MissingTimestamp);
            return false;
        };
        if (ts.tsval.wrapping_sub(self.ts_recent) as i32) < 0 && !self.ts_recent_stale(ctx.now) {
            ctx.counters.drop(DropReason::Paws);
            self.flags.set(Flags::ACK_NOW);
            return false;
        }
        true
    }
}
