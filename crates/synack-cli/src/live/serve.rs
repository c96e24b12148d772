//! `synack serve`: a server on the stack's own address, on a TUN or TAP
//! device, until SIGINT or SIGTERM.

use super::Link;
use super::apps::{self, App, Ctx};
use super::control;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use synack_io::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub link: Link,
    pub port: Option<u16>,
    pub app: App,
    pub control: Option<PathBuf>,
}

pub fn run(o: &Options) -> ExitCode {
    // Tasks (connections, the event loop, the capture) are dropped at the
    // end, which flushes the capture file.
    super::run_to_exit(serve(o), super::Finish::Drop)
}

async fn serve(o: &Options) -> Result<(), String> {
    // Signals first, so one that arrives while we start still ends us
    // cleanly.
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let (stack, offload) = o.link.open()?;
    if o.link.kind == super::DeviceKind::Tun {
        super::report_offload(&o.link, offload);
    }
    let addr = SocketAddr::new(o.link.ip, o.port.unwrap_or_else(|| o.app.default_port()));
    let listener = TcpListener::bind(&stack, addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let _control = match &o.control {
        Some(path) => Some(control::Server::start(path, stack.clone(), vec![addr])?),
        None => None,
    };
    let ctx = Ctx {
        stack: stack.clone(),
        listening: vec![addr],
        started: Instant::now(),
    };
    outln!("listening on {addr}");
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    let app = o.app;
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _peer)) => {
                    tokio::spawn(apps::run(app, s, ctx.clone()));
                }
                // Not expected from this stack; keep serving the others.
                Err(e) => eprintln!("synack: accept: {e}"),
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    Ok(())
}
