//! Capture of every packet a device carries, in and out, to a pcap file
//! that tcpdump and Wireshark read.

use super::{Device, DeviceCounters, Received};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::RawFd;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use synack::sim::PcapWriter;

/// How long captured packets may sit in the writer's buffer, so a capture
/// of a live stack can be followed with `tail -f | tcpdump -r -`.
const FLUSH_DELAY: Duration = Duration::from_millis(200);

/// A device that records what passes through it. A `BufWriter` flushes
/// itself when dropped, so the default writer needs no `Drop` here. The records are raw IP
/// (LINKTYPE_RAW): wrap the device that carries IP, so over TAP wrap the
/// [`Ethernet`](super::Ethernet) layer and capture the datagrams after the
/// frame header is stripped.
pub struct Pcap<D, W: Write = BufWriter<File>> {
    inner: D,
    writer: PcapWriter<W>,
    /// When the oldest unflushed record was written.
    dirty_since: Option<Instant>,
    /// The first write error, kept so capture failure never breaks the link.
    error: Option<io::Error>,
}

impl<D: Device> Pcap<D> {
    /// Captures `inner` into a new file at `path`.
    pub fn create(inner: D, path: impl AsRef<Path>) -> io::Result<Self> {
        Pcap::new(inner, BufWriter::new(File::create(path)?))
    }
}

impl<D: Device, W: Write> Pcap<D, W> {
    /// Captures `inner` into `w`.
    pub fn new(inner: D, w: W) -> io::Result<Self> {
        Ok(Pcap {
            inner,
            writer: PcapWriter::new(w)?,
            dirty_since: None,
            error: None,
        })
    }

    /// The wrapped device.
    pub fn get_ref(&self) -> &D {
        &self.inner
    }

    /// The first error writing the capture, if any; capture stops there.
    pub fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }

    /// Flushes and returns the device and the writer.
    pub fn into_parts(mut self) -> (D, W) {
        let _ = self.writer.flush();
        (self.inner, self.writer.into_inner())
    }

    fn record(&mut self, packet: &[u8]) {
        if self.error.is_some() {
            return;
        }
        // Wall-clock time, so the capture lines up with other captures.
        let us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        if let Err(e) = self
            .writer
            .write_packet(synack::Instant::from_micros(us), packet)
        {
            self.error = Some(e);
        }
        self.dirty_since.get_or_insert_with(Instant::now);
    }
}

impl<D: Device, W: Write + Send> Device for Pcap<D, W> {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let got = self.inner.recv(buf)?;
        if let Some(n) = got {
            self.record(&buf[..n]);
        }
        Ok(got)
    }

    fn recv_offloaded(&mut self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let got = self.inner.recv_offloaded(buf)?;
        if let Some(r) = got {
            self.record(&buf[..r.len]);
        }
        Ok(got)
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        self.record(packet);
        self.inner.send(packet)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    fn raw_fd(&self) -> RawFd {
        self.inner.raw_fd()
    }

    fn mtu(&self) -> usize {
        self.inner.mtu()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let flush = self.dirty_since.map(|t| t + FLUSH_DELAY);
        match (flush, self.inner.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn counters(&self) -> DeviceCounters {
        self.inner.counters()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now);
        if self.dirty_since.is_some_and(|t| now >= t + FLUSH_DELAY) {
            self.dirty_since = None;
            if let Err(e) = self.writer.flush() {
                self.error.get_or_insert(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::ChannelDevice;

    #[test]
    fn records_both_directions() {
        let (a, mut b) = ChannelDevice::pair(1500).unwrap();
        let mut cap = Pcap::new(a, Vec::new()).unwrap();
        cap.send(b"\x45out").unwrap();
        b.send(b"\x45in!!").unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(cap.recv(&mut buf).unwrap(), Some(5));
        assert!(cap.poll_timeout().is_some());
        let (_, bytes) = cap.into_parts();
        // Global header, then two records of 16 + 4 and 16 + 5 bytes.
        assert_eq!(bytes.len(), 24 + 20 + 21);
        assert_eq!(&bytes[24 + 16..24 + 20], b"\x45out");
        assert_eq!(&bytes[24 + 20 + 16..], b"\x45in!!");
    }
}
