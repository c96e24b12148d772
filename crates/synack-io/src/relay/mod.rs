//! Forwarding between two connections: [`relay`] copies both ways until
//! both are done, the way a transparent proxy must.
//!
//! - Each direction is its own half-close: when one side's end of stream
//!   is reached, the relay writes everything read before it to the other
//!   side, then shuts down that side's writing (a FIN), and the other
//!   direction goes on. The connections are closed gracefully once both
//!   directions have finished.
//! - A reset is passed on as a reset: when a read or write on one side
//!   fails with `ConnectionReset`, `ConnectionAborted` or (on a write)
//!   `BrokenPipe`, the relay aborts the other side (a RST, not a FIN) and
//!   stops both directions. Data still in flight may be lost, as TCP's
//!   reset loses it. Any other I/O error also aborts both sides and is
//!   returned as a [`RelayError`]. A reset shows when the relay next reads
//!   from or writes to that side: a side whose data has ended is only
//!   written to, so its later reset shows at the next write, or the
//!   half-close timeout ends the relay.
//! - Timeouts ([`RelayOptions`]): when no byte moves either way for the
//!   idle timeout, or, once one direction has finished, the other moves
//!   none for the half-close timeout, the relay aborts both sides.
//!
//! [`RelayStats`] says how many bytes went each way and how each direction
//! ended, for a log line.
//!
//! `tokio::io::copy_bidirectional` also half-closes per direction, but it
//! cannot send a RST: a reset on one side becomes an error returned to the
//! caller, who then drops the other stream and so closes it with a FIN,
//! which looks like a clean end to that peer. It has no timeouts either,
//! so a peer that vanishes without a FIN or RST holds the relay forever.
//!
//! Both directions run in the calling task, polled in turn (no spawned
//! tasks, no splitting): the sides need only be [`RelayStream`]s, which
//! synack's [`TcpStream`](crate::net::TcpStream) and
//! `tokio::net::TcpStream` are; [`AbortByDrop`] makes one of any other
//! stream, without the RST.
//!
//! ```no_run
//! # async fn demo(stack: &synack_io::Stack) -> std::io::Result<()> {
//! use std::time::Duration;
//! use synack_io::net::TcpListener;
//! use synack_io::relay::{RelayOptions, relay};
//! let listener = TcpListener::bind(stack, "198.18.0.2:80").await?;
//! loop {
//!     let (client, peer) = listener.accept().await?;
//!     let server = tokio::net::TcpStream::connect("192.0.2.7:80").await?;
//!     let options = RelayOptions::new().idle(Some(Duration::from_secs(600)));
//!     tokio::spawn(async move {
//!         match relay(client, server, options).await {
//!             Ok(stats) => println!("{peer}: {stats}"),
//!             Err(e) => println!("{peer}: {e}"),
//!         }
//!     });
//! }
//! # }
//! ```

mod copy;
mod options;
mod outcome;
mod stream;

pub use options::RelayOptions;
pub use outcome::{DirectionEnd, DirectionStats, RelayError, RelayStats, Side};
pub use stream::{AbortByDrop, RelayStream};

use copy::{Copy, Failure};
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// How long a direction that stopped moving keeps its buffer.
const BUFFER_RELEASE: Duration = Duration::from_secs(1);

/// How the copying stopped.
enum Stop {
    /// Both directions finished.
    Finished,
    /// A timeout: the ending of every unfinished direction.
    Timeout(DirectionEnd),
    /// A read or write on that side failed.
    Failed(Side, io::Error),
}

/// Copies `a` to `b` and `b` to `a` until both directions have finished,
/// one side resets, an I/O error happens, or a timeout of `options` fires.
/// See the [module documentation](self) for the semantics.
///
/// Returns the stats when both directions finished (both connections then
/// closed gracefully), when a side reset (the other was aborted), and at a
/// timeout (both aborted); [`DirectionStats::end`] tells which. Any other
/// I/O error aborts both sides and returns a [`RelayError`], which holds
/// the stats too and converts into the `io::Error`.
pub async fn relay<A, B>(
    mut a: A,
    mut b: B,
    options: RelayOptions,
) -> Result<RelayStats, RelayError>
where
    A: RelayStream,
    B: RelayStream,
{
    let mut ab = Copy::new(options.buffer_len());
    let mut ba = Copy::new(options.buffer_len());
    let mut last_moved = Instant::now();
    let mut timer: Option<Pin<Box<Sleep>>> = None;
    let stop = poll_fn(|cx| {
        let mut moved = false;
        if !ab.finished
            && let Poll::Ready(Err(f)) = ab.poll(cx, &mut a, &mut b, &mut moved)
        {
            return Poll::Ready(failed(f, Side::A, Side::B));
        }
        if !ba.finished
            && let Poll::Ready(Err(f)) = ba.poll(cx, &mut b, &mut a, &mut moved)
        {
            return Poll::Ready(failed(f, Side::B, Side::A));
        }
        if ab.finished && ba.finished {
            return Poll::Ready(Stop::Finished);
        }
        let now = Instant::now();
        if moved {
            last_moved = now;
        }
        // A bulk direction keeps its buffer through short pauses; after a
        // second with nothing moving, both go back.
        let holds = |ab: &Copy, ba: &Copy| ab.holds_buffer() || ba.holds_buffer();
        if holds(&ab, &ba) && now >= last_moved + BUFFER_RELEASE {
            ab.release();
            ba.release();
        }
        let release_at = holds(&ab, &ba).then(|| last_moved + BUFFER_RELEASE);
        // A limit too far to represent never comes.
        let timeout = timeout(&options, ab.finished || ba.finished)
            .and_then(|(limit, ending)| Some((last_moved.checked_add(limit)?, ending)));
        if let Some((deadline, ending)) = timeout
            && now >= deadline
        {
            return Poll::Ready(Stop::Timeout(ending));
        }
        let Some(wake_at) = [timeout.map(|t| t.0), release_at]
            .into_iter()
            .flatten()
            .min()
        else {
            timer = None;
            return Poll::Pending;
        };
        // The timer is moved later lazily: when it fires early, it is
        // reset to the time now wanted.
        let t = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(wake_at)));
        if t.deadline() > wake_at {
            t.as_mut().reset(wake_at);
        }
        if t.as_mut().poll(cx).is_ready() {
            t.as_mut().reset(wake_at);
            if t.as_mut().poll(cx).is_ready() {
                // Due already: the next poll acts on it.
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    })
    .await;
    let mut stats = RelayStats {
        a_to_b: DirectionStats {
            bytes: ab.bytes,
            end: DirectionEnd::Finished,
        },
        b_to_a: DirectionStats {
            bytes: ba.bytes,
            end: DirectionEnd::Finished,
        },
    };
    let (ending, error) = match stop {
        Stop::Finished => {
            tracing::debug!(%stats, "relay finished");
            // Both FINs are queued after all the data; dropping closes
            // gracefully.
            return Ok(stats);
        }
        Stop::Timeout(ending) => (ending, None),
        Stop::Failed(side, e) if is_reset(&e) => (DirectionEnd::Reset(side), None),
        Stop::Failed(side, e) => (DirectionEnd::Error(side), Some((side, e))),
    };
    if !ab.finished {
        stats.a_to_b.end = ending;
    }
    if !ba.finished {
        stats.b_to_a.end = ending;
    }
    // The side that reset is gone already; aborting it changes nothing.
    a.abort();
    b.abort();
    match error {
        None => {
            tracing::debug!(%stats, "relay aborted");
            Ok(stats)
        }
        Some((side, error)) => {
            tracing::debug!(%stats, %side, %error, "relay failed");
            Err(RelayError { side, error, stats })
        }
    }
}

/// The stop for a failure of the direction from `src` to `dst`.
fn failed(f: Failure, src: Side, dst: Side) -> Stop {
    match f {
        Failure::Read(e) => Stop::Failed(src, e),
        Failure::Write(e) => Stop::Failed(dst, e),
    }
}

/// The inactivity limit that applies now, and the ending it gives.
fn timeout(options: &RelayOptions, half_closed: bool) -> Option<(Duration, DirectionEnd)> {
    let idle = options
        .idle_timeout()
        .map(|d| (d, DirectionEnd::IdleTimeout));
    let half = options
        .half_close_timeout()
        .filter(|_| half_closed)
        .map(|d| (d, DirectionEnd::HalfCloseTimeout));
    match (idle, half) {
        (Some(i), Some(h)) => Some(if h.0 <= i.0 { h } else { i }),
        (i, h) => i.or(h),
    }
}

/// An error that means the peer reset the connection (or, for a kernel
/// socket written after its reset, `EPIPE`).
fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
