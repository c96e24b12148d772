//! Benchmark output: one `name: value unit` line per figure, or one JSON
//! object with `--json`. Notes (how a figure was measured, whether a target
//! was met) print as `# ...` lines, or under `"notes"` in JSON.

use std::fmt::Write as _;

enum Entry {
    Figure {
        name: String,
        value: f64,
        decimals: usize,
        unit: &'static str,
    },
    Note(String),
}

#[derive(Default)]
pub struct Report {
    entries: Vec<Entry>,
}

impl Report {
    /// A figure printed with `decimals` digits after the point.
    pub fn figure(&mut self, name: &str, value: f64, decimals: usize, unit: &'static str) {
        self.entries.push(Entry::Figure {
            name: name.into(),
            value,
            decimals,
            unit,
        });
    }

    /// A whole-number figure.
    pub fn note(&mut self, text: impl Into<String>) {
        self.entries.push(Entry::Note(text.into()));
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            match e {
                Entry::Figure {
                    name,
                    value,
                    decimals,
                    unit,
                } => {
                    let _ = writeln!(out, "{name}: {value:.decimals$} {unit}");
                }
                Entry::Note(t) => {
                    let _ = writeln!(out, "# {t}");
                }
            }
        }
        out
    }

    /// `{"figure": value, ..., "units": {"figure": "unit", ...}, "notes": [...]}`.
    pub fn json(&self) -> String {
        let mut figures = Vec::new();
        let mut units = Vec::new();
        let mut notes = Vec::new();
        for e in &self.entries {
            match e {
                Entry::Figure {
                    name,
                    value,
                    decimals,
                    unit,
                } => {
                    // JSON has no NaN or infinity.
                    let v = if value.is_finite() {
                        format!("{value:.decimals$}")
                    } else {
                        "null".into()
                    };
                    figures.push(format!("{}: {v}", string(name)));
                    units.push(format!("{}: {}", string(name), string(unit)));
                }
                Entry::Note(t) => notes.push(string(t)),
            }
        }
        let mut parts = figures;
        parts.push(format!("\"units\": {{{}}}", units.join(", ")));
        parts.push(format!("\"notes\": [{}]", notes.join(", ")));
        format!("{{{}}}\n", parts.join(", "))
    }
}

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json() {
        let mut r = Report::default();
        r.figure("a_per_sec", 1234.5678, 1, "1/s");
        r.figure("n", 7.0, 0, "conns");
        r.note("say \"hi\"\n");
        r.figure("bad", f64::NAN, 0, "x");
        assert_eq!(
            r.text(),
            "a_per_sec: 1234.6 1/s\nn: 7 conns\n# say \"hi\"\n\nbad: NaN x\n"
        );
        assert_eq!(
            r.json(),
            "{\"a_per_sec\": 1234.6, \"n\": 7, \"bad\": null, \"units\": {\"a_per_sec\": \
             \"1/s\", \"n\": \"conns\", \"bad\": \"x\"}, \"notes\": [\"say \\\"hi\\\"\\n\"]}\n"
        );
    }
}
