//! tun2proxy (crates.io; `cargo install tun2proxy --locked`), a Rust
//! user-space forwarder built on its own TCP stack, run in the router in
//! its direct mode (`--proxy none`) on `tun1`: the peer to beat. The
//! benchmark never installs it; it runs it where it finds it.

use super::topology::{Bed, Forwarder};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Overrides where to find it.
pub const VAR: &str = "SYNACK_TUN2PROXY";
const NAMES: [&str; 2] = ["tun2proxy-bin", "tun2proxy"];

/// The program: `$SYNACK_TUN2PROXY`, else the first of its names in
/// `PATH`, `$CARGO_HOME/bin` or `~/.cargo/bin`; else why not.
pub fn find() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(VAR) {
        let p = PathBuf::from(p);
        return if is_program(&p) {
            Ok(p)
        } else {
            Err(format!("{VAR}={} is not an executable file", p.display()))
        };
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(c) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(c).join("bin"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join(".cargo/bin"));
    }
    // Under sudo HOME may be the invoking user's or root's.
    dirs.push(PathBuf::from("/root/.cargo/bin"));
    if let Some(u) = std::env::var_os("SUDO_USER") {
        dirs.push(PathBuf::from("/home").join(u).join(".cargo/bin"));
    }
    dirs.iter()
        .flat_map(|d| NAMES.map(|n| d.join(n)))
        .find(|p| is_program(p))
        .ok_or_else(|| {
            format!(
                "not in PATH or ~/.cargo/bin (`cargo install tun2proxy --locked`, or set {VAR})"
            )
        })
}

fn is_program(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Its version line, for the notes.
pub fn version(program: &Path) -> String {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "version unknown".into())
}

/// The arguments it runs with: direct (no proxy), on `tun1`, an MSS of
/// the MTU's (without `--tcp-mss` it announces none and Linux clients
/// fall back to 536-byte segments), sessions enough for the connection
/// rate's, warnings only.
pub const ARGS: [&str; 10] = [
    "--tun",
    "tun1",
    "--proxy",
    "none",
    "--tcp-mss",
    "1460",
    "--max-sessions",
    "100000",
    "--verbosity",
    "warn",
];

/// Starts it in the router; ready once its device exists. Without
/// `--setup` (which would rewrite the router's routes) it leaves the
/// device down: we bring it up.
pub fn start(bed: &Bed, program: &Path) -> Result<Forwarder, String> {
    let prog = program.to_string_lossy().into_owned();
    let mut f = Forwarder::spawn(&bed.router, &prog, &ARGS, "tun2proxy")?;
    let router = bed.router.name().to_string();
    f.wait_until(Duration::from_secs(10), move || {
        std::process::Command::new("ip")
            .args(["-n", &router, "-o", "link", "show", "tun1"])
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    })?;
    bed.router
        .ip(&["link", "set", "tun1", "up"])
        .map_err(|e| format!("tun2proxy's tun1 up: {e}"))?;
    Ok(f)
}
