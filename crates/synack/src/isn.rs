//! Initial sequence numbers (RFC 9293 section 3.4.1, RFC 6528 section 3).
//!
//! RFC 9293 section 3.4.1 requires a clock-driven ISN generator (MUST-8) and
//! that it be combined with a keyed hash of the connection identifier
//! (MUST-9, SHLD-1 via RFC 6528):
//!
//! ```text
//! ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//! ```
//!
//! M is a timer ticking every 4 microseconds, so successive incarnations of
//! the same connection start further along the sequence space than the old
//! one could have reached (the property the quiet-time rules rely on). F
//! gives each 4-tuple its own secret offset, so an off-path attacker who
//! sees the ISNs of their own connections learns nothing about the ISN of
//! anyone else's (the blind-spoofing defence of RFC 6528 section 1).
//!
//! F is the low half of a 64-bit SipHash-2-4 output; the high half is the
//! connection's timestamp offset (RFC 7323 section 5.4), so one hash per
//! connection gives both. The halves of a PRF's output are independent, so
//! neither reveals the other, and both depend on the 4-tuple and the secret
//! alone: a new incarnation of a 4-tuple keeps its timestamp clock, which
//! RFC 6191's reopening of TIME-WAIT relies on.

use core::net::SocketAddr;

use crate::secret::{Secret, hash_socket_pair};
use crate::seq::SeqNum;
use crate::time::Instant;

/// Generates ISNs per RFC 6528.
#[derive(Clone)]
pub struct IsnGenerator {
    key: (u64, u64),
}

impl core::fmt::Debug for IsnGenerator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key is secret-derived; keep it out of logs.
        f.write_str("IsnGenerator(..)")
    }
}

impl IsnGenerator {
    /// A generator keyed by a subkey of `secret`.
    pub fn new(secret: &Secret) -> Self {
        IsnGenerator {
            key: secret.derive(b"synack isn rfc6528"),
        }
    }

    /// ISN = M + F(localip, localport, remoteip, remoteport, secretkey): M
    /// the 4 µs clock (`now.micros() / 4` truncated to u32), F SipHash-2-4
    /// over the 4-tuple with a derived key (RFC 6528 section 3).
    pub fn isn(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> SeqNum {
        self.isn_and_ts_offset(now, local, remote).0
    }

    /// The ISN and the timestamp offset of a connection, from one hash.
    pub fn isn_and_ts_offset(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> (SeqNum, u32) {
        // Truncation is intended: M wraps every 2^32 * 4 µs (about 4.77
        // hours), exactly as the RFC 9293 section 3.4.1 clock does.
        let m = (now.micros() / 4) as u32;
        let h = self.hash(local, remote);
        (SeqNum(m.wrapping_add(h as u32)), (h >> 32) as u32)
    }

    /// The timestamp offset alone (our timestamp clock is milliseconds
    /// plus this).
    pub fn ts_offset(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        (self.hash(local, remote) >> 32) as u32
    }

    fn hash(&self, local: SocketAddr, remote: SocketAddr) -> u64 {
        hash_socket_pair(local, remote, self.key)
    }
}

/// Our timestamp clock (RFC 7323 5.4): milliseconds, plus the 4-tuple's
/// offset (see [`IsnGenerator::ts_offset`]). The one place TSvals come from,
/// for connections, cookie SYN-ACKs and TIME-WAIT alike.
pub(crate) fn ts_clock(now: Instant, offset: u32) -> u32 {
    (now.millis() as u32).wrapping_add(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// CE-02 / MUST-8: for a fixed 4-tuple the ISN advances with the 4 µs
    /// clock, exactly, including across the 2^32 wrap.
    #[test]
    fn isn_follows_the_4us_clock() {
        let g = IsnGenerator::new(&Secret::from_bytes([7; 16]));
        let (l, r) = (addr("10.0.0.1:80"), addr("10.0.0.2:40000"));
        let t0 = Instant::from_micros(123_456_789);
        for dt in [
            0u64,
            4,
            400,
            1_000_000,
            3_600_000_000,
            4 << 32,
            (4 << 32) + 40,
        ] {
            let a = g.isn(t0, l, r);
            let b = g.isn(Instant::from_micros(t0.micros() + dt), l, r);
            assert_eq!(b.0.wrapping_sub(a.0), (dt / 4) as u32, "dt={dt}");
        }
        // Sub-tick differences do not move the ISN.
        let base = Instant::from_micros(1000);
        assert_eq!(g.isn(base, l, r), g.isn(Instant::from_micros(1003), l, r));
    }

    /// CE-02 / MUST-9: each 4-tuple gets its own offset F, so neighbouring
    /// connections do not reveal each other's ISNs.
    #[test]
    fn different_tuples_get_different_offsets() {
        let g = IsnGenerator::new(&Secret::from_bytes([7; 16]));
        let t = Instant::from_secs(5);
        let base = g.isn(t, addr("10.0.0.1:80"), addr("10.0.0.2:40000"));
        for (l, r) in [
            ("10.0.0.1:80", "10.0.0.2:40001"),
            ("10.0.0.1:81", "10.0.0.2:40000"),
            ("10.0.0.3:80", "10.0.0.2:40000"),
            ("10.0.0.1:80", "10.0.0.4:40000"),
            // Swapped ends are a different connection.
            ("10.0.0.2:40000", "10.0.0.1:80"),
        ] {
            assert_ne!(g.isn(t, addr(l), addr(r)), base, "{l} {r}");
        }
    }

    /// CE-02 / SHLD-1: the offset depends on the secret key.
    #[test]
    fn different_secrets_give_different_isns() {
        let a = IsnGenerator::new(&Secret::from_bytes([1; 16]));
        let b = IsnGenerator::new(&Secret::from_bytes([2; 16]));
        let (l, r) = (addr("192.0.2.1:443"), addr("198.51.100.7:50000"));
        let t = Instant::from_secs(1);
        assert_ne!(a.isn(t, l, r), b.isn(t, l, r));
    }

    /// CE-02: IPv6 4-tuples work the same way.
    #[test]
    fn ipv6_tuples() {
        let g = IsnGenerator::new(&Secret::from_bytes([9; 16]));
        let (l, r) = (addr("[2001:db8::1]:443"), addr("[2001:db8::2]:50000"));
        let t = Instant::from_secs(10);
        let a = g.isn(t, l, r);
        let b = g.isn(Instant::from_micros(t.micros() + 400), l, r);
        assert_eq!(b.0.wrapping_sub(a.0), 100);
        assert_ne!(a, g.isn(t, l, addr("[2001:db8::3]:50000")));
        // A v4 address and a v6 address with overlapping bytes differ.
        assert_ne!(
            g.isn(t, addr("0.0.0.1:1"), addr("0.0.0.2:2")),
            g.isn(t, addr("[::1]:1"), addr("[::2]:2"))
        );
    }
}
