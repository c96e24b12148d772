//! A Linux TAP device: the raw Ethernet link ([`TapLink`]) and the IP
//! device built on it ([`Tap`]).

use super::ethernet::{Ethernet, EthernetConfig};
use super::tun::open_linux;
use super::{Device, nonblocking};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use tun_rs::{Layer, SyncDevice};

/// The frames of a TAP device, in non-blocking mode. Wrap it in
/// [`Ethernet`] (or use [`Tap::open`]) to carry IP.
pub struct TapLink {
    dev: SyncDevice,
    name: String,
    mtu: usize,
}

impl TapLink {
    /// Attaches to the TAP device `name`, or creates it (see
    /// [`Tun::open`](super::Tun::open) for who owns it and whether it is
    /// brought up).
    pub fn open(name: &str) -> io::Result<TapLink> {
        let (dev, name) = open_linux(name, Layer::L2)?;
        // The interface MTU counts the IP datagram; a frame adds its header.
        let mtu = usize::from(dev.mtu()?) + 14;
        Ok(TapLink { dev, name, mtu })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Device for TapLink {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        nonblocking(|| self.dev.recv(buf))
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        match self.dev.send(frame) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn raw_fd(&self) -> RawFd {
        self.dev.as_raw_fd()
    }

    fn mtu(&self) -> usize {
        self.mtu
    }
}

/// IP over a TAP device: Ethernet framing, ARP and neighbor discovery.
pub type Tap = Ethernet<TapLink>;

impl Ethernet<TapLink> {
    /// Opens the TAP device `name` and speaks for the addresses in `cfg`
    /// on it.
    pub fn open(name: &str, cfg: EthernetConfig) -> io::Result<Tap> {
        Ok(Ethernet::new(TapLink::open(name)?, cfg))
    }
}
