//! The lifecycle operation: one connection played from its opening to its
//! close along a path the input picks, every step an operation of its own
//! (checked like any other). Reaching FIN-WAIT-2 or TIME-WAIT one segment
//! at a time takes several aimed segments in a row, which coverage
//! feedback alone finds slowly and never piles up: this gets there in a
//! few bytes, any number of times, and leaves the connection wherever the
//! input says for the operations that follow.

use crate::harness::{Harness, LOCAL_V4, LOCAL_V6, decoys};
use crate::ops::{ACK, FIN, SYN, Seg, log};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// Connections of a flood between full checks of the endpoint's tables,
/// once the flood is past its first few (checked after 1, 2, 4, ... 32 of
/// them, where a bound is first hit). A full check looks at every TCB, so
/// checking often in a large flood costs the square of its size.
const FULL_CHECK_EVERY: usize = 64;
/// Flood connections one run may play, all floods together.
pub(crate) const FLOOD_BUDGET: usize = 1536;

/// Fixed peers that reach a listener (see `Harness::new`).
const LISTENER_PEERS: usize = 10;

impl Harness<'_> {
    pub(crate) fn op_lifecycle(&mut self) {
        let v = self.cur.u8();
        let which = self.cur.u8();
        // How many steps of the last lifecycle to play; 0 plays them all.
        let budget = match self.cur.u8() % 8 {
            0 => usize::MAX,
            n => usize::from(n),
        };
        // Now and then a flood of the same lifecycle: what a bound must
        // hold against is many connections, not one. Behind a two-byte
        // marker, which libFuzzer's comparison tracing finds at once but
        // random bytes almost never hit: floods are slow, and the
        // fixed-seed test runs unoptimized.
        // A flood may let time pass between its connections (a tenth of a
        // second per unit): a steady rate rather than a burst, so that what
        // only ages out (timers) does, and what leaks shows.
        let (asked, gap_ms) = match (self.cur.u8(), self.cur.u8()) {
            (0xFF, 0xF1) => (
                8 * (1 + usize::from(self.cur.u8())),
                100 * u64::from(self.cur.u8()),
            ),
            _ => (1, 0),
        };
        // Floods share a budget per run, so that no input costs more than
        // a fraction of a second.
        let repeats = asked.min(self.flood_budget).max(1);
        self.flood_budget -= repeats - 1;
        for i in 1..=repeats {
            let last = i == repeats;
            self.lifecycle(v, which, if last { budget } else { usize::MAX }, last);
            if !last {
                if gap_ms > 0 {
                    self.now = self.now + std::time::Duration::from_millis(gap_ms);
                    self.timeout();
                }
                // The flood's connections are drained and their datagrams
                // and events checked at every step; the tables in full
                // at its start and then every few dozen connections.
                if i.is_power_of_two() || i % FULL_CHECK_EVERY == 0 {
                    self.check();
                } else {
                    self.drain_io();
                }
            }
        }
    }

    /// One lifecycle (see the module's doc) along path `v`, with the peer
    /// `which` picks, stopping after `budget` steps. Every step is checked
    /// in full if `full`, else only drained.
    fn lifecycle(&mut self, v: u8, which: u8, mut budget: usize, full: bool) {
        let active = v & 0x01 != 0;
        let peer_closes_first = v & 0x02 != 0;
        let simultaneous_close = v & 0x04 != 0;
        let data_in = v & 0x08 != 0;
        let data_out = v & 0x10 != 0;
        let shutdown_only = v & 0x20 != 0;
        let separate_ack = v & 0x40 != 0;
        let timestamps = v & 0x80 != 0;
        log!(self, "lifecycle {v:#04x} peer {which}");

        // Ends the operation once the budget is spent; otherwise checks the
        // step like any operation.
        macro_rules! step {
            ($p:expr) => {
                if full {
                    self.check();
                } else {
                    self.drain_peer($p);
                }
                budget -= 1;
                if budget == 0 {
                    return;
                }
            };
        }

        let p = if active {
            let v6 = which & 1 != 0;
            let local = SocketAddr::new(if v6 { LOCAL_V6.into() } else { LOCAL_V4.into() }, 0);
            let ip: IpAddr = if v6 {
                Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 3, u16::from(which >> 1)).into()
            } else {
                [198, 18, 3, which >> 1].into()
            };
            let Ok(c) = self.ep.connect(self.now, local, SocketAddr::new(ip, 80)) else {
                return;
            };
            let Some(info) = self.ep.info(c) else {
                return self.fail(format!(
                    "connect returned {c:?} with no connection behind it"
                ));
            };
            self.opened.insert(c);
            self.app_known.insert(c);
            self.remember_handle(c);
            self.add_peer(info.local, info.remote);
            let Some(p) = self.peer_index(info.local, info.remote) else {
                return;
            };
            step!(p);
            // SYN-ACK with a fresh ISN.
            let isn = self.peers[p].my_nxt.wrapping_add(100_000);
            let ack = self.peers[p].ep_iss.wrapping_add(1);
            self.lifecycle_segment(p, SYN | ACK, isn, ack, 0, timestamps);
            step!(p);
            p
        } else {
            let p = usize::from(which) % LISTENER_PEERS;
            // A SYN beyond anything the peer sent: it also reopens the
            // 4-tuple if it is in TIME-WAIT (RFC 6191).
            let isn = self.peers[p].my_nxt.wrapping_add(100_000);
            self.lifecycle_segment(p, SYN, isn, 0, 0, timestamps);
            step!(p);
            let (seq, ack) = (self.peers[p].my_nxt, self.peers[p].ep_end);
            self.lifecycle_segment(p, ACK, seq, ack, 0, timestamps);
            step!(p);
            let (local, remote) = (self.peers[p].local, self.peers[p].remote);
            let target = self.live_tcb(local, remote).map(|(c, _)| c);
            for &l in &decoys().listeners {
                match self.ep.accept(l) {
                    Some(c) => {
                        self.app_known.insert(c);
                        self.remember_handle(c);
                        if Some(c) == target {
                            break;
                        }
                    }
                    None => continue,
                }
            }
            step!(p);
            p
        };
        let (local, remote) = (self.peers[p].local, self.peers[p].remote);
        // The connection's handle (also when it was never accepted: then the
        // application uses a handle it should not have).
        let Some((c, _)) = self.live_tcb(local, remote) else {
            return;
        };

        if data_in {
            let (seq, ack) = (self.peers[p].my_nxt, self.peers[p].ep_end);
            self.lifecycle_segment(p, ACK, seq, ack, 40, timestamps);
            step!(p);
        }
        if data_out {
            self.app_send(c, 30);
            step!(p);
        }
        let app_close = |h: &mut Self| {
            let r = if shutdown_only {
                h.ep.shutdown(c)
            } else {
                h.ep.close(c)
            };
            log!(
                h,
                "lifecycle {} {c:?}: {r:?}",
                if shutdown_only { "shutdown" } else { "close" }
            );
            if r.is_ok() {
                let rec = h.recs.entry(c).or_default();
                rec.fin_requested = true;
                rec.closed |= !shutdown_only;
            }
        };
        if peer_closes_first {
            // CLOSE-WAIT, then LAST-ACK, then CLOSED.
            let (seq, ack) = (self.peers[p].my_nxt, self.peers[p].ep_end);
            self.lifecycle_segment(p, FIN | ACK, seq, ack, 0, timestamps);
            step!(p);
            app_close(self);
            step!(p);
            let (seq, ack) = (self.peers[p].my_nxt, self.peers[p].ep_end);
            self.lifecycle_segment(p, ACK, seq, ack, 0, timestamps);
            if full {
                self.check();
            } else {
                self.drain_peer(p);
            }
            return;
        }
        app_close(self);
        step!(p);
        let (seq, end) = (self.peers[p].my_nxt, self.peers[p].ep_end);
        if simultaneous_close {
            // The peer's FIN crosses ours (CLOSING), then ACKs it.
            self.lifecycle_segment(p, FIN | ACK, seq, end.wrapping_sub(1), 0, timestamps);
            step!(p);
            let seq = self.peers[p].my_nxt;
            self.lifecycle_segment(p, ACK, seq, end, 0, timestamps);
        } else if separate_ack {
            // FIN-WAIT-2, then TIME-WAIT.
            self.lifecycle_segment(p, ACK, seq, end, 0, timestamps);
            step!(p);
            self.lifecycle_segment(p, FIN | ACK, seq, end, 0, timestamps);
        } else {
            // FIN-WAIT-1 straight to TIME-WAIT: the FIN acknowledges ours.
            self.lifecycle_segment(p, FIN | ACK, seq, end, 0, timestamps);
        }
        if full {
            self.check();
        } else {
            self.drain_peer(p);
        }
    }

    /// One well-formed segment of the lifecycle, with the options a peer
    /// would send.
    fn lifecycle_segment(&mut self, p: usize, flags: u8, seq: u32, ack: u32, len: usize, ts: bool) {
        let mut options = Vec::with_capacity(24);
        if flags & SYN != 0 {
            // MSS 1460, SACK-permitted, window scale 7.
            options.extend_from_slice(&[2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
        }
        if ts {
            let peer = &mut self.peers[p];
            peer.my_ts = peer.my_ts.wrapping_add(10);
            options.extend_from_slice(&[1, 1, 8, 10]);
            options.extend_from_slice(&peer.my_ts.to_be_bytes());
            options.extend_from_slice(&peer.ep_tsval.to_be_bytes());
        }
        let seg = Seg {
            flags,
            seq,
            ack,
            window: 65535,
            len,
        };
        self.send_segment(p, seg, &options, 0);
    }
}
