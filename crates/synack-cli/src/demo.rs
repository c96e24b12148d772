//! `synack demo`: runs a scenario on the simulated network, checks what it
//! claims, and turns the verdict into the exit code.

use crate::host::{Pcap, Recorder, World};
use crate::plot::{self, Samples};
use crate::scenarios;
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use synack::sim::PcapWriter;
use synack::{ConnId, Counters, Endpoint, Error, Instant};

/// The scenarios `--scenario` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Basic,
    SimultaneousOpen,
    SimultaneousClose,
    Refused,
    SynFlood,
    SplitHandshake,
}

impl Scenario {
    pub const ALL: [Scenario; 6] = [
        Scenario::Basic,
        Scenario::SimultaneousOpen,
        Scenario::SimultaneousClose,
        Scenario::Refused,
        Scenario::SynFlood,
        Scenario::SplitHandshake,
    ];
    pub const NAMES: [&'static str; 6] = [
        "basic",
        "simultaneous-open",
        "simultaneous-close",
        "refused",
        "syn-flood",
        "split-handshake",
    ];

    pub fn name(self) -> &'static str {
        Scenario::NAMES[self as usize]
    }

    pub fn from_name(s: &str) -> Option<Scenario> {
        let i = Scenario::NAMES.iter().position(|n| *n == s)?;
        Some(Scenario::ALL[i])
    }

    /// Whether the scenario's claims survive a lossy link. The others
    /// claim an exact sequence of segments.
    pub fn supports_loss(self) -> bool {
        matches!(self, Scenario::Basic | Scenario::SynFlood)
    }
}

/// `synack demo` options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub scenario: Scenario,
    pub seed: u64,
    /// Percent, 0 to 100.
    pub loss: f64,
    pub pcap: Option<PathBuf>,
    /// `--html FILE`: the run's pictures (`synack plot` of its capture,
    /// with the engine's own states, cwnd, ssthresh and SRTT).
    pub html: Option<PathBuf>,
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scenario: Scenario::Basic,
            seed: 1,
            loss: 0.0,
            pcap: None,
            html: None,
            quiet: false,
        }
    }
}

/// What a scenario gets: the options, the capture (handed from world to
/// world), and the list of claims it checked.
pub struct Ctx<'a> {
    pub opts: &'a Options,
    pcap: Option<Pcap>,
    /// With `--html`: the engine's transitions and congestion state.
    recorder: Option<Recorder>,
    checks: Vec<(bool, String)>,
}

impl Ctx<'_> {
    /// A new world at `start`, with the options' seed, loss and capture.
    pub fn world(&mut self, start: Instant) -> World {
        let o = self.opts;
        let mut w = World::new(o.seed, o.loss, o.quiet, start, self.pcap.take());
        if let Some(r) = &self.recorder {
            w.record_into(r.clone());
        }
        w
    }

    /// Takes the capture back from a world that is done.
    pub fn done(&mut self, world: &mut World) {
        if let Some(p) = world.take_pcap() {
            self.pcap = Some(p);
        }
    }

    /// Records a claim and whether it held; returns `ok`.
    pub fn check(&mut self, ok: bool, claim: impl Into<String>) -> bool {
        self.checks.push((ok, claim.into()));
        ok
    }

    /// A line of the summary, printed even with `--quiet`.
    pub fn say(&self, line: impl AsRef<str>) {
        outln!("{}", line.as_ref());
    }
}

/// What a run recorded for its pictures (with `--html`).
#[derive(Default)]
pub struct Recording {
    /// The whole capture, as `--pcap` would write it.
    pub pcap: Vec<u8>,
    pub samples: Samples,
    /// The page's counts.
    pub counts: Option<plot::Counts>,
}

/// Runs the chosen scenario and returns 0 if all its claims held, 1 if
/// not, 2 if the capture or page file could not be created.
pub fn run(opts: &Options) -> ExitCode {
    run_recorded(opts, &mut Recording::default())
}

/// [`run`], leaving what `--html` drew from in `rec`.
pub fn run_recorded(opts: &Options, rec: &mut Recording) -> ExitCode {
    let file = match &opts.pcap {
        Some(path) => match File::create(path) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => {
                eprintln!("synack: --pcap {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    // Created now, so a path that cannot be written fails before the run.
    let html = match &opts.html {
        Some(path) => match File::create(path) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("synack: --html {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let memory = html.as_ref().map(|_| Rc::new(RefCell::new(Vec::new())));
    let pcap = if file.is_some() || memory.is_some() {
        match PcapWriter::new(Box::new(Tee {
            file,
            memory: memory.clone(),
        }) as Box<dyn Write>)
        {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("synack: --pcap: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        None
    };
    let mut ctx = Ctx {
        opts,
        pcap,
        recorder: html
            .as_ref()
            .map(|_| Rc::new(RefCell::new(Samples::default()))),
        checks: Vec::new(),
    };
    let loss = if opts.loss > 0.0 {
        format!(", {}% loss each way", opts.loss)
    } else {
        String::new()
    };
    outln!(
        "synack demo: scenario {}, seed {}{loss}; simulated 10 ms link, virtual time",
        opts.scenario.name(),
        opts.seed
    );
    let wall = std::time::Instant::now();
    match opts.scenario {
        Scenario::Basic => scenarios::basic::run(&mut ctx),
        Scenario::SimultaneousOpen => scenarios::simultaneous_open::run(&mut ctx),
        Scenario::SimultaneousClose => scenarios::simultaneous_close::run(&mut ctx),
        Scenario::Refused => scenarios::refused::run(&mut ctx),
        Scenario::SynFlood => scenarios::syn_flood::run(&mut ctx),
        Scenario::SplitHandshake => scenarios::split_handshake::run(&mut ctx),
    }
    let wall = wall.elapsed();

    let flushed = ctx.pcap.take().map(|mut w| w.flush().is_ok());
    if let Some(path) = &opts.pcap {
        // The network drops the writer at its first write error.
        ctx.check(
            flushed == Some(true),
            format!(
                "capture written to {} (classic pcap, raw IP)",
                path.display()
            ),
        );
    }
    if let (Some(file), Some(path), Some(memory)) = (html, &opts.html, memory) {
        rec.pcap = memory.take();
        if let Some(r) = ctx.recorder.take() {
            rec.samples = r.take();
        }
        write_page(&mut ctx, rec, file, path);
    }

    outln!();
    outln!("checks:");
    let mut failed = 0;
    for (ok, claim) in &ctx.checks {
        outln!("  [{}] {claim}", if *ok { " ok " } else { "FAIL" });
        failed += usize::from(!ok);
    }
    if ctx.checks.is_empty() {
        outln!("  (none ran)");
        failed = 1;
    }
    outln!("(real time {:.3} s)", wall.as_secs_f64());
    if failed == 0 {
        outln!("result: OK, every claim held");
        ExitCode::SUCCESS
    } else {
        outln!(
            "result: FAILED, {failed} claim(s) did not hold (scenario {}, seed {}, loss {}%)",
            opts.scenario.name(),
            opts.seed,
            opts.loss
        );
        ExitCode::from(1)
    }
}

/// The capture's destination: the `--pcap` file, memory for `--html`,
/// or both.
struct Tee {
    file: Option<BufWriter<File>>,
    memory: Option<Rc<RefCell<Vec<u8>>>>,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(m) = &self.memory {
            m.borrow_mut().extend_from_slice(buf);
        }
        match &mut self.file {
            Some(f) => f.write_all(buf),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// Renders the recorded run and writes the page, as one more claim.
fn write_page(ctx: &mut Ctx<'_>, rec: &mut Recording, mut file: File, path: &std::path::Path) {
    let o = ctx.opts;
    let title = format!(
        "synack demo: scenario {}, seed {}",
        o.scenario.name(),
        o.seed
    );
    let page = match plot::render_titled(&rec.pcap, Some(&rec.samples), &title) {
        Ok(p) => p,
        Err(e) => {
            ctx.check(false, format!("pictures of the run: {e}"));
            return;
        }
    };
    let written = file
        .write_all(page.html.as_bytes())
        .and_then(|_| file.flush());
    let k = page.counts;
    rec.counts = Some(k);
    ctx.check(
        written.is_ok(),
        format!(
            "pictures written to {} ({} connections, {} segments, {} state transitions)",
            path.display(),
            k.connections,
            k.segments,
            k.transitions
        ),
    );
}

/// Deterministic, position-dependent content, different for each `tag`,
/// so that a misplaced or corrupted byte cannot go unnoticed.
pub fn content(tag: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let x = (i as u32).wrapping_mul(2_654_435_761) ^ u32::from(tag).wrapping_mul(0x9e37);
            (x >> 13) as u8
        })
        .collect()
}

/// One direction-pair of application data on a connection: what to send,
/// what came in, and whether the peer's FIN was read.
pub struct Stream {
    pub conn: ConnId,
    pub out: Vec<u8>,
    pub sent: usize,
    pub got: Vec<u8>,
    pub eof: bool,
    pub closed: bool,
}

impl Stream {
    pub fn new(conn: ConnId, out: Vec<u8>) -> Stream {
        Stream {
            conn,
            out,
            sent: 0,
            got: Vec::new(),
            eof: false,
            closed: false,
        }
    }

    /// Sends what the send buffer takes and reads everything available.
    pub fn pump(&mut self, ep: &mut Endpoint) {
        while self.sent < self.out.len() {
            match ep.send(self.conn, &self.out[self.sent..]) {
                Ok(n) => self.sent += n,
                Err(_) => break,
            }
        }
        let mut buf = [0u8; 2048];
        loop {
            match ep.recv(self.conn, &mut buf) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(Error::WouldBlock) | Err(_) => break,
            }
        }
    }

    pub fn all_sent(&self) -> bool {
        self.sent == self.out.len()
    }

    /// The active closer's turn: pump, then close once everything is sent
    /// and `expected` bytes came back (closing with unread data would
    /// reset instead).
    pub fn client_turn(&mut self, ep: &mut Endpoint, expected: usize) {
        self.pump(ep);
        if self.all_sent() && self.got.len() >= expected {
            self.closed = true;
            let _ = ep.close(self.conn);
        }
    }

    /// The passive closer's turn: pump, then close after the peer's FIN
    /// once all our data is queued.
    pub fn server_turn(&mut self, ep: &mut Endpoint) {
        self.pump(ep);
        if self.eof && self.all_sent() {
            self.closed = true;
            let _ = ep.close(self.conn);
        }
    }
}

/// `name value` pairs of the counters that are not zero.
pub fn nonzero_counters(c: &Counters) -> String {
    let v: Vec<String> = c
        .iter()
        .filter(|(_, v)| *v != 0)
        .map(|(n, v)| format!("{n} {v}"))
        .collect();
    if v.is_empty() {
        "(all zero)".into()
    } else {
        v.join(", ")
    }
}

/// Prints the counters of both ends, wrapped.
pub fn print_counters(ctx: &Ctx<'_>, name: &str, c: &Counters) {
    let text = nonzero_counters(c);
    let mut line = format!("  {name} counters:");
    for item in text.split(", ") {
        if line.len() + item.len() > 96 {
            ctx.say(&line);
            line = "     ".into();
        }
        line.push(' ');
        line.push_str(item);
        line.push(',');
    }
    ctx.say(line.trim_end_matches(','));
}

/// `4096/4096 bytes, identical` or what went wrong.
pub fn compare(expected: &[u8], got: &[u8]) -> (bool, String) {
    if expected == got {
        return (
            true,
            format!("{}/{} bytes, identical", got.len(), expected.len()),
        );
    }
    let first_diff = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    (
        false,
        format!(
            "{}/{} bytes, first difference at offset {first_diff}",
            got.len(),
            expected.len()
        ),
    )
}

/// `1.234567 s` of virtual time.
pub fn secs(t: Instant) -> String {
    format!("{}.{:06} s", t.micros() / 1_000_000, t.micros() % 1_000_000)
}
