//! Bulk throughput through the router, each way: the client sends `size`
//! bytes to the server's sink, or reads them from its source. Timed by the
//! client, one connection at a time, from before `connect` until every
//! byte has arrived: sending, until the server's one-byte answer (sent
//! once it has read them all); receiving, until the last byte. Neither
//! waits for a close: tun2proxy passes no half-close on (a FIN waits until
//! the other direction is done), so a side waiting for end of stream
//! would wait for its timeout.

use super::server::{CHUNK, SINK, SOURCE, STUCK};
use super::topology::{Bed, Path, server_ip};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

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
            Direction::Down => download(SocketAddr::new(ip.into(), SOURCE), size),
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

/// Sends `size` bytes and waits for the server's answer that it has them.
fn upload(to: SocketAddr, size: u64) -> io::Result<Transfer> {
    let start = Instant::now();
    let mut s = connect(to)?;
    let buf = vec![0x5au8; CHUNK];
    let mut sent = 0u64;
    while sent < size {
        let n = (size - sent).min(CHUNK as u64) as usize;
        s.write_all(&buf[..n])?;
        sent += n as u64;
    }
    let mut answer = [0u8; 1];
    s.read_exact(&mut answer)?;
    Ok(Transfer {
        bytes: sent,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Reads the `size` bytes the server sends (or to its close, if sooner).
fn download(to: SocketAddr, size: u64) -> io::Result<Transfer> {
    let start = Instant::now();
    let mut s = connect(to)?;
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    while got < size {
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(Transfer { bytes: got, secs })
}
