//! The `synack` command: a demo of the engine on the simulated network,
//! benchmarks of the engine, and the engine on a real TUN or TAP device
//! (`serve`, `connect`, `ss`).
//!
//! This file only dispatches; the command line is declared in `cli.rs`.
//! Every usage mistake is reported with a message naming the argument and
//! exit code 2, so scripts can tell a usage error (2) from a demo whose
//! claims did not hold (1).

// First, so that its output macros are in scope in every other module.
#[macro_use]
mod out;

mod alloc;
mod bench;
mod cli;
mod demo;
mod host;
mod ladder;
mod live;
mod plot;
mod report;
mod scenarios;
mod script;

use cli::Command;
use std::process::ExitCode;

/// Counts live heap bytes per owner, for `synack bench memory`.
#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

fn main() -> ExitCode {
    init_logging();
    match cli::parse(std::env::args_os()) {
        Ok(Command::Help) => {
            out!("{}", cli::help());
            ExitCode::SUCCESS
        }
        Ok(Command::Demo(opts)) => demo::run(&opts),
        Ok(Command::Bench(opts)) => bench::run(&opts),
        Ok(Command::Serve(opts)) => live::serve::run(&opts),
        Ok(Command::Connect(opts)) => live::connect::run(&opts),
        Ok(Command::Forward(opts)) => live::forward::run(&opts),
        Ok(Command::Ss(opts)) => live::ss::run(&opts),
        Ok(Command::Script(opts)) => script::run(&opts),
        Ok(Command::Plot(opts)) => plot::run(&opts),
        // Help and --version print to standard output and exit 0; a usage
        // error is one line on standard error, exit code 2.
        Err(e) if e.use_stderr() => {
            eprintln!("{}", cli::one_line(&e));
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
    }
}

/// Logging to standard error through `tracing`, filtered by `RUST_LOG`
/// (for example `RUST_LOG=synack_io=debug`); by default only warnings and
/// errors, so that a healthy run prints nothing but its own output.
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) => EnvFilter::try_new(&spec).unwrap_or_else(|e| {
            eprintln!("synack: RUST_LOG={spec}: {e}; logging warnings only");
            EnvFilter::new("warn")
        }),
        Err(_) => EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    use cli::{Command, parse};

    fn p(s: &str) -> Result<Command, String> {
        let v = std::iter::once("synack").chain(s.split_whitespace());
        parse(v).map_err(|e| e.to_string())
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
            "bench lifecycle --size 5",
            "bench tun --size 0",
            "bench tun --loss 100",
            "bench tun --loss -1",
            "bench tun --loss x",
            "bench memory --loss 1",
            "bench tun --min-rto 0",
            "bench tun --min-rto 0.2",
            "bench lossy --min-rto 200",
            "serve",
            "serve --tun tun0",
            "serve --ip 198.18.0.2",
            "serve --tun tun0 --tap tap0 --ip 198.18.0.2",
            "serve --tun tun0 --ip 198.18.0.300",
            "serve --tun tun0 --ip 0.0.0.0",
            "serve --tun tun0 --ip 198.18.0.2 --port 0",
            "serve --tun tun0 --ip 198.18.0.2 --port 70000",
            "serve --tun tun0 --ip 198.18.0.2 --app gopher",
            "serve --tun tun0 --ip 198.18.0.2 --pcap=",
            "connect --tun tun0 --ip 198.18.0.2",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:0",
            "connect --tun tun0 --ip 198.18.0.2 [2001:db8::1]:80",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:80 198.18.0.1:81",
            "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:80 --timeout 0",
            "ss",
            "ss --control /tmp/x --pcap y",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn live_commands() {
        let Ok(Command::Serve(o)) = p("serve --tun tun0 --ip 198.18.0.2 --app http") else {
            panic!("serve")
        };
        assert_eq!(o.link.kind, live::DeviceKind::Tun);
        assert_eq!(o.link.ifname, "tun0");
        assert_eq!(o.app, live::apps::App::Http);
        assert_eq!(o.port, None);
        assert!(o.link.offload, "offloads by default");
        let Ok(Command::Serve(o)) = p("serve --tun tun0 --ip 198.18.0.2 --no-offload") else {
            panic!("serve --no-offload")
        };
        assert!(!o.link.offload);
        assert!(p("serve --tap tap0 --ip 198.18.0.2 --no-offload").is_err());
        assert!(p("serve --tun tun0 --ip 198.18.0.2 --no-offload=yes").is_err());
        let Ok(Command::Serve(o)) =
            p("serve --tap=tap0 --ip 2001:db8::2 --port 8080 --control /tmp/c --pcap /tmp/p")
        else {
            panic!("serve tap")
        };
        assert_eq!(o.link.kind, live::DeviceKind::Tap);
        assert_eq!(o.port, Some(8080));
        assert!(o.link.ip.is_ipv6());
        assert!(o.control.is_some() && o.link.pcap.is_some());
        let Ok(Command::Connect(o)) =
            p("connect --tun tun0 --ip 2001:db8::2 [2001:db8::1]:5000 --timeout 2.5")
        else {
            panic!("connect")
        };
        assert_eq!(o.remote.port(), 5000);
        assert_eq!(o.timeout, std::time::Duration::from_millis(2500));
        let Ok(Command::Ss(o)) = p("ss --control /tmp/c --counters") else {
            panic!("ss")
        };
        assert!(o.counters);
        assert!(!o.info);
        let Ok(Command::Bench(o)) = p("bench tun --size 16 --json") else {
            panic!("bench tun")
        };
        assert_eq!(o.which, bench::Which::Tun);
        assert_eq!(o.size_mib, Some(16));
        assert_eq!(o.loss_percent, None);
        let Ok(Command::Bench(o)) = p("bench tun --loss 0.1 --size 32") else {
            panic!("bench tun --loss")
        };
        assert_eq!(o.loss_percent, Some(0.1));
        assert_eq!(o.size_mib, Some(32));
        assert_eq!(o.min_rto, None);
        let Ok(Command::Bench(o)) = p("bench tun --loss 1 --min-rto 200") else {
            panic!("bench tun --min-rto")
        };
        assert_eq!(o.min_rto, Some(std::time::Duration::from_millis(200)));
        let Ok(Command::Bench(o)) = p("bench lossy --json") else {
            panic!("bench lossy")
        };
        assert_eq!(o.which, bench::Which::Lossy);
        assert!(o.json);
        assert!(p("bench lossy tun").is_err());
        assert!(p("bench lossy --size 4").is_err());
    }

    #[test]
    fn forward_options() {
        let Ok(Command::Forward(o)) = p("forward --tun tun0 --ip 198.18.0.2") else {
            panic!("forward")
        };
        assert_eq!(o.link.ifname, "tun0");
        assert!(o.more_ips.is_empty());
        assert_eq!(o.dialer.timeout, std::time::Duration::from_secs(10));
        assert_eq!(o.dialer.mark, None);
        assert_eq!(
            o.half_close_timeout,
            Some(std::time::Duration::from_secs(60))
        );
        assert_eq!(o.pending_limit, None);
        let Ok(Command::Forward(o)) = p(
            "forward --tun tun0 --ip 198.18.0.2 --ip 2001:db8::2 --connect-timeout 2.5 \
             --idle-timeout 0 --half-close-timeout 5 --pending-limit 100 --mss-clamp 1200 \
             --mark 7 --bind-interface eth0 --socks5 127.0.0.1:1080 --no-offload",
        ) else {
            panic!("forward with every option")
        };
        assert_eq!(
            o.more_ips,
            ["2001:db8::2".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(o.dialer.timeout, std::time::Duration::from_millis(2500));
        assert_eq!(o.idle_timeout, None);
        assert_eq!(
            o.half_close_timeout,
            Some(std::time::Duration::from_secs(5))
        );
        assert_eq!((o.pending_limit, o.mss_clamp), (Some(100), Some(1200)));
        assert_eq!(o.dialer.mark, Some(7));
        assert_eq!(o.dialer.bind_interface.as_deref(), Some("eth0"));
        assert!(o.dialer.socks5.is_some() && !o.link.offload);
        for bad in [
            "forward --tun tun0",
            "forward --ip 198.18.0.2",
            "forward --tun tun0 --ip 198.18.0.2 --ip 198.18.0.3",
            "forward --tun tun0 --ip 198.18.0.2 --mss-clamp 50",
            "forward --tun tun0 --ip 198.18.0.2 --connect-timeout 0",
            "forward --tun tun0 --ip 198.18.0.2 --socks5 proxy:1080",
            "forward --tap tap0 --ip 198.18.0.2",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn ss_info() {
        for args in [
            "ss --control /tmp/c -i",
            "ss -i --control=/tmp/c",
            "ss --info --control /tmp/c",
        ] {
            let Ok(Command::Ss(o)) = p(args) else {
                panic!("{args}")
            };
            assert!(o.info && !o.counters, "{args}");
            assert_eq!(o.control, std::path::PathBuf::from("/tmp/c"));
        }
        let Ok(Command::Ss(o)) = p("ss --control /tmp/c -i --counters") else {
            panic!("-i --counters")
        };
        assert!(o.info && o.counters);
        for bad in [
            "ss -i",
            "ss --info=yes --control /tmp/c",
            "ss --control /tmp/c -ix",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn script_options() {
        let Ok(Command::Script(o)) = p("script --profile linux --tolerance-usecs 100000 a.pkt dir")
        else {
            panic!("script")
        };
        assert_eq!(o.profile, synack_script::Profile::Linux);
        assert_eq!(o.tolerance_usecs, Some(100_000));
        assert_eq!(o.paths.len(), 2);
        let Ok(Command::Script(o)) = p("script a.pkt") else {
            panic!("defaults")
        };
        assert_eq!(o.tolerance_usecs, None);
        for bad in [
            "script",
            "script --tolerance-usecs x a.pkt",
            "script --tolerance-usecs -5 a.pkt",
            "script --profile bsd a.pkt",
        ] {
            assert!(p(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn help_and_version() {
        use clap::error::ErrorKind;
        assert_eq!(p(""), Ok(Command::Help));
        let kind = |s: &str| {
            let v = std::iter::once("synack").chain(s.split_whitespace());
            parse(v).expect_err(s).kind()
        };
        assert_eq!(kind("--help"), ErrorKind::DisplayHelp);
        assert_eq!(kind("--version"), ErrorKind::DisplayVersion);
        // Every subcommand's help has its purpose and an example.
        for sub in [
            "demo", "bench", "serve", "connect", "forward", "ss", "script", "plot",
        ] {
            let v = ["synack", sub, "--help"];
            let e = parse(v).expect_err(sub);
            assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{sub}");
            assert_eq!(e.exit_code(), 0, "{sub}");
            let text = e.to_string();
            assert!(
                text.contains("Example"),
                "{sub} --help has no example:\n{text}"
            );
            assert!(
                text.lines().next().is_some_and(|l| l.len() > 20),
                "{sub}: {text}"
            );
        }
        assert!(cli::help().contains("Examples:"));
    }

    #[test]
    fn usage_errors_name_the_argument_and_exit_2() {
        for (args, named) in [
            ("demo --seed x", "--seed"),
            ("demo --scenario nope", "--scenario"),
            ("bench --connections 0", "--connections"),
            ("serve --tun tun0 --ip 198.18.0.300", "--ip"),
            (
                "connect --tun tun0 --ip 198.18.0.2 198.18.0.1:0",
                "HOST:PORT",
            ),
            ("demo --loss 5 --scenario refused", "--loss"),
            ("bench memory --loss 1", "--loss"),
            ("frobnicate", "frobnicate"),
            ("serve --ip 198.18.0.2", "--tun"),
            ("ss", "--control"),
        ] {
            let v = std::iter::once("synack").chain(args.split_whitespace());
            let e = parse(v).expect_err(args);
            assert_eq!(e.exit_code(), 2, "{args}");
            let line = cli::one_line(&e);
            assert!(!line.contains('\n'), "{args}: {line}");
            assert!(line.starts_with("synack: "), "{args}: {line}");
            assert!(line.contains(named), "{args}: {line}");
        }
    }
}
