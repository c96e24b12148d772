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

use siphasher::sip::SipHasher24;
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

/// A 64-bit keyed hasher for one of the derived subkeys.
pub(crate) fn keyed(key: (u64, u64)) -> SipHasher24 {
    SipHasher24::new_with_keys(key.0, key.1)
}

/// Feeds an IP address into a hasher. The family tag keeps an IPv4 address
/// from colliding with an IPv6 address that happens to share its bytes.
pub(crate) fn write_ip(h: &mut impl Hasher, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            h.write_u8(4);
            h.write(&a.octets());
        }
        IpAddr::V6(a) => {
            h.write_u8(6);
            h.write(&a.octets());
        }
    }
}

/// Feeds an address and port into a hasher, in a fixed byte order so the
/// result does not depend on the platform or on `std`'s `Hash` impls.
pub(crate) fn write_sockaddr(h: &mut impl Hasher, a: SocketAddr) {
    write_ip(h, a.ip());
    h.write(&a.port().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

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
