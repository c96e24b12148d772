//! Links that carry packets between the stack and the world.
//!
//! A [`Device`] moves whole packets: IP datagrams for everything the
//! [`Stack`](crate::Stack) drives, Ethernet frames for the raw TAP link that
//! [`Ethernet`] wraps. Devices are non-blocking and expose a file descriptor
//! so the event loop can sleep until one is readable.

mod arp;
mod channel;
mod coalesce;
mod counters;
mod ethernet;
mod ndp;
mod neighbor;
mod pcap;
mod tap;
mod tun;
mod virtio;

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

/// The largest packet [`Device::recv_offloaded`] may return: a TCP
/// super-segment over IPv6 with a full 65,535-byte payload.
pub const MAX_SUPER_SEGMENT: usize = 65_535 + 40;

/// What [`Device::recv_offloaded`] read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// The packet's length at the start of the buffer.
    pub len: usize,
    /// The local kernel verified or computed its transport checksum (or
    /// will never need one: it came from the kernel's own memory), so the
    /// stack need not sum it again.
    pub verified: bool,
    /// A TCP super-segment the local kernel coalesced from segments of
    /// this many payload bytes (its GRO, or its TSO), handed over whole,
    /// with the first segment's headers and the IP length of the whole;
    /// implies `verified`. `None` for a plain datagram.
    pub segment_size: Option<std::num::NonZeroU16>,
}

impl Received {
    /// A plain datagram of `len` bytes whose checksum nobody checked.
    pub fn plain(len: usize) -> Received {
        Received {
            len,
            ..Received::default()
        }
    }
}

/// A non-blocking link that carries whole packets.
pub trait Device: Send {
    /// Reads one packet into `buf` and returns its length, or `None` when
    /// nothing is waiting (would block). A packet longer than `buf` is
    /// truncated, unless `buf` has room for the largest packet the MTU
    /// allows: then it cannot be one the link should carry, and a device
    /// may drop it and count it in [`Device::counters`].
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// [`Device::recv`], for a caller that also takes what the local kernel
    /// said of the packet ([`Received`]): that it verified or computed the
    /// transport checksum, or that the packet is a TCP super-segment it
    /// coalesced, handed over whole. Super-segments come only if `buf` has
    /// room for [`MAX_SUPER_SEGMENT`] bytes; otherwise a device cuts them
    /// into MTU-sized datagrams, as `recv` does.
    fn recv_offloaded(&mut self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        Ok(self.recv(buf)?.map(Received::plain))
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
    fn recv_offloaded(&mut self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        (**self).recv_offloaded(buf)
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
