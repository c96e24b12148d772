//! SYN cookies (RFC 4987 section 3.6).
//!
//! Under a SYN flood a listener can answer without keeping any state: the
//! little it must remember (that it sent a SYN-ACK to this 4-tuple recently,
//! and the peer's MSS) is folded into the ISN of the SYN-ACK, and recovered
//! from the acknowledgment number of the ACK that completes the handshake.
//! The layout follows Linux (`net/ipv4/syncookies.c`):
//!
//! ```text
//! ISN_s = H0(4-tuple) + ISN_c + (count << 24)
//!       + ((H1(4-tuple, count) + data) & 0xFF_FFFF)
//! ```
//!
//! with `count` the current minute. Taking `H0 + ISN_c` back off leaves the
//! count in the top byte and a 24-bit field in which only 4 values (one per
//! MSS table entry) are valid for that count, so a blind forger succeeds
//! with probability about 2^-22 per guess.
//!
//! One deliberate difference from Linux: the MSS index is stored as
//! `index << 22` rather than `index`, so the four valid values of the
//! 24-bit field are 2^22 apart instead of adjacent. With adjacent values an
//! ACK whose number is off by one from a genuine cookie can still decode to
//! a valid (wrong) MSS index; spreading them means any such near miss is
//! rejected, at no cost in forgery resistance.
//!
//! Options that do not fit (window scale, SACK-permitted) travel in the low
//! bits of our TSval when timestamps are in use ([`SynCookies::encode_ts`]);
//! without timestamps they are lost, which is the known cost of cookies
//! (RFC 4987 section 3.6).

use core::net::SocketAddr;

use crate::secret::{HashInput, Secret};
use crate::seq::SeqNum;
use crate::time::Instant;

/// MSS values a cookie can express for IPv4 peers (Linux's table). The
/// first entry is the IPv4 default MSS of RFC 9293 section 3.7.1.
pub const MSS_TABLE_V4: [u16; 4] = [536, 1300, 1440, 1460];
/// MSS values a cookie can express for IPv6 peers. The first entry is the
/// IPv6 minimum MTU (RFC 8200 section 5) less 60 octets of headers.
pub const MSS_TABLE_V6: [u16; 4] = [1220, 1420, 1440, 8940];

/// The SYN options a cookie can carry in the timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    /// The peer's window scale shift, if it sent the option.
    pub wscale: Option<u8>,
    /// The peer sent SACK-permitted.
    pub sack_permitted: bool,
}

/// Bits of the ISN below the count byte.
const COOKIE_BITS: u32 = 24;
const COOKIE_MASK: u32 = (1 << COOKIE_BITS) - 1;
/// Where the MSS index sits inside the 24-bit field (see the module docs).
const MSS_SHIFT: u32 = 22;
const MSS_LOW_MASK: u32 = (1 << MSS_SHIFT) - 1;
/// A cookie is good for the minute it was made in and the next one, as in
/// Linux (`MAX_SYNCOOKIE_AGE`): between 60 and 120 seconds of life.
const MAX_AGE: u32 = 2;
const MINUTE_US: u64 = 60_000_000;

/// Timestamp-option encoding (Linux layout).
const TS_BITS: u32 = 6;
const TS_MASK: u32 = (1 << TS_BITS) - 1;
const TS_WSCALE_MASK: u32 = 0xF;
const TS_SACK: u32 = 1 << 4;
const TS_ECN: u32 = 1 << 5;
/// RFC 7323 section 2.3: shifts above 14 are treated as 14.
const MAX_WSCALE: u8 = 14;

/// Makes and checks SYN cookies.
#[derive(Clone)]
pub struct SynCookies {
    k0: (u64, u64),
    k1: (u64, u64),
}

impl core::fmt::Debug for SynCookies {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The keys are secret-derived; keep them out of logs.
        f.write_str("SynCookies(..)")
    }
}

impl SynCookies {
    /// Cookies keyed by two subkeys of `secret`, one per hash, so that H0 and
    /// H1 are independent functions.
    pub fn new(secret: &Secret) -> Self {
        SynCookies {
            k0: secret.derive(b"synack syncookie h0"),
            k1: secret.derive(b"synack syncookie h1"),
        }
    }

    /// Server ISN for a SYN from `remote` to `local` with client ISN
    /// `client_isn` and the client's MSS (`None` means the default, 536 or
    /// 1220). The MSS is rounded down to the largest table entry not above it
    /// (to the first entry if it is below them all), the table chosen by the
    /// address family of `remote`. Returns the ISN and that table MSS, which
    /// the SYN-ACK should be sent with in mind, since it is all `check` will
    /// recover.
    pub fn encode(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        client_isn: SeqNum,
        client_mss: Option<u16>,
    ) -> (SeqNum, u16) {
        let table = table_for(remote);
        let idx = match client_mss {
            None => 0,
            Some(mss) => table.iter().rposition(|&t| t <= mss).unwrap_or(0),
        };
        let count = minute(now);
        let data = (idx as u32) << MSS_SHIFT;
        let field = self.h1(local, remote, count).wrapping_add(data) & COOKIE_MASK;
        let isn = self
            .h0(local, remote)
            .wrapping_add(client_isn.0)
            .wrapping_add(count << COOKIE_BITS)
            .wrapping_add(field);
        (SeqNum(isn), table[idx])
    }

    /// Validates the ACK that completes a cookie handshake. The caller passes
    /// `cookie = SEG.ACK - 1` (our ISN) and `client_isn = SEG.SEQ - 1`.
    /// Accepts only a cookie made in the current or the previous minute (the
    /// age is taken modulo 256 minutes, so the count wrapping is harmless)
    /// whose 24-bit field decodes to one of the four MSS slots; returns that
    /// slot's MSS. Anything else, including an ACK number off by one, gives
    /// `None`.
    pub fn check(
        &self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        client_isn: SeqNum,
        cookie: SeqNum,
    ) -> Option<u16> {
        let count = minute(now);
        let c = cookie
            .0
            .wrapping_sub(self.h0(local, remote))
            .wrapping_sub(client_isn.0);
        // Only the low byte of the count survives in the cookie.
        let age = count.wrapping_sub(c >> COOKIE_BITS) & (u32::MAX >> COOKIE_BITS);
        if age >= MAX_AGE {
            return None;
        }
        let made = count.wrapping_sub(age);
        let field = c.wrapping_sub(self.h1(local, remote, made)) & COOKIE_MASK;
        if field & MSS_LOW_MASK != 0 {
            return None;
        }
        let idx = (field >> MSS_SHIFT) as usize;
        table_for(remote).get(idx).copied()
    }

    /// Carries `opts` in the low 6 bits of our SYN-ACK TSval (Linux layout:
    /// bits 0-3 the window scale, 0xF meaning none; bit 4 SACK-permitted;
    /// bit 5 ECN, always 0 here). A shift above 14 is encoded as 14, which is
    /// what the peer would be treated as having sent anyway (RFC 7323 section
    /// 2.3).
    ///
    /// The result never runs ahead of the clock-derived `tsval`: the low bits
    /// are replaced and, if that made the value larger, it steps back by 64,
    /// so it lies in `tsval - 63 ..= tsval`. When `tsval < 64` and the
    /// encoding exceeds it, the step back wraps below zero to a value near
    /// `u32::MAX`. Numerically that is larger than `tsval`, but timestamps
    /// are compared modulo 2^32 (RFC 7323 section 5.2), and there it is still
    /// at most 63 ticks before `tsval`, so PAWS at the peer is unaffected.
    pub fn encode_ts(tsval: u32, opts: CookieOptions) -> u32 {
        let ws = match opts.wscale {
            Some(w) => u32::from(w.min(MAX_WSCALE)),
            None => TS_WSCALE_MASK,
        };
        let enc = ws | if opts.sack_permitted { TS_SACK } else { 0 };
        let ts = (tsval & !TS_MASK) | enc;
        if ts > tsval {
            ts.wrapping_sub(1 << TS_BITS)
        } else {
            ts
        }
    }

    /// Recovers the options from the TSecr of the returning ACK, which
    /// echoes the TSval made by [`SynCookies::encode_ts`]. A window-scale
    /// nibble of 0xF means no window scaling; every other nibble value is a
    /// valid shift (at most 14), so the nibble itself can never be invalid.
    /// The ECN bit is never set by `encode_ts`, so an echo with it set did
    /// not come from us and gives `None`.
    pub fn decode_ts(tsecr: u32) -> Option<CookieOptions> {
        if tsecr & TS_ECN != 0 {
            return None;
        }
        let ws = tsecr & TS_WSCALE_MASK;
        let wscale = if ws == TS_WSCALE_MASK {
            None
        } else {
            Some(ws as u8)
        };
        Some(CookieOptions {
            wscale,
            sack_permitted: tsecr & TS_SACK != 0,
        })
    }

    fn h0(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        HashInput::new()
            .sockaddr(local)
            .sockaddr(remote)
            .hash(self.k0) as u32
    }

    fn h1(&self, local: SocketAddr, remote: SocketAddr, count: u32) -> u32 {
        HashInput::new()
            .sockaddr(local)
            .sockaddr(remote)
            .bytes(&count.to_le_bytes())
            .hash(self.k1) as u32
    }
}

fn table_for(remote: SocketAddr) -> &'static [u16; 4] {
    if remote.is_ipv6() {
        &MSS_TABLE_V6
    } else {
        &MSS_TABLE_V4
    }
}

/// The cookie clock: whole minutes since the epoch. Truncating to u32 only
/// matters after 8000 years, and even then only the low byte is compared.
fn minute(now: Instant) -> u32 {
    (now.micros() / MINUTE_US) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn jar() -> SynCookies {
        SynCookies::new(&Secret::from_bytes(*b"cookie-secret-16"))
    }

    const L: &str = "192.0.2.1:80";
    const R: &str = "198.51.100.9:51000";

    /// CE-16: a cookie is accepted in the minute it was made and the next
    /// one, i.e. for 60 to 120 seconds, and the MSS comes back.
    #[test]
    fn round_trip_within_two_minutes() {
        let c = jar();
        let (l, r) = (addr(L), addr(R));
        let cisn = SeqNum(0xDEAD_BEEF);
        // Made at the start of a minute: good through t+119s, not t+120s.
        let t = Instant::from_secs(600);
        let (isn, mss) = c.encode(t, l, r, cisn, Some(1460));
        assert_eq!(mss, 1460);
        for dt in [0, 59, 60, 119] {
            let now = Instant::from_secs(600 + dt);
            assert_eq!(c.check(now, l, r, cisn, isn), Some(1460), "dt={dt}");
        }
        assert_eq!(c.check(Instant::from_secs(720), l, r, cisn, isn), None);
        // Made mid-minute: good for the rest of it and all of the next.
        let t = Instant::from_secs(630);
        let (isn, _) = c.encode(t, l, r, cisn, Some(1440));
        assert_eq!(
            c.check(Instant::from_secs(630 + 59), l, r, cisn, isn),
            Some(1440)
        );
        assert_eq!(
            c.check(Instant::from_millis(719_999), l, r, cisn, isn),
            Some(1440)
        );
        assert_eq!(
            c.check(Instant::from_secs(630 + 119), l, r, cisn, isn),
            None
        );
    }

    /// CE-16: old cookies are refused, and so are cookies "from the future"
    /// (an age that wraps to a large value).
    #[test]
    fn stale_cookies_rejected() {
        let c = jar();
        let (l, r) = (addr(L), addr(R));
        let cisn = SeqNum(1);
        let t = Instant::from_secs(6000);
        let (isn, _) = c.encode(t, l, r, cisn, None);
        for dt in [180, 181, 300, 3600] {
            let now = Instant::from_secs(6000 + dt);
            assert_eq!(c.check(now, l, r, cisn, isn), None, "dt={dt}");
        }
        assert_eq!(c.check(Instant::from_secs(5940), l, r, cisn, isn), None);
        // 256 minutes later the count byte matches again, but H1 of the
        // new count does not.
        let later = Instant::from_secs(6000 + 256 * 60);
        assert_eq!(c.check(later, l, r, cisn, isn), None);
    }

    /// CE-16: the count byte wrapping from 255 to 0 does not break checks.
    #[test]
    fn count_wrap() {
        let c = jar();
        let (l, r) = (addr(L), addr(R));
        let cisn = SeqNum(77);
        let (isn, mss) = c.encode(Instant::from_secs(255 * 60), l, r, cisn, Some(1300));
        assert_eq!(mss, 1300);
        let now = Instant::from_secs(256 * 60 + 30);
        assert_eq!(c.check(now, l, r, cisn, isn), Some(1300));
    }

    /// CE-16: an acknowledgment off by one in either direction, or a
    /// different client ISN, is not a valid cookie, for every MSS slot.
    #[test]
    fn near_misses_rejected() {
        let c = jar();
        let (l, r) = (addr(L), addr(R));
        let t = Instant::from_secs(100);
        for mss in MSS_TABLE_V4 {
            for cisn in [0u32, 1, 0x7FFF_FFFF, u32::MAX] {
                let cisn = SeqNum(cisn);
                let (isn, got) = c.encode(t, l, r, cisn, Some(mss));
                assert_eq!(got, mss);
                assert_eq!(c.check(t, l, r, cisn, isn), Some(mss));
                assert_eq!(c.check(t, l, r, cisn, isn.add(1)), None);
                assert_eq!(c.check(t, l, r, cisn, isn.sub(1)), None);
                assert_eq!(c.check(t, l, r, cisn.add(1), isn), None);
            }
        }
    }

    /// CE-16: the cookie is bound to the 4-tuple.
    #[test]
    fn wrong_tuple_rejected() {
        let c = jar();
        let (l, r) = (addr(L), addr(R));
        let t = Instant::from_secs(100);
        let cisn = SeqNum(42);
        let (isn, _) = c.encode(t, l, r, cisn, Some(1460));
        for (l2, r2) in [
            ("192.0.2.1:81", R),
            ("192.0.2.2:80", R),
            (L, "198.51.100.9:51001"),
            (L, "198.51.100.10:51000"),
            (R, L),
        ] {
            assert_eq!(c.check(t, addr(l2), addr(r2), cisn, isn), None, "{l2} {r2}");
        }
        // A different secret does not accept it either.
        let other = SynCookies::new(&Secret::from_bytes([0; 16]));
        assert_eq!(other.check(t, l, r, cisn, isn), None);
    }

    /// CE-16: blind guesses essentially never pass.
    #[test]
    fn random_guesses_rejected() {
        let c = jar();
        let (l, r) = (addr(L), addr(R));
        let t = Instant::from_secs(100);
        let mut x: u32 = 0x1234_5678;
        let mut accepted = 0;
        for _ in 0..100_000 {
            // xorshift32: any spread of values will do.
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if c.check(t, l, r, SeqNum(5), SeqNum(x)).is_some() {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 0);
    }

    /// CE-16: the MSS is rounded down to a table entry, per family.
    #[test]
    fn mss_rounding() {
        let c = jar();
        let t = Instant::from_secs(1);
        let (l4, r4) = (addr(L), addr(R));
        let (l6, r6) = (addr("[2001:db8::1]:80"), addr("[2001:db8::2]:50000"));
        let cases4 = [
            (Some(1400), 1300),
            (Some(100), 536),
            (Some(0), 536),
            (Some(536), 536),
            (Some(1459), 1440),
            (Some(1460), 1460),
            (Some(u16::MAX), 1460),
            (None, 536),
        ];
        for (mss, want) in cases4 {
            let (isn, got) = c.encode(t, l4, r4, SeqNum(9), mss);
            assert_eq!(got, want, "{mss:?}");
            assert_eq!(c.check(t, l4, r4, SeqNum(9), isn), Some(want));
        }
        let cases6 = [
            (Some(9000), 8940),
            (Some(1400), 1220),
            (Some(1420), 1420),
            (Some(100), 1220),
            (None, 1220),
        ];
        for (mss, want) in cases6 {
            let (isn, got) = c.encode(t, l6, r6, SeqNum(9), mss);
            assert_eq!(got, want, "{mss:?}");
            assert_eq!(c.check(t, l6, r6, SeqNum(9), isn), Some(want));
        }
    }

    fn all_options() -> impl Iterator<Item = CookieOptions> {
        (0..=15u8).flat_map(|w| {
            let wscale = if w == 15 { None } else { Some(w) };
            [false, true]
                .into_iter()
                .map(move |sack_permitted| CookieOptions {
                    wscale,
                    sack_permitted,
                })
        })
    }

    /// CE-16: every window scale 0..=14 and "none", with and without SACK,
    /// survives the timestamp, and the TSval never runs ahead of the clock.
    #[test]
    fn ts_round_trip() {
        for tsval in [
            64u32,
            100,
            127,
            128,
            1000,
            0x8000_0000,
            u32::MAX - 1,
            u32::MAX,
        ] {
            for opts in all_options() {
                let ts = SynCookies::encode_ts(tsval, opts);
                assert!(ts <= tsval, "tsval={tsval} ts={ts} {opts:?}");
                assert!(tsval - ts < 64);
                assert_eq!(SynCookies::decode_ts(ts), Some(opts), "tsval={tsval}");
            }
        }
    }

    /// CE-16: with tsval < 64 the result can only be "not after" tsval in
    /// modular timestamp order; it still decodes.
    #[test]
    fn ts_small_tsval_wraps() {
        for tsval in 0u32..64 {
            for opts in all_options() {
                let ts = SynCookies::encode_ts(tsval, opts);
                assert!(tsval.wrapping_sub(ts) < 64, "tsval={tsval} ts={ts}");
                if ts > tsval {
                    assert!(ts >= u32::MAX - 63);
                }
                assert_eq!(SynCookies::decode_ts(ts), Some(opts));
            }
        }
        let none = CookieOptions {
            wscale: None,
            sack_permitted: true,
        };
        assert_eq!(SynCookies::encode_ts(0, none), u32::MAX - 63 + 0x1F);
    }

    /// CE-16: shifts above 14 are carried as 14; an echo with the ECN bit
    /// (which we never set) is refused.
    #[test]
    fn ts_edge_values() {
        let opts = CookieOptions {
            wscale: Some(200),
            sack_permitted: false,
        };
        let ts = SynCookies::encode_ts(1_000_000, opts);
        assert_eq!(SynCookies::decode_ts(ts).unwrap().wscale, Some(14));
        assert_eq!(SynCookies::decode_ts(ts | TS_ECN), None);
    }
}
