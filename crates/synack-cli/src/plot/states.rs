//! Each side's RFC 9293 state, inferred from the segments of a connection
//! as a capture shows them.
//!
//! A capture shows what was sent, not what was received, nor when; so the
//! rules lean on evidence. A side changes state when it sends (SYN, FIN,
//! RST) and when it receives something that needs no interpretation (a
//! SYN-ACK, the ACK of its SYN or FIN, a RST) — taken to arrive right after
//! it was captured. A FIN's arrival is the exception: it is taken as
//! received only once the receiver acknowledges it, or once anything sent
//! after it arrives. That is what tells a simultaneous close (the second
//! FIN does not acknowledge the first) from a passive close.
//!
//! Not visible in a capture: LISTEN (a side answering a SYN is drawn as
//! having listened), and TIME-WAIT's end.

use super::decode::Segment;
use synack::{SeqNum, State};

/// One inferred (or engine-reported) state transition of one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub time_ns: u64,
    /// 0 for the connection's side A, 1 for B.
    pub side: usize,
    pub from: State,
    pub to: State,
    /// Drawn just before the connection's segment of this index (the
    /// number of segments: after the last one).
    pub pos: usize,
}

/// What one side has shown of itself.
#[derive(Clone, Copy, Debug)]
struct Side {
    state: State,
    /// ISS, from its SYN.
    iss: Option<u32>,
    /// Sequence number of its FIN.
    fin: Option<u32>,
    /// The peer's FIN has been sent and not yet seen to arrive here.
    fin_pending: bool,
}

impl Side {
    fn new(state: State) -> Side {
        Side {
            state,
            iss: None,
            fin: None,
            fin_pending: false,
        }
    }
}

fn seq_ge(a: u32, b: u32) -> bool {
    !SeqNum(a).lt(SeqNum(b))
}

/// The inference for one connection, fed its segments in capture order.
#[derive(Debug)]
pub struct Inference {
    sides: [Side; 2],
    pub transitions: Vec<Transition>,
    /// Segments fed so far.
    count: usize,
}

impl Inference {
    /// Starting states from the connection's first segment (sent by side
    /// 0): a SYN starts from CLOSED (its sender) and LISTEN (its
    /// receiver); a SYN-ACK from LISTEN and SYN-SENT; a capture that
    /// starts mid-connection, from ESTABLISHED on both sides; a lone RST
    /// from CLOSED.
    pub fn new(first: &Segment) -> Inference {
        let f = first.flags;
        let (a, b) = if f.rst() {
            (State::Closed, State::Closed)
        } else if f.syn() && !f.ack() {
            (State::Closed, State::Listen)
        } else if f.syn() {
            (State::Listen, State::SynSent)
        } else {
            (State::Established, State::Established)
        };
        Inference {
            sides: [Side::new(a), Side::new(b)],
            transitions: Vec::new(),
            count: 0,
        }
    }

    /// The state each side started in.
    pub fn initial(first: &Segment) -> [State; 2] {
        let i = Inference::new(first);
        [i.sides[0].state, i.sides[1].state]
    }

    /// Whether both sides are done (CLOSED or TIME-WAIT): a new SYN on the
    /// same sockets is a new connection.
    pub fn finished(&self) -> bool {
        self.sides
            .iter()
            .all(|s| matches!(s.state, State::Closed | State::TimeWait))
            && !self.transitions.is_empty()
    }

    fn go(&mut self, side: usize, to: State, time_ns: u64, pos: usize) {
        let from = self.sides[side].state;
        if from != to {
            self.sides[side].state = to;
            self.transitions.push(Transition {
                time_ns,
                side,
                from,
                to,
                pos,
            });
        }
    }

    /// Feeds the next segment, sent by side `x`.
    pub fn segment(&mut self, x: usize, s: &Segment) {
        let i = self.count;
        self.count += 1;
        self.sent(x, s, i);
        self.received(1 - x, s, i + 1);
    }

    /// What sending `s` shows of its sender `x` (drawn before the arrow).
    fn sent(&mut self, x: usize, s: &Segment, pos: usize) {
        let f = s.flags;
        let t = s.time_ns;
        let y = 1 - x;
        if f.rst() {
            if self.sides[x].state == State::Listen {
                // Answering a SYN with RST: there was no listener after all.
                self.sides[x].state = State::Closed;
            }
            self.go(x, State::Closed, t, pos);
            return;
        }
        // An acknowledgment of the peer's FIN says it arrived.
        if let Some(fin) = self.sides[y].fin
            && self.sides[x].fin_pending
            && f.ack()
            && seq_ge(s.ack, fin.wrapping_add(1))
        {
            self.fin_arrived(x, t, pos);
        }
        if f.syn() {
            self.sides[x].iss = Some(s.seq);
            let st = self.sides[x].state;
            if !f.ack() && matches!(st, State::Closed | State::Listen) {
                self.go(x, State::SynSent, t, pos);
                // The peer's SYN is already out, unanswered: the two SYNs
                // crossed (simultaneous open), and this side is about to
                // receive it.
                if self.sides[y].state == State::SynSent {
                    self.go(x, State::SynReceived, t, pos + 1);
                }
            } else if f.ack() && matches!(st, State::Closed | State::Listen | State::SynSent) {
                self.go(x, State::SynReceived, t, pos);
            }
        }
        if f.fin() {
            let fin = s.seq.wrapping_add(s.len).wrapping_add(u32::from(f.syn()));
            self.sides[x].fin = Some(fin);
            match self.sides[x].state {
                State::Established | State::SynReceived => self.go(x, State::FinWait1, t, pos),
                State::CloseWait => self.go(x, State::LastAck, t, pos),
                _ => {}
            }
        }
    }

    /// What `s` does to side `y` on arrival (drawn after the arrow).
    fn received(&mut self, y: usize, s: &Segment, pos: usize) {
        let f = s.flags;
        let t = s.time_ns;
        let x = 1 - y;
        // Anything sequenced after the peer's FIN comes after it.
        if let Some(fin) = self.sides[x].fin
            && self.sides[y].fin_pending
            && !f.fin()
            && seq_ge(s.seq, fin.wrapping_add(1))
        {
            self.fin_arrived(y, t, pos);
        }
        if f.rst() {
            if self.sides[y].state != State::Listen {
                self.go(y, State::Closed, t, pos);
            }
            return;
        }
        if f.syn() && !f.ack() && self.sides[y].state == State::SynSent {
            self.go(y, State::SynReceived, t, pos);
        }
        if f.ack() {
            self.acked(y, s, pos);
        }
        if f.fin() && !self.fin_was_seen(y) {
            self.sides[y].fin_pending = true;
        }
    }

    fn fin_was_seen(&self, y: usize) -> bool {
        matches!(
            self.sides[y].state,
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait
        ) || self.sides[y].fin_pending
    }

    /// The ACK of side `y`'s SYN or FIN arriving at `y`.
    fn acked(&mut self, y: usize, s: &Segment, pos: usize) {
        let t = s.time_ns;
        let ours = self.sides[y];
        if let Some(iss) = ours.iss {
            let syn_acked = seq_ge(s.ack, iss.wrapping_add(1));
            match ours.state {
                State::SynSent if s.flags.syn() && syn_acked => {
                    self.go(y, State::Established, t, pos)
                }
                State::SynReceived if syn_acked => self.go(y, State::Established, t, pos),
                _ => {}
            }
        }
        if let Some(fin) = ours.fin
            && seq_ge(s.ack, fin.wrapping_add(1))
        {
            match self.sides[y].state {
                State::FinWait1 => self.go(y, State::FinWait2, t, pos),
                State::Closing => self.go(y, State::TimeWait, t, pos),
                State::LastAck => self.go(y, State::Closed, t, pos),
                _ => {}
            }
        }
    }

    /// The peer's FIN has arrived at side `y`.
    fn fin_arrived(&mut self, y: usize, t: u64, pos: usize) {
        self.sides[y].fin_pending = false;
        match self.sides[y].state {
            State::Established | State::SynReceived => self.go(y, State::CloseWait, t, pos),
            State::FinWait1 => self.go(y, State::Closing, t, pos),
            State::FinWait2 => self.go(y, State::TimeWait, t, pos),
            _ => {}
        }
    }
}
