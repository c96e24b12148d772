//! A Linux TUN device: raw IP datagrams, no packet-information header
//! (IFF_NO_PI), opened through the `tun-rs` crate.

use super::{Device, nonblocking};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use tun_rs::{DeviceBuilder, Layer, SyncDevice};

/// A TUN device in non-blocking mode.
pub struct Tun {
    dev: SyncDevice,
    name: String,
    mtu: usize,
}

impl Tun {
    /// Attaches to the TUN device `name`, or creates it. A persistent device
    /// (`ip tuntap add mode tun`) outlives us; one we create disappears when
    /// this value is dropped. The device is brought up if we may; otherwise
    /// whoever created it must have done so.
    pub fn open(name: &str) -> io::Result<Tun> {
        let (dev, name) = open_linux(name, Layer::L3)?;
        let mtu = usize::from(dev.mtu()?);
        Ok(Tun { dev, name, mtu })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Opens a TUN or TAP device without touching its addresses, and makes it
/// non-blocking.
pub(super) fn open_linux(name: &str, layer: Layer) -> io::Result<(SyncDevice, String)> {
    let dev = DeviceBuilder::new()
        .name(name)
        .layer(layer)
        .packet_information(false)
        .inherit_enable_state()
        .build_sync()?;
    // Bringing the link up needs CAP_NET_ADMIN, which a user given a
    // persistent device may lack; such a device is up already or the admin
    // brings it up.
    if !dev.is_running().unwrap_or(false) {
        let _ = dev.enabled(true);
    }
    dev.set_nonblocking(true)?;
    let name = dev.name().unwrap_or_else(|_| name.to_string());
    Ok((dev, name))
}

impl Device for Tun {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        nonblocking(|| self.dev.recv(buf))
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        match self.dev.send(packet) {
            Ok(_) => Ok(()),
            // The kernel's queue is full: drop, as a busy link would.
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
