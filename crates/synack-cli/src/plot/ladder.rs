//! The ladder diagram of one connection as SVG: a vertical line per side,
//! one arrow per segment from its sender's line to its receiver's, and a
//! label on a side's line at each of its state transitions, top to bottom
//! in capture order.
//!
//! A long connection keeps its first and last segments (the handshake and
//! the close) and every SYN, FIN and RST; each run of other segments in
//! between becomes one marker row that says how many it stands for. So
//! in the page, arrows plus the markers' counts are the connection's
//! segments, and every transition is drawn, elided or not.

use super::decode::Segment;
use super::flows::{Conn, Seg};
use super::svg::esc;
use std::fmt::Write as _;
use synack_wire::TcpOptions;

/// Segments kept at each end of a long connection.
const HEAD: usize = 14;
const TAIL: usize = 14;
const WIDTH: f64 = 780.0;
const ROW: f64 = 22.0;
const TOP: f64 = 58.0;
const X_TIME: f64 = 8.0;
const X_A: f64 = 210.0;
const X_B: f64 = 690.0;

/// What the ladder drew, for the page's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawn {
    pub arrows: usize,
    pub elided: usize,
    pub states: usize,
}

/// One row of the ladder.
enum Row<'a> {
    Seg(usize, &'a Seg),
    /// Segments `from..to` of the connection, not drawn.
    Elided(usize, usize),
    State(usize),
}

fn shown(c: &Conn, i: usize) -> bool {
    let f = c.segs[i].s.flags;
    i < HEAD || i + TAIL >= c.segs.len() || f.syn() || f.fin() || f.rst()
}

fn rows(c: &Conn) -> Vec<Row<'_>> {
    let mut rows = Vec::new();
    let mut t = 0;
    let mut hidden_from = None;
    for i in 0..=c.segs.len() {
        let here = c.transitions[t..].iter().take_while(|x| x.pos == i).count();
        let show = i == c.segs.len() || shown(c, i) || here > 0;
        if let (true, Some(from)) = (show, hidden_from) {
            rows.push(Row::Elided(from, i));
            hidden_from = None;
        }
        rows.extend((t..t + here).map(Row::State));
        t += here;
        if i < c.segs.len() {
            if show {
                rows.push(Row::Seg(i, &c.segs[i]));
            } else {
                hidden_from.get_or_insert(i);
            }
        }
    }
    rows
}

/// tcpdump's flag letters.
pub fn flags(s: &Segment) -> String {
    let f = s.flags;
    let mut out = String::new();
    for (on, c) in [
        (f.syn(), 'S'),
        (f.fin(), 'F'),
        (f.rst(), 'R'),
        (f.psh(), 'P'),
        (f.urg(), 'U'),
        (f.ece(), 'E'),
        (f.cwr(), 'W'),
    ] {
        if on {
            out.push(c);
        }
    }
    if f.ack() {
        out.push('.');
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

/// The options as tcpdump lists them.
pub fn options(o: &TcpOptions) -> String {
    let mut v = Vec::new();
    if let Some(m) = o.mss {
        v.push(format!("mss {m}"));
    }
    if o.sack_permitted {
        v.push("sackOK".into());
    }
    if let Some(t) = o.timestamps {
        v.push(format!("TS val {} ecr {}", t.tsval, t.tsecr));
    }
    if let Some(w) = o.window_scale {
        v.push(format!("wscale {w}"));
    }
    for (l, r) in o.sack.as_slice() {
        v.push(format!("sack {l}:{r}"));
    }
    if let Some(u) = o.user_timeout {
        v.push(format!("uto {}s", u.secs()));
    }
    v.join(",")
}

/// Draws the ladder of `c`; times relative to `origin_ns`.
pub fn draw(out: &mut String, c: &Conn, origin_ns: u64, names: [&str; 2]) -> Drawn {
    let rows = rows(c);
    let height = TOP + ROW * (rows.len() as f64 + 1.5);
    let _ = write!(
        out,
        r#"<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}">"#
    );
    for (x, side) in [(X_A, 0), (X_B, 1)] {
        let _ = write!(
            out,
            r#"<text class="host" x="{x}" y="16" text-anchor="middle">{}</text><text class="initial" x="{x}" y="32" text-anchor="middle">{}</text><line class="life" x1="{x}" y1="{TOP}" x2="{x}" y2="{height:.0}"/>"#,
            esc(names[side]),
            esc(c.initial[side].name())
        );
    }
    let _ = write!(
        out,
        r#"<text class="tick" x="{X_TIME}" y="{}">time (s)</text>"#,
        TOP - 8.0
    );
    let mut drawn = Drawn::default();
    for (r, row) in rows.iter().enumerate() {
        let y = TOP + ROW * (r as f64 + 0.7);
        match row {
            Row::Seg(i, g) => {
                arrow(out, c, *i, g, y, origin_ns);
                drawn.arrows += 1;
            }
            Row::Elided(from, to) => {
                elided(out, c, *from, *to, y);
                drawn.elided += to - from;
            }
            Row::State(t) => {
                state(out, c, *t, y, origin_ns);
                drawn.states += 1;
            }
        }
    }
    out.push_str("</svg>");
    drawn
}

fn secs(ns: u64, origin_ns: u64) -> String {
    format!("{:.6}", ns.saturating_sub(origin_ns) as f64 / 1e9)
}

fn arrow(out: &mut String, c: &Conn, i: usize, g: &Seg, y: f64, origin_ns: u64) {
    let s = &g.s;
    let (x0, x1, dir, peer) = if g.from_a {
        (X_A, X_B, 0, 1)
    } else {
        (X_B, X_A, 1, 0)
    };
    let rel = |v: u32, d: usize| c.dirs[d].base.map_or(v, |b| v.wrapping_sub(b));
    let seq = rel(s.seq, dir);
    let mut text = format!("{} {seq}", flags(s));
    if s.len > 0 {
        let _ = write!(text, ":{}({})", seq.wrapping_add(s.len), s.len);
    }
    if s.flags.ack() {
        let _ = write!(text, " ack {}", rel(s.ack, peer));
    }
    let _ = write!(text, " win {}", s.window);
    let mut class = String::from("seg arrow");
    for (on, name) in [
        (s.flags.syn(), " syn"),
        (s.flags.fin(), " fin"),
        (s.flags.rst(), " rst"),
        (s.len > 0, " data"),
        (g.rexmit, " rexmit"),
        (g.dup_ack, " dupack"),
    ] {
        if on {
            class.push_str(name);
        }
    }
    let mark = match (g.rexmit, g.dup_ack) {
        (true, _) => " [retransmission]",
        (_, true) => " [duplicate ACK]",
        _ => "",
    };
    let y1 = y + ROW * 0.55;
    // The head: a small triangle at the receiving end.
    let back = if x1 > x0 { -8.0 } else { 8.0 };
    let _ = write!(
        out,
        r#"<g class="{class}" data-n="{i}"><title>#{i} {t} s {src} &gt; {dst}: {text}{mark}; options [{o}]; seq {abs_seq}, ack {abs_ack}</title><text class="time" x="{X_TIME}" y="{ty:.1}">{t}</text><line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y1:.1}"/><polygon points="{x1},{y1:.1} {hx:.1},{h1:.1} {hx:.1},{h2:.1}"/><text class="lbl" x="{mx:.1}" y="{ly:.1}" text-anchor="middle">{lbl}</text></g>"#,
        t = secs(s.time_ns, origin_ns),
        src = esc(&s.src.to_string()),
        dst = esc(&s.dst.to_string()),
        text = esc(&text),
        o = esc(&options(&s.options)),
        abs_seq = s.seq,
        abs_ack = s.ack,
        ty = y + 4.0,
        hx = x1 + back,
        h1 = y1 - 4.0,
        h2 = y1 + 1.0,
        mx = (X_A + X_B) / 2.0,
        ly = y + 1.0,
        lbl = esc(&format!("{text}{mark}")),
    );
}

fn elided(out: &mut String, c: &Conn, from: usize, to: usize, y: f64) {
    let part = &c.segs[from..to];
    let rexmit = part.iter().filter(|g| g.rexmit).count();
    let dup = part.iter().filter(|g| g.dup_ack).count();
    let _ = write!(
        out,
        r#"<g class="elided" data-count="{n}" data-from="{from}"><rect x="{x:.1}" y="{ry:.1}" width="{w:.1}" height="{h:.1}"/><text x="{mx:.1}" y="{ty:.1}" text-anchor="middle">{n} segments elided (#{from} to #{last}: {rexmit} retransmitted, {dup} dup ACKs)</text></g>"#,
        n = to - from,
        last = to - 1,
        x = X_A,
        ry = y - ROW * 0.45,
        w = X_B - X_A,
        h = ROW * 0.9,
        mx = (X_A + X_B) / 2.0,
        ty = y + 4.0,
    );
}

fn state(out: &mut String, c: &Conn, t: usize, y: f64, origin_ns: u64) {
    let tr = &c.transitions[t];
    let x = if tr.side == 0 { X_A } else { X_B };
    let name = tr.to.name();
    let w = 8.0 + 7.5 * name.len() as f64;
    let (source, class) = match c.source[tr.side] {
        super::flows::Source::Engine => ("reported by the engine", " engine"),
        super::flows::Source::Inferred => ("inferred from the capture", ""),
    };
    let _ = write!(
        out,
        r#"<g class="state side-{side}{class}" data-from="{from}" data-to="{name}"><title>{t} s: {from} to {name} ({source})</title><rect x="{rx:.1}" y="{ry:.1}" width="{w:.1}" height="16" rx="4"/><text x="{x}" y="{ty:.1}" text-anchor="middle">{name}</text></g>"#,
        side = if tr.side == 0 { "a" } else { "b" },
        from = tr.from.name(),
        t = secs(tr.time_ns, origin_ns),
        rx = x - w / 2.0,
        ry = y - 11.0,
        ty = y + 1.0,
    );
}
