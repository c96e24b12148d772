//! The send half of the TUN offloads: consecutive TCP segments of one flow
//! that the engine emits in a pass are joined into one super-segment (one
//! IP datagram of up to 64 KiB with a virtio-net header asking the kernel
//! to cut it back into segments, GSO), so the kernel takes them in one
//! write and one trip through its receive path.
//!
//! Segments join when they could have been cut from one super-segment:
//! the same addresses, ports and IP header fields (TTL, TOS and ECN, DF,
//! IPv6 flow label), the same TCP header but for the sequence number
//! (ACK, window, flags, options byte for byte, so the same timestamps),
//! consecutive sequence numbers, flags no more than ACK and PSH, and a
//! payload no longer than the first's. A segment with PSH or a shorter
//! payload ends its super-segment, as the last one cut from it would be.
//! Anything else (SYN, FIN, RST, a pure ACK, UDP) goes out as it came.
//!
//! The engine's checksums are complete; a joined super-segment gets the
//! partial one the kernel completes for each segment it cuts.

use super::virtio;
use synack_wire::checksum;

/// The most datagrams held for one flush.
pub(super) const MAX_PACKETS: usize = 128;
/// How many still-open super-segments a new segment is compared with.
const OPEN_SEARCH: usize = 8;
/// The largest IP datagram (IPv4's total length and IPv6's payload length
/// are 16 bits).
const MAX_IP_LEN: usize = 65_535;
const PROTO_TCP: u8 = 6;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// One datagram being built: the virtio-net header and the IP datagram.
struct Building {
    buf: Vec<u8>,
    /// The IP header's length, then the TCP header's.
    ip_len: usize,
    tcp_len: usize,
    /// Segments joined so far.
    segs: u16,
    /// The first segment's payload length: the size the kernel cuts at.
    seg_size: usize,
    /// The sequence number the next segment must carry.
    next_seq: u32,
    /// Another segment may still join.
    open: bool,
}

/// Datagrams waiting for the next flush, super-segments among them.
#[derive(Default)]
pub(super) struct Coalescer {
    packets: Vec<Building>,
    /// `packets[..len]` are in use; the rest keep their allocations.
    len: usize,
    /// Indices of the open super-segments, the newest last.
    open: Vec<usize>,
}

impl Coalescer {
    /// Whether another datagram fits before a flush.
    pub(super) fn is_full(&self) -> bool {
        self.len == MAX_PACKETS
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Takes one datagram: joined to an open super-segment of its flow,
    /// or held as a new one. The caller flushes first when
    /// [`is_full`](Self::is_full).
    pub(super) fn push(&mut self, packet: &[u8]) {
        let seg = Segment::parse(packet);
        if let Some(seg) = &seg
            && self.join(packet, seg)
        {
            return;
        }
        if self.len == self.packets.len() {
            self.packets.push(Building {
                buf: Vec::new(),
                ip_len: 0,
                tcp_len: 0,
                segs: 0,
                seg_size: 0,
                next_seq: 0,
                open: false,
            });
        }
        let b = &mut self.packets[self.len];
        b.buf.clear();
        b.buf.resize(virtio::HDR_LEN, 0);
        b.buf.extend_from_slice(packet);
        b.segs = 1;
        b.open = false;
        if let Some(seg) = seg.filter(|s| s.may_start()) {
            b.ip_len = seg.ip_len;
            b.tcp_len = seg.tcp_len;
            b.seg_size = seg.payload_len();
            b.next_seq = seg.seq.wrapping_add(seg.payload_len() as u32);
            b.open = !seg.ends_run();
            if b.open {
                // A super-segment can reach 64 KiB: reserve it once, not
                // by doubling on the way.
                b.buf.reserve(virtio::HDR_LEN + MAX_IP_LEN - b.buf.len());
                if self.open.len() == OPEN_SEARCH {
                    let oldest = self.open.remove(0);
                    self.packets[oldest].open = false;
                }
                self.open.push(self.len);
            }
        }
        self.len += 1;
    }

    /// Appends `seg`'s payload to the open super-segment of its flow if it
    /// continues it.
    fn join(&mut self, packet: &[u8], seg: &Segment) -> bool {
        let Some(pos) = self
            .open
            .iter()
            .rposition(|&i| same_flow(&self.packets[i], packet, seg))
        else {
            return false;
        };
        let b = &mut self.packets[self.open[pos]];
        let payload = seg.payload_len();
        let joins = seg.may_join()
            && seg.seq == b.next_seq
            && payload <= b.seg_size
            && b.buf.len() - virtio::HDR_LEN + payload <= MAX_IP_LEN
            && same_headers(&b.buf[virtio::HDR_LEN..], packet, seg);
        if !joins {
            // The flow went on in a way the kernel could not have cut:
            // its super-segment ends here, ahead of this segment.
            b.open = false;
            self.open.remove(pos);
            return false;
        }
        b.buf.extend_from_slice(&packet[seg.ip_len + seg.tcp_len..]);
        b.segs += 1;
        b.next_seq = b.next_seq.wrapping_add(payload as u32);
        if seg.ends_run() {
            b.buf[virtio::HDR_LEN + seg.ip_len + 13] |= PSH;
        }
        if seg.ends_run() || payload < b.seg_size {
            b.open = false;
            self.open.remove(pos);
        }
        true
    }

    /// Hands every datagram, virtio-net header in front, to `write`, in
    /// the order they were pushed, and empties the coalescer.
    pub(super) fn drain(&mut self, mut write: impl FnMut(&[u8])) {
        for b in &mut self.packets[..self.len] {
            b.finish();
            write(&b.buf);
        }
        self.len = 0;
        self.open.clear();
    }
}

impl Building {
    /// Writes the virtio-net header and, for a super-segment, its IP
    /// length and the partial TCP checksum.
    fn finish(&mut self) {
        let (hdr, ip) = self.buf.split_at_mut(virtio::HDR_LEN);
        hdr.fill(0);
        if self.segs < 2 {
            // As the engine built it, checksum complete.
            return;
        }
        let v6 = ip[0] >> 4 == 6;
        let total = ip.len();
        let tcp_total = total - self.ip_len;
        if v6 {
            ip[4..6].copy_from_slice(&(tcp_total as u16).to_be_bytes());
        } else {
            ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            ip[10..12].fill(0);
            let sum = checksum::fold(checksum::sum(&ip[..self.ip_len], 0));
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        let (src, dst) = if v6 {
            (8..24, 24..40)
        } else {
            (12..16, 16..20)
        };
        let pseudo = checksum::sum(&ip[src], 0)
            + checksum::sum(&ip[dst], 0)
            + u64::from(PROTO_TCP)
            + tcp_total as u64;
        // The kernel wants the pseudo-header's sum, folded and not
        // complemented (`fold` complements), and adds the rest.
        let at = self.ip_len + 16;
        ip[at..at + 2].copy_from_slice(&(!checksum::fold(pseudo)).to_be_bytes());
        virtio::write_gso_header(
            hdr,
            v6,
            (self.ip_len + self.tcp_len) as u16,
            self.seg_size as u16,
            self.ip_len as u16,
        );
    }
}

/// The fields of a TCP segment the joining looks at.
struct Segment {
    v6: bool,
    ip_len: usize,
    tcp_len: usize,
    total: usize,
    seq: u32,
    flags: u8,
}

impl Segment {
    /// A TCP segment in a plain IPv4 (no options) or IPv6 (no extension
    /// headers) datagram whose lengths agree, else `None`.
    fn parse(p: &[u8]) -> Option<Segment> {
        let (v6, ip_len) = match p.first()? >> 4 {
            4 if p[0] & 0x0f == 5 && p.len() >= 20 => {
                let total = u16::from_be_bytes([p[2], p[3]]);
                let whole = usize::from(total) == p.len();
                // Fragment offset and MF clear.
                let unfragmented = u16::from_be_bytes([p[6], p[7]]) & 0x3fff == 0;
                (whole && unfragmented && p[9] == PROTO_TCP).then_some((false, 20))?
            }
            6 if p.len() >= 40 => {
                let payload = u16::from_be_bytes([p[4], p[5]]);
                (usize::from(payload) + 40 == p.len() && p[6] == PROTO_TCP).then_some((true, 40))?
            }
            _ => return None,
        };
        let tcp = p.get(ip_len..ip_len + 20)?;
        let tcp_len = usize::from(tcp[12] >> 4) * 4;
        if tcp_len < 20 || ip_len + tcp_len > p.len() {
            return None;
        }
        Some(Segment {
            v6,
            ip_len,
            tcp_len,
            total: p.len(),
            seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
            flags: tcp[13],
        })
    }

    fn payload_len(&self) -> usize {
        self.total - self.ip_len - self.tcp_len
    }

    /// Data with nothing but ACK and PSH set.
    fn may_join(&self) -> bool {
        self.payload_len() > 0 && self.flags & !PSH == ACK
    }

    fn may_start(&self) -> bool {
        self.may_join()
    }

    /// PSH: the last segment of a run.
    fn ends_run(&self) -> bool {
        self.flags & PSH != 0
    }
}

/// Same family, addresses and ports as the super-segment `b`.
fn same_flow(b: &Building, packet: &[u8], seg: &Segment) -> bool {
    let first = &b.buf[virtio::HDR_LEN..];
    if (first[0] >> 4 == 6) != seg.v6 || b.ip_len != seg.ip_len {
        return false;
    }
    let addrs = if seg.v6 { 8..40 } else { 12..20 };
    let ports = seg.ip_len..seg.ip_len + 4;
    first[addrs.clone()] == packet[addrs] && first[ports.clone()] == packet[ports]
}

/// The headers of `packet` are those of the super-segment's first segment
/// `first` but for what differs between segments cut from one: IPv4's
/// total length, identification and header checksum, IPv6's payload
/// length, TCP's sequence number, checksum and PSH.
fn same_headers(first: &[u8], packet: &[u8], seg: &Segment) -> bool {
    let ip = seg.ip_len;
    let tcp_len = seg.tcp_len;
    if first.len() < ip + tcp_len || first[ip + 12] != packet[ip + 12] {
        return false;
    }
    let ip_same = if seg.v6 {
        first[..4] == packet[..4] && first[6..40] == packet[6..40]
    } else {
        first[..2] == packet[..2]
            && first[6..10] == packet[6..10]
            && first[12..20] == packet[12..20]
    };
    // Ports; ACK and data offset; flags but PSH; window; urgent pointer
    // and options.
    let tcp_same = first[ip..ip + 4] == packet[ip..ip + 4]
        && first[ip + 8..ip + 13] == packet[ip + 8..ip + 13]
        && first[ip + 13] & !PSH == packet[ip + 13] & !PSH
        && first[ip + 14..ip + 16] == packet[ip + 14..ip + 16]
        && first[ip + 18..ip + tcp_len] == packet[ip + 18..ip + tcp_len];
    ip_same && tcp_same
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 TCP segment from 198.18.0.2:80 to 198.18.0.1:`port` with a
    /// complete checksum.
    fn seg4(port: u16, seq: u32, flags: u8, payload: &[u8], ts: u32) -> Vec<u8> {
        let tcp_len = 32;
        let mut p = vec![0u8; 20 + tcp_len];
        p[0] = 0x45;
        p[6] = 0x40; // DF
        p[8] = 64;
        p[9] = PROTO_TCP;
        p[12..16].copy_from_slice(&[198, 18, 0, 2]);
        p[16..20].copy_from_slice(&[198, 18, 0, 1]);
        let t = &mut p[20..];
        t[0..2].copy_from_slice(&80u16.to_be_bytes());
        t[2..4].copy_from_slice(&port.to_be_bytes());
        t[4..8].copy_from_slice(&seq.to_be_bytes());
        t[8..12].copy_from_slice(&7u32.to_be_bytes());
        t[12] = (tcp_len as u8 / 4) << 4;
        t[13] = flags;
        t[14..16].copy_from_slice(&512u16.to_be_bytes());
        // NOP, NOP, timestamps.
        t[20..24].copy_from_slice(&[1, 1, 8, 10]);
        t[24..28].copy_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(payload);
        let total = p.len() as u16;
        p[2..4].copy_from_slice(&total.to_be_bytes());
        let ip_sum = checksum::fold(checksum::sum(&p[..20], 0));
        p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
        let pseudo = checksum::pseudo_header(
            "198.18.0.2".parse().unwrap(),
            "198.18.0.1".parse().unwrap(),
            PROTO_TCP,
            (p.len() - 20) as u32,
        );
        let sum = checksum::fold(checksum::sum(&p[20..], pseudo));
        p[36..38].copy_from_slice(&sum.to_be_bytes());
        p
    }

    fn drained(c: &mut Coalescer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        c.drain(|p| out.push(p.to_vec()));
        out
    }

    /// Cuts a super-segment back as the kernel would (GSO): each segment
    /// the first's headers with its own sequence number and length, PSH
    /// only on the last, and a checksum completed from the partial one.
    fn cut(p: &[u8]) -> Vec<Vec<u8>> {
        let (hdr, ip) = p.split_at(virtio::HDR_LEN);
        if hdr[1] == 0 {
            return vec![ip.to_vec()];
        }
        let gso_size = usize::from(u16::from_le_bytes([hdr[4], hdr[5]]));
        let hlen = usize::from(u16::from_le_bytes([hdr[2], hdr[3]]));
        assert_eq!(hdr[0], 1, "NEEDS_CSUM");
        assert_eq!(u16::from_le_bytes([hdr[6], hdr[7]]), 20, "csum_start");
        assert_eq!(u16::from_le_bytes([hdr[8], hdr[9]]), 16, "csum_offset");
        assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), ip.len());
        assert_eq!(
            checksum::fold(checksum::sum(&ip[..20], 0)),
            0,
            "IP checksum"
        );
        // The partial checksum is that of the pseudo-header of the whole.
        let pseudo = |len: usize| {
            checksum::pseudo_header(
                "198.18.0.2".parse().unwrap(),
                "198.18.0.1".parse().unwrap(),
                PROTO_TCP,
                len as u32,
            )
        };
        assert_eq!(
            u16::from_be_bytes([ip[36], ip[37]]),
            !checksum::fold(pseudo(ip.len() - 20))
        );
        let seq0 = u32::from_be_bytes([ip[24], ip[25], ip[26], ip[27]]);
        let chunks: Vec<&[u8]> = ip[hlen..].chunks(gso_size).collect();
        let n = chunks.len();
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, data)| {
                let mut s = ip[..hlen].to_vec();
                s.extend_from_slice(data);
                let total = s.len() as u16;
                s[2..4].copy_from_slice(&total.to_be_bytes());
                s[4..6].fill(0);
                s[10..12].fill(0);
                let seq = seq0.wrapping_add((i * gso_size) as u32);
                s[24..28].copy_from_slice(&seq.to_be_bytes());
                if i + 1 < n {
                    s[33] &= !PSH;
                }
                s[36..38].fill(0);
                let sum = checksum::fold(checksum::sum(&s[20..], pseudo(s.len() - 20)));
                s[36..38].copy_from_slice(&sum.to_be_bytes());
                s
            })
            .collect()
    }

    /// What matters of a segment for the comparison: everything but the
    /// IP identification and header checksum, which the kernel sets.
    fn essence(s: &[u8]) -> Vec<u8> {
        let mut s = s.to_vec();
        s[4..6].fill(0);
        s[10..12].fill(0);
        s
    }

    /// A run of full segments ending in a shorter one with PSH becomes one
    /// super-segment that the kernel cuts back into exactly those
    /// segments, checksums and all.
    #[test]
    fn a_run_becomes_one_super_segment_that_cuts_back_into_it() {
        let mut c = Coalescer::default();
        let data: Vec<u8> = (0..3500u32).map(|i| (i * 7) as u8).collect();
        let segs = [
            seg4(1000, 1, ACK, &data[..1400], 9),
            seg4(1000, 1401, ACK, &data[1400..2800], 9),
            seg4(1000, 2801, ACK | PSH, &data[2800..], 9),
        ];
        for s in &segs {
            c.push(s);
        }
        let out = drained(&mut c);
        assert_eq!(out.len(), 1, "one write");
        let back = cut(&out[0]);
        assert_eq!(back.len(), 3);
        for (got, want) in back.iter().zip(&segs) {
            assert_eq!(essence(got), essence(want));
        }
        assert!(c.is_empty());
    }

    /// Two flows interleaved each make their own super-segment; order
    /// within each flow is kept.
    #[test]
    fn interleaved_flows_join_separately() {
        let mut c = Coalescer::default();
        let d = [5u8; 1000];
        for k in 0..4u32 {
            c.push(&seg4(1000, 1 + k * 1000, ACK, &d, 9));
            c.push(&seg4(2000, 1 + k * 1000, ACK, &d, 9));
        }
        let out = drained(&mut c);
        assert_eq!(out.len(), 2);
        for p in &out {
            assert_eq!(cut(p).len(), 4);
        }
    }

    /// What cannot have been cut from one super-segment stays apart: a
    /// gap in sequence, other timestamps, a longer payload, a FIN, a pure
    /// ACK; a PSH closes the run.
    #[test]
    fn what_breaks_a_run_goes_out_on_its_own() {
        let d = [1u8; 1000];
        let cases: [(&str, Vec<u8>, usize); 6] = [
            ("gap", seg4(1000, 3001, ACK, &d, 9), 2),
            ("timestamp", seg4(1000, 2001, ACK, &d, 10), 2),
            ("longer", seg4(1000, 2001, ACK, &[1u8; 1001], 9), 2),
            ("fin", seg4(1000, 2001, ACK | 0x01, &d, 9), 2),
            ("pure ack", seg4(1000, 2001, ACK, &[], 9), 2),
            ("same run", seg4(1000, 2001, ACK, &d, 9), 1),
        ];
        for (what, third, writes) in cases {
            let mut c = Coalescer::default();
            c.push(&seg4(1000, 1, ACK, &d, 9));
            c.push(&seg4(1000, 1001, ACK, &d, 9));
            c.push(&third);
            let out = drained(&mut c);
            assert_eq!(out.len(), writes, "{what}");
            // Whatever was written cuts back into the three segments, in
            // order.
            let back: Vec<Vec<u8>> = out.iter().flat_map(|p| cut(p)).collect();
            assert_eq!(back.len(), 3, "{what}");
            assert_eq!(essence(&back[2]), essence(&third), "{what}");
        }
        // After PSH nothing joins.
        let mut c = Coalescer::default();
        c.push(&seg4(1000, 1, ACK, &d, 9));
        c.push(&seg4(1000, 1001, ACK | PSH, &d, 9));
        c.push(&seg4(1000, 2001, ACK, &d, 9));
        assert_eq!(drained(&mut c).len(), 2);
    }

    /// A super-segment stops short of 64 KiB, and a lone segment goes out
    /// as the engine built it, with an empty virtio-net header.
    #[test]
    fn limits_and_lone_segments() {
        let mut c = Coalescer::default();
        let d = [2u8; 1400];
        for k in 0..60u32 {
            c.push(&seg4(1000, 1 + k * 1400, ACK, &d, 9));
        }
        let out = drained(&mut c);
        assert!(out.len() >= 2);
        assert!(out.iter().all(|p| p.len() - virtio::HDR_LEN <= MAX_IP_LEN));
        let back: Vec<Vec<u8>> = out.iter().flat_map(|p| cut(p)).collect();
        assert_eq!(back.len(), 60);
        let lone = seg4(1000, 1, ACK, &d, 9);
        c.push(&lone);
        c.push(&[0x45, 0, 0, 20]); // not even a whole IP header
        let out = drained(&mut c);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0][..virtio::HDR_LEN], [0u8; virtio::HDR_LEN]);
        assert_eq!(&out[0][virtio::HDR_LEN..], &lone[..]);
        assert_eq!(&out[1][virtio::HDR_LEN..], &[0x45, 0, 0, 20]);
    }

    #[test]
    fn it_fills_up_at_max_packets() {
        let mut c = Coalescer::default();
        for k in 0..MAX_PACKETS as u32 {
            assert!(!c.is_full());
            // Pure ACKs never join.
            c.push(&seg4(1000, 1 + k, ACK, &[], 9));
        }
        assert!(c.is_full());
        assert_eq!(drained(&mut c).len(), MAX_PACKETS);
        assert!(!c.is_full() && c.is_empty());
    }
}
