//! Classic libpcap capture files.
//!
//! The old format rather than pcapng because it is twenty-four bytes of
//! header and sixteen per packet, every tool reads it, and a test can check
//! it byte for byte. Packets are raw IP (LINKTYPE_RAW), which is exactly what
//! nodes exchange, so no fake Ethernet header is needed.

use std::io::{self, Write};

use crate::time::Instant;

/// The classic pcap magic number for microsecond timestamps.
pub const PCAP_MAGIC: u32 = 0xa1b2_c3d4;
/// Largest number of bytes stored per packet; longer packets are truncated
/// in the file (their original length is still recorded).
pub const PCAP_SNAPLEN: u32 = 65_535;
/// Link type for packets that begin directly with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;

/// Writes a classic libpcap file (magic 0xa1b2c3d4, version 2.4,
/// microsecond timestamps, snaplen 65535, LINKTYPE_RAW) that opens in
/// Wireshark or tcpdump.
///
/// All fields are written little-endian whatever the host, so the same run
/// produces the same file on every machine; readers detect the byte order
/// from the magic number.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header and returns a writer for packet records.
    pub fn new(mut w: W) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&PCAP_MAGIC.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version major
        h[6..8].copy_from_slice(&4u16.to_le_bytes()); // version minor
        // 8..12 thiszone and 12..16 sigfigs stay zero: times are UTC-free
        // virtual microseconds.
        h[16..20].copy_from_slice(&PCAP_SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
        w.write_all(&h)?;
        Ok(PcapWriter { w })
    }

    /// Appends one packet record stamped with `time` (virtual microseconds
    /// since the epoch, split into seconds and microseconds).
    pub fn write_packet(&mut self, time: Instant, data: &[u8]) -> io::Result<()> {
        let us = time.micros();
        // The format has 32-bit seconds; a clock past year 2106 of virtual
        // time is pinned rather than wrapped so the file stays monotonic.
        let sec = u32::try_from(us / 1_000_000).unwrap_or(u32::MAX);
        let usec = (us % 1_000_000) as u32;
        let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let cap_len = data.len().min(PCAP_SNAPLEN as usize);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&sec.to_le_bytes());
        h[4..8].copy_from_slice(&usec.to_le_bytes());
        h[8..12].copy_from_slice(&(cap_len as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(&data[..cap_len])
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// Gives back the underlying writer (not flushed; call
    /// [`flush`](Self::flush) first if it buffers).
    pub fn into_inner(self) -> W {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn global_header_is_exact() {
        let w = PcapWriter::new(Vec::new()).unwrap();
        let b = w.into_inner();
        assert_eq!(
            b,
            [
                0xd4, 0xc3, 0xb2, 0xa1, // magic, little-endian
                2, 0, 4, 0, // version 2.4
                0, 0, 0, 0, // thiszone
                0, 0, 0, 0, // sigfigs
                0xff, 0xff, 0, 0, // snaplen 65535
                101, 0, 0, 0, // LINKTYPE_RAW
            ]
        );
    }

    #[test]
    fn record_header_and_data_are_exact() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let pkt = [0x45u8, 0, 0, 20, 1, 2, 3];
        w.write_packet(Instant::from_micros(3_250_017), &pkt)
            .unwrap();
        w.write_packet(Instant::ZERO, &[]).unwrap();
        w.flush().unwrap();
        let b = w.into_inner();
        let r = &b[24..];
        assert_eq!(u32_at(r, 0), 3); // seconds
        assert_eq!(u32_at(r, 4), 250_017); // microseconds
        assert_eq!(u32_at(r, 8), 7); // caplen
        assert_eq!(u32_at(r, 12), 7); // len
        assert_eq!(&r[16..23], &pkt);
        assert_eq!(&r[23..], &[0u8; 16]); // empty packet at time zero
        assert_eq!(b.len(), 24 + 16 + 7 + 16);
    }

    #[test]
    fn oversized_packets_are_truncated_to_snaplen() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let big = vec![0xabu8; 70_000];
        w.write_packet(Instant::NEVER, &big).unwrap();
        let b = w.into_inner();
        let r = &b[24..];
        assert_eq!(u32_at(r, 0), u32::MAX);
        assert_eq!(u32_at(r, 8), 65_535);
        assert_eq!(u32_at(r, 12), 70_000);
        assert_eq!(r.len(), 16 + 65_535);
    }
}
