//! Intercepting listeners and the SYNs they hold for a decision (see
//! `crate::intercept`): opening one, the application's three answers,
//! and what the network does to a request meanwhile.

use super::Endpoint;
use crate::control::ControlSegment;
use crate::counters::DropReason;
use crate::error::Error;
use crate::event::{ConnId, Event, ListenerId};
use crate::intercept::{AbandonReason, Intercept, Pending, RequestId, SynRequest};
use crate::listener::Listener;
use crate::seq::SeqNum;
use crate::tcb::Flags;
use crate::time::Instant;
use crate::tuple::FourTuple;
use std::net::{Ipv4Addr, SocketAddr};
use synack_wire::{TcpFlags, TcpSegment};

impl Endpoint {
    /// Passive OPEN for every destination `rule` matches, whatever the
    /// address (the way VPN clients and transparent proxies terminate
    /// flows): tried after the ordinary listeners and TIME-WAIT, and for
    /// destinations outside `Config::local_addrs` too. Connections answer
    /// from the destination the client asked for, which
    /// [`ConnInfo::local`](crate::ConnInfo::local) reports. `backlog`
    /// bounds the SYN and accept queues as for [`listen`](Self::listen);
    /// in [`InterceptMode::Decide`](crate::InterceptMode::Decide) SYNs wait
    /// for [`accept_request`](Self::accept_request) instead, bounded by
    /// `Config::max_syn_requests`. Close it with
    /// [`close_listener`](Self::close_listener).
    pub fn intercept(&mut self, rule: Intercept, backlog: usize) -> Result<ListenerId, Error> {
        let backlog = backlog.max(1);
        let mut listener = Listener::new(
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            backlog.min(self.cfg.max_syn_backlog),
            backlog.min(self.cfg.max_accept_backlog),
        );
        listener.intercept = Some(Box::new(rule));
        let id = self.add_listener(listener);
        self.interceptors.push(id);
        Ok(id)
    }

    /// The intercepting listener whose rule takes this destination.
    pub(super) fn find_interceptor(&self, t: &FourTuple) -> Option<ListenerId> {
        let dst = t.local();
        self.interceptors.iter().copied().find(|&l| {
            self.listener(l)
                .and_then(|li| li.intercept.as_ref())
                .is_some_and(|r| r.matches(dst))
        })
    }

    /// A closed intercepting listener: no longer tried, and its pending
    /// SYNs are abandoned (their clients' next SYN finds no listener).
    pub(super) fn interceptor_closed(&mut self, l: ListenerId) {
        self.interceptors.retain(|&i| i != l);
        for request in self.requests.remove_listener(l) {
            self.events.push_back(Event::SynRequestAbandoned {
                request,
                reason: AbandonReason::ListenerClosed,
            });
        }
    }

    /// Holds a SYN for the application's decision, unless the pending
    /// SYNs are at their bound (in total or from this source). Returns
    /// whether it did.
    pub(super) fn hold_syn_request(
        &mut self,
        now: Instant,
        l: ListenerId,
        tuple: FourTuple,
        seg: &TcpSegment<'_>,
        iss_floor: Option<SeqNum>,
    ) -> bool {
        if self.requests.len() >= self.cfg.max_syn_requests
            || self.requests.count_from(tuple.remote_ip) as usize
                >= self.cfg.max_syn_requests_per_source
        {
            return false;
        }
        let mut p = Pending::new(
            tuple,
            l,
            SeqNum(seg.seq),
            seg.window,
            seg.flags,
            &seg.options,
            now,
        );
        p.iss_floor = iss_floor;
        let request = self.requests.insert(p);
        self.counters.syn_requests += 1;
        self.events.push_back(Event::SynRequest {
            listener: l,
            request,
        });
        true
    }

    /// A segment for a 4-tuple whose SYN awaits a decision: a
    /// retransmitted SYN is counted (a new ISN replaces the old one: the
    /// client started over), the client's RST abandons the request, and
    /// anything else waits with it, dropped.
    pub(super) fn segment_for_request(&mut self, now: Instant, r: RequestId, seg: &TcpSegment<'_>) {
        let Some(p) = self.requests.get_mut(r) else {
            return;
        };
        let f = seg.flags;
        if f.rst() {
            // Only the RST that answers the SYN itself (RFC 5961 3.2's
            // exact match; nothing of ours was seen yet but the ISN).
            if SeqNum(seg.seq) == p.irs.add(1) || (f.ack() && SeqNum(seg.seq) == p.irs) {
                self.requests.remove(r);
                self.events.push_back(Event::SynRequestAbandoned {
                    request: r,
                    reason: AbandonReason::Reset,
                });
            } else {
                self.counters.drop(DropReason::RstNotExact);
            }
            return;
        }
        if f.syn() && !f.ack() && !f.fin() {
            p.syns = p.syns.saturating_add(1);
            if SeqNum(seg.seq) != p.irs {
                let (syns, iss_floor) = (p.syns, p.iss_floor);
                *p = Pending::new(
                    p.tuple,
                    p.listener,
                    SeqNum(seg.seq),
                    seg.window,
                    seg.flags,
                    &seg.options,
                    now,
                );
                p.syns = syns;
                p.iss_floor = iss_floor;
            }
            return;
        }
        self.counters.drop(DropReason::ListenUnexpected);
    }

    /// What a pending SYN asks for; `None` once decided or abandoned.
    pub fn syn_request(&self, r: RequestId) -> Option<SynRequest> {
        self.requests.get(r).map(Pending::info)
    }

    /// SYNs waiting for a decision.
    pub fn syn_request_count(&self) -> usize {
        self.requests.len()
    }

    /// Accepts a pending SYN: the connection is created in SYN-RECEIVED
    /// and its SYN-ACK goes out from the original destination, with the
    /// client's options honoured as an ordinary listener honours them
    /// (set [`set_max_segment`](Self::set_max_segment) on it now to clamp
    /// the MSS the SYN-ACK offers). The connection is the caller's at once
    /// (it does not go through the accept queue): [`Event::Connected`]
    /// with [`OpenKind::Passive`](crate::OpenKind::Passive) says when the
    /// handshake completes, [`Event::Closed`] if it fails.
    /// `InvalidHandle` if the request is gone; `LimitReached` if the
    /// connection table is full.
    pub fn accept_request(&mut self, now: Instant, r: RequestId) -> Result<ConnId, Error> {
        self.now = self.now.max(now);
        let p = *self.requests.get(r).ok_or(Error::InvalidHandle)?;
        if self.listener(p.listener).is_none() {
            self.requests.remove(r);
            return Err(Error::InvalidHandle);
        }
        if self.tuples.len() >= self.cfg.max_connections {
            return Err(Error::LimitReached);
        }
        self.requests.remove(r);
        let options = p.options();
        let seg = TcpSegment {
            src_port: p.tuple.remote_port,
            dst_port: p.tuple.local_port,
            seq: p.irs.0,
            ack: 0,
            flags: p.flags,
            window: p.window,
            urgent_ptr: 0,
            header_len: 20,
            options,
            payload: &[],
        };
        let id = self.open_child(now, p.listener, p.tuple, &seg, p.iss_floor);
        // The application holds it from now on: its establishment is
        // reported to it directly, not queued for `accept`.
        if let Some(tcb) = self.conns.get_mut(id) {
            tcb.flags.set(Flags::VISIBLE);
        }
        Ok(id)
    }

    /// Refuses a pending SYN with a RST, as a closed port does (the
    /// client sees "connection refused"). Returns what it was.
    pub fn reset_request(&mut self, r: RequestId) -> Result<SynRequest, Error> {
        let p = self.requests.remove(r).ok_or(Error::InvalidHandle)?;
        let rst = ControlSegment {
            tuple: p.tuple,
            seq: SeqNum(0),
            ack: Some(p.irs.add(1)),
            flags: TcpFlags::RST | TcpFlags::ACK,
        };
        self.control.push(rst, &mut self.counters);
        Ok(p.info())
    }

    /// Forgets a pending SYN without an answer, as a black hole would; its
    /// client's retransmitted SYNs start a new request. For an answer in
    /// ICMP (host or network unreachable, administratively prohibited),
    /// the caller sends it from what this returns.
    pub fn ignore_request(&mut self, r: RequestId) -> Result<SynRequest, Error> {
        self.requests
            .remove(r)
            .map(|p| p.info())
            .ok_or(Error::InvalidHandle)
    }

    /// Abandons the requests that waited longer than
    /// `Config::syn_request_timeout`.
    pub(super) fn expire_requests(&mut self, now: Instant) {
        if now.saturating_since(Instant::from_micros(0)) < self.cfg.syn_request_timeout {
            return;
        }
        let cutoff = now - self.cfg.syn_request_timeout;
        while let Some((request, _)) = self.requests.expire_one(cutoff) {
            self.events.push_back(Event::SynRequestAbandoned {
                request,
                reason: AbandonReason::TimedOut,
            });
        }
    }

    /// When the oldest pending request times out.
    pub(super) fn next_request_expiry(&self) -> Option<Instant> {
        self.requests
            .oldest()
            .map(|t| t + self.cfg.syn_request_timeout)
    }
}
