//! Two devices joined back to back in memory, for tests without root.
//!
//! Packets travel through a queue in memory, not through the socket: a
//! Unix datagram socket holds only `net.unix.max_dgram_qlen` messages (10
//! by default), and a link that drops a window's worth of segments turns
//! every test into a retransmission-timeout test. The socket pair is only a
//! doorbell, so that each side has a descriptor that polls readable when
//! packets wait.

use super::{Device, DeviceCounters, nonblocking};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Packets a queue holds before the link starts dropping, so that a stalled
/// reader bounds memory.
pub const DEFAULT_QUEUE_CAPACITY: usize = 16 * 1024;

struct Queue {
    packets: Mutex<VecDeque<Vec<u8>>>,
    capacity: usize,
    dropped: AtomicU64,
}

impl Queue {
    fn new(capacity: usize) -> Arc<Queue> {
        Arc::new(Queue {
            packets: Mutex::new(VecDeque::new()),
            capacity,
            dropped: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Vec<u8>>> {
        self.packets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One end of an in-memory link; see [`ChannelDevice::pair`].
pub struct ChannelDevice {
    inbox: Arc<Queue>,
    outbox: Arc<Queue>,
    /// Our end of the doorbell: written to ring the peer, read to silence
    /// our own bell.
    bell: UnixStream,
    mtu: usize,
}

impl ChannelDevice {
    /// Two devices, each receiving what the other sends, carrying packets of
    /// up to `mtu` bytes.
    pub fn pair(mtu: usize) -> io::Result<(ChannelDevice, ChannelDevice)> {
        Self::pair_with_capacity(mtu, DEFAULT_QUEUE_CAPACITY)
    }

    /// [`ChannelDevice::pair`] with `capacity` packets queued at most in each
    /// direction.
    pub fn pair_with_capacity(
        mtu: usize,
        capacity: usize,
    ) -> io::Result<(ChannelDevice, ChannelDevice)> {
        let (a, b) = UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        let ab = Queue::new(capacity);
        let ba = Queue::new(capacity);
        Ok((
            ChannelDevice {
                inbox: ba.clone(),
                outbox: ab.clone(),
                bell: a,
                mtu,
            },
            ChannelDevice {
                inbox: ab,
                outbox: ba,
                bell: b,
                mtu,
            },
        ))
    }

    /// Packets this end sent that the link dropped because the peer's queue
    /// was full.
    pub fn dropped(&self) -> u64 {
        self.outbox.dropped.load(Ordering::Relaxed)
    }

    fn pop_into(&self, buf: &mut [u8]) -> Option<usize> {
        let p = self.inbox.lock().pop_front()?;
        let n = p.len().min(buf.len());
        buf[..n].copy_from_slice(&p[..n]);
        Some(n)
    }

    /// Reads the doorbell empty. A closed peer reads as end of file, which
    /// would poll readable forever, so it is reported as an error.
    fn silence(&mut self) -> io::Result<()> {
        let mut scratch = [0u8; 64];
        loop {
            match nonblocking(|| self.bell.read(&mut scratch))? {
                None => return Ok(()),
                Some(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "the other end of the channel is gone",
                    ));
                }
                Some(_) => {}
            }
        }
    }
}

impl Device for ChannelDevice {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        if let Some(n) = self.pop_into(buf) {
            return Ok(Some(n));
        }
        // Silence the bell, then look again: a packet queued before the
        // silencing is found now, one queued after it rings again (the
        // sender rings whenever it finds the queue empty).
        self.silence()?;
        Ok(self.pop_into(buf))
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        if packet.len() > self.mtu {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "packet larger than the channel's MTU",
            ));
        }
        let was_empty = {
            let mut q = self.outbox.lock();
            if q.len() >= self.outbox.capacity {
                self.outbox.dropped.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            q.push_back(packet.to_vec());
            q.len() == 1
        };
        if was_empty {
            match self.bell.write(&[1]) {
                Ok(_) => {}
                // A full doorbell is already ringing.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn raw_fd(&self) -> RawFd {
        self.bell.as_raw_fd()
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn counters(&self) -> DeviceCounters {
        DeviceCounters {
            tx_dropped: self.dropped(),
            ..DeviceCounters::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_cross_in_order_and_keep_boundaries() {
        let (mut a, mut b) = ChannelDevice::pair(1500).unwrap();
        let mut buf = [0u8; 1500];
        assert_eq!(b.recv(&mut buf).unwrap(), None);
        a.send(b"one").unwrap();
        a.send(b"three").unwrap();
        assert_eq!(b.recv(&mut buf).unwrap(), Some(3));
        assert_eq!(&buf[..3], b"one");
        assert_eq!(b.recv(&mut buf).unwrap(), Some(5));
        assert_eq!(b.recv(&mut buf).unwrap(), None);
        b.send(b"back").unwrap();
        assert_eq!(a.recv(&mut buf).unwrap(), Some(4));
        assert!(a.send(&[0u8; 1501]).is_err());
    }

    #[test]
    fn full_queue_drops_and_counts() {
        let (mut a, mut b) = ChannelDevice::pair_with_capacity(100, 2).unwrap();
        for _ in 0..5 {
            a.send(b"x").unwrap();
        }
        assert_eq!(a.dropped(), 3);
        assert_eq!(a.counters().tx_dropped, 3);
        let mut buf = [0u8; 8];
        assert_eq!(b.recv(&mut buf).unwrap(), Some(1));
        assert_eq!(b.recv(&mut buf).unwrap(), Some(1));
        assert_eq!(b.recv(&mut buf).unwrap(), None);
    }

    #[test]
    fn closed_peer_is_an_error() {
        let (a, mut b) = ChannelDevice::pair(100).unwrap();
        drop(a);
        let mut buf = [0u8; 8];
        let e = b.recv(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotConnected);
    }
}
