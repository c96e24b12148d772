//! Output: segments from TCBs (round-robin) and control segments, written
//! as whole IP datagrams into the caller's buffer.

use super::Endpoint;
use super::timers::settle;
use crate::control::QueuedControl;
use crate::tcb::{Ctx, Flags};
use crate::time::Instant;
use crate::tuple::FourTuple;
use synack_wire::{IpHeader, PROTO_TCP, TcpFlags, TcpHeader, emit_ip_tcp};

impl Endpoint {
    /// Writes the next outbound IP datagram into `buf` (which should hold at
    /// least one MTU) and returns its length; `None` when nothing is due.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.now = self.now.max(now);
        loop {
            if let Some(c) = self.control.pop() {
                if let Some(n) = self.emit_control(&c, buf) {
                    return Some(n);
                }
                continue;
            }
            let id = self.tx_queue.pop_front()?;
            // One slab lookup for the whole segment: the TCB and the fields
            // it needs are borrowed side by side.
            let Endpoint {
                conns,
                cfg,
                events,
                counters,
                control,
                pool,
                tx_queue,
                timers,
                ip_id,
                ..
            } = self;
            let Some(tcb) = conns.get_mut(id) else {
                continue;
            };
            tcb.flags.clear(Flags::QUEUED_TX);
            let prev = tcb.state;
            // Woken with nothing to say (an ACK that needs no answer, say):
            // skip building a segment that `next_segment` would refuse.
            if !tcb.wants_transmit() {
                if !settle(timers, id, tcb, prev) {
                    self.state_changed(id, prev);
                }
                continue;
            }
            let mut ctx = Ctx {
                now,
                cfg,
                events,
                counters,
                control,
                pool,
            };
            let Some(seg) = tcb.next_segment(&mut ctx) else {
                self.after(id, prev);
                continue;
            };
            *ip_id = ip_id.wrapping_add(1);
            let ip = ip_header(&tcb.tuple, cfg.ttl, *ip_id);
            let payload = tcb.snd_buf.slice(seg.data_offset, seg.data_len);
            let written = emit_ip_tcp(&ip, &seg.header, payload, buf);
            if seg.retransmission {
                counters.retrans_segs += 1;
            } else {
                counters.out_segs += 1;
            }
            // More to send: stay in the round-robin.
            if tcb.wants_transmit() {
                tcb.flags.set(Flags::QUEUED_TX);
                tx_queue.push_back(id);
            }
            if !settle(timers, id, tcb, prev) {
                self.state_changed(id, prev);
            }
            match written {
                Ok(n) => return Some(n),
                Err(_) => continue,
            }
        }
    }

    fn emit_control(&mut self, c: &QueuedControl, buf: &mut [u8]) -> Option<usize> {
        let s = &c.seg;
        let mut flags = s.flags;
        if s.ack.is_some() {
            flags |= TcpFlags::ACK;
        }
        let tcp = TcpHeader {
            src_port: s.tuple.local_port,
            dst_port: s.tuple.remote_port,
            seq: s.seq.0,
            ack: s.ack.map_or(0, |a| a.0),
            flags,
            window: c.window,
            urgent_ptr: 0,
            options: c.options,
        };
        self.ip_id = self.ip_id.wrapping_add(1);
        let ip = ip_header(&s.tuple, self.cfg.ttl, self.ip_id);
        if flags.rst() {
            self.counters.out_rsts += 1;
        }
        self.counters.out_segs += 1;
        emit_ip_tcp(&ip, &tcp, &[], buf).ok()
    }
}

fn ip_header(t: &FourTuple, ttl: u8, ident: u16) -> IpHeader {
    IpHeader {
        src: t.local_ip,
        dst: t.remote_ip,
        protocol: PROTO_TCP,
        ttl,
        tos: 0,
        ident,
        dont_fragment: true,
        flow_label: 0,
    }
}
