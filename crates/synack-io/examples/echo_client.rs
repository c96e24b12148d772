//! An echo client on a TUN device, on the async API: sends standard input
//! to HOST:PORT and prints what comes back.
//! `echo_client --tun IFNAME --ip ADDR HOST:PORT`

use std::io;
use std::net::{IpAddr, SocketAddr};
use synack_io::device::Tun;
use synack_io::net::TcpStream;
use synack_io::{Stack, StackConfig};
use tokio::io::AsyncWriteExt;

const USAGE: &str = "usage: echo_client --tun IFNAME --ip ADDR HOST:PORT";

fn parse() -> Option<(String, IpAddr, SocketAddr)> {
    let (mut tun, mut ip, mut peer) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tun" => tun = Some(args.next()?),
            "--ip" => ip = Some(args.next()?.parse().ok()?),
            _ => peer = Some(arg.parse().ok()?),
        }
    }
    Some((tun?, ip?, peer?))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let Some((tun, ip, peer)) = parse() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let stack = Stack::new(Tun::open(&tun)?, StackConfig::new(ip))?;
    let stream = TcpStream::connect(&stack, peer).await?;
    eprintln!("connected {} -> {peer}", stream.local_addr()?);
    let (mut r, mut w) = stream.into_split();
    let upload = async {
        tokio::io::copy(&mut tokio::io::stdin(), &mut w).await?;
        // Half-close: the server echoes what is left, then closes.
        w.shutdown().await
    };
    let mut stdout = tokio::io::stdout();
    let download = tokio::io::copy(&mut r, &mut stdout);
    let (up, down) = tokio::join!(upload, download);
    up?;
    down?;
    Ok(())
}
