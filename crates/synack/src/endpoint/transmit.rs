//! Output: segments from TCBs (round-robin) and control segments, written
//! as whole IP datagrams into the caller's buffer.

use super::Endpoint;
use crate::control::QueuedControl;
use crate::tcb::Flags;
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
            let Some((tcb, mut ctx)) = self.split(id, now) else {
                continue;
            };
            tcb.flags.clear(Flags::QUEUED_TX);
            let prev = tcb.state;
            let Some(seg) = tcb.next_segment(&mut ctx) else {
                self.after(id, prev);
                continue;
            };
            let tuple = self.tcb(id)?.tuple;
            let ip = self.ip_header(&tuple);
            let tcb = self.tcb(id)?;
            let payload = tcb.snd_buf.slice(seg.data_offset, seg.data_len);
            let tcp = TcpHeader {
                src_port: tuple.local_port,
                dst_port: tuple.remote_port,
                seq: seg.seq.0,
                ack: seg.ack.0,
                flags: seg.flags,
                window: seg.window,
                urgent_ptr: 0,
                options: seg.options,
            };
            let written = emit_ip_tcp(&ip, &tcp, payload, buf);
            if seg.retransmission {
                self.counters.retrans_segs += 1;
            } else {
                self.counters.out_segs += 1;
            }
            // More to send: stay in the round-robin.
            if self.tcb(id).is_some_and(|t| t.wants_transmit()) {
                self.schedule(id);
            }
            self.after(id, prev);
            match written {
                Ok(n) => return Some(n),
                Err(_) => continue,
            }
        }
    }

    fn ip_header(&mut self, t: &FourTuple) -> IpHeader {
        self.ip_id = self.ip_id.wrapping_add(1);
        IpHeader {
            src: t.local_ip,
            dst: t.remote_ip,
            protocol: PROTO_TCP,
            ttl: self.cfg.ttl,
            tos: 0,
            ident: self.ip_id,
            dont_fragment: true,
            flow_label: 0,
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
        let ip = self.ip_header(&s.tuple);
        if flags.rst() {
            self.counters.out_rsts += 1;
        }
        self.counters.out_segs += 1;
        emit_ip_tcp(&ip, &tcp, &[], buf).ok()
    }
}
