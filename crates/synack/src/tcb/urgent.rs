//! Urgent data (RFC 9293 3.8.5 and 3.10.7.4 step 6, RFC 6093; DT-12,
//! MUST-30 to MUST-33, MUST-62). synack keeps urgent data in the stream,
//! as every stack in use does (RFC 6093: "inline"); the urgent pointer
//! only marks where it ends. The sender sets SND.UP past the urgent
//! octets and flags every segment before it with URG and the offset of
//! the octet after the urgent data; the receiver keeps RCV.UP, tells the
//! application once per run of urgent data (and again when the pointer
//! advances), and answers how much of what it has yet to read is urgent.
//! New applications should not use it (SHLD-13); it exists for the old
//! protocols that do (telnet, rlogin, FTP's ABOR).

use super::{Ctx, Flags, Tcb};
use crate::event::Event;
use crate::seq::SeqNum;
use crate::state::State;
use synack_wire::{TcpFlags, TcpSegment};

impl Tcb {
    /// SEND with the URGENT flag: everything queued so far, through the
    /// last octet of this call's accepted data, is urgent (SND.UP =
    /// the end of the queue).
    pub(crate) fn mark_urgent(&mut self) {
        self.snd_up = self.snd_una.add(self.snd_buf.len() as u32);
        self.flags.set(Flags::URG_SEND);
    }

    /// The URG flag and urgent pointer of a segment starting at `seq`
    /// (MUST-62: the offset of the octet following the urgent data),
    /// while SND.UP lies ahead of it. An offset past 65,535 is sent as
    /// 65,535 (the field's limit; the later segments carry the rest), as
    /// Linux does.
    #[inline]
    pub(crate) fn urgent_field(&self, seq: SeqNum) -> Option<u16> {
        (self.flags.has(Flags::URG_SEND) && seq.lt(self.snd_up))
            .then(|| self.snd_up.since(seq).min(0xFFFF) as u16)
    }

    /// The peer acknowledged through SND.UP: urgent mode ends.
    #[inline]
    pub(crate) fn urgent_acked(&mut self) {
        if self.flags.has(Flags::URG_SEND) && !self.snd_una.lt(self.snd_up) {
            self.flags.clear(Flags::URG_SEND);
        }
    }

    /// Step 6 of RFC 9293 3.10.7.4, for an acceptable segment (MUST-66:
    /// also at a zero window): in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2,
    /// RCV.UP = max(RCV.UP, SEG.SEQ + SEG.UP), and the application hears
    /// of it when urgent data was not pending or the pointer advanced
    /// past what it has read (MUST-32). In the other states URG is
    /// ignored (after the peer's FIN no text can follow).
    pub(crate) fn urgent_received(&mut self, ctx: &mut Ctx<'_>, seg: &TcpSegment<'_>) {
        if !seg.flags.urg()
            || !matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            )
        {
            return;
        }
        let up = SeqNum(seg.seq).add(u32::from(seg.urgent_ptr));
        let pending = self.flags.has(Flags::URG_RECV);
        if pending && !up.gt(self.rcv_up) {
            return;
        }
        if !up.gt(self.read_seq()) {
            // Points at what the application has already read.
            return;
        }
        self.rcv_up = up;
        self.flags.set(Flags::URG_RECV);
        ctx.events.push_back(Event::Urgent { conn: self.id });
    }

    /// Where the application's next read starts.
    fn read_seq(&self) -> SeqNum {
        SeqNum(self.rcv_nxt.0.wrapping_sub(self.rcv_buf.len() as u32))
    }

    /// How many of the octets the application has yet to read are urgent
    /// (MUST-33): they run from the next read to RCV.UP. `None` when no
    /// urgent data is pending. Some may not have arrived yet.
    pub(crate) fn urgent_pending(&mut self) -> Option<usize> {
        if !self.flags.has(Flags::URG_RECV) {
            return None;
        }
        let read = self.read_seq();
        if !self.rcv_up.gt(read) {
            // Read past: the run is over.
            self.flags.clear(Flags::URG_RECV);
            return None;
        }
        Some(self.rcv_up.since(read) as usize)
    }
}

/// The header flags with URG added when the segment carries an urgent
/// pointer.
#[inline]
pub(crate) fn with_urgent(flags: TcpFlags, urgent: Option<u16>) -> (TcpFlags, u16) {
    match urgent {
        Some(p) => (TcpFlags(flags.0 | TcpFlags::URG.0), p),
        None => (flags, 0),
    }
}
