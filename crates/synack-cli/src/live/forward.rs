//! `synack forward`: a transparent TCP forwarder on a TUN device, until
//! SIGINT or SIGTERM.
//!
//! Every TCP flow routed into the device is intercepted, whatever its
//! destination. Its SYN is held undecided while a kernel socket dials the
//! destination the client asked for (directly, or through a SOCKS5 proxy);
//! the client then sees what it would have seen without synack in the
//! path: the handshake completes only once the destination's has, a
//! closed port refuses, an unreachable host is reported unreachable (ICMP
//! from synack's own address), and a black hole stays silent. Accepted
//! flows are relayed with half-close and resets passed on
//! (`synack_io::relay`).
//!
//! SYNs beyond the bound on pending requests (`--pending-limit`) are
//! answered at once with SYN cookies, as a flooded kernel would; those
//! connections are dialled after their handshake, and reset if the dial
//! fails.

use super::upstream::{DialError, Dialer};
use super::{Link, control};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;
use synack::{Intercept, InterceptMode};
use synack_io::StackConfig;
use synack_io::net::{Interceptor, Request, TcpStream};
use synack_io::relay::{DirectionEnd, RelayOptions, RelayStats, relay};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The device and the stack's first address.
    pub link: Link,
    /// The stack's other addresses (one IPv6 beside an IPv4 one).
    pub more_ips: Vec<IpAddr>,
    pub control: Option<PathBuf>,
    pub dialer: Dialer,
    /// `None`: never.
    pub idle_timeout: Option<Duration>,
    /// `None`: only the idle timeout applies.
    pub half_close_timeout: Option<Duration>,
    /// The engine's `max_syn_requests`.
    pub pending_limit: Option<usize>,
    pub mss_clamp: Option<u16>,
}

pub fn run(o: &Options) -> ExitCode {
    super::run_to_exit(forward(o), super::Finish::Drop)
}

/// The largest send and receive buffer of each intercepted connection.
const RELAY_SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// What every flow shares.
struct Shared {
    dialer: Dialer,
    relay: RelayOptions,
}

async fn forward(o: &Options) -> Result<(), String> {
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    raise_open_file_limit();
    let mut config = StackConfig::new(o.link.ip);
    for ip in &o.more_ips {
        config = config.with_address(*ip);
    }
    // Buffers as large as the kernel's own sockets' on the other side of
    // the relay (tcp_wmem's 4 MiB): a fast flow then moves in large
    // reads and writes, and each system call, with the kernel's work it
    // sets off for the peer, carries more. They grow only as data waits
    // in them: an idle flow holds none.
    config.engine.recv_buffer = RELAY_SOCKET_BUFFER;
    config.engine.send_buffer = RELAY_SOCKET_BUFFER;
    // A client's FIN is passed on to the destination, whose own FIN
    // usually follows within microseconds: the ACK of the client's FIN
    // then rides on ours, one packet fewer per connection, as the
    // destination's Linux would answer the client itself.
    config.engine.delayed_fin_ack = true;
    if let Some(n) = o.pending_limit {
        config.engine.max_syn_requests = n;
    }
    let (stack, offload) = o.link.open_with(config)?;
    super::report_offload(&o.link, offload);
    let interceptor = Interceptor::bind(&stack, Intercept::everything(InterceptMode::Decide))
        .map_err(|e| format!("cannot intercept: {e}"))?;
    if let Some(mss) = o.mss_clamp {
        interceptor
            .set_max_segment(Some(mss))
            .map_err(|e| format!("--mss-clamp {mss}: {e}"))?;
    }
    let _control = match &o.control {
        Some(path) => Some(control::Server::start(path, stack.clone(), Vec::new())?),
        None => None,
    };
    let shared = Rc::new(Shared {
        dialer: o.dialer.clone(),
        relay: RelayOptions::new()
            .idle(o.idle_timeout)
            .half_close(o.half_close_timeout),
    });
    outln!("forwarding on {}", o.link.ifname);
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    loop {
        tokio::select! {
            r = interceptor.request() => match r {
                Ok(request) => spawn_now(decide(request, shared.clone())),
                Err(e) => return Err(format!("intercepting: {e}")),
            },
            r = interceptor.accept() => match r {
                Ok((client, peer)) => {
                    tokio::task::spawn_local(answered(client, peer, shared.clone()));
                }
                Err(e) => tracing::warn!("accept: {e}"),
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    Ok(())
}

/// Spawns `work` after polling it once here. A SYN's first steps (the
/// dial, which on a near network completes inside its connect call, and
/// then the SYN-ACK) so run before the work of other flows queued in the
/// same pass, which would otherwise delay every client's handshake by
/// their length. The spawned task's own first poll registers its wakers
/// again (the first poll's were no-ops): a future may be polled with any
/// waker, and only the last one is woken.
fn spawn_now(work: impl std::future::Future<Output = ()> + 'static) {
    let mut work = Box::pin(work);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    if work.as_mut().poll(&mut cx).is_pending() {
        tokio::task::spawn_local(work);
    }
}

/// A held SYN: dial, then accept and relay, or refuse as the destination
/// did. A client that gives up first cancels the dial.
async fn decide(request: Request, shared: Rc<Shared>) {
    let (peer, dst) = (request.peer_addr(), request.original_dst());
    let dialled = tokio::select! {
        r = shared.dialer.dial(dst) => r,
        why = request.abandoned() => {
            tracing::debug!(%peer, %dst, "the client gave up ({why:?}); dial cancelled");
            return;
        }
    };
    let upstream = match dialled {
        Ok(s) => s,
        Err(e) => {
            refuse(request, &e);
            return;
        }
    };
    tracing::debug!(%peer, %dst, "destination answered; accepting");
    let client = match request.accept().await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%peer, %dst, "the client's handshake failed: {e}");
            abort(upstream);
            return;
        }
    };
    relay_flow(client, upstream, peer, dst, &shared).await;
}

/// Answers the client as the destination answered us.
fn refuse(request: Request, e: &DialError) {
    let (peer, dst) = (request.peer_addr(), request.original_dst());
    match e.refusal() {
        Some(how) => {
            tracing::debug!(%peer, %dst, "{e}: refusing with {how:?}");
            if let Err(err) = request.refuse(how) {
                tracing::debug!(%peer, %dst, "refusing: {err}");
            }
        }
        None => {
            if let DialError::Setup(_) = e {
                tracing::warn!(%peer, %dst, "{e}");
            }
            tracing::debug!(%peer, %dst, "{e}: no answer");
            request.ignore();
        }
    }
}

/// A connection answered with a SYN cookie (beyond the pending bound):
/// dial now, and reset the client if that fails.
async fn answered(client: TcpStream, peer: SocketAddr, shared: Rc<Shared>) {
    let Ok(dst) = client.local_addr() else {
        return;
    };
    match shared.dialer.dial(dst).await {
        Ok(upstream) => relay_flow(client, upstream, peer, dst, &shared).await,
        Err(e) => {
            tracing::debug!(%peer, %dst, "{e}: resetting the cookie-answered connection");
            client.abort();
        }
    }
}

async fn relay_flow(
    client: TcpStream,
    upstream: tokio::net::TcpStream,
    peer: SocketAddr,
    dst: SocketAddr,
    shared: &Shared,
) {
    let _ = client.set_nodelay(true);
    match relay(client, upstream, shared.relay).await {
        Ok(stats) => tracing::info!(
            %peer, %dst,
            up = stats.a_to_b.bytes, down = stats.b_to_a.bytes,
            "flow ended: {}", ending(&stats)
        ),
        Err(e) => tracing::info!(
            %peer, %dst,
            up = e.stats().a_to_b.bytes, down = e.stats().b_to_a.bytes,
            "flow failed: {} ({})", e.error(), ending(e.stats())
        ),
    }
}

/// How a flow ended, in words: side A is the client, B the destination.
fn ending(stats: &RelayStats) -> String {
    let side = |end: DirectionEnd| match end {
        DirectionEnd::Finished => "closed".to_string(),
        DirectionEnd::Reset(synack_io::relay::Side::A) => "reset by the client".into(),
        DirectionEnd::Reset(synack_io::relay::Side::B) => "reset by the destination".into(),
        DirectionEnd::Error(_) => "error".into(),
        DirectionEnd::IdleTimeout => "idle timeout".into(),
        DirectionEnd::HalfCloseTimeout => "half-close timeout".into(),
        other => format!("{other}"),
    };
    let (up, down) = (side(stats.a_to_b.end), side(stats.b_to_a.end));
    if up == down {
        up
    } else {
        format!("client to destination {up}, destination to client {down}")
    }
}

fn abort(s: tokio::net::TcpStream) {
    synack_io::relay::RelayStream::abort(s);
}

/// Each flow holds a kernel socket, and a flood of SYNs holds one per
/// pending request: the soft limit on descriptors goes up to the hard one.
fn raise_open_file_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct
    // given, which lives across both calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
