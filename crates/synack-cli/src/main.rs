//! The `synack` command: a demo of the engine on the simulated network, and
//! benchmarks of the engine itself.
//!
//! This file only parses arguments and dispatches. Arguments are parsed by
//! hand (no dependency); every mistake is reported with a clear message and
//! exit code 2, so scripts can tell a usage error (2) from a demo whose
//! claims did not hold (1).

// First, so that its output macros are in scope in every other module.
#[macro_use]
mod out;

mod alloc;
mod bench;
mod demo;
mod host;
mod ladder;
mod report;
mod scenarios;

use std::process::ExitCode;

/// Counts live heap bytes per owner, for `synack bench memory`.
#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const USAGE: &str = "\
synack: a user-space TCP/IP stack, shown on a simulated network

USAGE:
    synack demo [--scenario NAME] [--seed N] [--loss PERCENT] [--pcap FILE] [--quiet]
    synack bench [lifecycle|memory] [--json] [--connections N] [--batch N]
    synack --help

DEMO
    Two hosts, client 198.18.0.1 and server 198.18.0.2:80, on a simulated
    10 ms link in virtual time (no root, no real network). Prints a ladder
    diagram of every segment and every state transition, then a summary.
    Exits 0 only if the scenario showed what it claims, 1 otherwise.

    --scenario NAME   basic (default), simultaneous-open, simultaneous-close,
                      refused, syn-flood, split-handshake
    --seed N          seed of the simulation (default 1): endpoint secrets,
                      link randomness, the attacker's choices
    --loss PERCENT    random loss on the link, both ways, 0 to 100
                      (basic and syn-flood only: the other scenarios claim an
                      exact exchange of segments)
    --pcap FILE       also write every segment to FILE (classic pcap, raw IP;
                      opens in Wireshark and tcpdump)
    --quiet           print the summary only

BENCH
    lifecycle         connection lifecycles per second on one core: two
                      endpoints back to back, handshake + 16 bytes + close +
                      TIME-WAIT, in virtual time; plus a wire-only baseline
    memory            heap bytes per idle ESTABLISHED connection, after a
                      16-byte exchange, and per TIME-WAIT entry
    (no name)         both

    --json            one JSON object instead of `name: value unit` lines
    --connections N   connections to run (lifecycle default 200000,
                      memory default 100000)
    --batch N         lifecycle: connections in flight at once (default 1000)

Run benchmarks from a release build: cargo run --release -- bench
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Command::Help) => {
            out!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Demo(opts)) => demo::run(&opts),
        Ok(Command::Bench(opts)) => bench::run(&opts),
        Err(msg) => {
            eprintln!("synack: {msg}");
            eprintln!("Try 'synack --help'.");
            ExitCode::from(2)
        }
    }
}

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Demo(demo::Options),
    Bench(bench::Options),
}

/// Parses the arguments after the program name.
fn parse(args: &[String]) -> Result<Command, String> {
    let Some(first) = args.first() else {
        return Ok(Command::Help);
    };
    let rest = &args[1..];
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "demo" => parse_demo(rest),
        "bench" => parse_bench(rest),
        other => Err(format!(
            "unknown command '{other}' (expected demo or bench)"
        )),
    }
}

/// Splits `--name=value` and `--name value` uniformly. `i` is advanced past
/// whatever was consumed.
struct Args<'a> {
    args: &'a [String],
    i: usize,
}

impl<'a> Args<'a> {
    fn new(args: &'a [String]) -> Self {
        Args { args, i: 0 }
    }

    /// The next argument as (flag, inline value), or `None` at the end.
    fn next(&mut self) -> Option<(&'a str, Option<&'a str>)> {
        let a = self.args.get(self.i)?;
        self.i += 1;
        Some(match a.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (a.as_str(), None),
        })
    }

    /// The value of `flag`: the inline one, or the next argument.
    fn value(&mut self, flag: &str, inline: Option<&'a str>) -> Result<&'a str, String> {
        if let Some(v) = inline {
            return Ok(v);
        }
        let v = self
            .args
            .get(self.i)
            .ok_or_else(|| format!("{flag} needs a value"))?;
        self.i += 1;
        Ok(v)
    }
}

fn no_value(flag: &str, inline: Option<&str>) -> Result<(), String> {
    match inline {
        Some(_) => Err(format!("{flag} takes no value")),
        None => Ok(()),
    }
}

fn parse_demo(args: &[String]) -> Result<Command, String> {
    let mut o = demo::Options::default();
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--scenario" => {
                let v = a.value(flag, inline)?;
                o.scenario = demo::Scenario::from_name(v).ok_or_else(|| {
                    format!(
                        "unknown scenario '{v}' (expected one of: {})",
                        demo::Scenario::NAMES.join(", ")
                    )
                })?;
            }
            "--seed" => {
                let v = a.value(flag, inline)?;
                o.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: '{v}' is not an integer from 0 to 2^64-1"))?;
            }
            "--loss" => {
                let v = a.value(flag, inline)?;
                let p: f64 = v
                    .trim_end_matches('%')
                    .parse()
                    .map_err(|_| format!("--loss: '{v}' is not a number"))?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(format!("--loss: {v} is not a percentage from 0 to 100"));
                }
                o.loss = p;
            }
            "--pcap" => {
                let v = a.value(flag, inline)?;
                if v.is_empty() {
                    return Err("--pcap needs a file name".into());
                }
                o.pcap = Some(v.into());
            }
            "--quiet" | "-q" => {
                no_value(flag, inline)?;
                o.quiet = true;
            }
            other => return Err(format!("demo: unknown option '{other}'")),
        }
    }
    if o.loss > 0.0 && !o.scenario.supports_loss() {
        return Err(format!(
            "--loss applies to the basic and syn-flood scenarios only; '{}' claims an exact \
             exchange of segments that loss would change",
            o.scenario.name()
        ));
    }
    Ok(Command::Demo(o))
}

fn parse_bench(args: &[String]) -> Result<Command, String> {
    let mut o = bench::Options::default();
    let mut a = Args::new(args);
    while let Some((flag, inline)) = a.next() {
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => {
                no_value(flag, inline)?;
                o.json = true;
            }
            "--connections" => o.connections = Some(count(flag, a.value(flag, inline)?)?),
            "--batch" => o.batch = Some(count(flag, a.value(flag, inline)?)?),
            name if !name.starts_with('-') => {
                let which = bench::Which::from_name(name).ok_or_else(|| {
                    format!("unknown benchmark '{name}' (expected lifecycle or memory)")
                })?;
                if o.which != bench::Which::All {
                    return Err("name one benchmark, or none for both".into());
                }
                o.which = which;
            }
            other => return Err(format!("bench: unknown option '{other}'")),
        }
    }
    Ok(Command::Bench(o))
}

/// A positive count with a sane upper bound (the benchmarks hold every
/// connection in memory; 10 million is already several GiB).
fn count(flag: &str, v: &str) -> Result<usize, String> {
    let n: usize = v
        .replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: '{v}' is not a positive integer"))?;
    if n == 0 || n > 10_000_000 {
        return Err(format!("{flag}: {v} is out of range (1 to 10000000)"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Command, String> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(&v)
    }

    #[test]
    fn demo_defaults_and_flags() {
        let Ok(Command::Demo(o)) = p("demo") else {
            panic!("demo")
        };
        assert_eq!(o, demo::Options::default());
        let Ok(Command::Demo(o)) = p("demo --scenario=refused --seed 7 --quiet --pcap /tmp/x.pcap")
        else {
            panic!("flags")
        };
        assert_eq!(o.scenario, demo::Scenario::Refused);
        assert_eq!(o.seed, 7);
        assert!(o.quiet);
        let Ok(Command::Demo(o)) = p("demo --loss 5%") else {
            panic!("loss")
        };
        assert_eq!(o.loss, 5.0);
    }

    #[test]
    fn bad_arguments_are_errors() {
        for bad in [
            "frobnicate",
            "demo --seed",
            "demo --seed -1",
            "demo --seed x",
            "demo --loss 101",
            "demo --loss nan",
            "demo --loss 5 --scenario refused",
            "demo --scenario nope",
            "demo --quiet=yes",
            "demo --pcap=",
            "demo extra",
            "bench nope",
            "bench lifecycle memory",
            "bench --connections 0",
            "bench --batch x",
            "bench --json=1",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn help() {
        assert_eq!(p(""), Ok(Command::Help));
        assert_eq!(p("--help"), Ok(Command::Help));
        assert_eq!(p("demo --help"), Ok(Command::Help));
    }
}
