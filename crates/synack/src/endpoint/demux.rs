//! Input: parse and check a datagram, then find who it is for: a TCB by
//! 4-tuple, a TIME-WAIT entry, a listener, or nobody (RFC 9293 3.10.7.1-2).

use super::Endpoint;
use crate::config::SynCookieMode;
use crate::control::ControlSegment;
use crate::cookie::{CookieOptions, SynCookies};
use crate::counters::DropReason;
use crate::event::{ConnId, Event, ListenerId, OpenKind, Sockets, StateChange};
use crate::isn::ts_clock;
use crate::listener::ChildSettings;
use crate::seq::SeqNum;
use crate::state::State;
use crate::time::Instant;
use crate::timewait::{TimeWaitEntry, TwAction};
use crate::tuple::{FourTuple, Key};
use core::time::Duration;
use std::net::IpAddr;
use synack_wire::{PROTO_TCP, TcpFlags, TcpOptions, TcpSegment, Timestamps, WireError, parse_ip};

/// How long after a SYN-queue overflow cookie ACKs are honoured in
/// `WhenQueueFull` mode (as Linux's TCP_SYNCOOKIE_VALID).
const COOKIE_VALID: Duration = Duration::from_secs(120);

impl Endpoint {
    /// Takes one inbound IP datagram: IPv4 or IPv6, starting at the IP
    /// header (no link-layer header), read during the call and not kept.
    /// Anything malformed is counted and dropped; nothing from the network
    /// can panic the engine.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.handle_packet_as::<false>(now, packet, 0);
    }

    /// [`handle_packet`](Self::handle_packet) for a datagram whose TCP
    /// checksum a party the caller trusts has already verified or computed
    /// (the local kernel, through a TUN device's offloads: a segment it cut
    /// from a super-segment, or one it marks valid): every other check is
    /// made, the checksum is not summed again. Anything from a wire must go
    /// through `handle_packet`.
    pub fn handle_packet_verified(&mut self, now: Instant, packet: &[u8]) {
        self.handle_packet_as::<true>(now, packet, 0);
    }

    /// [`handle_packet_verified`](Self::handle_packet_verified) for a TCP
    /// super-segment the local kernel built from segments of
    /// `segment_size` payload bytes each (its GRO, or its TSO through a TUN
    /// device with offloads): one datagram of up to 64 KiB whose headers
    /// are the first segment's, its payload theirs in order. It is taken
    /// whole, as Linux takes a coalesced packet: one trip through the
    /// receive path instead of one per segment. What depends on the
    /// segments the peer sent (what a full-sized segment is, when an ACK is
    /// owed, `InSegs`) counts them, not the super-segment. As with
    /// `handle_packet_verified`, the checksum is not summed: only the local
    /// kernel may be the source.
    pub fn handle_packet_coalesced(&mut self, now: Instant, packet: &[u8], segment_size: u16) {
        self.handle_packet_as::<true>(now, packet, segment_size);
    }

    /// `coalesced`: the segment size of a super-segment, 0 for a plain one.
    #[inline(always)]
    fn handle_packet_as<const VERIFIED: bool>(
        &mut self,
        now: Instant,
        packet: &[u8],
        coalesced: u16,
    ) {
        self.now = self.now.max(now);
        // Matched by reference, as the segment below: moved out of the
        // `Result`, the header parse_ip had just written field by field was
        // read back in 16-byte pieces, which stalled on store forwarding.
        // For the same reason IPv4 addresses go on as 4-byte values, never
        // as copies of the `IpAddr`s in the parsed header.
        let parsed_ip = parse_ip(packet);
        let ip = match &parsed_ip {
            Ok(ip) => ip,
            Err(WireError::NotTcp(_)) => {
                self.counters.drop(DropReason::NotTcp);
                return;
            }
            Err(e) => {
                self.counters.in_errs += 1;
                self.counters.drop(if *e == WireError::Fragmented {
                    DropReason::Fragment
                } else {
                    DropReason::MalformedIp
                });
                return;
            }
        };
        if ip.protocol != PROTO_TCP {
            self.counters.drop(DropReason::NotTcp);
            return;
        }
        // InSegs counts segments received in error too (RFC 4022).
        self.counters.in_segs += 1;
        // Matched by reference: the segment is large, and moving it out of
        // the `Result` would copy it.
        let v4 = match (&ip.src, &ip.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Some((*s, *d)),
            _ => None,
        };
        let parsed = match v4 {
            _ if VERIFIED => TcpSegment::parse_unchecked(ip.payload),
            Some((s, d)) => TcpSegment::parse_v4(ip.payload, s, d),
            None => TcpSegment::parse(ip.payload, ip.src, ip.dst),
        };
        let seg = match &parsed {
            Ok(s) => s,
            Err(e) => {
                self.counters.in_errs += 1;
                self.counters.drop(if *e == WireError::BadChecksum {
                    DropReason::BadChecksum
                } else {
                    DropReason::MalformedTcp
                });
                return;
            }
        };
        let key = match v4 {
            // The ports from the datagram itself, not from `seg`: the
            // parser has just written them there as two 16-bit fields,
            // which the compiler reads back as one 32-bit word, a load that
            // stalls on store forwarding.
            Some((s, d)) => match ip.payload.first_chunk::<4>() {
                Some(&[s0, s1, d0, d1]) => Key::v4(
                    d,
                    s,
                    u16::from_be_bytes([d0, d1]),
                    u16::from_be_bytes([s0, s1]),
                ),
                None => Key::v4(d, s, seg.dst_port, seg.src_port),
            },
            None => Key::new(ip.dst, ip.src, seg.dst_port, seg.src_port),
        };
        if coalesced > 0 {
            // InSegs counts the segments the peer sent, as Linux counts a
            // coalesced packet's.
            let segs = seg.payload.len().div_ceil(usize::from(coalesced)).max(1);
            self.counters.in_segs += segs as u64 - 1;
        }
        if let Some(&id) = self.tuples.get(&key) {
            let ce = ip.tos & 0b11 == crate::tcb::CE;
            self.segment_for_conn(now, id, seg, ce, coalesced);
            return;
        }
        let tuple = FourTuple {
            local_ip: ip.dst,
            remote_ip: ip.src,
            local_port: seg.dst_port,
            remote_port: seg.src_port,
        };
        if let Some(&e) = self.time_wait.get(&tuple) {
            self.segment_for_time_wait(now, tuple, e, seg);
            return;
        }
        // RFC 9293 MUST-57, MUST-63: nothing to or from broadcast,
        // multicast or unspecified addresses, and no port 0. Checked only
        // here: a connection or TIME-WAIT entry exists only for a 4-tuple
        // that passed it (or `connect`'s own check), so a segment that
        // matched one has good addresses already.
        if !unicast(ip.src) || !unicast(ip.dst) || seg.src_port == 0 || seg.dst_port == 0 {
            self.counters.drop(DropReason::BadAddress);
            return;
        }
        if let Some(r) = self.requests.find(&tuple) {
            self.segment_for_request(now, r, seg);
            return;
        }
        if let Some(l) = self.listener_for(&tuple) {
            self.segment_for_listener(now, l, tuple, seg, None);
        } else if self.is_ours(&tuple) {
            self.reply_closed(tuple, seg);
        } else {
            self.counters.drop(DropReason::NotLocal);
        }
    }

    fn find_listener(&self, t: &FourTuple) -> Option<ListenerId> {
        self.listener_addrs
            .find(t.local_ip, t.local_port)
            .map(ListenerId)
    }

    fn segment_for_conn(
        &mut self,
        now: Instant,
        id: ConnId,
        seg: &TcpSegment<'_>,
        ce: bool,
        coalesced: u16,
    ) {
        self.with_tcb(id, now, |tcb, ctx, listeners| {
            ctx.rx_segment_size = coalesced;
            if ce {
                // Congestion Experienced on the way (RFC 3168 6.1.3).
                tcb.ce_received(ctx);
            }
            // A half-open child completes only if its listener can queue
            // it; otherwise the ACK is dropped and the peer will send it
            // again.
            if tcb.state == State::SynReceived
                && seg.flags.ack()
                && !seg.flags.rst()
                && let Some(l) = tcb.listener
                && listeners
                    .get(l.0 as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|li| li.accept_queue_full())
            {
                ctx.counters.drop(DropReason::AcceptQueueFull);
                return;
            }
            tcb.on_segment(ctx, seg);
        });
    }

    /// A host takes only what is addressed to it (with no addresses
    /// configured, everything is).
    fn is_ours(&self, tuple: &FourTuple) -> bool {
        self.cfg.local_addrs.is_empty() || self.cfg.local_addrs.contains(&tuple.local_ip)
    }

    /// The listener a new SYN for `tuple` goes to: one of ours for our
    /// addresses, else an intercepting listener whose rule names the
    /// destination, ours or not.
    fn listener_for(&self, tuple: &FourTuple) -> Option<ListenerId> {
        let listener = match self.is_ours(tuple) {
            true => self.find_listener(tuple),
            false => None,
        };
        listener.or_else(|| self.find_interceptor(tuple))
    }

    /// RFC 9293 3.10.7.1: no TCB. Answer anything but a RST with a RST
    /// (SM-09).
    fn reply_closed(&mut self, tuple: FourTuple, seg: &TcpSegment<'_>) {
        if seg.flags.rst() {
            self.counters.drop(DropReason::RstIgnored);
            return;
        }
        let rst = if seg.flags.ack() {
            ControlSegment {
                tuple,
                seq: SeqNum(seg.ack),
                ack: None,
                flags: TcpFlags::RST,
            }
        } else {
            ControlSegment {
                tuple,
                seq: SeqNum(0),
                ack: Some(SeqNum(seg.seq).add(seg.seg_len())),
                flags: TcpFlags::RST | TcpFlags::ACK,
            }
        };
        self.control.push(rst, &mut self.counters);
    }

    /// RFC 9293 3.10.7.2: LISTEN. `iss_floor` is set when a SYN reopens a
    /// TIME-WAIT 4-tuple: the new ISS must lie beyond the old SND.NXT.
    fn segment_for_listener(
        &mut self,
        now: Instant,
        l: ListenerId,
        tuple: FourTuple,
        seg: &TcpSegment<'_>,
        iss_floor: Option<SeqNum>,
    ) {
        let f = seg.flags;
        if f.rst() {
            self.counters.drop(DropReason::RstIgnored);
            return;
        }
        if f.ack() {
            if !f.syn() && self.cookie_ack(now, l, tuple, seg) {
                return;
            }
            // Any acknowledgment is bad in LISTEN: <SEQ=SEG.ACK><CTL=RST>.
            self.reply_closed(tuple, seg);
            return;
        }
        if !f.syn() {
            self.counters.drop(DropReason::ListenUnexpected);
            return;
        }
        if f.fin() {
            // A connection cannot open and close in one segment; such a
            // SYN is a scan or an attack (Linux drops it too).
            self.counters.drop(DropReason::SynFin);
            return;
        }
        let Some(li) = self.listener(l) else {
            self.counters.drop(DropReason::NoListener);
            return;
        };
        if li.accept_queue_full() {
            self.counters.drop(DropReason::AcceptQueueFull);
            return;
        }
        let mode = self.cfg.syn_cookies;
        let table_full = self.tuples.len() >= self.cfg.max_connections;
        let queue_full = li.syn_queue_full() || table_full;
        let child = li.child;
        if li.decides() {
            // Held for the application's decision while within the bounds;
            // beyond them, answered statelessly (accept-first) if cookies
            // may be used at all.
            if self.hold_syn_request(now, l, tuple, seg, iss_floor) {
                return;
            }
            self.counters.syn_requests_overflow += 1;
            if mode == SynCookieMode::Off {
                self.counters.drop(DropReason::SynQueueFull);
                return;
            }
            if let Some(li) = self.listener_mut(l) {
                li.last_overflow = Some(now);
            }
            self.send_cookie_syn_ack(now, tuple, seg, child);
            return;
        }
        if mode == SynCookieMode::Always || (queue_full && mode == SynCookieMode::WhenQueueFull) {
            if let Some(li) = self.listener_mut(l) {
                li.last_overflow = Some(now);
            }
            self.send_cookie_syn_ack(now, tuple, seg, child);
            return;
        }
        if queue_full {
            self.counters.drop(if table_full {
                DropReason::ConnectionLimit
            } else {
                DropReason::SynQueueFull
            });
            return;
        }
        self.open_child(now, l, tuple, seg, iss_floor);
    }

    /// A listener's new child for an acceptable SYN: SYN-RECEIVED, its
    /// SYN-ACK queued (RFC 9293 3.10.7.2, "third, check for a SYN").
    pub(super) fn open_child(
        &mut self,
        now: Instant,
        l: ListenerId,
        tuple: FourTuple,
        seg: &TcpSegment<'_>,
        iss_floor: Option<SeqNum>,
    ) -> ConnId {
        let child = self.listener(l).map(|li| li.child).unwrap_or_default();
        let (mut iss, ts_offset) = self
            .isn
            .isn_and_ts_offset(now, tuple.local(), tuple.remote());
        if let Some(floor) = iss_floor
            && iss.le(floor)
        {
            iss = floor.add(1);
        }
        let id = self.insert_tcb(tuple, iss, ts_offset, OpenKind::Passive, |t, cfg| {
            t.open_passive(
                cfg,
                (l, child),
                SeqNum(seg.seq),
                seg.window,
                &seg.options,
                now,
            );
            t.ecn_syn_received(cfg.ecn, seg.flags);
            t.uto_received(cfg, &seg.options);
        });
        self.counters.passive_opens += 1;
        self.child_created(l, id, tuple);
        // Data on the SYN is kept and delivered once established (CE-10).
        if !seg.payload.is_empty()
            && let Some((tcb, mut ctx)) = self.split(id, now)
        {
            tcb.syn_data(&mut ctx, seg.payload);
            self.arm(id);
        }
        id
    }

    /// A listener's new half-open child: counted in its SYN queue, and
    /// traced as LISTEN -> SYN-RECEIVED.
    fn child_created(&mut self, l: ListenerId, id: ConnId, tuple: FourTuple) {
        if let Some(li) = self.listener_mut(l) {
            li.syn_queue += 1;
        }
        if self.cfg.trace_states {
            self.events
                .push_back(Event::StateChanged(Box::new(StateChange {
                    conn: id,
                    local: tuple.local(),
                    remote: tuple.remote(),
                    from: State::Listen,
                    to: State::SynReceived,
                })));
        }
    }

    /// A stateless SYN-ACK whose ISN is a cookie (RFC 4987 3.6); with
    /// timestamps, window scale and SACK-permitted ride in TSval.
    fn send_cookie_syn_ack(
        &mut self,
        now: Instant,
        tuple: FourTuple,
        seg: &TcpSegment<'_>,
        child: ChildSettings,
    ) {
        let cfg = &self.cfg;
        let user_mss = child.user_mss;
        let (iss, _mss) = self.cookies.encode(
            now,
            tuple.local(),
            tuple.remote(),
            SeqNum(seg.seq),
            seg.options.mss,
        );
        let link = cfg.advertised_mss(tuple.is_ipv6());
        let mut options = TcpOptions {
            mss: Some(if user_mss == 0 {
                link
            } else {
                link.min(user_mss)
            }),
            ..TcpOptions::default()
        };
        if let (true, Some(ts)) = (cfg.timestamps, seg.options.timestamps) {
            let wscale = match (cfg.window_scaling, seg.options.window_scale) {
                (true, Some(s)) => Some(s.min(14)),
                _ => None,
            };
            let sack = cfg.sack && seg.options.sack_permitted;
            let clock = ts_clock(now, self.ts_offset(&tuple));
            let tsval = SynCookies::encode_ts(
                clock,
                CookieOptions {
                    wscale,
                    sack_permitted: sack,
                },
            );
            options.timestamps = Some(Timestamps {
                tsval,
                tsecr: ts.tsval,
            });
            if wscale.is_some() {
                options.window_scale = Some(cfg.window_shift());
            }
            options.sack_permitted = sack;
        }
        let window = cfg.recv_buffer.min(65535) as u16;
        let syn_ack = ControlSegment {
            tuple,
            seq: iss,
            ack: Some(SeqNum(seg.seq).add(1)),
            flags: TcpFlags::SYN | TcpFlags::ACK,
        };
        self.counters.syncookies_sent += 1;
        self.control
            .push_full(syn_ack, window, options, &mut self.counters);
    }

    /// The third ACK of a cookie handshake. Returns true if it created a
    /// connection.
    fn cookie_ack(
        &mut self,
        now: Instant,
        l: ListenerId,
        tuple: FourTuple,
        seg: &TcpSegment<'_>,
    ) -> bool {
        let mode = self.cfg.syn_cookies;
        let recent = self
            .listener(l)
            .and_then(|li| li.last_overflow)
            .is_some_and(|t| now.saturating_since(t) <= COOKIE_VALID);
        if mode == SynCookieMode::Off || (mode == SynCookieMode::WhenQueueFull && !recent) {
            return false;
        }
        let client_isn = SeqNum(seg.seq).sub(1);
        let cookie = SeqNum(seg.ack).sub(1);
        let Some(mss) = self
            .cookies
            .check(now, tuple.local(), tuple.remote(), client_isn, cookie)
        else {
            self.counters.syncookies_failed += 1;
            return false;
        };
        if self.listener(l).is_none_or(|li| li.accept_queue_full()) {
            self.counters.drop(DropReason::AcceptQueueFull);
            return true;
        }
        // A valid cookie still makes a TCB, and the table is bounded like
        // every other path into it: the client's ACK is dropped (it will
        // send again, or data, which is answered then).
        if self.tuples.len() >= self.cfg.max_connections {
            self.counters.drop(DropReason::ConnectionLimit);
            return true;
        }
        let ts = seg.options.timestamps;
        let opts = ts.and_then(|t| SynCookies::decode_ts(t.tsecr));
        let syn_opts = TcpOptions {
            mss: Some(mss),
            window_scale: opts.and_then(|o| o.wscale),
            sack_permitted: opts.is_some_and(|o| o.sack_permitted),
            timestamps: ts.filter(|_| opts.is_some()).map(|t| Timestamps {
                tsval: t.tsval,
                tsecr: 0,
            }),
            ..TcpOptions::default()
        };
        self.counters.syncookies_recv += 1;
        self.counters.passive_opens += 1;
        let ts_offset = self.ts_offset(&tuple);
        let child = self
            .listener(l)
            .map_or_else(ChildSettings::default, |li| li.child);
        let id = self.insert_tcb(tuple, cookie, ts_offset, OpenKind::Cookie, |t, cfg| {
            t.open_passive(cfg, (l, child), client_isn, seg.window, &syn_opts, now);
            t.syn_ack_sent_statelessly(cfg);
        });
        self.child_created(l, id, tuple);
        // Now an ordinary SYN-RECEIVED child receives the ACK.
        self.segment_for_conn(now, id, seg, false, 0);
        true
    }

    /// A segment for a TIME-WAIT entry: [`TimeWaitEntry::on_segment`]
    /// decides, this carries it out.
    fn segment_for_time_wait(
        &mut self,
        now: Instant,
        tuple: FourTuple,
        e: TimeWaitEntry,
        seg: &TcpSegment<'_>,
    ) {
        let (restart, dropped) = match e.on_segment(seg) {
            TwAction::Close => {
                self.time_wait.remove(&tuple);
                if self.cfg.trace_states {
                    self.events
                        .push_back(Event::TimeWaitEnded(Box::new(Sockets {
                            local: tuple.local(),
                            remote: tuple.remote(),
                        })));
                }
                return;
            }
            // A new SYN reopens the 4-tuple for whoever would take it now:
            // a listener of ours, or an intercepting listener (the
            // connection may have been intercepted).
            TwAction::Reopen { iss_floor } => match self.listener_for(&tuple) {
                Some(l) => {
                    self.time_wait.remove(&tuple);
                    self.segment_for_listener(now, l, tuple, seg, Some(iss_floor));
                    return;
                }
                None => (false, None),
            },
            TwAction::Drop(reason) => {
                self.counters.drop(reason);
                return;
            }
            TwAction::Ack { restart, dropped } => (restart, dropped),
        };
        if let Some(reason) = dropped {
            self.counters.drop(reason);
        }
        if restart {
            let expires_ms = (now + 2 * self.cfg.msl).millis() as u32;
            if let Some(entry) = self.time_wait.get_mut(&tuple) {
                entry.expires_ms = expires_ms;
            }
        }
        let mut options = TcpOptions::default();
        if e.ts_ok {
            options.timestamps = Some(Timestamps {
                tsval: ts_clock(now, self.ts_offset(&tuple)),
                tsecr: e.ts_recent,
            });
        }
        let ack = ControlSegment {
            tuple,
            seq: SeqNum(e.snd_nxt),
            ack: Some(SeqNum(e.rcv_nxt)),
            flags: TcpFlags::ACK,
        };
        self.control
            .push_full(ack, e.window, options, &mut self.counters);
    }
}

/// A usable unicast address (RFC 9293 3.9.2.3, MUST-57, MUST-63).
pub(crate) fn unicast(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}
