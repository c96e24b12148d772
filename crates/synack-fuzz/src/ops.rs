//! The operations: each decodes its arguments from the input and performs
//! one input to the endpoint (a segment, a time step, an application call,
//! an ICMP error), checking what the call itself returns.

use crate::harness::{Harness, LOCAL_V4, LOCAL_V6, decoys};
use crate::oracle::{app_salt, fill_stream, stream_mismatch};
use crate::packet::{PROTO_TCP, SegSpec, build};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use synack::{ConnId, Error, IcmpError, IcmpErrorKind, Instant, SeqNum, State};

pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;
const URG: u8 = 0x20;
const ECE: u8 = 0x40;
const CWR: u8 = 0x80;

/// The flag combinations a peer commonly sends, and a few odd ones; any
/// other byte comes raw.
const PRESETS: [u8; 16] = [
    SYN,
    SYN | ACK,
    ACK,
    ACK,
    ACK | PSH,
    FIN | ACK,
    FIN | PSH | ACK,
    RST,
    RST | ACK,
    SYN | FIN,
    FIN,
    0,
    SYN | ACK | FIN,
    URG | ACK,
    ECE | CWR | SYN,
    SYN | RST,
];

/// A segment's header fields and payload length.
#[derive(Clone, Copy)]
pub(crate) struct Seg {
    pub(crate) flags: u8,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) window: u16,
    pub(crate) len: usize,
}

/// What became of the datagram after it was written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mangle {
    None,
    /// Still a valid datagram (link padding): processed as sent.
    Padded,
    /// Must be dropped (corrupt, truncated, a fragment, not TCP).
    Broken,
}

macro_rules! log {
    ($h:expr, $($t:tt)*) => {
        if $h.log {
            eprintln!($($t)*);
        }
    };
}
pub(crate) use log;

impl Harness<'_> {
    /// Decodes and performs one operation.
    pub(crate) fn step(&mut self) {
        let op = self.cur.u8();
        match op % 20 {
            0..=6 => self.op_segment(),
            7 => self.op_lifecycle(),
            8 => self.op_tick(),
            9 => self.op_deadline(),
            10 => self.op_connect(),
            11 => self.op_accept(),
            12 | 18 => self.op_send(),
            13 | 19 => self.op_recv(),
            14 => self.op_close(),
            15 => self.op_misc(),
            16 => self.op_icmp(),
            _ => self.op_listener(),
        }
    }

    /// A small signed offset from an aimed number, or a large one.
    fn delta(&mut self, d: u8) -> u32 {
        match d {
            0..=15 => 0,
            16..=23 => u32::from(d - 15),
            24..=29 => 0u32.wrapping_sub(u32::from(d - 23)),
            30 => i32::from(self.cur.u16() as i16) as u32,
            _ => self.cur.u32(),
        }
    }

    /// SEQ of the fuzzer's segment: raw, or aimed at what the endpoint
    /// acknowledged (its RCV.NXT), at the fuzzer's own SND.NXT or ISN, or
    /// at the right edge of the endpoint's window.
    fn pick_seq(&mut self, p: usize) -> u32 {
        let s = self.cur.u8();
        let peer = &self.peers[p];
        let base = match s & 7 {
            0 => return self.cur.u32(),
            1..=3 if peer.heard => peer.ep_ack,
            1..=5 => peer.my_nxt,
            6 => peer.my_isn,
            _ => peer.ep_ack.wrapping_add(u32::from(peer.ep_win)),
        };
        base.wrapping_add(self.delta(s >> 3))
    }

    /// ACK of the fuzzer's segment: raw, or aimed at the end of the
    /// endpoint's last segment (its SND.NXT), at the furthest it sent, at
    /// its last SEQ, or at its ISS + 1.
    fn pick_ack(&mut self, p: usize) -> u32 {
        let a = self.cur.u8();
        let peer = &self.peers[p];
        let base = match a & 7 {
            0 => return self.cur.u32(),
            1..=3 => peer.ep_end,
            4 | 5 => peer.ep_max,
            6 => peer.ep_seq,
            _ => peer.ep_iss.wrapping_add(1),
        };
        base.wrapping_add(self.delta(a >> 3))
    }

    /// TCP options, well-formed or not, into `out`.
    fn pick_options(&mut self, p: usize, out: &mut Vec<u8>) {
        let o = self.cur.u8();
        if o & 0x01 != 0 {
            let m = self.cur.u8();
            let mss = match m & 7 {
                0 => 536,
                1 => 1460,
                2 => 1220,
                3 => 64,
                4 => 0,
                5 => 1,
                6 => 65535,
                _ => self.cur.u16(),
            };
            out.extend_from_slice(&[2, 4]);
            out.extend_from_slice(&mss.to_be_bytes());
        }
        if o & 0x02 != 0 {
            let shift = self.cur.u8() % 16;
            out.extend_from_slice(&[1, 3, 3, shift]);
        }
        if o & 0x04 != 0 {
            out.extend_from_slice(&[1, 1, 4, 2]);
        }
        if o & 0x08 != 0 {
            let t = self.cur.u8();
            let peer = &mut self.peers[p];
            peer.my_ts = peer.my_ts.wrapping_add(1 + u32::from(t >> 4));
            let (my_ts, echo) = (peer.my_ts, peer.ep_tsval);
            let tsval = match t & 3 {
                0 | 1 => my_ts,
                2 => my_ts.wrapping_sub(0x8000_0000),
                _ => self.cur.u32(),
            };
            let tsecr = match (t >> 2) & 3 {
                0 | 1 => echo,
                2 => 0,
                _ => self.cur.u32(),
            };
            out.extend_from_slice(&[1, 1, 8, 10]);
            out.extend_from_slice(&tsval.to_be_bytes());
            out.extend_from_slice(&tsecr.to_be_bytes());
        }
        if o & 0x10 != 0 {
            // One SACK block around what the endpoint last sent.
            let s = self.cur.u8();
            let base = self.peers[p].ep_seq;
            let left = base.wrapping_add(u32::from(s & 15) * 100);
            let right = left.wrapping_add(1 + u32::from(s >> 4) * 100);
            out.extend_from_slice(&[1, 1, 5, 10]);
            out.extend_from_slice(&left.to_be_bytes());
            out.extend_from_slice(&right.to_be_bytes());
        }
        if o & 0x20 != 0 {
            // Raw bytes: malformed lengths, unknown kinds, truncated
            // options.
            let n = usize::from(self.cur.u8() % 41);
            let raw = self.cur.bytes(n);
            out.extend_from_slice(raw);
        }
        out.truncate(40);
    }

    /// A segment from one of the peers.
    fn op_segment(&mut self) {
        let p = usize::from(self.cur.u8()) % self.peers.len();
        let fsel = self.cur.u8();
        let flags = if fsel >= 0xF0 {
            self.cur.u8()
        } else {
            PRESETS[usize::from(fsel % 16)]
        };
        let seq = self.pick_seq(p);
        let ack = self.pick_ack(p);
        let w = self.cur.u8();
        let window = match w & 7 {
            0 | 1 => 65535,
            2 => 8192,
            3 => 0,
            4 => 1,
            5 => 100,
            6 => 1460,
            _ => self.cur.u16(),
        };
        let mut options = Vec::new();
        self.pick_options(p, &mut options);
        let l = self.cur.u8();
        let len = match l {
            0..=127 => 0,
            128..=191 => usize::from(l - 127),
            192..=239 => usize::from(l - 191) * 64,
            _ => usize::from(self.cur.u16()) % 4000,
        };
        let m = self.cur.u8();
        let seg = Seg {
            flags,
            seq,
            ack,
            window,
            len,
        };
        self.send_segment(p, seg, &options, m);
    }

    /// Sends one segment from peer `p`, its payload the peer's stream at
    /// the offsets it lands on, damaged as `m` says (see `mangle`).
    pub(crate) fn send_segment(&mut self, p: usize, seg: Seg, options: &[u8], m: u8) {
        let Seg {
            flags,
            seq,
            ack,
            window,
            len,
        } = seg;
        let (local, remote) = (self.peers[p].local, self.peers[p].remote);
        let syn = flags & SYN != 0;
        // The IRS the endpoint has or will take for this stream: the
        // payload is the peer's stream at the offsets it lands on.
        let irs = match self.live_tcb(local, remote) {
            Some((_, i)) if i.state != State::SynSent => i.irs.0,
            // A SYN sets IRS; without one a new TCB can only come from a
            // SYN cookie, whose IRS is SEQ - 1.
            _ if syn => seq,
            _ => seq.wrapping_sub(1),
        };
        let start = seq.wrapping_add(u32::from(syn));
        let first = start.wrapping_sub(irs).wrapping_sub(1);
        let mut payload = core::mem::take(&mut self.scratch);
        fill_stream(self.peers[p].salt, first, &mut payload[..len]);
        let spec = SegSpec {
            src: remote,
            dst: local,
            seq,
            ack,
            flags,
            window,
            options,
            payload: &payload[..len],
            ip_extra: m == 0xF0 || m == 0xF1,
            protocol: if m == 0xF2 { 17 } else { PROTO_TCP },
        };
        let mut pkt = core::mem::take(&mut self.pkt);
        build(&spec, &mut pkt);
        self.scratch = payload;
        let mangle = self.mangle(m, local.is_ipv6(), &mut pkt);
        log!(
            self,
            "seg {remote} -> {local} flags {flags:#04x} seq {seq} ack {ack} win {window} opts {options:?} len {len}{}",
            match mangle {
                Mangle::None => "",
                Mangle::Padded => " (padded)",
                Mangle::Broken => " (broken)",
            }
        );
        self.ep.handle_packet(self.now, &pkt);
        self.pkt = pkt;
        if mangle == Mangle::Broken {
            return;
        }
        let seg_len = len as u32 + u32::from(syn) + u32::from(flags & FIN != 0);
        let peer = &mut self.peers[p];
        if syn && flags & RST == 0 {
            peer.my_isn = seq;
            peer.my_nxt = seq.wrapping_add(seg_len);
        } else if SeqNum(seq.wrapping_add(seg_len)).gt(SeqNum(peer.my_nxt)) {
            peer.my_nxt = seq.wrapping_add(seg_len);
        }
        if flags & FIN != 0 && flags & RST == 0 {
            let at = first.wrapping_add(len as u32);
            self.fins.insert((local, remote, irs, at));
        }
    }

    /// Damages or extends the datagram as byte `m` says. Damage is always
    /// caught by a checksum or a length, so the stream oracle holds.
    fn mangle(&mut self, m: u8, v6: bool, pkt: &mut Vec<u8>) -> Mangle {
        match m {
            0xF0..=0xF1 => Mangle::None,
            0xF2 => Mangle::Broken,
            0xF3 | 0xF4 => {
                // One byte changed: no checksum misses that. IPv6 has no
                // header checksum, so its payload length, which could
                // shorten the segment without breaking the TCP checksum
                // (trailing zero bytes), is left alone.
                let mut at = usize::from(self.cur.u16()) % pkt.len().max(1);
                if v6 && (4..6).contains(&at) {
                    at = 8;
                }
                let x = self.cur.u8() | 1;
                if let Some(b) = pkt.get_mut(at) {
                    *b ^= x;
                }
                Mangle::Broken
            }
            0xF5 => {
                let keep = usize::from(self.cur.u16()) % pkt.len().max(1);
                pkt.truncate(keep);
                Mangle::Broken
            }
            0xF6 => {
                // Link-layer padding after the datagram.
                pkt.extend_from_slice(&[0, 0, 0, 0, 0xAA, 0xAA]);
                Mangle::Padded
            }
            0xF7 if !v6 => {
                // An IPv4 fragment (MF set), header checksum fixed.
                pkt[6] |= 0x20;
                pkt[10] = 0;
                pkt[11] = 0;
                let ihl = usize::from(pkt[0] & 0xf) * 4;
                let mut acc = 0u32;
                for c in pkt[..ihl].chunks(2) {
                    acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
                }
                while acc > 0xffff {
                    acc = (acc & 0xffff) + (acc >> 16);
                }
                pkt[10..12].copy_from_slice(&(!(acc as u16)).to_be_bytes());
                Mangle::Broken
            }
            _ => Mangle::None,
        }
    }

    /// Time passes and the timers due run.
    fn op_tick(&mut self) {
        let t = self.cur.u8();
        let us = match t % 10 {
            0 => 0,
            1 => 1_000,
            2 => 10_000,
            3 => 200_000,
            4 => 1_000_000,
            5 => 3_000_000,
            6 => 30_000_000,
            7 => 130_000_000,
            8 => 600_000_000,
            _ => u64::from(self.cur.u16()) * 1000,
        };
        self.now = Instant::from_micros(self.now.micros() + us);
        self.timeout();
    }

    /// Time jumps to the deadline the endpoint asked for (or just before or
    /// after it) and the timers run.
    fn op_deadline(&mut self) {
        let d = self.cur.u8();
        let target = match self.ep.poll_timeout() {
            Some(t) => match d % 4 {
                0 | 1 => t,
                2 => Instant::from_micros(t.micros() + 1),
                _ => Instant::from_micros(t.micros().saturating_sub(1)),
            },
            None => Instant::from_micros(self.now.micros() + 1_000_000),
        };
        self.now = self.now.max(target);
        self.timeout();
    }

    /// `handle_timeout` at the present time, and its promise: everything
    /// due has run, so the next deadline lies in the future (a deadline at
    /// or before now again would be a stuck timer, an event loop spinning).
    pub(crate) fn timeout(&mut self) {
        log!(self, "handle_timeout at {}", self.now);
        self.ep.handle_timeout(self.now);
        // Entries due by now are gone; a timer seen at or before now has
        // fired, and if it was armed again that was a new entry.
        let now = self.now;
        self.timer_entries.retain(|&d| d > now);
        self.timer_seen.retain(|_, d| *d > now);
        if let Some(d) = self.ep.poll_timeout()
            && d <= self.now
        {
            self.fail(format!(
                "poll_timeout() is {d} right after handle_timeout({})",
                self.now
            ));
        }
    }

    /// Active OPEN, valid or not.
    fn op_connect(&mut self) {
        let c = self.cur.u8();
        let v6 = c & 1 != 0;
        let local_ip: IpAddr = if v6 { LOCAL_V6.into() } else { LOCAL_V4.into() };
        let local_port = [0, 0, 5000, 80][usize::from((c >> 1) & 3)];
        let mut local = SocketAddr::new(local_ip, local_port);
        let remote_ip: IpAddr = match ((c >> 3) & 3, v6) {
            (0 | 1, false) => [198, 18, 2, 1].into(),
            (0 | 1, true) => Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 2, 1).into(),
            // The address of a fixed peer: a 4-tuple that a passive peer
            // may use too.
            (2, false) => [198, 18, 1, 1].into(),
            (2, true) => Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, 1).into(),
            // Invalid: another family, multicast, unspecified local.
            _ => match c >> 6 {
                0 => {
                    if v6 {
                        [198, 18, 2, 1].into()
                    } else {
                        Ipv6Addr::LOCALHOST.into()
                    }
                }
                1 => [224, 0, 0, 1].into(),
                2 => {
                    local = SocketAddr::new([0, 0, 0, 0].into(), local_port);
                    [198, 18, 2, 1].into()
                }
                _ => [198, 18, 2, 1].into(),
            },
        };
        let remote_port = if c >> 6 == 3 && (c >> 3) & 3 == 3 {
            0
        } else {
            [80, 81, 1001, 1002][usize::from(c >> 6)]
        };
        let remote = SocketAddr::new(remote_ip, remote_port);
        let r = self.ep.connect(self.now, local, remote);
        log!(self, "connect {local} -> {remote}: {r:?}");
        if let Ok(id) = r {
            let Some(info) = self.ep.info(id) else {
                return self.fail(format!(
                    "connect returned {id:?} with no connection behind it"
                ));
            };
            if info.state != State::SynSent || info.remote != remote {
                return self.fail(format!("connect gave {info:?}"));
            }
            self.opened.insert(id);
            self.app_known.insert(id);
            self.remember_handle(id);
            self.add_peer(info.local, info.remote);
        }
    }

    fn op_accept(&mut self) {
        let l = self.pick_listener();
        let queued = self.ep.accept_queue_len(l).unwrap_or(0);
        let r = self.ep.accept(l);
        log!(self, "accept {l:?} ({queued} queued): {r:?}");
        if queued > 0 && r.is_none() {
            return self.fail(format!("accept on {l:?} found nothing, {queued} queued"));
        }
        if let Some(c) = r {
            let state = self.ep.info(c).map(|i| i.state);
            if !state.is_some_and(State::is_synchronized) {
                return self.fail(format!("accept returned {c:?} in {state:?}"));
            }
            self.app_known.insert(c);
            self.remember_handle(c);
        }
    }

    /// SEND of the next bytes of the application's stream.
    fn op_send(&mut self) {
        let c = self.pick_handle();
        let s = self.cur.u8();
        let n = match s % 8 {
            0 => 0,
            1 => 1,
            2 => 10,
            3 => 100,
            4 => 536,
            5 => 1000,
            6 => 3000,
            _ => usize::from(self.cur.u16()) % 20_000,
        };
        self.app_send(c, n);
    }

    /// SEND of the application stream's next `n` bytes on handle `c`.
    pub(crate) fn app_send(&mut self, c: ConnId, n: usize) {
        let rec = self.recs.entry(c).or_default();
        let sent = rec.sent as u32;
        let mut data = core::mem::take(&mut self.scratch);
        fill_stream(app_salt(c), sent, &mut data[..n]);
        let capacity = self.ep.send_capacity(c);
        let r = self.ep.send(c, &data[..n]);
        self.scratch = data;
        log!(self, "send {c:?} {n} bytes (capacity {capacity}): {r:?}");
        match r {
            Ok(k) => {
                // `send_capacity` is what `send` would accept now.
                if n > 0 && k != n.min(capacity) {
                    self.fail(format!("send took {k} of {n} with capacity {capacity}"));
                }
                self.recs.entry(c).or_default().sent += k as u64;
            }
            Err(Error::WouldBlock) if capacity > 0 => {
                self.fail(format!("send would block with capacity {capacity}"));
            }
            Err(_) if capacity > 0 && n > 0 => {
                self.fail(format!("send failed ({r:?}) with capacity {capacity}"));
            }
            Err(_) => {}
        }
    }

    /// RECEIVE: the bytes must be the peer's stream, in order, and the end
    /// of the stream only where the peer put a FIN.
    fn op_recv(&mut self) {
        let c = self.pick_handle();
        let s = self.cur.u8();
        let n = [0, 1, 7, 100, 1000, 5000, 536, 65535][usize::from(s % 8)];
        let info = self.ep.info(c);
        let mut out = core::mem::take(&mut self.scratch);
        let r = self.ep.recv(c, &mut out[..n]);
        log!(self, "recv {c:?} up to {n}: {r:?}");
        let read = self.recs.get(&c).map_or(0, |r| r.read) as u32;
        match (r, info) {
            (Ok(_), None) => self.fail(format!("recv on {c:?} with no connection: {r:?}")),
            (Ok(0), Some(i)) if n > 0 => {
                if !self.fins.contains(&(i.local, i.remote, i.irs.0, read)) {
                    self.fail(format!(
                        "end of stream at offset {read} of {} -> {} (IRS {}), where the peer sent no FIN",
                        i.remote, i.local, i.irs.0
                    ));
                }
            }
            (Ok(k), Some(i)) => {
                // RECEIVE copies out what is buffered, as much as fits.
                if k != n.min(i.recv_queue) {
                    self.fail(format!("recv gave {k} of {n}, {} buffered", i.recv_queue));
                }
                let salt = crate::oracle::peer_salt(i.local, i.remote);
                if let Some(at) = stream_mismatch(salt, read, &out[..k]) {
                    self.fail(format!(
                        "recv returned a wrong byte at stream offset {} of {} -> {}",
                        read.wrapping_add(at as u32),
                        i.remote,
                        i.local
                    ));
                }
                self.recs.entry(c).or_default().read += k as u64;
            }
            (Err(e), Some(i)) if i.recv_queue > 0 && n > 0 => {
                self.fail(format!(
                    "recv failed ({e:?}) with {} bytes buffered",
                    i.recv_queue
                ));
            }
            (Err(_), _) => {}
        }
        self.scratch = out;
    }

    /// CLOSE (both forms) and ABORT.
    fn op_close(&mut self) {
        let c = self.pick_handle();
        match self.cur.u8() % 3 {
            0 => {
                let r = self.ep.shutdown(c);
                log!(self, "shutdown {c:?}: {r:?}");
                if r.is_ok() {
                    self.recs.entry(c).or_default().fin_requested = true;
                }
            }
            1 => {
                let r = self.ep.close(c);
                log!(self, "close {c:?}: {r:?}");
                if r.is_ok() {
                    let rec = self.recs.entry(c).or_default();
                    rec.fin_requested = true;
                    rec.closed = true;
                }
            }
            _ => {
                log!(self, "abort {c:?}");
                self.ep.abort(c);
            }
        }
    }

    /// The other calls: options and STATUS, checked against the model.
    fn op_misc(&mut self) {
        let c = self.pick_handle();
        match self.cur.u8() % 6 {
            0 | 1 => {
                let on = self.cur.u8() & 1 != 0;
                let r = self.ep.set_nodelay(c, on);
                log!(self, "set_nodelay {c:?} {on}: {r:?}");
            }
            2 => {
                let t = [None, Some(0), Some(100), Some(5000), Some(3_600_000)]
                    [usize::from(self.cur.u8() % 5)]
                .map(Duration::from_millis);
                let r = self.ep.set_user_timeout(c, t);
                log!(self, "set_user_timeout {c:?} {t:?}: {r:?}");
            }
            3 => {
                let eof = self.ep.is_eof(c);
                log!(self, "is_eof {c:?}: {eof}");
                if eof {
                    // Everything up to the FIN was received and read.
                    let read = self.recs.get(&c).map_or(0, |r| r.read) as u32;
                    let i = self.ep.info(c);
                    if !i.is_some_and(|i| self.fins.contains(&(i.local, i.remote, i.irs.0, read))) {
                        self.fail(format!(
                            "is_eof at offset {read}, where the peer sent no FIN"
                        ));
                    }
                }
            }
            4 => {
                let cap = self.ep.send_capacity(c);
                if cap > self.cfg.send_buffer {
                    self.fail(format!("send_capacity {cap} beyond the send buffer"));
                }
            }
            _ => {
                let i = self.ep.info(c);
                log!(self, "info {c:?}: {i:?}");
            }
        }
    }

    /// An ICMP error quoting a segment the endpoint sent (or did not).
    fn op_icmp(&mut self) {
        let p = usize::from(self.cur.u8()) % self.peers.len();
        let k = self.cur.u8();
        let m = self.cur.u8();
        let mtu: u16 = match m & 7 {
            0 => 0,
            1 => 68,
            2 => 100,
            3 => 576,
            4 => 1280,
            5 => 1400,
            6 => 1500,
            _ => self.cur.u16(),
        };
        let kind = match k % 11 {
            0 => IcmpErrorKind::NetUnreachable,
            1 => IcmpErrorKind::HostUnreachable,
            2 => IcmpErrorKind::ProtocolUnreachable,
            3 => IcmpErrorKind::PortUnreachable,
            4 => IcmpErrorKind::FragmentationNeeded { mtu },
            5 => IcmpErrorKind::PacketTooBig {
                mtu: u32::from(mtu),
            },
            6 => IcmpErrorKind::SourceRouteFailed,
            7 => IcmpErrorKind::TimeExceeded,
            8 => IcmpErrorKind::ParameterProblem,
            9 => IcmpErrorKind::AdminProhibited,
            _ => IcmpErrorKind::Other,
        };
        let s = self.cur.u8();
        let peer = &self.peers[p];
        let seq = match s & 3 {
            0 => self.cur.u32(),
            1 | 2 => peer.ep_seq.wrapping_add(u32::from(s >> 2)),
            _ => peer.ep_iss,
        };
        let err = IcmpError {
            local: peer.local,
            remote: peer.remote,
            seq: SeqNum(seq),
            kind,
        };
        log!(self, "icmp {err:?}");
        self.ep.handle_icmp_error(self.now, err);
    }

    /// A listener closes, or a new one opens.
    fn op_listener(&mut self) {
        let x = self.cur.u8();
        if x & 1 == 0 {
            let l = self.pick_listener();
            let r = self.ep.close_listener(l);
            log!(self, "close_listener {l:?}: {r:?}");
        } else {
            let addr: SocketAddr = match (x >> 1) % 6 {
                0 => (LOCAL_V4, 80).into(),
                1 => (LOCAL_V6, 80).into(),
                2 => ([0, 0, 0, 0], 80).into(),
                3 => (Ipv6Addr::UNSPECIFIED, 80).into(),
                4 => (LOCAL_V4, 81).into(),
                _ => (LOCAL_V4, 0).into(),
            };
            let backlog = usize::from(x >> 4);
            let r = self.ep.listen(addr, backlog);
            log!(self, "listen {addr} backlog {backlog}: {r:?}");
            if let Ok(l) = r {
                crate::coverage::saw_state(State::Listen);
                // The decoys must name every listener for the SYN-queue
                // check to see them all.
                if !decoys().listeners.contains(&l) {
                    self.fail(format!("listener {l:?} beyond the decoys'"));
                }
            }
        }
    }
}
