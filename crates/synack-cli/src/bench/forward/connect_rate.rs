//! Short connections through the router: a pool of client threads, each
//! opening connections one after another (connect, one request of
//! [`REQUEST`] bytes, its answer, close; the server closes once it has
//! answered), spread over
//! the server's addresses. The connect time is how long `connect` took:
//! through a forwarder, its dial to the server is part of it.

use super::server::{ONE_REQUEST, REQUEST, STUCK};
use super::topology::{Bed, Path, SERVER_ADDRS, server_ip};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

/// Client threads.
pub const THREADS: usize = 4;

/// One batch: how long it took, and each connection's connect time in
/// seconds.
pub struct Batch {
    pub secs: f64,
    pub connect_secs: Vec<f64>,
}

impl Batch {
    pub fn per_sec(&self) -> f64 {
        self.connect_secs.len() as f64 / self.secs
    }
}

/// `count` connections along `path`.
pub fn batch(bed: &mut Bed, path: Path, count: usize) -> Result<Batch, String> {
    bed.route(path)?;
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            // Thread t takes connections t, t + THREADS, ...
            let mine = (t..count).step_by(THREADS).collect::<Vec<_>>();
            bed.client.thread(move || -> io::Result<Vec<f64>> {
                mine.iter()
                    .map(|i| {
                        let ip = server_ip(1 + (i % usize::from(SERVER_ADDRS)) as u8);
                        exchange(SocketAddr::new(ip.into(), ONE_REQUEST))
                    })
                    .collect()
            })
        })
        .collect();
    let mut connect_secs = Vec::with_capacity(count);
    let mut failed = None;
    for t in threads {
        match t.join() {
            Ok(Ok(v)) => connect_secs.extend(v),
            Ok(Err(e)) => failed = Some(e.to_string()),
            Err(_) => failed = Some("a client thread panicked".into()),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if let Some(e) = failed {
        return Err(format!("{} connections: {e}", path.name()));
    }
    Ok(Batch { secs, connect_secs })
}

/// One short connection: its connect time.
fn exchange(to: SocketAddr) -> io::Result<f64> {
    let start = Instant::now();
    let mut s = TcpStream::connect_timeout(&to, STUCK)?;
    let connected = start.elapsed().as_secs_f64();
    s.set_read_timeout(Some(STUCK))?;
    s.set_write_timeout(Some(STUCK))?;
    let req = [0x42u8; REQUEST];
    s.write_all(&req)?;
    let mut answer = [0u8; REQUEST];
    s.read_exact(&mut answer)?;
    if answer != req {
        return Err(io::Error::other("the answer is not the request"));
    }
    // Not waiting for the server's close, which tun2proxy holds back
    // while the client's direction is open.
    Ok(connected)
}
