//! The user calls of RFC 9293 3.10 as they act on one connection: SEND,
//! RECEIVE, CLOSE, the hand-over of an accepted connection, and the
//! per-connection options. The endpoint finds the connection; what the call
//! does to it is here.

use super::{Ctx, Flags, Tcb};
use crate::cc::{Algorithm, Cc};
use crate::error::Error;
use crate::event::Event;
use crate::state::State;
use core::time::Duration;

impl Tcb {
    /// SEND (RFC 9293 3.10.2): queues as much of `data` as the send buffer
    /// takes. A closed window with data now waiting needs the persist
    /// timer.
    pub(crate) fn send(&mut self, ctx: &mut Ctx<'_>, data: &[u8]) -> Result<usize, Error> {
        if self.flags.has(Flags::FIN_QUEUED) || !self.state.can_send() {
            return Err(Error::BrokenPipe);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let cap = self.snd_buf.limit(ctx.cfg.send_buffer);
        let n = self.snd_buf.push(data, cap, ctx.pool);
        self.sent_into_buffer(ctx, n)
    }

    /// SEND written in place: `fill` gets up to `max` bytes of room in the
    /// send buffer and returns how many it wrote.
    pub(crate) fn send_with(
        &mut self,
        ctx: &mut Ctx<'_>,
        max: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<usize, Error> {
        if self.flags.has(Flags::FIN_QUEUED) || !self.state.can_send() {
            return Err(Error::BrokenPipe);
        }
        if max == 0 {
            return Ok(0);
        }
        let cap = self.snd_buf.limit(ctx.cfg.send_buffer);
        let n = self.snd_buf.push_with(max, cap, ctx.pool, fill);
        self.sent_into_buffer(ctx, n)
    }

    /// What follows `n` bytes queued by a SEND.
    fn sent_into_buffer(&mut self, ctx: &mut Ctx<'_>, n: usize) -> Result<usize, Error> {
        if n == 0 {
            self.flags.set(Flags::WRITE_BLOCKED);
            return Err(Error::WouldBlock);
        }
        if self.needs_persist() {
            self.rearm(ctx, false);
        }
        Ok(n)
    }

    /// The connection's own receive buffer size: a window grown by it is
    /// announced at once if the update is due (as after a read).
    pub(crate) fn set_recv_buffer(&mut self, ctx: &mut Ctx<'_>, bytes: Option<usize>) {
        self.rcv_buf.set_limit(bytes);
        if self.state.is_synchronized()
            && !self.flags.has(Flags::FIN_RECEIVED)
            && self.window_update_due(ctx)
        {
            self.flags.set(Flags::ACK_NOW);
        }
    }

    /// The send buffer may have room again (its size grew): a blocked
    /// writer hears so.
    pub(crate) fn send_space_grew(&mut self, ctx: &mut Ctx<'_>) {
        if self.flags.has(Flags::WRITE_BLOCKED)
            && self.snd_buf.len() < self.snd_buf.limit(ctx.cfg.send_buffer)
        {
            self.flags.clear(Flags::WRITE_BLOCKED);
            ctx.events.push_back(Event::Writable { conn: self.id });
        }
    }

    /// FLUSH (RFC 9293 MAY-14, API-10): drops the queued data not yet
    /// sent. What is in flight stays (the peer may have it, and its
    /// sequence numbers are spoken for); the next SEND continues from
    /// SND.NXT, so sequence numbers stay consistent. Before the connection
    /// is established nothing has been sent and everything goes. Returns
    /// the bytes dropped.
    pub(crate) fn flush(&mut self, ctx: &mut Ctx<'_>) -> usize {
        let len = self.snd_buf.len();
        let keep = if self.state.is_synchronized() && self.state != State::SynReceived {
            (self.snd_nxt.since(self.snd_una) as usize).min(len)
        } else {
            0
        };
        if keep == len {
            return 0;
        }
        self.snd_buf.truncate(keep);
        // Urgent data dropped with it leaves the pointer at the new end.
        let end = self.snd_una.add(keep as u32);
        if self.flags.has(Flags::URG_SEND) && self.snd_up.gt(end) {
            self.snd_up = end;
        }
        if self.flags.has(Flags::WRITE_BLOCKED) {
            self.flags.clear(Flags::WRITE_BLOCKED);
            ctx.events.push_back(Event::Writable { conn: self.id });
        }
        len - keep
    }

    /// RECEIVE (RFC 9293 3.10.3): copies out buffered data. `Ok(0)` is the
    /// end of the stream (the peer's FIN); `WouldBlock` when nothing is
    /// buffered yet.
    pub(crate) fn receive(&mut self, ctx: &mut Ctx<'_>, out: &mut [u8]) -> Result<usize, Error> {
        if out.is_empty() && self.rcv_buf.is_empty() {
            self.flags.clear(Flags::READ_NOTIFIED);
            return Ok(0);
        }
        self.receive_with(ctx, |live| {
            let n = live.len().min(out.len());
            out[..n].copy_from_slice(&live[..n]);
            n
        })
    }

    /// RECEIVE without a copy: `take` borrows what is buffered (one
    /// contiguous slice) and returns how much it used; that much is
    /// consumed. `Ok(0)` at the end of the stream, `WouldBlock` when
    /// nothing is buffered yet.
    pub(crate) fn receive_with(
        &mut self,
        ctx: &mut Ctx<'_>,
        take: impl FnOnce(&[u8]) -> usize,
    ) -> Result<usize, Error> {
        if self.rcv_buf.is_empty() {
            self.flags.clear(Flags::READ_NOTIFIED);
            if self.flags.has(Flags::FIN_RECEIVED) {
                return Ok(0);
            }
            return Err(Error::WouldBlock);
        }
        let n = self.rcv_buf.read_with(take);
        if self.rcv_buf.is_empty() {
            self.flags.clear(Flags::READ_NOTIFIED);
        }
        // After the peer's FIN no more data can come: a window update
        // would only reach a peer that may have forgotten the connection
        // and answer it with a RST.
        if !self.flags.has(Flags::FIN_RECEIVED) && self.window_update_due(ctx) {
            self.flags.set(Flags::ACK_NOW);
        }
        Ok(n)
    }

    /// Full CLOSE: like `shutdown`, and the application reads no more. If
    /// received data is still unread, or more arrives, the peer gets a RST
    /// instead, so it knows data was lost (RFC 9293 SHLD-3, SM-11).
    pub(crate) fn close_call(&mut self, ctx: &mut Ctx<'_>) {
        self.flags.set(Flags::APP_CLOSED);
        if self.rcv_buf.is_empty() {
            self.shutdown(ctx);
            // Shut down earlier and already in FIN-WAIT-2: an orphan now.
            self.arm_fin_wait2(ctx);
        } else {
            // Unread data is lost: the peer hears of it by a RST (RFC 9293
            // SHLD-3), and no one will read it now, so it goes with the
            // TCB (it was kept through the peer's FIN for a `recv` that
            // will never come).
            self.abort(ctx);
            self.rcv_buf.clear(ctx.pool);
        }
    }

    /// The application took the connection from its listener's accept
    /// queue: it is the application's now, and hears of data already
    /// there.
    pub(crate) fn accepted(&mut self, ctx: &mut Ctx<'_>) {
        self.listener = None;
        self.flags.set(Flags::VISIBLE);
        if !self.rcv_buf.is_empty() || self.flags.has(Flags::FIN_RECEIVED) {
            self.flags.set(Flags::READ_NOTIFIED);
            ctx.events.push_back(Event::Readable { conn: self.id });
        }
    }

    /// The listener closed before the application accepted the
    /// connection: it is reset.
    pub(crate) fn orphaned(&mut self, ctx: &mut Ctx<'_>) {
        self.listener = None;
        self.abort(ctx);
    }

    /// Turns the Nagle algorithm off (`true`) or on (RFC 9293 MUST-17).
    pub(crate) fn set_nodelay(&mut self, nodelay: bool) {
        if nodelay {
            self.flags.set(Flags::NODELAY);
        } else {
            self.flags.clear(Flags::NODELAY);
        }
    }

    /// The user timeout (R2 as a time, RFC 9293 MUST-21): `None` never
    /// gives up while retransmitting.
    pub(crate) fn set_user_timeout(&mut self, timeout: Option<Duration>) {
        self.user_timeout_ms = timeout.map_or(u32::MAX, |d| {
            d.as_millis().min(u128::from(u32::MAX - 1)) as u32
        });
    }

    /// Switches the congestion-control algorithm. The new one starts from
    /// the connection's present window; a switch in the middle of a
    /// recovery takes effect fully once it ends.
    pub(crate) fn set_congestion_control(&mut self, ctx: &Ctx<'_>, alg: &Algorithm) {
        let cwnd = self.cc.cwnd();
        self.cc = Cc::new(alg);
        self.cc.init(ctx.now, u32::from(self.snd_mss), cwnd);
    }
}
