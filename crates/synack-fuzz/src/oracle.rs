//! The pure parts of the checks: what each stream byte must be, and which
//! state changes RFC 9293 allows.

use core::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::SocketAddr;
use synack::{ConnId, State};

/// The byte at `offset` of a stream. Every byte either side sends is this
/// function of its position alone, so whichever segments carried them, the
/// bytes that come out must be f(0), f(1), ... in order. The salt keeps
/// streams of different connections apart, so data crossing between
/// connections shows as well.
pub(crate) fn stream_byte(salt: u8, offset: u32) -> u8 {
    let x = offset.wrapping_mul(0x9E37_79B1) ^ u32::from(salt).wrapping_mul(0x85EB_CA6B);
    let x = x ^ (x >> 15);
    (x.wrapping_mul(0x2C1B_3C6D) >> 24) as u8
}

/// Fills `out` with the stream starting at `offset`.
pub(crate) fn fill_stream(salt: u8, offset: u32, out: &mut [u8]) {
    for (i, b) in out.iter_mut().enumerate() {
        *b = stream_byte(salt, offset.wrapping_add(i as u32));
    }
}

/// Index of the first byte of `got` that is not the stream at `offset`.
pub(crate) fn stream_mismatch(salt: u8, offset: u32, got: &[u8]) -> Option<usize> {
    got.iter()
        .enumerate()
        .position(|(i, &b)| b != stream_byte(salt, offset.wrapping_add(i as u32)))
}

/// The harness's tables and salts hash with this: keyed by nothing, so
/// every run of an input is the same run, and much cheaper than SipHash,
/// which was a sixth of the harness's time.
#[derive(Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type Fx = BuildHasherDefault<FxHasher>;
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, Fx>;
pub(crate) type Set<K> = std::collections::HashSet<K, Fx>;

fn hash8(h: impl Hash) -> u8 {
    let mut s = FxHasher::default();
    h.hash(&mut s);
    (s.finish() >> 56) as u8
}

/// Salt of the peer's stream on one 4-tuple (what the fuzzer sends).
pub(crate) fn peer_salt(local: SocketAddr, remote: SocketAddr) -> u8 {
    hash8((local, remote))
}

/// Salt of the application's stream on one connection (what it sends).
pub(crate) fn app_salt(c: ConnId) -> u8 {
    hash8(c)
}

/// RFC 9293 section 3.3.2 (figure 5) and the text of 3.10: the state changes
/// a connection may make. The engine frees a passive child instead of
/// taking it back to LISTEN, so SYN-RECEIVED -> LISTEN shows as
/// SYN-RECEIVED -> CLOSED; any state may go to CLOSED on RST, ABORT or a
/// timeout.
pub(crate) fn legal(from: State, to: State) -> bool {
    use State::*;
    match (from, to) {
        // Active OPEN (a connection's first change).
        (Closed, SynSent) => true,
        // A listener's SYN creates a child (its first change).
        (Listen, SynReceived) => true,
        // SYN-ACK, or crossing SYNs (simultaneous open, figure 7).
        (SynSent, SynReceived | Established) => true,
        // ACK of our SYN; CLOSE; a FIN is acted on in SYN-RECEIVED as in
        // ESTABLISHED (3.10.7.4, eighth step).
        (SynReceived, Established | FinWait1 | CloseWait) => true,
        (Established, FinWait1 | CloseWait) => true,
        // ACK of our FIN; the peer's FIN (simultaneous close, figure 13);
        // both at once (3.10.7.4, eighth step).
        (FinWait1, FinWait2 | Closing | TimeWait) => true,
        (FinWait2, TimeWait) => true,
        (CloseWait, LastAck) => true,
        (Closing, TimeWait) => true,
        (
            SynSent | SynReceived | Established | FinWait1 | FinWait2 | CloseWait | Closing
            | LastAck | TimeWait,
            Closed,
        ) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_position_dependent() {
        let a: Vec<u8> = (0..64).map(|i| stream_byte(7, i)).collect();
        let b: Vec<u8> = (1..65).map(|i| stream_byte(7, i)).collect();
        // Off by one must show.
        assert!(a.iter().zip(&b).filter(|(x, y)| x != y).count() > 50);
        let mut buf = [0u8; 8];
        fill_stream(7, 10, &mut buf);
        assert_eq!(stream_mismatch(7, 10, &buf), None);
        assert!(stream_mismatch(7, 11, &buf[..4]).is_some());
    }

    #[test]
    fn diagram_edges() {
        use State::*;
        assert!(legal(FinWait1, Closing));
        assert!(legal(TimeWait, Closed));
        assert!(!legal(Closed, Established));
        assert!(!legal(FinWait2, FinWait1));
        assert!(!legal(Established, SynReceived));
        assert!(!legal(LastAck, TimeWait));
        assert!(!legal(Listen, Closed));
    }
}
