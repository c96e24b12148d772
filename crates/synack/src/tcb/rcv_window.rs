//! The receive window we advertise (RFC 9293 3.8.6.2.2, RFC 7323 2.4):
//! the window field and RCV.WND behind it, receiver-side SWS avoidance,
//! and when reading freed enough space to be worth a window update.

use super::{Ctx, Tcb};
use crate::config::Config;
use crate::seq::SeqNum;

impl Tcb {
    /// The receive buffer's size: the connection's own (`set_recv_buffer`),
    /// else `Config::recv_buffer`.
    pub(crate) fn recv_cap(&self, cfg: &Config) -> usize {
        self.rcv_buf.limit(cfg.recv_buffer)
    }

    /// The receiver's SWS step: min(buffer / 2, MSS) (MUST-39).
    fn sws_step(&self, ctx: &Ctx<'_>) -> u32 {
        (self.recv_cap(ctx.cfg) / 2).min(usize::from(self.snd_mss)) as u32
    }

    /// The window field to send, and RCV.WND behind it. The right edge never
    /// moves left (SHLD-14) and moves right only in steps of at least
    /// min(buffer / 2, MSS): receiver-side SWS avoidance (RFC 9293
    /// 3.8.6.2.2, MUST-39).
    pub(crate) fn advertise_window(&mut self, ctx: &Ctx<'_>) -> u16 {
        let right = self.possible_right_edge(ctx);
        let step = self.sws_step(ctx);
        if right.gt(self.rcv_adv) && right.since(self.rcv_adv) >= step {
            self.rcv_adv = right;
        }
        if self.rcv_adv.lt(self.rcv_nxt) {
            self.rcv_adv = self.rcv_nxt;
        }
        let field = self.window_field();
        let edge = self.rcv_nxt.add(u32::from(field) << self.rcv_shift);
        if edge.gt(self.rcv_adv) {
            self.rcv_adv = edge;
        }
        field
    }

    /// The window field that advertises RCV.WND: scaled down and rounded
    /// up, so the scaled edge is not below what was promised (RFC 7323
    /// 2.4). The one place the field is computed.
    pub(crate) fn window_field(&self) -> u16 {
        let wnd = self.rcv_wnd();
        let shift = u32::from(self.rcv_shift);
        (wnd.saturating_add((1 << shift) - 1) >> shift).min(65535) as u16
    }

    /// RCV.NXT plus the free receive-buffer space, capped by what the window
    /// field can express.
    fn possible_right_edge(&self, ctx: &Ctx<'_>) -> SeqNum {
        let free = self.recv_cap(ctx.cfg).saturating_sub(self.rcv_buf.len()) as u64;
        let max = 65535u64 << self.rcv_shift;
        self.rcv_nxt.add(free.min(max) as u32)
    }

    /// Whether reading freed enough space to announce (a window update,
    /// DT-10): the window can grow by at least one step (receiver SWS
    /// avoidance, RFC 9293 3.8.6.2.2), and either it was below a step or
    /// it would at least double. Without the second case a window left
    /// at one segment stayed there after the application drained the
    /// buffer: a sender that defers sending into so small a window (Linux
    /// does, with TSO) then waited for its persist timer, 200 ms, before
    /// learning of the space (Linux's receiver announces when the window
    /// doubles, too).
    pub(crate) fn window_update_due(&self, ctx: &Ctx<'_>) -> bool {
        let step = self.sws_step(ctx);
        let right = self.possible_right_edge(ctx);
        if !right.gt(self.rcv_adv) {
            return false;
        }
        let (grow, wnd) = (right.since(self.rcv_adv), self.rcv_wnd());
        grow >= step && (wnd < step || grow >= wnd)
    }
}
