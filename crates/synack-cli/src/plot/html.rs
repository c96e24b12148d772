//! The page: one self-contained HTML file (inline CSS and SVG, no script,
//! no external URL) with a section per connection.

use super::flows::{Flows, Source};
use super::samples::Samples;
use super::svg::esc;
use super::{Counts, ladder, series, timeseq};
use std::fmt::Write as _;

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-top:1px solid #ccc;padding-top:.6em}
h3{font-size:1em;margin:1.2em 0 .3em}
p.note,details{color:#555;max-width:60em}
svg{display:block;margin:.4em 0;background:#fcfcfc;border:1px solid #e4e4e4}
svg text{font:11px ui-monospace,monospace;fill:#333}
.host{font-weight:bold;font-size:12px}.initial{fill:#777}
.life{stroke:#444;stroke-width:2}
.seg line{stroke:#2060c0;stroke-width:1.3}.seg polygon{fill:#2060c0}
.seg.syn line,.seg.fin line{stroke:#208040}.seg.syn polygon,.seg.fin polygon{fill:#208040}
.seg.rst line{stroke:#b00}.seg.rst polygon{fill:#b00}
.seg.rexmit line{stroke:#d02020;stroke-dasharray:4 2}.seg.rexmit polygon{fill:#d02020}
.seg.dupack line{stroke:#c07000}.seg.dupack polygon{fill:#c07000}
.seg .lbl{fill:#111}.seg.rexmit .lbl{fill:#b00}.time{fill:#777}
.elided rect{fill:#eee;stroke:#bbb;stroke-dasharray:3 3}.elided text{fill:#555}
.state rect{fill:#fff4c0;stroke:#b08800}.state text{font-weight:bold;fill:#5a4500}
.frame{fill:none;stroke:#888}.grid{stroke:#eee}.tick{fill:#666}.axis{fill:#333}
.tsg-seg{stroke:#000;stroke-width:1.2;fill:none}.tsg-seg.rexmit{stroke:#e00000;stroke-width:1.6}
.tsg-ack{stroke:#00a000;fill:none;stroke-width:1.2}.tsg-win{stroke:#c0a000;fill:none;stroke-width:1.2}
.tsg-sack{stroke:#a000c0;stroke-width:2.5}.tsg-dupack{fill:#ff8000;stroke:#ff8000}
line.tsg-dupack{stroke-width:4}
.ser-cwnd{stroke:#2060c0;fill:none;stroke-width:1.5}.ser-ssthresh{stroke:#d02020;fill:none;stroke-dasharray:5 3}
.ser-srtt{stroke:#208040;fill:none;stroke-width:1.5}
.legend line{stroke-width:3}
table.summary td,table.summary th{padding:.1em .8em .1em 0;text-align:left}
";

/// Connections drawn at most: past this (a SYN flood's thousands of
/// half-open connections) the page keeps the ones with the most
/// segments and counts the others in one line.
pub const MAX_DRAWN: usize = 40;

/// Which connections are drawn: the [`MAX_DRAWN`] with the most segments,
/// in capture order.
fn drawn(flows: &Flows) -> Vec<usize> {
    let mut order: Vec<usize> = (0..flows.conns.len()).collect();
    if order.len() > MAX_DRAWN {
        order.sort_by_key(|&i| (std::cmp::Reverse(flows.conns[i].segs.len()), i));
        order.truncate(MAX_DRAWN);
        order.sort_unstable();
    }
    order
}

/// The whole page for `flows`, with `samples` graphs when given.
pub fn page(title: &str, flows: &Flows, samples: Option<&Samples>, counts: &mut Counts) -> String {
    let mut body = String::new();
    let drawn = drawn(flows);
    let omitted = flows.conns.len() - drawn.len();
    if omitted > 0 {
        let mut shown = vec![false; flows.conns.len()];
        for &i in &drawn {
            shown[i] = true;
        }
        let (mut segs, mut trans, mut engine) = (0, 0, 0);
        for (c, _) in flows.conns.iter().zip(&shown).filter(|(_, s)| !**s) {
            segs += c.segs.len();
            trans += c.transitions.len();
            engine += c.engine_transitions();
        }
        counts.omitted = [omitted, segs, trans, engine];
        let _ = write!(
            body,
            r#"<p class="omitted note" data-connections="{omitted}" data-segments="{segs}" data-transitions="{trans}">{omitted} more connections ({segs} segments, {trans} state transitions) are not drawn: the page shows the {MAX_DRAWN} with the most segments.</p>"#
        );
    }
    for (i, c) in drawn.iter().map(|&i| (i, &flows.conns[i])) {
        let names = [c.a.to_string(), c.b.to_string()];
        let _ = write!(
            body,
            r#"<section class="conn" id="conn-{i}" data-segments="{}" data-transitions="{}" data-retransmissions="{}"><h2>Connection {n}: {a} &#8644; {b}</h2><p class="note">{}</p><h3>Ladder</h3>"#,
            c.segs.len(),
            c.transitions.len(),
            c.retransmissions(),
            esc(&conn_note(c)),
            n = i + 1,
            a = esc(&names[0]),
            b = esc(&names[1]),
        );
        let d = ladder::draw(&mut body, c, flows.origin_ns, [&names[0], &names[1]]);
        counts.arrows += d.arrows;
        counts.elided += d.elided;
        counts.state_labels += d.states;
        for dir in 0..2 {
            if !timeseq::has_data(c, dir) {
                continue;
            }
            let _ = write!(
                body,
                "<h3>Time-sequence graph, {} &#8594; {}</h3>",
                esc(&names[dir]),
                esc(&names[1 - dir])
            );
            timeseq::draw(&mut body, c, dir, flows.origin_ns);
        }
        if let Some(s) = samples {
            let span = time_span(c, flows.origin_ns);
            for ser in s
                .series
                .iter()
                .filter(|r| c.side_of(r.local, r.remote).is_some())
            {
                let _ = write!(
                    body,
                    "<h3>Engine at {}: cwnd, ssthresh and SRTT</h3>",
                    esc(&ser.local.to_string())
                );
                series::draw(&mut body, ser, flows.origin_ns, span);
                counts.series += 1;
            }
        }
        body.push_str("</section>");
    }
    assemble(title, flows, counts, &body)
}

fn time_span(c: &super::flows::Conn, origin_ns: u64) -> (f64, f64) {
    let t = |ns: u64| ns.saturating_sub(origin_ns) as f64 / 1e9;
    let first = c.segs.first().map_or(0.0, |g| t(g.s.time_ns));
    let last = c.segs.last().map_or(first, |g| t(g.s.time_ns));
    (first, last)
}

fn conn_note(c: &super::flows::Conn) -> String {
    let src = |s: Source| match s {
        Source::Engine => "reported by the engine",
        Source::Inferred => "inferred from the capture",
    };
    format!(
        "{} segments, {} retransmissions, {} duplicate ACKs; {} state transitions (A {}: {}; B {}: {}).",
        c.segs.len(),
        c.retransmissions(),
        c.dup_acks(),
        c.transitions.len(),
        c.a,
        src(c.source[0]),
        c.b,
        src(c.source[1]),
    )
}

fn assemble(title: &str, flows: &Flows, k: &Counts, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 8192);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{t}</title><style>{STYLE}</style></head><body>
<main id="synack-plot" data-connections="{}" data-segments="{}" data-arrows="{}" data-elided="{}" data-transitions="{}" data-state-labels="{}" data-retransmissions="{}" data-dup-acks="{}" data-skipped="{}" data-other="{}" data-unmatched-transitions="{}" data-series="{}" data-omitted-connections="{}" data-omitted-segments="{}" data-omitted-transitions="{}" data-engine-transitions="{}" data-omitted-engine-transitions="{}">
<h1>{t}</h1>
<table class="summary"><tr><th>connections</th><td>{}</td><th>TCP segments</th><td>{}</td><th>state transitions</th><td>{}</td></tr><tr><th>retransmissions</th><td>{}</td><th>duplicate ACKs</th><td>{}</td><th>frames skipped</th><td>{} (not TCP: {})</td></tr></table>
<details><summary>How to read this page, and how its counts add up</summary><p>Each connection has a ladder diagram (one arrow per segment, from its sender to its receiver, labelled as tcpdump would: flags, relative sequence numbers, payload length, acknowledgment, window; hover for options and absolute numbers; retransmissions dashed red, duplicate ACKs orange) with each side's state at every transition, and a time-sequence graph for each direction that carried data. Sequence numbers are relative to each side's ISN. States are inferred from what each side sent and received, unless the engine reported them (a run of synack's own); a capture shows neither LISTEN nor the end of TIME-WAIT.</p><p>Counts: every TCP segment of the capture is exactly one ladder arrow (an element of class <code>seg</code>) or is counted in the <code>data-count</code> of one elision marker (class <code>elided</code>), which stands for a run of bulk segments between the handshake and the close; so on the page's root element <code>data-segments</code> = arrows + the markers' counts + <code>data-omitted-segments</code>. Every state transition is exactly one label (class <code>state</code>), elided or not: <code>data-transitions</code> = labels + <code>data-omitted-transitions</code>. The omitted ones belong to connections not drawn: a capture of more than {MAX_DRAWN} connections draws the {MAX_DRAWN} with the most segments (<code>data-omitted-connections</code> says how many are left out). Labels of transitions the engine reported also have class <code>engine</code>: <code>data-engine-transitions</code> = those labels + <code>data-omitted-engine-transitions</code>. Frames that are not TCP (<code>data-other</code>) or cannot be read (<code>data-skipped</code>: cut short, malformed, fragments) are not drawn.</p></details>
"#,
        flows.conns.len(),
        k.segments,
        k.arrows,
        k.elided,
        k.transitions,
        k.state_labels,
        k.retransmissions,
        k.dup_acks,
        k.skipped,
        k.other,
        k.unmatched_transitions,
        k.series,
        k.omitted[0],
        k.omitted[1],
        k.omitted[2],
        k.engine_transitions,
        k.omitted[3],
        flows.conns.len(),
        k.segments,
        k.transitions,
        k.retransmissions,
        k.dup_acks,
        k.skipped,
        k.other,
        t = esc(title),
    );
    out.push_str(body);
    out.push_str("\n</main></body></html>\n");
    out
}
