//! Bulk throughput through the router, each way: the client sends `size`
//! bytes to the server's sink, or reads them from its source. Timed by the
//! client, from before `connect` to the other side's close (so every byte
//! has arrived), one connection at a time.

use super::server::{CHUNK, SINK, SOURCE, STUCK};
use super::topology::{Bed, Path, server_ip};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The longest one transfer may send for.
pub const CAP: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The client sends to the server.
    Up,
    /// The server sends to the client.
    Down,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Up, Direction::Down];

    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "client_to_server",
            Direction::Down => "server_to_client",
        }
    }
}

/// One measured transfer.
#[derive(Clone, Copy, Debug)]
pub struct Transfer {
    pub bytes: u64,
    pub secs: f64,
}

impl Transfer {
    pub fn mib_per_sec(self) -> f64 {
        self.bytes as f64 / (1 << 20) as f64 / self.secs
    }
}

/// One transfer along `path` (the bed routed that way first); server
/// address `round` spreads the rounds over the server's addresses.
pub fn once(
    bed: &mut Bed,
    path: Path,
    dir: Direction,
    size: u64,
    round: usize,
) -> Result<Transfer, String> {
    bed.route(path)?;
    let ip = server_ip(1 + (round % usize::from(super::topology::SERVER_ADDRS)) as u8);
    let t = bed
        .client
        .thread(move || match dir {
            Direction::Up => upload(SocketAddr::new(ip.into(), SINK), size),
            Direction::Down => download(SocketAddr::new(ip.into(), SOURCE)),
        })
        .join()
        .map_err(|_| "the client thread panicked".to_string())?;
    let t = t.map_err(|e| format!("{} {} ({} round {round}): {e}", path.name(), dir.name(), ip))?;
    if dir == Direction::Down && t.bytes != size {
        return Err(format!(
            "{} {}: {} of {size} bytes arrived",
            path.name(),
            dir.name(),
            t.bytes
        ));
    }
    Ok(t)
}

fn connect(to: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&to, STUCK)?;
    s.set_read_timeout(Some(STUCK))?;
    s.set_write_timeout(Some(STUCK))?;
    Ok(s)
}

/// Sends `size` bytes (or for [`CAP`]), half-closes, and waits for the
/// server's close.
fn upload(to: SocketAddr, size: u64) -> io::Result<Transfer> {
    let start = Instant::now();
    let mut s = connect(to)?;
    let buf = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    while sent < size && start.elapsed() < CAP {
        let n = (size - sent).min(CHUNK as u64) as usize;
        s.write_all(&buf[..n])?;
        sent += n as u64;
    }
    s.shutdown(Shutdown::Write)?;
    let mut rest = [0u8; 64];
    while s.read(&mut rest)? > 0 {}
    Ok(Transfer {
        bytes: sent,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Reads what the server sends, to its close.
fn download(to: SocketAddr) -> io::Result<Transfer> {
    let start = Instant::now();
    let mut s = connect(to)?;
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    s.shutdown(Shutdown::Write)?;
    Ok(Transfer { bytes: got, secs })
}
