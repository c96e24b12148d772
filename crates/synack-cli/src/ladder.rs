//! The ladder diagram: one line per segment handed to the simulated network,
//! drawn as an arrow between two host columns, interleaved with the state
//! transitions and narrative notes of the hosts, all stamped with virtual
//! time.
//!
//! Segments are described the way tcpdump does: flags `S`, `S.`, `.`,
//! `P.`, `F.`, `R`, `R.`; sequence and acknowledgment numbers relative to
//! each side's initial sequence number (learned from its SYN); window as
//! sent (unscaled); options; payload length. Packets the network did not
//! deliver intact are marked with their fate.
//!
//! The ladder also keeps a compact record of every segment and transition
//! it showed, so scenarios can check their claims against what actually
//! went over the wire rather than against their own expectations.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use synack::sim::{Fate, TraceEvent};
use synack::{Instant, State};
use synack_wire::{PROTO_TCP, TcpFlags, TcpOptions, TcpSegment, parse_ip};

/// Which column a host is drawn in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// Width of the arrow between the two columns.
const ARROW: usize = 34;
/// Width of the time column.
const TIME: usize = 11;
/// Where the right column starts, after the time: left port, arrow, right
/// port.
const RIGHT: usize = 6 + 1 + ARROW + 1;

/// One segment as the ladder saw it.
#[derive(Clone, Copy, Debug)]
pub struct SegRecord {
    pub time: Instant,
    pub from: &'static str,
    pub flags: TcpFlags,
    /// Absolute sequence and acknowledgment numbers.
    pub seq: u32,
    pub ack: u32,
}

/// One state transition as the ladder saw it.
#[derive(Clone, Copy, Debug)]
pub struct StateRecord {
    pub time: Instant,
    pub host: &'static str,
    pub from: State,
    pub to: State,
}

struct Named {
    ip: IpAddr,
    name: &'static str,
    side: Side,
}

/// Formats and records a run. Shared (through `Rc<RefCell<_>>`) by the
/// network's tracer, the hosts and the scenario.
pub struct Ladder {
    quiet: bool,
    hosts: Vec<Named>,
    /// Initial sequence number of each sending socket, from its SYN.
    isn: BTreeMap<(IpAddr, u16), u32>,
    /// Highest sequence number each sending socket has covered, to mark
    /// retransmissions.
    high: BTreeMap<(IpAddr, u16), u32>,
    /// Sockets that have sent a SYN-ACK.
    syn_acked: Vec<(IpAddr, u16)>,
    pub segments: Vec<SegRecord>,
    pub states: Vec<StateRecord>,
    /// Packets not drawn because an end is not a named host (spoofed
    /// traffic), by fate.
    pub hidden: BTreeMap<&'static str, u64>,
}

impl Ladder {
    pub fn new(quiet: bool) -> Ladder {
        Ladder {
            quiet,
            hosts: Vec::new(),
            isn: BTreeMap::new(),
            high: BTreeMap::new(),
            syn_acked: Vec::new(),
            segments: Vec::new(),
            states: Vec::new(),
            hidden: BTreeMap::new(),
        }
    }

    /// Draws `name` in column `side`; its packets and transitions appear.
    pub fn name(&mut self, ip: IpAddr, name: &'static str, side: Side) {
        self.hosts.push(Named { ip, name, side });
    }

    /// When the last drawn segment was sent or the last transition
    /// happened. The network's clock may be later: an endpoint may ask to
    /// be woken for a timer of a connection that is already gone.
    pub fn last_activity(&self) -> Instant {
        let seg = self.segments.last().map(|r| r.time);
        let st = self.states.last().map(|r| r.time);
        seg.max(st).unwrap_or(Instant::ZERO)
    }

    fn named(&self, ip: IpAddr) -> Option<&Named> {
        self.hosts.iter().find(|h| h.ip == ip)
    }

    fn side_of(&self, name: &str) -> Side {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .map_or(Side::Left, |h| h.side)
    }

    /// The column headings.
    pub fn header(&self) {
        if self.quiet {
            return;
        }
        let col = |side| {
            self.hosts
                .iter()
                .find(|h| h.side == side)
                .map(|h| format!("{} {}", h.name, h.ip))
                .unwrap_or_default()
        };
        outln!(
            "{:>TIME$}  {:<w$}{}",
            "time",
            col(Side::Left),
            col(Side::Right),
            w = RIGHT
        );
    }

    /// A line of text under the heading, unstamped.
    pub fn say(&self, text: &str) {
        if !self.quiet {
            outln!("{text}");
        }
    }

    /// A note from a host, in its column.
    pub fn note(&self, time: Instant, host: &str, text: &str) {
        if self.quiet {
            return;
        }
        let indent = match self.side_of(host) {
            Side::Left => 0,
            Side::Right => RIGHT,
        };
        outln!("{}  {:indent$}{host}: {text}", stamp(time), "");
    }

    /// A state transition of one of `host`'s connections to `remote`.
    /// Transitions of connections to unnamed peers (spoofed SYNs) are
    /// neither drawn nor recorded.
    pub fn state(
        &mut self,
        time: Instant,
        host: &'static str,
        remote: IpAddr,
        from: State,
        to: State,
    ) {
        if self.named(remote).is_none() {
            return;
        }
        self.states.push(StateRecord {
            time,
            host,
            from,
            to,
        });
        let why = if from == State::TimeWait && to == State::Closed {
            "  (2 x MSL elapsed)"
        } else {
            ""
        };
        self.note(time, host, &format!("{from} -> {to}{why}"));
    }

    /// One packet handed to the network (the tracer callback).
    pub fn packet(&mut self, ev: &TraceEvent<'_>) {
        let Some(seg) = parse(ev.packet) else {
            *self.hidden.entry("not TCP").or_default() += 1;
            return;
        };
        let (src, dst, tcp) = seg;
        let (Some(from), true) = (self.named(src), self.named(dst).is_some()) else {
            *self.hidden.entry(fate_name(ev.fate)).or_default() += 1;
            return;
        };
        let (from_name, from_side) = (from.name, from.side);
        let key = (src, tcp.src_port);
        if tcp.flags.syn() {
            self.isn.insert(key, tcp.seq);
        }
        let seg_len = tcp.seg_len();
        // A segment that starts below what this socket already covered,
        // and occupies sequence space, is a retransmission. Duplicates made
        // by the link are not the sender's doing, so they do not count.
        let end = tcp.seq.wrapping_add(seg_len);
        let mut retrans = false;
        // The first SYN-ACK of a socket that sent a bare SYN re-sends the
        // SYN's sequence number: a simultaneous open, not a loss repair.
        let mut syn_again = false;
        if tcp.flags.syn() && tcp.flags.ack() && ev.fate != Fate::Duplicated {
            syn_again = self.high.contains_key(&key) && !self.syn_acked.contains(&key);
            if !self.syn_acked.contains(&key) {
                self.syn_acked.push(key);
            }
        }
        if ev.fate != Fate::Duplicated && seg_len > 0 {
            match self.high.get(&key) {
                Some(&h) if (end.wrapping_sub(h) as i32) <= 0 => retrans = true,
                _ => {
                    self.high.insert(key, end);
                }
            }
        }
        self.segments.push(SegRecord {
            time: ev.time,
            from: from_name,
            flags: tcp.flags,
            seq: tcp.seq,
            ack: tcp.ack,
        });
        if self.quiet {
            return;
        }
        let rel_seq = |s: u32| match self.isn.get(&key) {
            Some(&i) => s.wrapping_sub(i),
            None => s,
        };
        let rel_ack = |a: u32| match self.isn.get(&(dst, tcp.dst_port)) {
            Some(&i) => a.wrapping_sub(i),
            None => a,
        };
        let mut d = String::new();
        let s = rel_seq(tcp.seq);
        if tcp.payload.is_empty() {
            let _ = write!(d, "seq {s}");
        } else {
            let _ = write!(d, "seq {s}:{}", s.wrapping_add(tcp.payload.len() as u32));
        }
        if tcp.flags.ack() {
            let _ = write!(d, ", ack {}", rel_ack(tcp.ack));
        }
        let _ = write!(d, ", win {}", tcp.window);
        let opts = options(&tcp.options);
        if !opts.is_empty() {
            let _ = write!(d, ", options [{opts}]");
        }
        let _ = write!(d, ", length {}", tcp.payload.len());
        if syn_again {
            d.push_str("  (its SYN again, now with ACK)");
        } else if retrans {
            d.push_str("  (retransmission)");
        }
        match ev.fate {
            Fate::Delivered => {}
            Fate::Duplicated => d.push_str("  DUP (the link delivers an extra copy)"),
            Fate::Lost => d.push_str("  LOST"),
            Fate::Corrupted => d.push_str("  CORRUPT (one bit flipped on the link)"),
            Fate::Marked => d.push_str("  CE (marked by the queue: congestion experienced)"),
            other => {
                let _ = write!(d, "  {}", fate_name(other).to_uppercase());
            }
        }
        let lost = !matches!(
            ev.fate,
            Fate::Delivered | Fate::Duplicated | Fate::Corrupted | Fate::Marked
        );
        let arrow = arrow(&tcp.flags.to_string(), from_side, lost);
        let (lp, rp) = match from_side {
            Side::Left => (tcp.src_port, tcp.dst_port),
            Side::Right => (tcp.dst_port, tcp.src_port),
        };
        outln!(
            "{}  {:>6} {arrow} {:<6} {d}",
            stamp(ev.time),
            format!(":{lp}"),
            format!(":{rp}")
        );
    }
}

/// Source, destination and segment of a datagram, without verifying the
/// checksum (the ladder shows what the sender meant, even for packets the
/// link corrupts).
fn parse(packet: &[u8]) -> Option<(IpAddr, IpAddr, TcpSegment<'_>)> {
    let ip = parse_ip(packet).ok()?;
    if ip.protocol != PROTO_TCP {
        return None;
    }
    let tcp = TcpSegment::parse_unchecked(ip.payload).ok()?;
    Some((ip.src, ip.dst, tcp))
}

/// `   0.020000s`: seconds of virtual time with microseconds.
pub fn stamp(t: Instant) -> String {
    let us = t.micros();
    format!(
        "{:>w$}",
        format!("{}.{:06}s", us / 1_000_000, us % 1_000_000),
        w = TIME
    )
}

/// `|------- S. ------->|` (or pointing left); a packet that never arrives
/// stops short with an `X`.
fn arrow(label: &str, from: Side, lost: bool) -> String {
    let inner = ARROW - 2;
    let label = format!(" {label} ");
    let left = (inner.saturating_sub(label.len())) / 2;
    let right = inner.saturating_sub(label.len() + left);
    let mut body: Vec<char> = format!("{}{label}{}", "-".repeat(left), "-".repeat(right))
        .chars()
        .collect();
    let n = body.len();
    match (from, lost) {
        (Side::Left, false) => body[n - 1] = '>',
        (Side::Right, false) => body[0] = '<',
        (Side::Left, true) => {
            let cut = n * 3 / 4;
            body[cut] = 'X';
            body[cut + 1..].iter_mut().for_each(|c| *c = ' ');
        }
        (Side::Right, true) => {
            let cut = n / 4;
            body[..cut].iter_mut().for_each(|c| *c = ' ');
            body[cut] = 'X';
        }
    }
    format!("|{}|", body.into_iter().collect::<String>())
}

/// tcpdump's rendering of the options we know, in Linux's SYN order.
pub fn options(o: &TcpOptions) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = o.mss {
        parts.push(format!("mss {m}"));
    }
    if o.sack_permitted {
        parts.push("sackOK".into());
    }
    if let Some(ts) = o.timestamps {
        parts.push(format!("TS val {} ecr {}", ts.tsval, ts.tsecr));
    }
    if let Some(w) = o.window_scale {
        parts.push(format!("wscale {w}"));
    }
    if !o.sack.is_empty() {
        let blocks: Vec<String> = o
            .sack
            .as_slice()
            .iter()
            .map(|(l, r)| format!("{{{l}:{r}}}"))
            .collect();
        parts.push(format!("sack {} {}", blocks.len(), blocks.join("")));
    }
    parts.join(",")
}

pub fn fate_name(f: Fate) -> &'static str {
    f.name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_have_a_fixed_width() {
        for (label, side, lost) in [
            ("S", Side::Left, false),
            ("S.", Side::Right, false),
            ("F.", Side::Left, true),
            ("P.", Side::Right, true),
        ] {
            let a = arrow(label, side, lost);
            assert_eq!(a.chars().count(), ARROW, "{a}");
        }
        assert!(arrow("S", Side::Left, false).ends_with(">|"));
        assert!(arrow("S.", Side::Right, false).starts_with("|<"));
        assert!(arrow(".", Side::Left, true).contains('X'));
    }

    #[test]
    fn stamps() {
        assert_eq!(stamp(Instant::from_micros(2_010_005)).trim(), "2.010005s");
    }
}
