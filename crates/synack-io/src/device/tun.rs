//! A Linux TUN device: raw IP datagrams, no packet-information header
//! (IFF_NO_PI), opened through the `tun-rs` crate.

use super::{Device, DeviceCounters, nonblocking};
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

    fn counters(&self) -> DeviceCounters {
        self.0.counters.clone()
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
