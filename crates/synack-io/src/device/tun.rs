//! A Linux TUN device: raw IP datagrams, no packet-information header
//! (IFF_NO_PI), opened through the `tun-rs` crate.
//!
//! With offloads (the default where the kernel has them), the device
//! carries a virtio-net header (IFF_VNET_HDR, `virtio.rs`) and the kernel's
//! segmentation offloads are on (TUNSETOFFLOAD with checksum, TSO4 and
//! TSO6). Both ways TCP then moves in super-segments of up to 64 KiB, one
//! system call and one trip through the kernel's stack each instead of one
//! per segment:
//!
//! - Received: a super-segment the kernel built (its GRO of what arrived,
//!   or its own TSO) is read straight into the stack's buffer and handed
//!   to the engine whole (`Received::segment_size`), which takes it as the
//!   segments it stands for; its checksum, computed or verified by the
//!   kernel, is not summed again. A caller of plain [`Device::recv`] (or
//!   with a small buffer) gets it cut back into MTU-sized datagrams.
//! - Sent: runs of segments the engine emits in one pass are joined into
//!   super-segments (`coalesce.rs`) that the kernel cuts back into the same
//!   segments, checksums and all.
//!
//! The engine's segments and what reaches the wire are the same either
//! way; only the number of system calls and of trips through the kernel
//! changes.

use super::coalesce::Coalescer;
use super::{Device, DeviceCounters, MAX_SUPER_SEGMENT, Received, nonblocking, virtio};
use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, RawFd};
use tun_rs::{DeviceBuilder, IDEAL_BATCH_SIZE, Layer, SyncDevice, VIRTIO_NET_HDR_LEN};

/// A TUN device in non-blocking mode.
pub struct Tun {
    link: KernelLink,
    offload: Option<Box<Offload>>,
}

impl Tun {
    /// Attaches to the TUN device `name`, or creates it, with offloads if
    /// the kernel has them (and without, if it does not). A persistent
    /// device (`ip tuntap add mode tun`) outlives us; one we create
    /// disappears when this value is dropped. The device is brought up if
    /// we may; otherwise whoever created it must have done so.
    pub fn open(name: &str) -> io::Result<Tun> {
        match KernelLink::open(name, Layer::L3, 0, true) {
            Ok(link) => {
                let offload = Some(Box::new(Offload::new(link.mtu)));
                Ok(Tun { link, offload })
            }
            Err(_) => Tun::open_without_offload(name),
        }
    }

    /// As [`Tun::open`], with the offloads off: one datagram per system
    /// call each way.
    pub fn open_without_offload(name: &str) -> io::Result<Tun> {
        KernelLink::open(name, Layer::L3, 0, false).map(|link| Tun {
            link,
            offload: None,
        })
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.link.name
    }

    /// Whether segmentation offloads are on.
    pub fn offload(&self) -> bool {
        self.offload.is_some()
    }
}

/// The buffers of the offload path: datagrams cut from the kernel's last
/// super-segment, not yet read; datagrams the engine sent, not yet
/// written.
struct Offload {
    /// The raw read: virtio-net header and a packet of up to 64 KiB.
    raw: Vec<u8>,
    rx: Vec<Vec<u8>>,
    rx_sizes: Vec<usize>,
    rx_next: usize,
    rx_count: usize,
    /// The kernel verified or computed the checksums of the datagrams cut
    /// from its last read (a super-segment, or flags saying so).
    rx_verified: bool,
    /// What the engine sent since the last flush, runs of segments joined.
    tx: Coalescer,
}

impl Offload {
    fn new(mtu: usize) -> Offload {
        Offload {
            raw: vec![0; VIRTIO_NET_HDR_LEN + 65_535],
            rx: vec![vec![0; mtu.max(1280)]; IDEAL_BATCH_SIZE],
            rx_sizes: vec![0; IDEAL_BATCH_SIZE],
            rx_next: 0,
            rx_count: 0,
            rx_verified: false,
            tx: Coalescer::default(),
        }
    }
}

impl Tun {
    /// One read straight into `buf`, the virtio-net header beside it: a
    /// super-segment stays whole (no copy, no checksum), a plain datagram
    /// is as the kernel sent it.
    fn recv_whole(&mut self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        loop {
            let mut hdr = [0u8; virtio::HDR_LEN];
            let read = nonblocking(|| {
                let mut parts = [IoSliceMut::new(&mut hdr), IoSliceMut::new(buf)];
                self.link.dev.recv_vectored(&mut parts)
            })?;
            let Some(n) = read else {
                return Ok(None);
            };
            let Some(len) = n.checked_sub(virtio::HDR_LEN).filter(|&len| len > 0) else {
                self.link.counters.rx_length_errors += 1;
                continue;
            };
            return Ok(Some(match virtio::classify(&hdr, &mut buf[..len]) {
                virtio::Packet::Plain { verified } => Received {
                    len,
                    verified,
                    segment_size: None,
                },
                virtio::Packet::Coalesced { segment_size } => Received {
                    len,
                    verified: true,
                    segment_size: Some(segment_size),
                },
                virtio::Packet::Malformed => {
                    // Not what the offloads we switched on produce: lost,
                    // as on a wire.
                    self.link.counters.rx_length_errors += 1;
                    continue;
                }
            }));
        }
    }

    fn recv_offload(&mut self, buf: &mut [u8]) -> io::Result<Option<(usize, bool)>> {
        let Tun { link, offload } = self;
        let o = offload.as_mut().expect("offload path");
        loop {
            if o.rx_next < o.rx_count {
                let i = o.rx_next;
                o.rx_next += 1;
                let n = o.rx_sizes[i];
                if n > buf.len() || n > o.rx[i].len() {
                    link.counters.rx_length_errors += 1;
                    continue;
                }
                buf[..n].copy_from_slice(&o.rx[i][..n]);
                return Ok(Some((n, o.rx_verified)));
            }
            let Offload {
                raw, rx, rx_sizes, ..
            } = &mut **o;
            match nonblocking(|| link.dev.recv_multiple(raw, rx, rx_sizes, 0)) {
                Ok(Some(count)) => {
                    o.rx_next = 0;
                    o.rx_count = count.min(o.rx.len());
                    // The header is still there: a super-segment (cut, its
                    // checksums computed, by tun-rs from the kernel's data),
                    // a partial checksum from the local stack (completed),
                    // or one the kernel marks valid.
                    o.rx_verified = virtio::kernel_checked(o.raw[0], o.raw[1]);
                }
                Ok(None) => return Ok(None),
                // A super-segment tun-rs cannot cut (malformed, or more
                // segments than buffers; its own errors, not the system's):
                // lost, as on a wire.
                Err(e) if e.raw_os_error().is_none() => {
                    link.counters.rx_length_errors += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn send_offload(&mut self, packet: &[u8]) -> io::Result<()> {
        if self.offload.as_ref().expect("offload path").tx.is_full() {
            self.flush_offload()?;
        }
        self.offload.as_mut().expect("offload path").tx.push(packet);
        Ok(())
    }

    fn flush_offload(&mut self) -> io::Result<()> {
        let Tun { link, offload } = self;
        let o = offload.as_mut().expect("offload path");
        let mut result = Ok(());
        o.tx.drain(|p| {
            if result.is_ok() {
                result = link.send(p);
            }
        });
        result
    }
}

impl Device for Tun {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        if self.offload.is_some() {
            return Ok(self.recv_offload(buf)?.map(|(n, _)| n));
        }
        self.link.recv(buf)
    }

    fn recv_offloaded(&mut self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        match &self.offload {
            Some(o) if o.rx_next == o.rx_count && buf.len() >= MAX_SUPER_SEGMENT => {
                self.recv_whole(buf)
            }
            Some(_) => Ok(self.recv_offload(buf)?.map(|(len, verified)| Received {
                len,
                verified,
                segment_size: None,
            })),
            None => Ok(self.link.recv(buf)?.map(Received::plain)),
        }
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        if self.offload.is_some() {
            return self.send_offload(packet);
        }
        self.link.send(packet)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.offload.is_some() {
            return self.flush_offload();
        }
        Ok(())
    }

    fn raw_fd(&self) -> RawFd {
        self.link.dev.as_raw_fd()
    }

    fn mtu(&self) -> usize {
        self.link.mtu
    }

    fn counters(&self) -> DeviceCounters {
        self.link.counters.clone()
    }
}

/// The two system calls a kernel link makes on its descriptor, apart so
/// that tests can play the kernel.
pub(super) trait LinkIo {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn write(&self, packet: &[u8]) -> io::Result<usize>;
}

impl LinkIo for SyncDevice {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv(buf)
    }

    fn write(&self, packet: &[u8]) -> io::Result<usize> {
        self.send(packet)
    }
}

/// A kernel TUN or TAP device opened through `tun-rs`: what TUN and TAP
/// share (opening, non-blocking reads, dropping on a full queue).
pub(super) struct KernelLink<L = SyncDevice> {
    pub(super) dev: L,
    pub(super) name: String,
    pub(super) mtu: usize,
    pub(super) counters: DeviceCounters,
}

impl KernelLink {
    /// Opens a TUN (`L3`) or TAP (`L2`) device without touching its
    /// addresses, makes it non-blocking, and takes its MTU plus `framing`
    /// (what a frame adds to the IP datagram the interface MTU counts).
    pub(super) fn open(
        name: &str,
        layer: Layer,
        framing: usize,
        offload: bool,
    ) -> io::Result<KernelLink> {
        let dev = DeviceBuilder::new()
            .name(name)
            .layer(layer)
            .packet_information(false)
            .offload(offload)
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
        Ok(KernelLink {
            dev,
            name,
            mtu,
            counters: DeviceCounters::default(),
        })
    }
}

impl<L: LinkIo> KernelLink<L> {
    pub(super) fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            let Some(n) = nonblocking(|| self.dev.read(buf))? else {
                return Ok(None);
            };
            // The kernel cuts a frame longer than the buffer to the buffer's
            // length. A buffer with room for anything the MTU allows is
            // filled only by such a frame: drop it here rather than hand a
            // truncated datagram up.
            if n == buf.len() && n > self.mtu {
                self.counters.rx_length_errors += 1;
                continue;
            }
            return Ok(Some(n));
        }
    }

    pub(super) fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        loop {
            match self.dev.write(packet) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The kernel's queue is full: drop, as a busy link would.
                Err(e) if queue_full(&e) => {
                    self.counters.tx_dropped += 1;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// EAGAIN: a non-blocking device's queue is full. ENOBUFS: the same, as
/// some drivers and queueing disciplines say it.
fn queue_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;

    /// The kernel's side of a descriptor, scripted: each read takes the
    /// next packet (cut to the buffer, as the kernel does), each write the
    /// next result.
    #[derive(Default)]
    struct Scripted {
        packets: RefCell<VecDeque<Vec<u8>>>,
        writes: RefCell<VecDeque<io::Result<usize>>>,
    }

    impl LinkIo for Scripted {
        fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(p) = self.packets.borrow_mut().pop_front() else {
                return Err(io::ErrorKind::WouldBlock.into());
            };
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            Ok(n)
        }

        fn write(&self, packet: &[u8]) -> io::Result<usize> {
            self.writes
                .borrow_mut()
                .pop_front()
                .unwrap_or(Ok(packet.len()))
        }
    }

    fn link(mtu: usize) -> KernelLink<Scripted> {
        KernelLink {
            dev: Scripted::default(),
            name: "test0".into(),
            mtu,
            counters: DeviceCounters::default(),
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_other_errors_go_to_the_caller() {
        let mut l = link(1500);
        let os = io::Error::from_raw_os_error;
        l.dev.writes.borrow_mut().extend([
            Err(os(libc::EAGAIN)),
            Err(os(libc::ENOBUFS)),
            Err(os(libc::EINTR)),
            Ok(20),
            Err(os(libc::EIO)),
        ]);
        l.send(&[0x45; 20]).unwrap();
        l.send(&[0x45; 20]).unwrap();
        assert_eq!(l.counters.tx_dropped, 2);
        // Interrupted, then written: retried, not dropped.
        l.send(&[0x45; 20]).unwrap();
        assert_eq!(l.counters.tx_dropped, 2);
        // Not a full queue: the caller hears of it (the stack counts it as
        // TxErrors).
        assert_eq!(
            l.send(&[0x45; 20]).unwrap_err().raw_os_error(),
            Some(libc::EIO)
        );
        assert_eq!(l.counters.tx_dropped, 2);
    }

    #[test]
    fn a_frame_longer_than_the_mtu_is_dropped_not_truncated() {
        let mut l = link(1500);
        l.dev
            .packets
            .borrow_mut()
            .extend([vec![1; 3000], vec![2; 1500], vec![3; 40]]);
        let mut buf = [0u8; 2048];
        // The 3000-byte frame filled the buffer: dropped; the next one is
        // read in the same call.
        assert_eq!(l.recv(&mut buf).unwrap(), Some(1500));
        assert_eq!(buf[0], 2);
        assert_eq!(l.counters.rx_length_errors, 1);
        assert_eq!(l.recv(&mut buf).unwrap(), Some(40));
        assert_eq!(l.recv(&mut buf).unwrap(), None);
        // A buffer no larger than the MTU cannot tell: the packet is passed
        // on cut to the buffer, as the trait says.
        l.dev.packets.borrow_mut().push_back(vec![4; 3000]);
        let mut small = [0u8; 1000];
        assert_eq!(l.recv(&mut small).unwrap(), Some(1000));
        assert_eq!(l.counters.rx_length_errors, 1);
    }
}
