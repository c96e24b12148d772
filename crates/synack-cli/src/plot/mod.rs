//! `synack plot`: pictures of TCP connections from a capture file, as one
//! self-contained HTML page (inline SVG and CSS, nothing fetched, no
//! script): a ladder diagram of each connection with each side's states, a
//! tcptrace-style time-sequence graph of each direction that carried data,
//! and, for a run of synack's own, the engine's cwnd, ssthresh and SRTT
//! over time.
//!
//! The pipeline: [`pcap`] frames the file, [`decode`] finds the TCP
//! segments, [`flows`] groups them into connections and marks them
//! ([`states`] infers each side's state), then [`ladder`], [`timeseq`] and
//! [`series`] draw, and [`html`] assembles the page.

mod decode;
mod flows;
mod html;
mod ladder;
mod pcap;
mod samples;
mod series;
mod states;
mod svg;
mod timeseq;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod browser;
#[cfg(test)]
mod kernel;

pub use samples::Samples;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

/// `synack plot INPUT -o OUTPUT [--title TEXT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlotOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// The page's title; the input's file name if not given.
    pub title: Option<String>,
}

/// Why no page could be made.
#[derive(Debug)]
pub enum PlotError {
    /// The bytes are not a pcap or pcapng file.
    NotCapture(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::NotCapture(why) => write!(f, "not a capture file: {why}"),
        }
    }
}

impl std::error::Error for PlotError {}

/// The page's counts, also on its root element as `data-` attributes
/// (see the page's own explanation of how they add up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub connections: usize,
    /// TCP segments read from the capture.
    pub segments: usize,
    /// Ladder arrows drawn, and segments stood for by elision markers:
    /// together, `segments`.
    pub arrows: usize,
    pub elided: usize,
    /// State transitions, and the labels drawn for them (equal).
    pub transitions: usize,
    pub state_labels: usize,
    pub retransmissions: usize,
    pub dup_acks: usize,
    /// Frames that could not be read (cut short, malformed, fragments,
    /// records past the end of the file).
    pub skipped: u64,
    /// Frames that are not TCP over IP.
    pub other: u64,
    /// Engine transitions whose connection is not in the capture.
    pub unmatched_transitions: usize,
    /// Engine series drawn.
    pub series: usize,
    /// Transitions the engine reported, and placed on a connection.
    pub engine_transitions: usize,
    /// Connections not drawn (past `MAX_DRAWN`), and their segments,
    /// transitions and engine-reported transitions.
    pub omitted: [usize; 4],
}

/// A rendered page.
#[derive(Clone, Debug)]
pub struct Page {
    pub html: String,
    pub counts: Counts,
}

/// Renders a capture (pcap or pcapng bytes) as a page titled "synack
/// plot"; with `samples`, the engine's states and congestion graphs too.
#[cfg(test)]
pub fn render(capture: &[u8], samples: Option<&Samples>) -> Result<Page, PlotError> {
    render_titled(capture, samples, "synack plot")
}

/// [`render`] with a title of the caller's.
pub fn render_titled(
    capture: &[u8],
    samples: Option<&Samples>,
    title: &str,
) -> Result<Page, PlotError> {
    let cap = pcap::read(capture)?;
    let flows = flows::build(&cap, samples);
    let sk = flows.skipped;
    let mut counts = Counts {
        connections: flows.conns.len(),
        segments: flows.segments(),
        transitions: flows.transitions(),
        retransmissions: flows.conns.iter().map(|c| c.retransmissions()).sum(),
        dup_acks: flows.conns.iter().map(|c| c.dup_acks()).sum(),
        skipped: sk.truncated + sk.malformed + sk.fragments + cap.bad_records,
        other: sk.other,
        unmatched_transitions: flows.unmatched,
        engine_transitions: flows.engine_transitions(),
        ..Counts::default()
    };
    let title = format!("{title} ({} capture)", cap.format);
    let html = html::page(&title, &flows, samples, &mut counts);
    Ok(Page { html, counts })
}

/// Runs `synack plot`: reads the capture, writes the page, prints one line
/// of summary. Exit code 1 with a message on standard error when the input
/// cannot be read or is not a capture, or the output cannot be written.
pub fn run(opts: &PlotOptions) -> ExitCode {
    let input = match std::fs::read(&opts.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("synack plot: {}: {e}", opts.input.display());
            return ExitCode::from(1);
        }
    };
    let title = opts.title.clone().unwrap_or_else(|| {
        opts.input.file_name().map_or_else(
            || opts.input.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    let page = match render_titled(&input, None, &title) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synack plot: {}: {e}", opts.input.display());
            return ExitCode::from(1);
        }
    };
    if let Err(e) = std::fs::write(&opts.output, &page.html) {
        eprintln!("synack plot: {}: {e}", opts.output.display());
        return ExitCode::from(1);
    }
    outln!("{}", summary(&page.counts, &opts.output));
    ExitCode::SUCCESS
}

/// `3 connections, 120 segments, 18 state transitions, 2 retransmissions
/// -> out.html` (and what was skipped, if anything).
pub fn summary(k: &Counts, output: &std::path::Path) -> String {
    let mut s = format!(
        "synack plot: {} connections, {} segments, {} state transitions, {} retransmissions",
        k.connections, k.segments, k.transitions, k.retransmissions
    );
    if k.skipped > 0 || k.other > 0 {
        s.push_str(&format!(
            " ({} frames unreadable, {} not TCP, skipped)",
            k.skipped, k.other
        ));
    }
    s.push_str(&format!(" -> {}", output.display()));
    s
}
