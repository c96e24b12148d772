//! The bytes a lossy-bench transfer carries, and their check at the far
//! end: a fixed pseudo-random pattern indexed by stream offset, so the
//! receiver verifies every byte without the sender keeping a copy.

/// Period of the pattern. A prime, so that no segment size nor any
/// multiple of one lines a misplaced segment up with the right bytes.
const PERIOD: usize = 65_521;

/// One period of the pattern.
fn pattern() -> Box<[u8]> {
    // xorshift64*: any fixed stream with no short period does.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..PERIOD)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// The sending application: the pattern from offset 0, for ever or up to
/// a limit.
pub struct Source {
    pattern: Box<[u8]>,
    offset: u64,
    limit: Option<u64>,
}

impl Source {
    pub fn new(limit: Option<u64>) -> Source {
        Source {
            pattern: pattern(),
            offset: 0,
            limit,
        }
    }

    /// The next bytes to send, at most `max`: one contiguous piece of the
    /// pattern (possibly shorter than `max`), empty once the limit is
    /// reached. [`advance`](Self::advance) past what was taken.
    pub fn next(&self, max: usize) -> &[u8] {
        let at = (self.offset % PERIOD as u64) as usize;
        let left = self.limit.map_or(usize::MAX, |l| {
            usize::try_from(l - self.offset).unwrap_or(usize::MAX)
        });
        &self.pattern[at..(at + max.min(left)).min(PERIOD)]
    }

    pub fn advance(&mut self, n: usize) {
        self.offset += n as u64;
    }

    /// Fills as much of `buf` as the limit allows; returns how much. (For
    /// APIs that lend their own buffer, as smoltcp's does.)
    #[cfg(any(test, feature = "bench-smoltcp"))]
    pub fn fill(&mut self, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            let piece = self.next(buf.len() - done);
            if piece.is_empty() {
                break;
            }
            let n = piece.len();
            buf[done..done + n].copy_from_slice(piece);
            self.advance(n);
            done += n;
        }
        done
    }

    /// Every byte up to the limit has been handed over.
    pub fn done(&self) -> bool {
        self.limit == Some(self.offset)
    }
}

/// The receiving application: checks each byte against the pattern.
pub struct Sink {
    pattern: Box<[u8]>,
    /// Bytes received, in order.
    pub received: u64,
    /// Stream offset of the first byte that differed from the pattern.
    pub first_mismatch: Option<u64>,
    /// The peer's FIN arrived after the bytes counted.
    pub eof: bool,
}

impl Sink {
    pub fn new() -> Sink {
        Sink {
            pattern: pattern(),
            received: 0,
            first_mismatch: None,
            eof: false,
        }
    }

    /// Takes the next bytes of the stream.
    pub fn take(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let at = (self.received % PERIOD as u64) as usize;
            let n = data.len().min(PERIOD - at);
            let (now, rest) = data.split_at(n);
            if self.first_mismatch.is_none() && now != &self.pattern[at..at + n] {
                let i = now
                    .iter()
                    .zip(&self.pattern[at..])
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                self.first_mismatch = Some(self.received + i as u64);
            }
            self.received += n as u64;
            data = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_feeds_sink_exactly() {
        let mut src = Source::new(Some(200_000));
        let mut sink = Sink::new();
        let mut buf = vec![0; 1448];
        loop {
            let n = src.fill(&mut buf);
            if n == 0 {
                break;
            }
            sink.take(&buf[..n]);
        }
        assert!(src.done());
        assert_eq!(sink.received, 200_000);
        assert_eq!(sink.first_mismatch, None);
    }

    #[test]
    fn a_misplaced_segment_is_caught() {
        let mut src = Source::new(None);
        let mut a = vec![0; 1448];
        let mut b = vec![0; 1448];
        src.fill(&mut a);
        src.fill(&mut b);
        let mut sink = Sink::new();
        sink.take(&b);
        assert_eq!(sink.first_mismatch, Some(0));
        // A single flipped byte too, at its offset.
        let mut sink = Sink::new();
        a[700] ^= 1;
        sink.take(&a);
        assert_eq!(sink.first_mismatch, Some(700));
    }
}
