//! Connections in a capture: segments grouped by their two sockets, each
//! marked as a retransmission or a duplicate ACK, and each side's state
//! transitions (inferred, or reported by the engine when the run is
//! synack's own).

use super::decode::{self, Segment, Skip};
use super::pcap::Capture;
use super::samples::Samples;
use super::states::{Inference, Transition};
use std::collections::HashMap;
use std::net::SocketAddr;
use synack::{SeqNum, State};

/// One segment of a connection, with what the plot marks on it.
#[derive(Clone, Copy, Debug)]
pub struct Seg {
    pub s: Segment,
    /// Sent by side A (the connection's first sender).
    pub from_a: bool,
    /// Covers sequence space its sender had already sent.
    pub rexmit: bool,
    /// A pure ACK repeating its sender's previous ACK and window while the
    /// peer has data outstanding (RFC 5681 section 2).
    pub dup_ack: bool,
}

/// What one direction of a connection showed, for the time-sequence graph.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dir {
    /// The sender's ISN (from its SYN), else its first sequence number:
    /// relative sequence numbers count from here.
    pub base: Option<u32>,
    /// The window-scale shift that applies to windows this side sends:
    /// its own SYN's option, in force only if both SYNs carried one.
    pub wscale: Option<u8>,
    /// The highest sequence number sent plus one (SND.MAX).
    snd_max: Option<u32>,
    last_ack: Option<(u32, u16)>,
    /// Payload octets sent, retransmissions included.
    pub data_bytes: u64,
}

/// Where a side's transitions come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Inferred,
    Engine,
}

/// One TCP connection of the capture.
#[derive(Debug)]
pub struct Conn {
    /// Side A: the sender of the connection's first captured segment.
    pub a: SocketAddr,
    pub b: SocketAddr,
    pub segs: Vec<Seg>,
    pub transitions: Vec<Transition>,
    pub initial: [State; 2],
    pub source: [Source; 2],
    /// Per direction: [A to B, B to A].
    pub dirs: [Dir; 2],
    inference: Option<Inference>,
}

impl Conn {
    pub fn retransmissions(&self) -> usize {
        self.segs.iter().filter(|s| s.rexmit).count()
    }

    /// Transitions on the sides the engine reported for.
    pub fn engine_transitions(&self) -> usize {
        let engine = |t: &&Transition| self.source[t.side] == Source::Engine;
        self.transitions.iter().filter(engine).count()
    }

    pub fn dup_acks(&self) -> usize {
        self.segs.iter().filter(|s| s.dup_ack).count()
    }

    /// Side 0 or 1 of a socket pair seen from `local`, if it is this one.
    pub fn side_of(&self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        if (local, remote) == (self.a, self.b) {
            Some(0)
        } else if (local, remote) == (self.b, self.a) {
            Some(1)
        } else {
            None
        }
    }
}

/// Frames that gave no segment, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    pub other: u64,
    pub fragments: u64,
    pub truncated: u64,
    pub malformed: u64,
}

/// A capture's connections, in order of their first segment.
#[derive(Debug, Default)]
pub struct Flows {
    pub conns: Vec<Conn>,
    pub skipped: Skipped,
    /// Capture time of the first frame: the page's time origin.
    pub origin_ns: u64,
    /// Engine transitions that matched no connection of the capture.
    pub unmatched: usize,
}

impl Flows {
    pub fn segments(&self) -> usize {
        self.conns.iter().map(|c| c.segs.len()).sum()
    }

    pub fn transitions(&self) -> usize {
        self.conns.iter().map(|c| c.transitions.len()).sum()
    }

    pub fn engine_transitions(&self) -> usize {
        self.conns.iter().map(Conn::engine_transitions).sum()
    }
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Groups a capture's segments into connections. With `samples`, the
/// engine's own transitions replace the inferred ones on each side it
/// reported for.
pub fn build(cap: &Capture<'_>, samples: Option<&Samples>) -> Flows {
    let mut flows = Flows {
        origin_ns: cap.frames.iter().map(|f| f.time_ns).min().unwrap_or(0),
        ..Flows::default()
    };
    let mut open: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for frame in &cap.frames {
        let seg = decode::network(frame.link, frame.data)
            .and_then(|ip| decode::segment(frame.time_ns, ip));
        let s = match seg {
            Ok(s) => s,
            Err(why) => {
                let k = &mut flows.skipped;
                match why {
                    Skip::Other => k.other += 1,
                    Skip::Fragment => k.fragments += 1,
                    Skip::Truncated => k.truncated += 1,
                    Skip::Malformed => k.malformed += 1,
                }
                continue;
            }
        };
        let k = key(s.src, s.dst);
        let fresh_syn = s.flags.syn() && !s.flags.ack();
        let idx = match open.get(&k) {
            Some(&i) if !(fresh_syn && flows.conns[i].restarts(&s)) => i,
            _ => {
                flows.conns.push(Conn::new(&s));
                open.insert(k, flows.conns.len() - 1);
                flows.conns.len() - 1
            }
        };
        flows.conns[idx].push(s);
    }
    for c in &mut flows.conns {
        if let Some(inf) = c.inference.take() {
            c.transitions = inf.transitions;
        }
    }
    if let Some(samples) = samples {
        flows.unmatched = engine_transitions(&mut flows.conns, samples);
    }
    flows
}

impl Conn {
    fn new(first: &Segment) -> Conn {
        Conn {
            a: first.src,
            b: first.dst,
            segs: Vec::new(),
            transitions: Vec::new(),
            initial: Inference::initial(first),
            source: [Source::Inferred; 2],
            dirs: [Dir::default(); 2],
            inference: Some(Inference::new(first)),
        }
    }

    /// Whether a SYN on these sockets opens a new connection: this one is
    /// over, and the SYN is not a retransmission of its own.
    fn restarts(&self, syn: &Segment) -> bool {
        let done = self.inference.as_ref().is_some_and(Inference::finished);
        let same = self
            .segs
            .iter()
            .any(|g| g.s.flags.syn() && g.s.seq == syn.seq);
        done && !same
    }

    fn push(&mut self, s: Segment) {
        let from_a = s.src == self.a;
        let (x, y) = if from_a { (0, 1) } else { (1, 0) };
        if s.flags.syn() {
            self.dirs[x].base = Some(s.seq);
            self.dirs[x].wscale = s.options.window_scale;
            // Scaling is in force only when both SYNs offered it.
            if s.options.window_scale.is_none() {
                self.dirs[y].wscale = None;
            }
        }
        let outstanding = self.dirs[y]
            .snd_max
            .is_some_and(|max| SeqNum(s.ack).lt(SeqNum(max)));
        let d = &mut self.dirs[x];
        d.base.get_or_insert(s.seq);
        let end = s.seq.wrapping_add(s.seg_len());
        let rexmit = s.seg_len() > 0 && d.snd_max.is_some_and(|max| SeqNum(s.seq).lt(SeqNum(max)));
        if d.snd_max.is_none_or(|max| SeqNum(max).lt(SeqNum(end))) {
            d.snd_max = Some(end);
        }
        d.data_bytes += u64::from(s.len);
        let pure_ack = s.flags.ack() && s.seg_len() == 0 && !s.flags.rst();
        let dup_ack = pure_ack && outstanding && d.last_ack == Some((s.ack, s.window));
        if s.flags.ack() {
            d.last_ack = Some((s.ack, s.window));
        }
        if let Some(inf) = self.inference.as_mut() {
            inf.segment(x, &s);
        }
        self.segs.push(Seg {
            s,
            from_a,
            rexmit,
            dup_ack,
        });
    }
}

/// Puts the engine's transitions in place of the inferred ones, side by
/// side; returns how many matched no connection.
fn engine_transitions(conns: &mut [Conn], samples: &Samples) -> usize {
    let mut unmatched = 0;
    let mut taken: Vec<Vec<Transition>> = conns.iter().map(|_| Vec::new()).collect();
    let mut engine_side = vec![[false; 2]; conns.len()];
    let mut by_key: HashMap<(SocketAddr, SocketAddr), Vec<usize>> = HashMap::new();
    for (i, c) in conns.iter().enumerate() {
        by_key.entry(key(c.a, c.b)).or_default().push(i);
    }
    for t in &samples.transitions {
        let time_ns = t.time_us.saturating_mul(1000);
        let Some(list) = by_key.get(&key(t.local, t.remote)) else {
            unmatched += 1;
            continue;
        };
        // The last connection on these sockets that began by then (or
        // the first, for a transition before any segment).
        let began = |i: &&usize| {
            conns[**i]
                .segs
                .first()
                .is_some_and(|g| g.s.time_ns <= time_ns)
        };
        let i = *list.iter().rfind(began).unwrap_or(&list[0]);
        let c = &conns[i];
        let Some(side) = c.side_of(t.local, t.remote) else {
            unmatched += 1;
            continue;
        };
        // Before the first segment captured at or after it: a transition
        // and the segment it makes its host send share a timestamp.
        let pos = c.segs.partition_point(|g| g.s.time_ns < time_ns);
        taken[i].push(Transition {
            time_ns,
            side,
            from: t.from,
            to: t.to,
            pos,
        });
        engine_side[i][side] = true;
    }
    for ((c, mine), sides) in conns.iter_mut().zip(taken).zip(engine_side) {
        if sides == [false; 2] {
            continue;
        }
        c.transitions.retain(|t| !sides[t.side]);
        c.transitions.extend(mine);
        // Stable: equal positions keep the order they happened in.
        c.transitions.sort_by_key(|t| t.pos);
        for (s, used) in sides.iter().enumerate() {
            if *used {
                c.source[s] = Source::Engine;
                c.initial[s] = c
                    .transitions
                    .iter()
                    .find(|t| t.side == s)
                    .map_or(c.initial[s], |t| t.from);
            }
        }
    }
    unmatched
}
