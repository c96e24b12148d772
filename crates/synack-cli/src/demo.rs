//! `synack demo`: runs a scenario on the simulated network, checks what it
//! claims, and turns the verdict into the exit code.

use crate::host::{Pcap, World};
use crate::scenarios;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
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
    /// Write the run as a page of pictures (`synack plot`'s page).
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
    checks: Vec<(bool, String)>,
}

impl Ctx<'_> {
    /// A new world at `start`, with the options' seed, loss and capture.
    pub fn world(&mut self, start: Instant) -> World {
        let o = self.opts;
        World::new(o.seed, o.loss, o.quiet, start, self.pcap.take())
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

/// Runs the chosen scenario and returns 0 if all its claims held, 1 if
/// not, 2 if the capture file could not be written.
pub fn run(opts: &Options) -> ExitCode {
    let pcap = match &opts.pcap {
        Some(path) => match open_pcap(path) {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("synack: --pcap {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let mut ctx = Ctx {
        opts,
        pcap,
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

    if let (Some(mut w), Some(path)) = (ctx.pcap.take(), &opts.pcap) {
        let flushed = w.flush();
        ctx.check(
            flushed.is_ok(),
            format!(
                "capture written to {} (classic pcap, raw IP)",
                path.display()
            ),
        );
    } else if let Some(path) = &opts.pcap {
        // The network drops the writer at its first write error.
        ctx.check(false, format!("capture written to {}", path.display()));
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

fn open_pcap(path: &PathBuf) -> std::io::Result<Pcap> {
    let f = File::create(path)?;
    let w: Box<dyn Write> = Box::new(BufWriter::new(f));
    PcapWriter::new(w)
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
