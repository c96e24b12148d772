//! A Linux TAP device: the raw Ethernet link ([`TapLink`]) and the IP
//! device built on it ([`Tap`]).

use super::ethernet::{Ethernet, EthernetConfig};
use super::tun::KernelLink;
use super::{Device, DeviceCounters};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use tun_rs::Layer;

/// The frames of a TAP device, in non-blocking mode. Wrap it in
/// [`Ethernet`] (or use [`Tap::open`]) to carry IP.
pub struct TapLink(KernelLink);

impl TapLink {
    /// Attaches to the TAP device `name`, or creates it (see
    /// [`Tun::open`](super::Tun::open) for who owns it and whether it is
    /// brought up).
    pub fn open(name: &str) -> io::Result<TapLink> {
        // The interface MTU counts the IP datagram; a frame adds its header.
        KernelLink::open(name, Layer::L2, 14, false).map(TapLink)
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

impl Device for TapLink {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.0.recv(buf)
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.0.send(frame)
    }

    fn raw_fd(&self) -> RawFd {
        self.0.dev.as_raw_fd()
    }

    fn mtu(&self) -> usize {
        self.0.mtu
    }

    fn counters(&self) -> DeviceCounters {
        self.0.counters.clone()
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
