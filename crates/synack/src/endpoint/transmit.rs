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
    /// Writes the next outbound IP datagram into `buf` and returns its
    /// length; `None` when nothing is due.
    ///
    /// `buf` must hold [`Endpoint::max_datagram_len`] bytes (one MTU):
    /// every datagram the engine builds fits in that. A smaller buffer gets
    /// `None` and nothing is taken from the queues, so no segment and no
    /// sequence space is ever lost to a short buffer.
    #[must_use = "a datagram written into the buffer must be sent (or the loss is the network's)"]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.now = self.now.max(now);
        if buf.len() < self.max_datagram_len() {
            return None;
        }
        loop {
            if let Some(c) = self.control.pop() {
                match self.emit_control(&c, buf) {
                    Some(n) => return Some(n),
                    None => {
                        // Cannot happen with a buffer of one MTU (checked
                        // above); if it did, keep the segment for the next
                        // call rather than drop it.
                        debug_assert!(false, "control segment did not fit: {c:?}");
                        self.control.push_front(c);
                        return None;
                    }
                }
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
                loss_pool,
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
                loss_pool,
                rx_segment_size: 0,
            };
            let Some(seg) = tcb.next_segment(&mut ctx) else {
                self.after(id, prev);
                continue;
            };
            let ecn = if seg.ect { crate::tcb::ECT0 } else { 0 };
            let ttl = tcb.ip.ttl_or(cfg.ttl);
            let tos = (tcb.ip.dscp << 2) | ecn;
            let ip = ip_header(&tcb.tuple, ttl, tos, ip_id.wrapping_add(1));
            let payload = tcb.snd_buf.slice(seg.data_offset, seg.data_len);
            let Ok(written) = emit_ip_tcp(&ip, &seg.header, payload, buf) else {
                // Cannot happen: the buffer holds one MTU and every segment
                // is sized to fit it. Should it happen, the segment is
                // taken back (SND.NXT, the ACK owed) and the connection
                // stays queued, so nothing is lost.
                debug_assert!(false, "segment did not fit: {:?}", seg.header);
                tcb.unsend(&seg);
                tcb.flags.set(Flags::QUEUED_TX);
                tx_queue.push_front(id);
                return None;
            };
            *ip_id = ip_id.wrapping_add(1);
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
            return Some(written);
        }
    }

    /// The largest datagram the engine builds, and so the smallest buffer
    /// [`Endpoint::poll_transmit`] takes: one MTU (`Config::mtu`), or the
    /// floor below which the MSS is never lowered if the MTU is tiny.
    pub fn max_datagram_len(&self) -> usize {
        // IPv6 header, TCP header, full options and the 64-byte MSS floor.
        const FLOOR: usize = 40 + 20 + 40 + 64;
        usize::from(self.cfg.mtu).max(FLOOR)
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
        let ttl = c.ip.ttl_or(self.cfg.ttl);
        let ip = ip_header(&s.tuple, ttl, c.ip.dscp << 2, self.ip_id.wrapping_add(1));
        let n = emit_ip_tcp(&ip, &tcp, &[], buf).ok()?;
        self.ip_id = self.ip_id.wrapping_add(1);
        if flags.rst() {
            self.counters.out_rsts += 1;
        }
        self.counters.out_segs += 1;
        Some(n)
    }
}

fn ip_header(t: &FourTuple, ttl: u8, tos: u8, ident: u16) -> IpHeader {
    IpHeader {
        src: t.local_ip,
        dst: t.remote_ip,
        protocol: PROTO_TCP,
        ttl,
        tos,
        ident,
        dont_fragment: true,
        flow_label: 0,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Endpoint, Instant, Secret};
    use std::net::SocketAddr;

    /// A buffer shorter than one MTU gets nothing, and loses nothing: the
    /// SYN is neither counted nor skipped, and comes out whole once a big
    /// enough buffer is offered. (Before, the emit error was skipped after
    /// SND.NXT had moved and the segment had been counted.)
    #[test]
    fn a_short_buffer_loses_no_segment() {
        let mut ep = Endpoint::new(
            Config::default(),
            Secret::from_bytes([3; 16]),
            Instant::ZERO,
        );
        let local: SocketAddr = "198.18.0.2:0".parse().unwrap();
        let remote: SocketAddr = "198.18.0.1:80".parse().unwrap();
        let c = ep.connect(Instant::ZERO, local, remote).unwrap();
        ep.send(c, b"queued before the handshake").unwrap();
        let mut small = [0u8; 40];
        assert_eq!(ep.poll_transmit(Instant::ZERO, &mut small), None);
        assert_eq!(ep.counters().out_segs, 0);
        let mut buf = vec![0u8; ep.max_datagram_len()];
        let n = ep.poll_transmit(Instant::ZERO, &mut buf).expect("the SYN");
        let ip = synack_wire::parse_ip(&buf[..n]).unwrap();
        let seg = synack_wire::TcpSegment::parse(ip.payload, ip.src, ip.dst).unwrap();
        assert!(seg.flags.syn());
        assert_eq!(seg.seq, ep.info(c).unwrap().iss.0);
        assert_eq!(ep.counters().out_segs, 1);
    }
}
