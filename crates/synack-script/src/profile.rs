//! Stack profiles and the mapping of the scripts' `sysctl` settings onto
//! synack's configuration.

use core::time::Duration;
use synack::cc::Algorithm;
use synack::{Config, EcnMode, InitialWindow, SynCookieMode};

/// Which stack configuration a script runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// synack's own defaults.
    Rfc,
    /// The defaults RFC 9293 leaves open, chosen as Linux chooses them:
    /// see [`linux_config`].
    Linux,
    /// For scripts written against another system's TCP that test RFC
    /// behaviour, not that kernel's choices: synack's own defaults, and
    /// the runner's matching relaxed rule by rule (see `run.rs`,
    /// "portable").
    Portable,
}

impl Profile {
    /// The name on the command line (`--profile rfc`): `rfc`, `linux` or
    /// `portable`.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Rfc => "rfc",
            Profile::Linux => "linux",
            Profile::Portable => "portable",
        }
    }

    /// The profile a [`name`](Profile::name) names; `None` for any other
    /// string.
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "rfc" => Some(Profile::Rfc),
            "linux" => Some(Profile::Linux),
            "portable" => Some(Profile::Portable),
            _ => None,
        }
    }

    /// The engine configuration the profile starts from.
    pub fn config(self) -> Config {
        match self {
            Profile::Rfc | Profile::Portable => Config::default(),
            Profile::Linux => linux_config(),
        }
    }
}

/// synack configured to look like Linux on the wire where RFC 9293 and its
/// companions leave the choice open. Every line is a choice Linux makes:
///
/// - a 15 MiB receive buffer (Linux's `tcp_rmem` maximum), which makes the
///   window-scale shift 8, as Linux offers;
/// - a 256 KiB send buffer (`tcp_wmem` default);
/// - an initial window of 10 segments (RFC 6928, Linux since 2.6.39);
/// - a 40 ms delayed-ACK timer with quick ACKs at the start (synack's
///   default already);
/// - a minimum RTO of 200 ms (`TCP_RTO_MIN`) and an initial RTO of 1 s;
/// - ECN accepted when the peer asks, not requested (`tcp_ecn = 2`);
/// - a RST that aborts a connection also acknowledges RCV.NXT;
/// - the ACK of a FIN that follows data waits for the delayed-ACK timer,
///   and carries no D-SACK;
/// - an ACK of data never sent is dropped silently, and TS.Recent moves
///   only with segments whose ACK is acceptable;
/// - closing a listener drops its half-open children silently;
/// - PSH on the last segment of each run of segments sent back to back
///   (Linux pushes every GSO packet);
/// - CUBIC, SACK, timestamps and window scaling on;
/// - the option layout (MSS, SACK-permitted or NOP NOP, TS, NOP, WS) is
///   the one synack always writes.
pub fn linux_config() -> Config {
    let mut cfg = Config::default();
    cfg.recv_buffer = 15 * 1024 * 1024;
    cfg.send_buffer = 256 * 1024;
    cfg.initial_window = InitialWindow::Rfc6928;
    cfg.delayed_ack = Some(Duration::from_millis(40));
    cfg.rtt.min_rto = Duration::from_millis(200);
    cfg.rtt.initial_rto = Duration::from_secs(1);
    cfg.ecn = EcnMode::Accept;
    cfg.rst_with_ack = true;
    cfg.delayed_fin_ack = true;
    cfg.fin_clears_dsack = true;
    cfg.psh_on_bursts = true;
    cfg.linux_ack_checks = true;
    cfg.reset_half_open_on_listener_close = false;
    cfg.congestion_control = Algorithm::Cubic;
    cfg.sack = true;
    cfg.timestamps = true;
    cfg.window_scaling = true;
    cfg
}

/// What a `sysctl` setting does to the run.
pub enum Effect {
    /// Applied to the configuration.
    Applied,
    /// Cannot change what a script observes of synack, with the reason.
    NoEffect(&'static str),
}

/// Applies `net.ipv4.NAME = VALUE` (the name without the prefix) to
/// `cfg`, or says why it cannot.
pub fn sysctl(cfg: &mut Config, name: &str, value: &str) -> Result<Effect, String> {
    let int = || -> Result<i64, String> {
        let v = value.trim();
        let parsed = if let Some(h) = v.strip_prefix("0x") {
            i64::from_str_radix(h, 16)
        } else {
            v.parse()
        };
        parsed.map_err(|_| format!("sysctl {name}={value}: not a number"))
    };
    let bool_ = || int().map(|v| v != 0);
    let unsupported = |why: &str| Err(format!("sysctl {name}={value}: {why}"));
    match name {
        "tcp_timestamps" => cfg.timestamps = bool_()?,
        "tcp_sack" => cfg.sack = bool_()?,
        "tcp_window_scaling" => cfg.window_scaling = bool_()?,
        "tcp_syn_retries" => cfg.syn_retries = int()?.clamp(1, 255) as u8,
        "tcp_synack_retries" => cfg.synack_retries = int()?.clamp(1, 255) as u8,
        "tcp_retries2" => cfg.max_retransmits = int()?.clamp(1, 255) as u8,
        "tcp_frto" => cfg.frto = bool_()?,
        "tcp_slow_start_after_idle" => cfg.slow_start_after_idle = bool_()?,
        "tcp_fin_timeout" => {
            cfg.fin_wait2_timeout = Some(Duration::from_secs(int()?.max(1) as u64))
        }
        "tcp_ecn" => {
            cfg.ecn = match int()? {
                0 => EcnMode::Off,
                1 => EcnMode::Request,
                2 => EcnMode::Accept,
                _ => return unsupported("AccECN is not implemented"),
            }
        }
        "tcp_syncookies" => {
            cfg.syn_cookies = match int()? {
                0 => SynCookieMode::Off,
                1 => SynCookieMode::WhenQueueFull,
                _ => SynCookieMode::Always,
            }
        }
        "tcp_congestion_control" => {
            cfg.congestion_control = match value.trim() {
                "cubic" => Algorithm::Cubic,
                "reno" => Algorithm::NewReno,
                other => return unsupported(&format!("no congestion control named {other}")),
            }
        }
        "tcp_rmem" | "tcp_wmem" => {
            let v: Vec<usize> = value
                .trim_matches('"')
                .split_whitespace()
                .map(|x| {
                    x.parse()
                        .map_err(|_| format!("sysctl {name}={value}: not three numbers"))
                })
                .collect::<Result<_, _>>()?;
            let [_, default, max] = v[..] else {
                return unsupported("expected three numbers");
            };
            if name == "tcp_rmem" {
                // Linux offers its window-scale shift for the largest
                // buffer and grows into it: synack's buffer is the largest.
                cfg.recv_buffer = max;
            } else {
                cfg.send_buffer = default;
            }
        }
        "tcp_dsack" => {
            if !bool_()? {
                return unsupported("synack always sends D-SACK when SACK is on");
            }
            return Ok(Effect::NoEffect("D-SACK is always on in synack"));
        }
        "tcp_reordering" => {
            if int()? != 3 {
                return unsupported("synack's duplicate-ACK threshold is fixed at 3 (RACK adapts)");
            }
            return Ok(Effect::NoEffect("3 is synack's DupThresh"));
        }
        "tcp_early_retrans" | "tcp_recovery" => {
            cfg.tail_loss_probe = int()? != 0;
        }
        "tcp_fack" => {
            if bool_()? {
                return unsupported("FACK is not implemented");
            }
            return Ok(Effect::NoEffect("FACK off: synack has none"));
        }
        "tcp_tso_win_divisor" => return Ok(Effect::NoEffect("synack defers no sending for TSO")),
        "tcp_ecn_option" | "tcp_ecn_option_beacon" => {
            return Ok(Effect::NoEffect(
                "the AccECN option is used only with tcp_ecn 3",
            ));
        }
        "tcp_pacing_ss_ratio" | "tcp_pacing_ca_ratio" => {
            return Ok(Effect::NoEffect("synack does not pace"));
        }
        "tcp_notsent_lowat" => {
            return Ok(Effect::NoEffect("synack keeps no not-sent low-water mark"));
        }
        "tcp_fastopen" | "tcp_fastopen_key" => {
            return Ok(Effect::NoEffect(
                "synack has no TCP Fast Open; a script using it fails on its option",
            ));
        }
        "tcp_min_tso_segs" | "tcp_autocorking" => {
            return Ok(Effect::NoEffect(
                "synack emits no TSO segments and does not cork",
            ));
        }
        _ => return unsupported("no equivalent in synack"),
    }
    Ok(Effect::Applied)
}

/// A BSD `sysctl net.inet.tcp.NAME=VALUE` (the portable profile): mapped
/// where synack has the setting, listed with the reason where it cannot
/// change the behaviour under test, unsupported otherwise.
pub fn bsd_sysctl(cfg: &mut Config, name: &str, value: &str) -> Result<Effect, String> {
    let int = || -> Result<i64, String> {
        value
            .trim()
            .parse()
            .map_err(|_| format!("sysctl {name}={value}: not a number"))
    };
    let unsupported = |why: &str| Err(format!("sysctl {name}={value}: {why}"));
    match name {
        "net.inet.tcp.sack.enable" => cfg.sack = int()? != 0,
        "net.inet.tcp.rfc1323" => {
            let v = int()?;
            cfg.window_scaling = v == 1 || v == 2;
            cfg.timestamps = v == 1 || v == 3;
        }
        "net.inet.tcp.recvspace" => cfg.recv_buffer = int()?.max(1) as usize,
        "net.inet.tcp.sendspace" => cfg.send_buffer = int()?.max(1) as usize,
        "net.inet.tcp.ecn.enable" => {
            cfg.ecn = match int()? {
                0 => EcnMode::Off,
                1 => EcnMode::Request,
                2 => EcnMode::Accept,
                _ => return unsupported("no such ECN mode in synack"),
            }
        }
        "net.inet.tcp.rexmit_initial" => {
            cfg.rtt.initial_rto = Duration::from_millis(int()?.max(1) as u64)
        }
        "net.inet.tcp.rexmit_min" => cfg.rtt.min_rto = Duration::from_millis(int()?.max(1) as u64),
        "net.inet.tcp.syncookies" => {
            cfg.syn_cookies = if int()? != 0 {
                SynCookieMode::WhenQueueFull
            } else {
                SynCookieMode::Off
            }
        }
        "net.inet.tcp.insecure_rst" | "net.inet.tcp.insecure_syn" => {
            if int()? != 0 {
                return unsupported("synack's RFC 5961 mitigations cannot be turned off");
            }
            return Ok(Effect::NoEffect(
                "RFC 5961 mitigations on: synack always has them",
            ));
        }
        "net.inet.tcp.blackhole" => {
            if int()? != 0 {
                return unsupported("synack always answers closed ports with a RST");
            }
            return Ok(Effect::NoEffect(
                "closed ports answered with a RST: synack always does",
            ));
        }
        "net.inet.tcp.hostcache.purgenow" | "net.inet.tcp.hostcache.purge" => {
            return Ok(Effect::NoEffect("synack keeps no host cache to flush"));
        }
        "kern.ipc.maxsockbuf" => {
            return Ok(Effect::NoEffect(
                "a system-wide socket-buffer cap; synack's buffers are set per endpoint",
            ));
        }
        _ => return unsupported("no equivalent in synack"),
    }
    Ok(Effect::Applied)
}
