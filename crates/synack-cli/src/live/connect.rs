//! `synack connect`: a connection from the stack, like `nc`: standard input
//! goes to the peer (then our FIN), what the peer sends goes to standard
//! output.

use super::{Link, bytes, control, reason};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use synack_io::net::TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub link: Link,
    pub remote: SocketAddr,
    pub control: Option<PathBuf>,
    /// How long the handshake may take.
    pub timeout: Duration,
}

/// How long, after both directions are done, we wait for the last
/// acknowledgments before exiting.
const FINISH: Duration = Duration::from_secs(5);

pub fn run(o: &Options) -> ExitCode {
    // Standard input is read on a blocking thread that may still wait for
    // a line from a terminal: do not wait for it.
    super::run_to_exit(connect(o), super::Finish::Background)
}

async fn connect(o: &Options) -> Result<(), String> {
    let (stack, _) = o.link.open()?;
    let stream = match tokio::time::timeout(o.timeout, TcpStream::connect(&stack, o.remote)).await {
        Err(_) => return Err("connection timed out".into()),
        Ok(Err(e)) => return Err(reason(&e)),
        Ok(Ok(s)) => s,
    };
    let _control = match &o.control {
        Some(path) => Some(control::Server::start(path, stack.clone(), Vec::new())?),
        None => None,
    };
    let sent = AtomicU64::new(0);
    let received = AtomicU64::new(0);
    let (mut r, mut w) = stream.into_split();
    let up = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = stdin
                .read(&mut buf)
                .await
                .map_err(|e| format!("standard input: {e}"))?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n]).await.map_err(|e| reason(&e))?;
            sent.fetch_add(n as u64, Ordering::Relaxed);
        }
        w.shutdown().await.map_err(|e| reason(&e))
    };
    let down = async {
        let mut stdout = tokio::io::stdout();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = r.read(&mut buf).await.map_err(|e| reason(&e))?;
            if n == 0 {
                break;
            }
            stdout
                .write_all(&buf[..n])
                .await
                .map_err(|e| format!("standard output: {e}"))?;
            received.fetch_add(n as u64, Ordering::Relaxed);
        }
        stdout
            .flush()
            .await
            .map_err(|e| format!("standard output: {e}"))
    };
    let progress = Progress::new(std::io::stderr().is_terminal());
    // Someone typing at us is not waited for once the peer has closed; a
    // pipe or file is sent to the end.
    let interactive = std::io::stdin().is_terminal();
    {
        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        while !(up_done && down_done) {
            tokio::select! {
                r = &mut up, if !up_done => {
                    r?;
                    up_done = true;
                }
                r = &mut down, if !down_done => {
                    r?;
                    down_done = true;
                    if interactive {
                        break;
                    }
                }
                _ = tick.tick() => progress.show(&sent, &received),
            }
        }
    }
    progress.clear();
    // Both halves are dropped: the connection is closed. Wait for our FIN
    // (and the data before it) to be acknowledged, so that what we were
    // given to send has arrived when we exit 0.
    let until = Instant::now() + FINISH;
    while !stack.connections().is_empty() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// A progress line on a terminal's standard error, for long transfers.
struct Progress {
    on: bool,
    start: Instant,
    shown: std::cell::Cell<bool>,
}

impl Progress {
    fn new(on: bool) -> Progress {
        Progress {
            on,
            start: Instant::now(),
            shown: std::cell::Cell::new(false),
        }
    }

    fn show(&self, sent: &AtomicU64, received: &AtomicU64) {
        let t = self.start.elapsed();
        // Short transfers print nothing.
        if !self.on || t < Duration::from_secs(1) {
            return;
        }
        let (s, r) = (
            sent.load(Ordering::Relaxed),
            received.load(Ordering::Relaxed),
        );
        let rate = (s + r) as f64 / t.as_secs_f64();
        eprint!(
            "\r\x1b[K{} sent, {} received, {}/s",
            bytes(s),
            bytes(r),
            bytes(rate as u64)
        );
        self.shown.set(true);
    }

    fn clear(&self) {
        if self.shown.get() {
            eprint!("\r\x1b[K");
        }
    }
}
