//! Waiting on a poll function from a plain thread: the waker unparks the
//! thread, which polls again.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// How long a blocking call may wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Until done.
    #[default]
    Forever,
    /// At most this long, then `WouldBlock` (as `std::net` reports a
    /// timeout on Unix).
    For(Duration),
    /// Not at all: non-blocking mode.
    Never,
}

impl Wait {
    pub(crate) fn from_timeout(t: Option<Duration>) -> Wait {
        t.map_or(Wait::Forever, Wait::For)
    }
}

/// Polls `f` until it is ready, parking the thread in between. Spurious
/// unparks only cost another poll.
pub(crate) fn block_on<T>(
    wait: Wait,
    mut f: impl FnMut(&mut Context<'_>) -> Poll<io::Result<T>>,
) -> io::Result<T> {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let deadline = match wait {
        Wait::For(d) => Some(Instant::now() + d),
        _ => None,
    };
    loop {
        if let Poll::Ready(r) = f(&mut cx) {
            return r;
        }
        match (wait, deadline) {
            (Wait::Never, _) => return Err(io::ErrorKind::WouldBlock.into()),
            (_, Some(d)) => {
                let now = Instant::now();
                if now >= d {
                    return Err(io::Error::new(io::ErrorKind::WouldBlock, "timed out"));
                }
                thread::park_timeout(d - now);
            }
            _ => thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_at_once_and_after_wakes() {
        assert_eq!(block_on(Wait::Forever, |_| Poll::Ready(Ok(7))).unwrap(), 7);
        let mut n = 0;
        let got = block_on(Wait::Forever, |cx| {
            n += 1;
            if n < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(Ok(n))
            }
        });
        assert_eq!(got.unwrap(), 3);
    }

    #[test]
    fn timeouts_and_nonblocking() {
        let e =
            block_on::<()>(Wait::For(Duration::from_millis(20)), |_| Poll::Pending).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        let e = block_on::<()>(Wait::Never, |_| Poll::Pending).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }
}
