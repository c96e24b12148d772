//! Links that carry packets between the stack and the world.
//!
//! A [`Device`] moves whole packets: IP datagrams for everything the
//! [`Stack`](crate::Stack) drives, Ethernet frames for the raw TAP link that
//! [`Ethernet`] wraps. Devices are non-blocking and expose a file descriptor
//! so the event loop can sleep until one is readable.

mod arp;
mod channel;
mod counters;
mod ethernet;
mod ndp;
mod neighbor;
mod pcap;
mod tap;
mod tun;

pub use channel::ChannelDevice;
pub use counters::DeviceCounters;
pub use ethernet::{Ethernet, EthernetConfig, EthernetStats, MacAddr};
pub use neighbor::NeighborConfig;
pub use pcap::Pcap;
pub use tap::{Tap, TapLink};
pub use tun::Tun;

use std::io;
use std::os::fd::RawFd;
use std::time::Instant;

/// A non-blocking link that carries whole packets.
pub trait Device: Send {
    /// Reads one packet into `buf` and returns its length, or `None` when
    /// nothing is waiting (would block). A packet longer than `buf` is
    /// truncated, unless `buf` has room for the largest packet the MTU
    /// allows: then it cannot be one the link should carry, and a device
    /// may drop it and count it in [`Device::counters`].
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// [`Device::recv`], also saying whether the local kernel has already
    /// verified or computed the datagram's transport checksum (a TUN device
    /// with offloads: what it cut from a super-segment, or marked valid),
    /// so the stack need not sum it again.
    fn recv_verified(&mut self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        Ok(self.recv(buf)?.map(|n| (n, false)))
    }

    /// Sends one packet. A full link may drop it, as a real one would (TCP
    /// recovers), and counts it in [`Device::counters`].
    fn send(&mut self, packet: &[u8]) -> io::Result<()>;

    /// Writes out what [`Device::send`] may have held back to send in one
    /// batch (the TUN device coalesces segments when it has offloads). The
    /// stack calls it after each pass of sending.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// A descriptor that polls readable when [`Device::recv`] may return a
    /// packet. It must be non-blocking, owned by the device, and the same
    /// descriptor for the device's whole life (the event loop registers it
    /// once).
    fn raw_fd(&self) -> RawFd;

    /// The largest packet the link carries (for IP devices, the IP MTU).
    fn mtu(&self) -> usize;

    /// When [`Device::handle_timeout`] wants to run next (for example an
    /// ARP retry).
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Runs the device's own timers that are due at `now`. Safe to call at
    /// any time.
    fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }

    /// What the device dropped so far, by reason. A device that never
    /// drops anything keeps the default, all zeros.
    fn counters(&self) -> DeviceCounters {
        DeviceCounters::default()
    }
}

impl<D: Device + ?Sized> Device for Box<D> {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        (**self).recv(buf)
    }
    fn recv_verified(&mut self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        (**self).recv_verified(buf)
    }
    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        (**self).send(packet)
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn raw_fd(&self) -> RawFd {
        (**self).raw_fd()
    }
    fn mtu(&self) -> usize {
        (**self).mtu()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        (**self).poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        (**self).handle_timeout(now)
    }
    fn counters(&self) -> DeviceCounters {
        (**self).counters()
    }
}

/// Runs a non-blocking read, retrying on `Interrupted` and mapping
/// `WouldBlock` to `Ok(None)`, the trait's way of saying so.
pub(crate) fn nonblocking(
    mut read: impl FnMut() -> io::Result<usize>,
) -> io::Result<Option<usize>> {
    loop {
        match read() {
            Ok(n) => return Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
