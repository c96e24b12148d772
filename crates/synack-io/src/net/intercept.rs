//! Transparent interception in the shape of the other sockets: an
//! [`Interceptor`] terminates TCP flows to any destination its rule names
//! (a VPN client's, a tun2socks-style proxy's, a sandbox's network
//! helper's job), and hands each new SYN to the application as a
//! [`Request`] with the destination the client asked for. The application
//! tries the real destination first and then accepts, refuses with what
//! the destination gave (a RST, or ICMP unreachable), or ignores the
//! request (a black hole), so the client sees what it would have seen
//! without synack in the path.
//!
//! ```no_run
//! # async fn f(stack: synack_io::Stack) -> std::io::Result<()> {
//! use synack::{Intercept, InterceptMode};
//! use synack_io::net::{Interceptor, Refusal};
//! let interceptor = Interceptor::bind(&stack, Intercept::everything(InterceptMode::Decide))?;
//! loop {
//!     let request = interceptor.request().await?;
//!     let dst = request.original_dst();
//!     tokio::spawn(async move {
//!         match tokio::net::TcpStream::connect(dst).await {
//!             Ok(upstream) => {
//!                 if let Ok(client) = request.accept().await {
//!                     let _ = synack_io::relay::relay(client, upstream, Default::default()).await;
//!                 }
//!             }
//!             Err(_) => {
//!                 let _ = request.refuse(Refusal::Reset);
//!             }
//!         }
//!     });
//! }
//! # }
//! ```

use super::conn::Conn;
use super::socket::Settings;
use super::stream::TcpStream;
use crate::Stack;
pub use crate::unreachable::Unreachable;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use synack::{AbandonReason, Intercept, InterceptMode, ListenerId, RequestId, SynRequest};

/// A listener for every destination an [`Intercept`] rule names. Dropping
/// it closes it: requests not yet taken are given up, connections not yet
/// accepted are reset.
pub struct Interceptor {
    stack: Stack,
    id: ListenerId,
    mode: InterceptMode,
}

/// How to refuse a [`Request`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A RST: the client sees "connection refused", as from a closed port.
    Reset,
    /// An ICMP destination unreachable of this kind, sent from the
    /// stack's own address: the client sees "no route to host", "network
    /// unreachable" and so on.
    Unreachable(Unreachable),
}

impl Interceptor {
    /// Starts intercepting what `rule` names, after the stack's ordinary
    /// listeners. In [`InterceptMode::Decide`] take SYNs with
    /// [`request`](Self::request); in [`InterceptMode::AcceptFirst`] (and
    /// for SYNs beyond the engine's bound on pending requests, answered
    /// with SYN cookies) take connections with [`accept`](Self::accept).
    pub fn bind(stack: &Stack, rule: Intercept) -> io::Result<Interceptor> {
        let mode = rule.mode();
        let id = stack.intercept(rule)?;
        Ok(Interceptor {
            stack: stack.clone(),
            id,
            mode,
        })
    }

    /// The mode of its rule.
    pub fn mode(&self) -> InterceptMode {
        self.mode
    }

    /// Caps the maximum segment size of every connection it accepts from
    /// now on, like `TCP_MAXSEG` on a listening socket: their SYN-ACK
    /// offers at most `mss` (a forwarder's MSS clamp, so that the client's
    /// segments fit the path behind it), and they send no larger. `None`
    /// removes the cap. `InvalidInput` outside Linux's 88 to 32767.
    pub fn set_max_segment(&self, mss: Option<u16>) -> io::Result<()> {
        self.stack.set_listener_max_segment(self.id, mss)
    }

    /// Waits for the next SYN held for a decision (`Decide` mode).
    pub async fn request(&self) -> io::Result<Request> {
        poll_fn(|cx| self.poll_request(cx)).await
    }

    /// [`request`](Self::request) in poll form.
    pub fn poll_request(&self, cx: &mut Context<'_>) -> Poll<io::Result<Request>> {
        self.stack
            .poll_request(self.id, cx)
            .map_ok(|(id, info)| Request {
                stack: self.stack.clone(),
                id,
                info,
                decided: false,
            })
    }

    /// Waits for the next established connection answered without a
    /// decision (`AcceptFirst` mode, or SYN cookies beyond the bound).
    /// `local_addr` of the stream is the destination the client asked for.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// [`accept`](Self::accept) in poll form.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let s = Settings::default();
        self.stack
            .poll_accept(self.id, &s.opts, cx)
            .map_ok(|(id, local, peer)| {
                let conn = Conn::new(self.stack.clone(), id, local, peer);
                (TcpStream::from_conn(conn), peer)
            })
    }
}

impl Drop for Interceptor {
    fn drop(&mut self) {
        self.stack.close_listener(self.id);
    }
}

impl std::fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interceptor")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// A client's SYN waiting for the application's decision: no buffers,
/// no answer sent yet. Dropping it undecided ignores it.
pub struct Request {
    stack: Stack,
    id: RequestId,
    info: SynRequest,
    decided: bool,
}

impl Request {
    /// The destination the client asked for.
    pub fn original_dst(&self) -> SocketAddr {
        self.info.original_dst
    }

    /// The client.
    pub fn peer_addr(&self) -> SocketAddr {
        self.info.peer
    }

    /// What the engine knows of the SYN (the client's MSS, how many SYNs
    /// came, when the first did).
    pub fn info(&self) -> &SynRequest {
        &self.info
    }

    /// Accepts: the SYN-ACK leaves from the original destination, and the
    /// stream is returned once the client completes the handshake.
    /// `ConnectionReset` if the client gave up first (its RST), `TimedOut`
    /// if the engine did.
    pub async fn accept(mut self) -> io::Result<TcpStream> {
        self.decided = true;
        let (id, local, peer) = self.stack.accept_request(self.id)?;
        let conn = Arc::new(Conn::new(self.stack.clone(), id, local, peer));
        poll_fn(|cx| conn.stack.poll_connect(id, cx)).await?;
        Ok(TcpStream::from_arc(conn))
    }

    /// Refuses as the real destination did.
    pub fn refuse(mut self, how: Refusal) -> io::Result<()> {
        self.decided = true;
        self.stack.refuse_request(self.id, Some(how));
        Ok(())
    }

    /// Answers nothing, as a black hole; the client's next SYN becomes a
    /// new request.
    pub fn ignore(mut self) {
        self.decided = true;
        self.stack.refuse_request(self.id, None);
    }

    /// Waits until the client or the engine gives the request up: the
    /// client's RST, no decision within the engine's timeout, or the
    /// interceptor closed. Use it to cancel an upstream connect that is
    /// still trying.
    pub async fn abandoned(&self) -> AbandonReason {
        poll_fn(|cx| self.stack.poll_abandoned(self.id, cx)).await
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if !self.decided {
            self.stack.refuse_request(self.id, None);
        }
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("original_dst", &self.info.original_dst)
            .field("peer", &self.info.peer)
            .finish_non_exhaustive()
    }
}
