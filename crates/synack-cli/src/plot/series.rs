//! The engine's own view of a connection over time: congestion window and
//! slow-start threshold in one graph, smoothed RTT in another, from the
//! `ConnInfo` samples of a run of synack's own.

use super::samples::Series;
use super::svg::{Area, step_path};
use std::fmt::Write as _;

const WIDTH: f64 = 780.0;
const HEIGHT: f64 = 260.0;

/// Draws both graphs of one series; times relative to `origin_ns`, the
/// x range `span` (seconds) so they line up with the connection's other
/// graphs.
pub fn draw(out: &mut String, s: &Series, origin_ns: u64, span: (f64, f64)) {
    let t = |us: u64| (us.saturating_mul(1000)).saturating_sub(origin_ns) as f64 / 1e9;
    let last_t = s.points.last().map_or(span.1, |p| t(p.time_us));
    let span = (
        span.0
            .min(s.points.first().map_or(span.0, |p| t(p.time_us))),
        span.1.max(last_t),
    );
    let cwnd: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|p| (t(p.time_us), f64::from(p.cwnd)))
        .collect();
    let ssthresh: Vec<(f64, f64)> = s
        .points
        .iter()
        .filter_map(|p| p.ssthresh.map(|v| (t(p.time_us), f64::from(v))))
        .collect();
    let top = cwnd
        .iter()
        .chain(&ssthresh)
        .map(|p| p.1)
        .fold(1.0, f64::max);
    let area = Area::new(WIDTH, HEIGHT, span, (0.0, top * 1.05));
    area.open(out, "series cc", "time (s)", "bytes");
    area.legend(out, &[("ser-cwnd", "cwnd"), ("ser-ssthresh", "ssthresh")]);
    let _ = write!(
        out,
        r#"<path class="ser-cwnd" d="{}"/>"#,
        step_path(&area, &cwnd)
    );
    if !ssthresh.is_empty() {
        let _ = write!(
            out,
            r#"<path class="ser-ssthresh" d="{}"/>"#,
            step_path(&area, &ssthresh)
        );
    }
    out.push_str("</svg>");

    let srtt: Vec<(f64, f64)> = s
        .points
        .iter()
        .filter_map(|p| p.srtt_us.map(|v| (t(p.time_us), v as f64 / 1000.0)))
        .collect();
    if srtt.is_empty() {
        return;
    }
    let top = srtt.iter().map(|p| p.1).fold(1.0, f64::max);
    let area = Area::new(WIDTH, HEIGHT, span, (0.0, top * 1.1));
    area.open(out, "series rtt", "time (s)", "SRTT (ms)");
    area.legend(out, &[("ser-srtt", "smoothed RTT")]);
    let _ = write!(
        out,
        r#"<path class="ser-srtt" d="{}"/>"#,
        step_path(&area, &srtt)
    );
    out.push_str("</svg>");
}
