//! The time-sequence graph of one direction of a connection, as tcptrace
//! draws it: time across, the sender's relative sequence number up. Each
//! segment with data is a vertical bar from its first to its last octet
//! (retransmissions in their own colour); the receiver's cumulative ACK is
//! a step line, and the right edge of the window it offers (ACK plus the
//! scaled window) another; SACK blocks are bars beside the ACK line, and
//! duplicate ACKs are marked on it.

use super::flows::Conn;
use super::svg::{Area, esc, step_path};
use std::fmt::Write as _;

const WIDTH: f64 = 780.0;
const HEIGHT: f64 = 420.0;

/// What the graph drew, for the page's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawn {
    pub data: usize,
    pub rexmit: usize,
    pub dup_acks: usize,
    pub sacks: usize,
}

/// Whether direction `d` (0: A to B) carried any data.
pub fn has_data(c: &Conn, d: usize) -> bool {
    c.dirs[d].data_bytes > 0
}

/// Draws direction `d` of `c`, times relative to `origin_ns`.
pub fn draw(out: &mut String, c: &Conn, d: usize, origin_ns: u64) -> Drawn {
    let from_a = d == 0;
    let base = c.dirs[d].base.unwrap_or(0);
    // The receiver's windows, scaled by its shift (never a SYN's).
    let shift = c.dirs[1 - d].wscale.filter(|_| c.dirs[d].wscale.is_some());
    let t = |ns: u64| ns.saturating_sub(origin_ns) as f64 / 1e9;
    let rel = |v: u32| f64::from(v.wrapping_sub(base));
    let data: Vec<_> = c
        .segs
        .iter()
        .filter(|g| g.from_a == from_a && g.s.seg_len() > 0)
        .collect();
    let acks: Vec<_> = c
        .segs
        .iter()
        .filter(|g| g.from_a != from_a && g.s.flags.ack() && !g.s.flags.rst())
        .collect();
    let ack_pts: Vec<(f64, f64)> = acks
        .iter()
        .map(|g| (t(g.s.time_ns), rel(g.s.ack)))
        .collect();
    let win_pts: Vec<(f64, f64)> = acks
        .iter()
        .map(|g| {
            let s = if g.s.flags.syn() {
                0
            } else {
                shift.unwrap_or(0)
            };
            let wnd = u64::from(g.s.window) << s;
            (t(g.s.time_ns), rel(g.s.ack) + wnd as f64)
        })
        .collect();
    let data_top = data
        .iter()
        .map(|g| rel(g.s.seq) + f64::from(g.s.seg_len()))
        .chain(ack_pts.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    // A window far above the data would flatten it: the window line is
    // clipped at twice the data's height.
    let win_top = win_pts.iter().map(|p| p.1).fold(0.0, f64::max);
    let y_hi = data_top.max(win_top.min(2.0 * data_top));
    let times = c.segs.iter().map(|g| t(g.s.time_ns));
    let x_lo = times.clone().fold(f64::INFINITY, f64::min);
    let x_hi = times.fold(f64::NEG_INFINITY, f64::max);
    let area = Area::new(WIDTH, HEIGHT, (x_lo, x_hi), (0.0, y_hi * 1.04));
    area.open(out, "timeseq", "time (s)", "relative sequence number");
    area.legend(
        out,
        &[
            ("tsg-seg", "data"),
            ("tsg-seg rexmit", "retransmission"),
            ("tsg-ack", "ACK"),
            ("tsg-win", "window edge"),
            ("tsg-sack", "SACK"),
            ("tsg-dupack", "duplicate ACK"),
        ],
    );
    let clip = |pts: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        pts.into_iter()
            .map(|(x, y)| (x, y.min(y_hi * 1.04)))
            .collect()
    };
    let _ = write!(
        out,
        r#"<path class="tsg-win" d="{}"/><path class="tsg-ack" d="{}"/>"#,
        step_path(&area, &clip(win_pts)),
        step_path(&area, &ack_pts)
    );
    let mut drawn = Drawn::default();
    for g in &data {
        let (x, y0) = (area.px(t(g.s.time_ns)), area.py(rel(g.s.seq)));
        let y1 = area.py(rel(g.s.seq) + f64::from(g.s.seg_len()));
        let class = if g.rexmit {
            "tsg-seg rexmit"
        } else {
            "tsg-seg"
        };
        let _ = write!(
            out,
            r#"<path class="{class}" d="M{a:.1},{y0:.1}H{b:.1}M{x:.1},{y0:.1}V{y1:.1}M{a:.1},{y1:.1}H{b:.1}"><title>{ts:.6} s: {s}:{e}{r}</title></path>"#,
            a = x - 2.0,
            b = x + 2.0,
            ts = t(g.s.time_ns),
            s = g.s.seq.wrapping_sub(base),
            e = g.s.seq.wrapping_sub(base).wrapping_add(g.s.seg_len()),
            r = if g.rexmit { " retransmission" } else { "" },
        );
        drawn.data += 1;
        drawn.rexmit += usize::from(g.rexmit);
    }
    for g in &acks {
        let x = area.px(t(g.s.time_ns));
        for (l, r) in g.s.options.sack.as_slice() {
            let _ = write!(
                out,
                r#"<line class="tsg-sack" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"><title>SACK {}:{}</title></line>"#,
                area.py(rel(*l)),
                area.py(rel(*r)),
                l.wrapping_sub(base),
                r.wrapping_sub(base)
            );
            drawn.sacks += 1;
        }
        if g.dup_ack {
            let y = area.py(rel(g.s.ack));
            let _ = write!(
                out,
                r#"<path class="tsg-dupack" d="M{:.1},{y:.1}l3,-4l3,4l-3,4z"><title>duplicate ACK {}</title></path>"#,
                x - 3.0,
                esc(&g.s.ack.wrapping_sub(base).to_string())
            );
            drawn.dup_acks += 1;
        }
    }
    out.push_str("</svg>");
    drawn
}
