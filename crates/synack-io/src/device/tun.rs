//! A Linux TUN device: raw IP datagrams, no packet-information header
//! (IFF_NO_PI), opened through the `tun-rs` crate.

use super::{Device, nonblocking};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use tun_rs::{DeviceBuilder, Layer, SyncDevice};

/// A TUN device in non-blocking mode.
pub struct Tun(KernelLink);

impl Tun {
    /// Attaches to the TUN device `name`, or creates it. A persistent device
    /// (`ip tuntap add mode tun`) outlives us; one we create disappears when
    /// this value is dropped. The device is brought up if we may; otherwise
    /// whoever created it must have done so.
    pub fn open(name: &str) -> io::Result<Tun> {
        KernelLink::open(name, Layer::L3, 0).map(Tun)
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

impl Device for Tun {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        self.0.recv(buf)
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        self.0.send(packet)
    }

    fn raw_fd(&self) -> RawFd {
        self.0.dev.as_raw_fd()
    }

    fn mtu(&self) -> usize {
        self.0.mtu
    }
}

/// A kernel TUN or TAP device opened through `tun-rs`: what TUN and TAP
/// share (opening, non-blocking reads, dropping on a full queue).
pub(super) struct KernelLink {
    pub(super) dev: SyncDevice,
    pub(super) name: String,
    pub(super) mtu: usize,
}

impl KernelLink {
    /// Opens a TUN (`L3`) or TAP (`L2`) device without touching its
    /// addresses, makes it non-blocking, and takes its MTU plus `framing`
    /// (what a frame adds to the IP datagram the interface MTU counts).
    pub(super) fn open(name: &str, layer: Layer, framing: usize) -> io::Result<KernelLink> {
        let dev = DeviceBuilder::new()
            .name(name)
            .layer(layer)
            .packet_information(false)
            .inherit_enable_state()
            .build_sync()?;
        // Bringing the link up needs CAP_NET_ADMIN, which a user given a
        // persistent device may lack; such a device is up already or the
        // admin brings it up.
        if !dev.is_running().unwrap_or(false) {
            let _ = dev.enabled(true);
        }
        dev.set_nonblocking(true)?;
        let name = dev.name().unwrap_or_else(|_| name.to_string());
        let mtu = usize::from(dev.mtu()?) + framing;
        Ok(KernelLink { dev, name, mtu })
    }

    pub(super) fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        nonblocking(|| self.dev.recv(buf))
    }

    pub(super) fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        match self.dev.send(packet) {
            Ok(_) => Ok(()),
            // The kernel's queue is full: drop, as a busy link would.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}
