//! The pages in a real browser: headless Chromium loads each one and dumps
//! its DOM; the test fails on any console message (the pages have no
//! script, so any message is an error: a script error, a blocked or
//! missing resource), and counts the drawn elements against numbers
//! found independently of the plot code (a capture's TCP packets, by a
//! counter of its own below; the demo's own transition list).
//!
//! Without Chromium the tests print `skipped: chromium not installed
//! (apt-get install chromium)` and pass, unless `SYNACK_REQUIRE_INTEROP`
//! asks for skips to fail (CI, as root).

use crate::demo::{self, Options, Recording, Scenario};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far beyond what loading a page takes; only bounds a hang.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary, or None after reporting the skip (or failing,
/// when skips must fail).
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    for name in ["chromium", "chromium-browser"] {
        if let Some(p) = std::env::split_paths(&path)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
        {
            return Some(p);
        }
    }
    let line = "skipped: chromium not installed (apt-get install chromium)";
    if synack_testbed::strict() {
        panic!(
            "{line} ({} is set: a skip is a failure)",
            synack_testbed::REQUIRE_VAR
        );
    }
    eprintln!("{line}");
    None
}

/// A page as the browser saw it.
pub struct Loaded {
    pub dom: String,
    /// Console lines from the browser's log: messages and uncaught errors.
    pub console: Vec<String>,
}

/// Loads `page` in headless Chromium and returns the DOM it built and
/// what it logged to the console.
pub fn load(chromium: &Path, page: &Path) -> Loaded {
    let profile = page.with_extension("chromium-profile");
    let url = format!(
        "file://{}",
        page.canonicalize().expect("page path").display()
    );
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting chromium");
    // Read both pipes on threads so that neither can fill and stall it.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for chromium").is_some() {
            break;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish loading {url} in {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&profile);
    let dom = out.join().unwrap_or_default();
    let log = err.join().unwrap_or_default();
    Loaded {
        dom,
        console: console_lines(&log),
    }
}

/// The lines of Chromium's log that report the page's console: its
/// `CONSOLE` entries and uncaught exceptions.
pub fn console_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect()
}

/// Occurrences of `needle` in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// The counts a test checks, read from the dumped DOM.
#[derive(Debug, PartialEq, Eq)]
pub struct DomCounts {
    /// Elements of class `seg` (ladder arrows).
    pub arrows: usize,
    /// The sum of the elision markers' `data-count`.
    pub elided: usize,
    /// Elements of class `state`.
    pub states: usize,
}

pub fn dom_counts(dom: &str) -> DomCounts {
    let mut elided = 0;
    for (at, _) in dom.match_indices(r#"<g class="elided" data-count=""#) {
        let rest = &dom[at + r#"<g class="elided" data-count=""#.len()..];
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        elided += n.parse::<usize>().unwrap_or(0);
    }
    DomCounts {
        arrows: count(dom, r#"<g class="seg "#),
        elided,
        states: count(dom, r#"<g class="state "#),
    }
}

/// A `data-NAME` attribute of the page's root element.
pub fn root_attr(dom: &str, name: &str) -> Option<u64> {
    let root = &dom[dom.find(r#"<main id="synack-plot""#)?..];
    let root = &root[..root.find('>')?];
    let key = format!(r#"data-{name}=""#);
    let v = &root[root.find(&key)? + key.len()..];
    v[..v.find('"')?].parse().ok()
}

/// TCP-over-IP packets in a classic pcap file of link type RAW or
/// Ethernet, counted with no code of the plot module: the number the
/// page's arrows and elision markers must add up to.
pub fn tcp_packets(pcap: &[u8]) -> usize {
    let le = pcap[..4] == [0xd4, 0xc3, 0xb2, 0xa1] || pcap[..4] == [0x4d, 0x3c, 0xb2, 0xa1];
    let u32_at = |at: usize| {
        let b: [u8; 4] = pcap[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let link = u32_at(20) & 0xffff;
    let mut at = 24;
    let mut n = 0;
    while at + 16 <= pcap.len() {
        let len = u32_at(at + 8) as usize;
        let p = &pcap[at + 16..(at + 16 + len).min(pcap.len())];
        let ip = match link {
            101 => p,
            1 if p.len() > 14 && p[12..14] == [0x08, 0x00] => &p[14..],
            1 if p.len() > 14 && p[12..14] == [0x86, 0xdd] => &p[14..],
            _ => &[][..],
        };
        let tcp = match ip.first().map(|b| b >> 4) {
            Some(4) => ip.len() >= 20 && ip[9] == 6,
            Some(6) => ip.len() >= 40 && ip[6] == 6,
            _ => false,
        };
        n += usize::from(tcp);
        at += 16 + len;
    }
    n
}

/// Which transitions a page must show.
pub enum Expect {
    /// This many state labels (and omitted transitions) in all.
    All(usize),
    /// This many labels of transitions the engine reported.
    Engine(usize),
}

/// Loads a written page and checks it: no console output, and drawn
/// elements matching `segments` and `transitions`. Returns the DOM.
pub fn check_page(chromium: &Path, page: &Path, segments: usize, transitions: Expect) -> String {
    let loaded = load(chromium, page);
    assert!(
        loaded.console.is_empty(),
        "{} logged to the console:\n{}",
        page.display(),
        loaded.console.join("\n")
    );
    assert!(
        loaded.dom.contains(r#"<main id="synack-plot""#),
        "{}: the dumped DOM has no page root:\n{}",
        page.display(),
        &loaded.dom[..loaded.dom.len().min(2000)]
    );
    let k = dom_counts(&loaded.dom);
    let omitted = |what| root_attr(&loaded.dom, what).unwrap_or(0) as usize;
    assert_eq!(
        k.arrows + k.elided + omitted("omitted-segments"),
        segments,
        "{}: arrows plus elided segments against the capture's TCP packets ({k:?})",
        page.display()
    );
    assert_eq!(
        Some((k.states + omitted("omitted-transitions")) as u64),
        root_attr(&loaded.dom, "transitions"),
        "{}: state labels against the page's own count ({k:?})",
        page.display()
    );
    match transitions {
        Expect::All(n) => assert_eq!(
            k.states + omitted("omitted-transitions"),
            n,
            "{}: state labels against the transitions ({k:?})",
            page.display()
        ),
        Expect::Engine(n) => assert_eq!(
            count(&loaded.dom, r#"<g class="state side-a engine""#)
                + count(&loaded.dom, r#"<g class="state side-b engine""#)
                + omitted("omitted-engine-transitions"),
            n,
            "{}: engine state labels against the engine's transitions",
            page.display()
        ),
    }
    assert_eq!(root_attr(&loaded.dom, "segments"), Some(segments as u64));
    loaded.dom
}

/// Removes a scratch directory, unless `SYNACK_PLOT_KEEP` is set (to look
/// at the pages).
pub fn done(dir: &Path) {
    if std::env::var_os("SYNACK_PLOT_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    } else {
        eprintln!("kept {}", dir.display());
    }
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("synack-plot-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

#[test]
fn a_page_that_throws_is_caught() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("throws");
    let page = dir.join("throws.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>throw new Error('plot-negative-test')</script></body></html>",
    )
    .unwrap();
    let loaded = load(&chromium, &page);
    assert!(
        loaded
            .console
            .iter()
            .any(|l| l.contains("plot-negative-test")),
        "the detection missed an uncaught error; console lines: {:?}",
        loaded.console
    );
    done(&dir);
}

/// Every demo scenario's page: arrows against the capture's packets,
/// state labels against the engine's own transitions.
#[test]
fn demo_pages_in_the_browser() {
    let Some(chromium) = chromium() else { return };
    let dir = scratch("demo");
    // Seed 1 at 10 % loss loses segments of the basic run (the
    // simulator is deterministic): retransmissions to draw.
    for (scenario, seed, loss) in
        Scenario::ALL
            .iter()
            .map(|s| (*s, 3, 0.0))
            .chain([(Scenario::Basic, 1, 10.0)])
    {
        let name = format!("{}-{loss}", scenario.name());
        let opts = Options {
            scenario,
            seed,
            loss,
            pcap: Some(dir.join(format!("{name}.pcap"))),
            html: Some(dir.join(format!("{name}.html"))),
            quiet: true,
        };
        let mut rec = Recording::default();
        let _ = demo::run_recorded(&opts, &mut rec);
        let pcap = std::fs::read(opts.pcap.as_ref().unwrap()).unwrap();
        assert_eq!(pcap, rec.pcap, "{name}: the page drew from the capture");
        let k = rec.counts.expect("the page was rendered");
        let engine = rec.samples.transitions.len() - k.unmatched_transitions;
        let dom = check_page(
            &chromium,
            opts.html.as_ref().unwrap(),
            tcp_packets(&pcap),
            Expect::Engine(engine),
        );
        assert!(
            loss == 0.0 || k.retransmissions > 0,
            "{name}: no retransmission drawn under loss"
        );
        // Every scenario but `refused` synchronizes a connection.
        assert!(
            scenario == Scenario::Refused || count(&dom, r#"class="series cc""#) > 0,
            "{name}: no cwnd graph"
        );
    }
    done(&dir);
}
