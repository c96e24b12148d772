//! The calls an intercepting listener and its pending SYNs make, under the
//! stack's lock as every other call (see `net::intercept` for the types).

use super::Stack;
use super::registry::park;
use crate::net::Refusal;
use crate::unreachable::{self, Unreachable};
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};
use synack::{AbandonReason, ConnId, Intercept, ListenerId, RequestId, SynRequest};

impl Stack {
    pub(crate) fn intercept(&self, rule: Intercept) -> io::Result<ListenerId> {
        let backlog = self.shared.backlog;
        self.shared.with(|g| {
            let id = g.ep.intercept(rule, backlog)?;
            g.reg.add_interceptor(id);
            Ok(id)
        })
    }

    /// Caps the MSS of the connections an intercepting listener accepts
    /// (their SYN-ACK offers at most `mss`; SYN cookies too).
    pub(crate) fn set_listener_max_segment(
        &self,
        l: ListenerId,
        mss: Option<u16>,
    ) -> io::Result<()> {
        self.shared
            .with(|g| g.ep.set_listener_max_segment(l, mss).map_err(Into::into))
    }

    /// The next SYN the listener holds for a decision. Requests the engine
    /// gave up before anyone took them are skipped.
    pub(crate) fn poll_request(
        &self,
        l: ListenerId,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(RequestId, SynRequest)>> {
        self.shared.with(|g| {
            loop {
                match g.reg.next_request(l, cx.waker()) {
                    None => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::NotConnected,
                            "the intercepting listener is closed",
                        )));
                    }
                    Some(None) => return Poll::Pending,
                    Some(Some(r)) => {
                        if let Some(info) = g.ep.syn_request(r) {
                            g.reg.requests.insert(r, (None, None));
                            return Poll::Ready(Ok((r, info)));
                        }
                    }
                }
            }
        })
    }

    /// Accepts a request: the SYN-ACK leaves, and the connection has a
    /// handle (not yet connected). Returns its id and 4-tuple.
    pub(crate) fn accept_request(
        &self,
        r: RequestId,
    ) -> io::Result<(ConnId, SocketAddr, SocketAddr)> {
        let now = self.shared.clock.now();
        self.shared.with(|g| {
            let abandoned = g.reg.requests.remove(&r).and_then(|(why, _)| why);
            if let Some(why) = abandoned {
                return Err(abandoned_error(why));
            }
            let info =
                g.ep.syn_request(r)
                    .ok_or_else(|| abandoned_error(AbandonReason::TimedOut))?;
            let c = g.ep.accept_request(now, r)?;
            g.reg.add_conn(c, false, info.original_dst, info.peer);
            Ok((c, info.original_dst, info.peer))
        })
    }

    /// Refuses a request with a RST, or silently, or with an ICMP error
    /// sent from our own address of its family.
    pub(crate) fn refuse_request(&self, r: RequestId, how: Option<Refusal>) {
        self.shared.with(|g| {
            g.reg.requests.remove(&r);
            match how {
                Some(Refusal::Reset) => {
                    let _ = g.ep.reset_request(r);
                }
                None => {
                    let _ = g.ep.ignore_request(r);
                }
                Some(Refusal::Unreachable(why)) => {
                    if let Ok(info) = g.ep.ignore_request(r) {
                        let from = self
                            .shared
                            .addrs
                            .iter()
                            .copied()
                            .find(|a| a.is_ipv4() == info.peer.is_ipv4())
                            .unwrap_or(info.original_dst.ip());
                        g.send_unreachable(&info, why, from);
                    }
                }
            }
        });
    }

    /// Ready with the reason once the engine gives the request up.
    pub(crate) fn poll_abandoned(&self, r: RequestId, cx: &mut Context<'_>) -> Poll<AbandonReason> {
        self.shared.with(|g| match g.reg.requests.get_mut(&r) {
            Some((Some(why), _)) => Poll::Ready(*why),
            Some((None, waiter)) => {
                park(waiter, cx.waker());
                Poll::Pending
            }
            // Decided already: it can no longer be abandoned.
            None => Poll::Pending,
        })
    }
}

/// The error for accepting a request the client or the engine gave up.
fn abandoned_error(why: AbandonReason) -> io::Error {
    match why {
        AbandonReason::Reset => io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the client reset its SYN before it was accepted",
        ),
        _ => io::Error::new(
            io::ErrorKind::TimedOut,
            "the SYN was given up before it was accepted",
        ),
    }
}

impl super::shared::Inner {
    /// Sends an ICMP destination unreachable about a client's SYN.
    pub(crate) fn send_unreachable(
        &mut self,
        req: &SynRequest,
        why: Unreachable,
        from: std::net::IpAddr,
    ) {
        let ttl = self.ep.config().ttl;
        let mut buf = [0u8; 128];
        if let Some(n) = unreachable::write(req, why, from, ttl, &mut buf) {
            self.send_raw(&buf[..n]);
        }
    }
}
