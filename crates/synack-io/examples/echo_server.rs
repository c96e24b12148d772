//! An echo server on a TUN device, on the async API:
//! `echo_server --tun IFNAME --ip ADDR [--port P]` (port 7 by default).

use std::io;
use std::net::{IpAddr, SocketAddr};
use synack_io::device::Tun;
use synack_io::net::TcpListener;
use synack_io::{Stack, StackConfig};

const USAGE: &str = "usage: echo_server --tun IFNAME --ip ADDR [--port P]";

fn parse() -> Option<(String, IpAddr, u16)> {
    let (mut tun, mut ip, mut port) = (None, None, 7);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next()?;
        match flag.as_str() {
            "--tun" => tun = Some(value),
            "--ip" => ip = Some(value.parse().ok()?),
            "--port" => port = value.parse().ok()?,
            _ => return None,
        }
    }
    Some((tun?, ip?, port))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let Some((tun, ip, port)) = parse() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let stack = Stack::new(Tun::open(&tun)?, StackConfig::new(ip))?;
    let listener = TcpListener::bind(&stack, SocketAddr::new(ip, port)).await?;
    eprintln!("echoing on {ip}:{port} over {tun}");
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let (mut r, mut w) = stream.into_split();
            match tokio::io::copy(&mut r, &mut w).await {
                Ok(n) => eprintln!("{peer}: echoed {n} bytes"),
                Err(e) => eprintln!("{peer}: {e}"),
            }
        });
    }
}
