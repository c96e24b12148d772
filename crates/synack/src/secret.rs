//! The endpoint secret and the keyed hashing built on it.
//!
//! RFC 6528 section 3 asks for a secret key kept by the host and fed into a
//! pseudorandom function for initial sequence numbers; SYN cookies (RFC 4987
//! section 3.6) and ephemeral port selection (RFC 6056 section 3.3) need the
//! same kind of key. One [`Secret`] serves all of them, but each use hashes
//! with its own subkey from [`Secret::derive`], so an attacker who learns one
//! PRF's outputs (ISNs are visible on the wire, for instance) learns nothing
//! that helps predict another's.

use core::fmt;
use core::hash::Hasher;
use core::net::{IpAddr, SocketAddr};

use siphasher::sip128::{Hasher128, SipHasher24 as SipHasher24x128};

/// The 128-bit secret the embedder supplies (RFC 6528 section 3); subkeys
/// for each use are derived from it so that one leaked PRF output says
/// nothing about another.
#[derive(Clone)]
pub struct Secret {
    k0: u64,
    k1: u64,
}

impl Secret {
    /// Uses the given 16 bytes as the key. Deterministic secrets are what the
    /// simulator wants; a real endpoint should prefer [`Secret::try_random`].
    pub fn from_bytes(b: [u8; 16]) -> Secret {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&b[..8]);
        hi.copy_from_slice(&b[8..]);
        Secret {
            k0: u64::from_le_bytes(lo),
            k1: u64::from_le_bytes(hi),
        }
    }

    /// A key from the operating system's random number generator.
    pub fn try_random() -> Result<Secret, getrandom::Error> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b)?;
        Ok(Secret::from_bytes(b))
    }

    /// A key from the OS random number generator, or, if that fails, a weak
    /// fallback.
    ///
    /// The fallback hashes the wall-clock time, a monotonic clock reading,
    /// the process id, the address of a stack variable (which varies with
    /// ASLR) and a process-wide counter. That is *not* cryptographically
    /// unpredictable: someone who can estimate the boot time and the address
    /// layout can narrow the key down, which would make ISNs (RFC 6528
    /// section 3), SYN cookies and ephemeral ports guessable. It exists only
    /// so that constructing an endpoint never panics; embedders that care
    /// should call [`Secret::try_random`] and handle the error.
    pub fn random() -> Secret {
        match Secret::try_random() {
            Ok(s) => s,
            Err(_) => Secret::fallback(),
        }
    }

    fn fallback() -> Secret {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::time::{SystemTime, UNIX_EPOCH};

        // The counter keeps two fallbacks in the same process (and the same
        // clock tick) from yielding the same key.
        static COUNTER: AtomicU64 = AtomicU64::new(0);

        let stack_var = 0u8;
        let mut h = SipHasher24x128::new_with_keys(0x7379_6e61_636b_2d66, 0x616c_6c62_6163_6b21);
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.write(&wall.to_le_bytes());
        let mono = std::time::Instant::now();
        // `Instant` has no public representation; its Debug form carries the
        // raw clock reading and writing it into the hasher needs no allocation.
        let _ = fmt::write(&mut HashWriter(&mut h), format_args!("{mono:?}"));
        h.write(&(std::process::id()).to_le_bytes());
        h.write(&(core::ptr::addr_of!(stack_var) as usize).to_le_bytes());
        h.write(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        let (k0, k1) = h.finish128().as_u64();
        Secret { k0, k1 }
    }

    /// A SipHash key for one purpose, named by `label` (for example
    /// `b"isn"`): SipHash-2-4 with 128-bit output, keyed by the secret,
    /// over the label. SipHash is a PRF, so subkeys for different labels are
    /// independent as far as anyone without the secret can tell.
    pub fn derive(&self, label: &[u8]) -> (u64, u64) {
        let mut h = SipHasher24x128::new_with_keys(self.k0, self.k1);
        h.write(label);
        h.finish128().as_u64()
    }
}

impl fmt::Debug for Secret {
    // Never print the key: Debug output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Adapts a hasher to `fmt::Write` so formatted text can be hashed without
/// building a `String`.
struct HashWriter<'a, H: Hasher>(&'a mut H);

impl<H: Hasher> fmt::Write for HashWriter<'_, H> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

/// The input of one keyed hash, gathered on the stack and hashed in one
/// pass. A streaming hasher charges for every `write` call (tail buffering
/// and length bookkeeping), and a 4-tuple fed field by field cost several
/// hundred instructions per connection; SipHash digests the concatenated
/// byte stream, so the result is the same as writing the fields one by one.
pub(crate) struct HashInput {
    /// Zero past `len`, with a word to spare, so the last (partial) word
    /// can be read whole.
    buf: [u8; 56],
    len: usize,
}

impl HashInput {
    pub(crate) fn new() -> Self {
        HashInput {
            buf: [0; 56],
            len: 0,
        }
    }

    /// Appends raw bytes. Panics past 48 bytes, which no caller reaches
    /// (the longest input, an IPv6 cookie hash, is 42).
    #[inline]
    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        assert!(self.len + b.len() <= 48, "hash input too long");
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        self
    }

    /// An IP address. The family tag keeps an IPv4 address from colliding
    /// with an IPv6 address that happens to share its bytes.
    #[inline]
    pub(crate) fn ip(&mut self, ip: IpAddr) -> &mut Self {
        match ip {
            IpAddr::V4(a) => {
                let [a0, a1, a2, a3] = a.octets();
                self.bytes(&[4, a0, a1, a2, a3])
            }
            IpAddr::V6(a) => self.bytes(&[6]).bytes(&a.octets()),
        }
    }

    /// An address and port, in a fixed byte order so the result does not
    /// depend on the platform or on `std`'s `Hash` impls.
    #[inline]
    pub(crate) fn sockaddr(&mut self, a: SocketAddr) -> &mut Self {
        let [p0, p1] = a.port().to_be_bytes();
        match a.ip() {
            // The common case in one copy.
            IpAddr::V4(ip) => {
                let [a0, a1, a2, a3] = ip.octets();
                self.bytes(&[4, a0, a1, a2, a3, p0, p1])
            }
            ip => self.ip(ip).bytes(&[p0, p1]),
        }
    }

    /// SipHash-2-4 of the bytes gathered, keyed by one of the derived
    /// subkeys: the function of the reference implementation (and of the
    /// `siphasher` crate, which the tests check it against), computed
    /// straight from the buffer's words. A general streaming hasher spent
    /// more on buffering these 14 to 42 bytes than on the rounds.
    pub(crate) fn hash(&self, key: (u64, u64)) -> u64 {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&self.buf[8 * i..8 * i + 8]);
            u64::from_le_bytes(w)
        };
        let mut s = SipState::new(key);
        let full = self.len / 8;
        for i in 0..full {
            s.compress(word(i));
        }
        // The last block: the remaining bytes (the buffer is zero past
        // them) and the length in the top byte.
        s.compress(word(full) | ((self.len as u64) << 56));
        s.finish()
    }
}

/// SipHash-2-4 of two sockets, exactly as `HashInput::new().sockaddr(a)
/// .sockaddr(b).hash(key)` computes it. Two IPv4 sockets are 14 bytes, two
/// message words, which are built here in registers: gathered byte by byte
/// in a buffer and read back as words, they stalled on store forwarding,
/// and this hash runs for every connection (the ISN, RFC 6528).
pub(crate) fn hash_socket_pair(a: SocketAddr, b: SocketAddr, key: (u64, u64)) -> u64 {
    let (SocketAddr::V4(a), SocketAddr::V4(b)) = (a, b) else {
        return HashInput::new().sockaddr(a).sockaddr(b).hash(key);
    };
    // Each socket is the family tag 4, the address and the port in network
    // order: 7 bytes, little-endian into the words as SipHash reads them.
    let sock = |s: std::net::SocketAddrV4| {
        let ip = u64::from(u32::from_le_bytes(s.ip().octets()));
        let port = u64::from(s.port().swap_bytes());
        4 | (ip << 8) | (port << 40)
    };
    let (wa, wb) = (sock(a), sock(b));
    let mut s = SipState::new(key);
    s.compress(wa | (wb << 56));
    s.compress((wb >> 8) | (14 << 56));
    s.finish()
}

/// SipHash-2-4's state (Aumasson and Bernstein, 2012).
struct SipState {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
}

impl SipState {
    fn new((k0, k1): (u64, u64)) -> SipState {
        SipState {
            v0: k0 ^ 0x736f_6d65_7073_6575,
            v1: k1 ^ 0x646f_7261_6e64_6f6d,
            v2: k0 ^ 0x6c79_6765_6e65_7261,
            v3: k1 ^ 0x7465_6462_7974_6573,
        }
    }

    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    /// One message word, two compression rounds.
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.round();
        self.v0 ^= m;
    }

    /// Four finalization rounds.
    fn finish(mut self) -> u64 {
        self.v2 ^= 0xff;
        self.round();
        self.round();
        self.round();
        self.round();
        self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use siphasher::sip::SipHasher24;

    /// The register-built hash of two sockets is the buffered one, for
    /// IPv4 (the fast path) and for the rest.
    #[test]
    fn socket_pair_hash_matches_the_buffered_input() {
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let socks: [SocketAddr; 5] = [
            "198.18.0.1:1".parse().unwrap(),
            "198.18.0.2:65535".parse().unwrap(),
            "255.1.128.7:4660".parse().unwrap(),
            "0.0.0.0:0".parse().unwrap(),
            "[2001:db8::1]:443".parse().unwrap(),
        ];
        for a in socks {
            for b in socks {
                let want = HashInput::new().sockaddr(a).sockaddr(b).hash(key);
                assert_eq!(hash_socket_pair(a, b, key), want, "{a} {b}");
            }
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let s = Secret::from_bytes([0xAB; 16]);
        let text = format!("{s:?}");
        assert!(!text.to_lowercase().contains("ab"), "{text}");
        assert!(!text.contains(&0xABABABABABABABABu64.to_string()));
    }

    #[test]
    fn derive_is_deterministic_and_label_separated() {
        let s = Secret::from_bytes(*b"0123456789abcdef");
        assert_eq!(s.derive(b"isn"), s.derive(b"isn"));
        assert_ne!(s.derive(b"isn"), s.derive(b"cookie"));
        assert_ne!(s.derive(b"isn"), Secret::from_bytes([0; 16]).derive(b"isn"));
    }

    /// `HashInput::hash` is SipHash-2-4 exactly: the same digest as the
    /// `siphasher` crate for every length the buffer takes, in one piece or
    /// in several.
    #[test]
    fn hash_input_is_siphash_2_4() {
        let key = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let data: Vec<u8> = (0u8..48).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for len in 0..=48 {
            let mut want = SipHasher24::new_with_keys(key.0, key.1);
            want.write(&data[..len]);
            let mut one = HashInput::new();
            one.bytes(&data[..len]);
            assert_eq!(one.hash(key), want.finish(), "len {len}");
            let mut parts = HashInput::new();
            for chunk in data[..len].chunks(5) {
                parts.bytes(chunk);
            }
            assert_eq!(parts.hash(key), want.finish(), "len {len} in parts");
        }
        // The reference implementation's published vector: 15 bytes
        // 00..0e under key 00..0f.
        let mut v = HashInput::new();
        v.bytes(&(0u8..15).collect::<Vec<_>>());
        assert_eq!(v.hash(key), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn random_secrets_differ() {
        let a = Secret::random();
        let b = Secret::random();
        assert_ne!(a.derive(b"x"), b.derive(b"x"));
        let f1 = Secret::fallback();
        let f2 = Secret::fallback();
        assert_ne!(f1.derive(b"x"), f2.derive(b"x"));
    }
}
