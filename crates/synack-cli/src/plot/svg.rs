//! Small SVG helpers shared by the graphs: escaping, axis ticks, and a
//! plot area that maps data to pixels.

use std::fmt::Write as _;

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Tick positions for a range: 1, 2 or 5 times a power of ten apart,
/// about `n` of them.
pub fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![lo];
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let mut out = Vec::new();
    let mut v = (lo / step).ceil() * step;
    while v <= hi + step * 1e-9 && out.len() < 50 {
        out.push(v);
        v += step;
    }
    out
}

/// A tick label: integers plainly, fractions with as few digits as the
/// step needs, big byte counts in K/M.
pub fn label(v: f64, step: f64) -> String {
    if v.abs() >= 1e6 && step >= 1e5 {
        return format!("{}M", trim(v / 1e6, step / 1e6));
    }
    if v.abs() >= 1e4 && step >= 1e3 {
        return format!("{}K", trim(v / 1e3, step / 1e3));
    }
    trim(v, step)
}

fn trim(v: f64, step: f64) -> String {
    let digits = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{v:.digits$}")
}

/// A rectangular plot area inside an SVG of `width` x `height`, with
/// margins for the axes, mapping data ranges onto it.
pub struct Area {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Area {
    pub fn new(width: f64, height: f64, x: (f64, f64), y: (f64, f64)) -> Area {
        let widen = |(lo, hi): (f64, f64)| if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        Area {
            width,
            height,
            left: 70.0,
            right: width - 20.0,
            top: 30.0,
            bottom: height - 40.0,
            x: widen(x),
            y: widen(y),
        }
    }

    pub fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * (self.right - self.left)
    }

    pub fn py(&self, y: f64) -> f64 {
        self.bottom - (y - self.y.0) / (self.y.1 - self.y.0) * (self.bottom - self.top)
    }

    /// The `<svg>` opening tag, the frame, ticks, grid and axis titles.
    pub fn open(&self, out: &mut String, class: &str, x_title: &str, y_title: &str) {
        let _ = write!(
            out,
            r#"<svg class="{class}" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#,
            w = self.width,
            h = self.height
        );
        let _ = write!(
            out,
            r#"<rect class="frame" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"#,
            self.left,
            self.top,
            self.right - self.left,
            self.bottom - self.top
        );
        let xt = ticks(self.x.0, self.x.1, 8);
        let xs = xt.get(1).zip(xt.first()).map_or(1.0, |(b, a)| b - a);
        for v in &xt {
            let p = self.px(*v);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{p:.1}" y1="{t:.1}" x2="{p:.1}" y2="{b:.1}"/><text class="tick" x="{p:.1}" y="{ty:.1}" text-anchor="middle">{l}</text>"#,
                t = self.top,
                b = self.bottom,
                ty = self.bottom + 14.0,
                l = esc(&label(*v, xs))
            );
        }
        let yt = ticks(self.y.0, self.y.1, 6);
        let ys = yt.get(1).zip(yt.first()).map_or(1.0, |(b, a)| b - a);
        for v in &yt {
            let p = self.py(*v);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{l:.1}" y1="{p:.1}" x2="{r:.1}" y2="{p:.1}"/><text class="tick" x="{tx:.1}" y="{ty:.1}" text-anchor="end">{s}</text>"#,
                l = self.left,
                r = self.right,
                tx = self.left - 4.0,
                ty = p + 4.0,
                s = esc(&label(*v, ys))
            );
        }
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="axis" x="12" y="{:.1}" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"#,
            (self.left + self.right) / 2.0,
            self.height - 6.0,
            esc(x_title),
            (self.top + self.bottom) / 2.0,
            (self.top + self.bottom) / 2.0,
            esc(y_title)
        );
    }

    /// A legend row along the top: (css class, shape, text) per entry.
    pub fn legend(&self, out: &mut String, entries: &[(&str, &str)]) {
        let mut x = self.left;
        for (class, text) in entries {
            let _ = write!(
                out,
                r#"<g class="legend"><line class="{class}" x1="{x:.1}" y1="14" x2="{x2:.1}" y2="14"/><text x="{tx:.1}" y="18">{t}</text></g>"#,
                x2 = x + 18.0,
                tx = x + 22.0,
                t = esc(text)
            );
            x += 30.0 + 7.0 * text.len() as f64;
        }
    }
}

/// A step line through points: horizontal to each new x, then vertical
/// to its y, as tcptrace draws the ACK and window lines.
pub fn step_path(area: &Area, points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let (px, py) = (area.px(*x), area.py(*y));
        if i == 0 {
            let _ = write!(d, "M{px:.1},{py:.1}");
        } else {
            let _ = write!(d, "H{px:.1}V{py:.1}");
        }
    }
    if let Some((x, _)) = points.last() {
        // Held to the right edge: the value stays until the next change.
        let _ = write!(d, "H{:.1}", area.px(area.x.1).max(area.px(*x)));
    }
    d
}
