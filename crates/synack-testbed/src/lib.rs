//! Test hosts for synack's interop tests and benchmarks: a network namespace
//! of our own, a persistent TUN (or TAP) device inside it with the kernel's
//! side addressed, and veth pairs between namespaces.
//!
//! Everything here stays inside namespaces this process created, on
//! addresses from 198.18.0.0/15 (RFC 2544 benchmarking space) and
//! 2001:db8::/32 (documentation space): no traffic ever reaches another
//! host. Each namespace is deleted when its handle drops, even when a test
//! fails.

#![warn(missing_docs)]

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

mod loss;
pub use loss::{Crossing, DropCounters, RandomDrop};

/// The kernel's address on the test link.
pub const KERNEL_V4: &str = "198.18.0.1";
/// synack's address on the test link.
pub const STACK_V4: &str = "198.18.0.2";
/// The kernel's address behind the router of a [`Routed`] testbed.
pub const ROUTED_KERNEL_V4: &str = "198.18.2.2";
/// The kernel's IPv6 address on the test link.
pub const KERNEL_V6: &str = "2001:db8::1";
/// synack's IPv6 address on the test link.
pub const STACK_V6: &str = "2001:db8::2";

/// The outside programs the tests and `bench tun` run, each with the
/// Debian package that installs it. [`require`] refuses a program missing
/// here, so every skip can say what to install.
pub const PROGRAMS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("ss", "iproute2"),
    ("ping", "iputils-ping"),
    ("curl", "curl"),
    ("iptables", "iptables"),
    ("ip6tables", "iptables"),
    ("tcpdump", "tcpdump"),
    ("chromium", "chromium"),
];

/// Set to anything but `0` or the empty string, this environment variable
/// turns every skip into a test failure: CI runs as root with every
/// package installed, so a skip there means a check never ran.
pub const REQUIRE_VAR: &str = "SYNACK_REQUIRE_INTEROP";

/// Why a testbed (a namespace with a TUN or TAP device) cannot run here, if
/// it cannot: not root, no `/dev/net/tun`, or no `ip` command.
pub fn unavailable() -> Option<String> {
    unavailable_for(&[])
}

/// [`unavailable`], and also any of `programs` (names from [`PROGRAMS`])
/// missing from `PATH`.
pub fn unavailable_for(programs: &[&str]) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Some(format!(
            "needs root to create network namespaces (running as uid {euid})"
        ));
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("needs /dev/net/tun (the tun kernel module)".into());
    }
    let mut wanted = vec!["ip"];
    wanted.extend(programs.iter().filter(|p| **p != "ip"));
    let path = std::env::var_os("PATH");
    let missing = find_missing(&wanted, path.as_deref());
    (!missing.is_empty()).then(|| needs(&missing))
}

/// Proof that [`require`]'s checks passed.
#[derive(Debug)]
pub struct Ready(());

/// Checks, before a test starts, everything a testbed test needs: root,
/// `/dev/net/tun`, `ip`, and `programs` (names from [`PROGRAMS`]). If one
/// is missing the test is skipped: one line naming the test and the reason
/// goes to the process's standard error (past libtest's capture, which
/// hides what passing tests print), and this returns `None`. With
/// [`REQUIRE_VAR`] set it panics with the same line instead.
#[must_use = "a test must return when its requirements are missing"]
pub fn require(programs: &[&str]) -> Option<Ready> {
    match unavailable_for(programs) {
        None => Some(Ready(())),
        Some(why) => {
            report_skip(&format!("skipped {}: {why}", current_test()), strict());
            None
        }
    }
}

/// Whether [`REQUIRE_VAR`] asks for skips to fail.
pub fn strict() -> bool {
    std::env::var_os(REQUIRE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Prints a skip line, or fails with it when `strict`.
fn report_skip(line: &str, strict: bool) {
    if strict {
        panic!("{line} ({REQUIRE_VAR} is set: a skip is a failure)");
    }
    // Written straight to the descriptor: `eprintln!` would be captured and
    // shown only if the test failed, and a skip passes.
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// The running test as `BINARY TEST`: the test binary's name without
/// Cargo's hash, and libtest's name for the test, which is the name of the
/// thread it runs on.
fn current_test() -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Cargo names test binaries NAME-HASH, the hash 16 hex digits.
    let binary = match stem.rsplit_once('-') {
        Some((name, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            name.to_string()
        }
        _ => stem,
    };
    let thread = std::thread::current();
    format!("{binary} {}", thread.name().unwrap_or("(unnamed thread)"))
}

/// The Debian package of `program`. A program not in [`PROGRAMS`] is a bug
/// in the test that asks for it.
fn package(program: &str) -> &'static str {
    PROGRAMS
        .iter()
        .find(|(p, _)| *p == program)
        .map(|(_, pkg)| *pkg)
        .unwrap_or_else(|| {
            panic!("`{program}` has no Debian package in synack_testbed::PROGRAMS: add it there")
        })
}

/// The reason for a skip: `needs ping (Debian package iputils-ping)`.
fn needs(missing: &[&str]) -> String {
    let each: Vec<String> = missing
        .iter()
        .map(|p| format!("{p} (Debian package {})", package(p)))
        .collect();
    format!("needs {}", each.join(" and "))
}

/// The programs of `programs` that no directory of `path` holds as an
/// executable file. Without `PATH`, `execvp` searches `/bin:/usr/bin`,
/// and so does this.
fn find_missing<'a>(programs: &[&'a str], path: Option<&OsStr>) -> Vec<&'a str> {
    let path = path.unwrap_or(OsStr::new("/bin:/usr/bin"));
    programs
        .iter()
        .copied()
        .filter(|p| {
            !std::env::split_paths(path).any(|dir| {
                // `metadata` follows symbolic links, as exec does.
                std::fs::metadata(dir.join(p))
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
        })
        .collect()
}

/// A command that ran and failed: which one, where, its exit status and
/// what it printed. Its `Debug` is its `Display`, so `unwrap` and
/// `expect` show the message as it reads, not an escaped string.
pub struct CommandFailed {
    message: String,
}

impl CommandFailed {
    fn new(command: &str, out: &Output) -> CommandFailed {
        let text = |b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            let s = s.trim_end();
            if s.is_empty() {
                "(nothing)".to_string()
            } else {
                s.to_string()
            }
        };
        CommandFailed {
            message: format!(
                "`{command}` failed with {}\nstderr: {}\nstdout: {}",
                out.status,
                text(&out.stderr),
                text(&out.stdout)
            ),
        }
    }
}

impl fmt::Display for CommandFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for CommandFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CommandFailed {}

impl From<CommandFailed> for io::Error {
    fn from(e: CommandFailed) -> io::Error {
        io::Error::other(e)
    }
}

/// Runs `cmd` (shown as `shown`) to completion: its output if it exited 0,
/// else what failed. A program that cannot be started at all is a failure
/// too, with the reason `exec` gave.
fn run_checked(mut cmd: Command, shown: &str) -> Result<Output, CommandFailed> {
    match cmd.output() {
        Ok(out) if out.status.success() => Ok(out),
        Ok(out) => Err(CommandFailed::new(shown, &out)),
        Err(e) => Err(CommandFailed {
            message: format!("`{shown}` could not be started: {e}"),
        }),
    }
}

/// Closes a kernel connection with a RST rather than a FIN: `SO_LINGER`
/// of zero, then close.
pub fn reset(s: std::net::TcpStream) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the descriptor is the stream's own and open; the option
    // value lives across the call, its length given.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    drop(s);
    Ok(())
}

/// A network namespace, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Netns {
    /// Creates a fresh namespace named after `tag`, this process and a
    /// counter, with its loopback up.
    pub fn new(tag: &str) -> io::Result<Netns> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("synack-{tag}-{}-{n}", std::process::id());
        ip(&["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NS ARGS...`.
    pub fn ip(&self, args: &[&str]) -> io::Result<()> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }

    /// Links this namespace to `peer` with a veth pair: `dev` here,
    /// `peer_dev` there (both down, no addresses).
    pub fn veth_to(&self, dev: &str, peer: &Netns, peer_dev: &str) -> io::Result<()> {
        self.ip(&[
            "link", "add", dev, "type", "veth", "peer", "name", peer_dev, "netns", &peer.name,
        ])
    }

    /// Writes the sysctl `key` (a path under /proc/sys, such as
    /// `net/ipv4/ip_forward`) inside the namespace.
    pub fn sysctl(&self, key: &str, value: &str) -> io::Result<()> {
        let path = format!("/proc/sys/{key}");
        let v = value.to_string();
        self.thread(move || std::fs::write(&path, v))
            .join()
            .map_err(|_| io::Error::other("the sysctl thread panicked"))?
            .map_err(|e| io::Error::new(e.kind(), format!("sysctl {key}={value}: {e}")))
    }

    /// Adds a persistent TUN device `dev` (mode `tun`, or `tap`), gives the
    /// kernel's side 198.18.0.1/24 and 2001:db8::1/64, and brings it up.
    /// synack then attaches to `dev` from inside the namespace.
    pub fn add_device(&self, dev: &str, mode: &str) -> io::Result<()> {
        self.ip(&["tuntap", "add", "dev", dev, "mode", mode])?;
        self.ip(&["addr", "add", &format!("{KERNEL_V4}/24"), "dev", dev])?;
        self.ip(&[
            "-6",
            "addr",
            "add",
            &format!("{KERNEL_V6}/64"),
            "dev",
            dev,
            "nodad",
        ])?;
        self.ip(&["link", "set", dev, "up"])
    }

    /// A command that runs inside the namespace (`ip netns exec`).
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs a command inside the namespace and waits for it.
    pub fn run(&self, program: &str, args: &[&str]) -> io::Result<Output> {
        self.command(program).args(args).output()
    }

    /// Runs a command inside the namespace and waits for it: its output if
    /// it exited 0, otherwise a [`CommandFailed`] with the command, its exit
    /// status, and its standard error and output.
    pub fn run_ok(&self, program: &str, args: &[&str]) -> Result<Output, CommandFailed> {
        let mut cmd = self.command(program);
        cmd.args(args);
        let shown = format!("{program} {} (in {})", args.join(" "), self.name);
        run_checked(cmd, &shown)
    }

    /// Moves the calling thread (only it: network namespaces are per
    /// thread) into this namespace. Sockets it opens from then on, and TUN
    /// devices it attaches to by name, are this namespace's. Meant for a
    /// thread of its own; see [`Netns::thread`].
    pub fn enter(&self) -> io::Result<()> {
        enter(&self.name)
    }

    /// Runs `f` on a new thread inside this namespace: the kernel's side of
    /// a test, with plain `std::net` sockets.
    pub fn thread<T, F>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = self.name.clone();
        std::thread::Builder::new()
            .name(format!("in-{name}"))
            .spawn(move || {
                if let Err(e) = enter(&name) {
                    panic!("entering namespace {name}: {e}");
                }
                f()
            })
            .expect("spawning a thread")
    }

    /// Starts a command inside the namespace with piped stdio.
    pub fn spawn(&self, program: &str, args: &[&str]) -> io::Result<Child> {
        self.command(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace removes its devices too.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Two namespaces joined by a veth pair, addressed 198.18.1.1/24 and
/// 198.18.1.2/24: the kernel talking to itself, as a baseline.
#[derive(Debug)]
pub struct VethPair {
    /// The first end's namespace (198.18.1.1).
    pub a: Netns,
    /// The second end's namespace (198.18.1.2).
    pub b: Netns,
}

impl VethPair {
    /// Creates both namespaces and the link between them.
    pub fn new(tag: &str) -> io::Result<VethPair> {
        let a = Netns::new(&format!("{tag}a"))?;
        let b = Netns::new(&format!("{tag}b"))?;
        a.veth_to("veth0", &b, "veth1")?;
        a.ip(&["addr", "add", "198.18.1.1/24", "dev", "veth0"])?;
        b.ip(&["addr", "add", "198.18.1.2/24", "dev", "veth1"])?;
        a.ip(&["link", "set", "veth0", "up"])?;
        b.ip(&["link", "set", "veth1", "up"])?;
        Ok(VethPair { a, b })
    }
}

/// synack's TUN device one router away from the kernel's sockets, so that
/// packets between them are forwarded and a rule in the router's FORWARD
/// chain can lose them on the way, unknown to either sender (a rule on a
/// local sender's own packets is no loss: it is told, and sends again).
///
/// The `router` namespace holds the TUN device (its side 198.18.0.1/24,
/// synack 198.18.0.2) and `veth0` (198.18.2.1/24); the `kernel` namespace
/// holds `veth1` ([`ROUTED_KERNEL_V4`], 198.18.2.2/24) with a route to
/// 198.18.0.0/24 through the router. Both veth ends segment in software
/// ([`Netns::segment_in_software`]), so every forwarded packet is one
/// segment.
#[derive(Debug)]
pub struct Routed {
    /// Where synack attaches to the TUN device; forwards IPv4.
    pub router: Netns,
    /// Where the kernel's sockets live.
    pub kernel: Netns,
}

impl Routed {
    /// Creates both namespaces, the TUN device `dev` in the router, the
    /// veth between them and the routes.
    pub fn new(tag: &str, dev: &str) -> io::Result<Routed> {
        let router = Netns::new(&format!("{tag}r"))?;
        router.add_device(dev, "tun")?;
        let kernel = Netns::new(&format!("{tag}k"))?;
        router.ip(&[
            "link",
            "add",
            "veth0",
            "type",
            "veth",
            "peer",
            "name",
            "veth1",
            "netns",
            kernel.name(),
        ])?;
        router.ip(&["addr", "add", "198.18.2.1/24", "dev", "veth0"])?;
        kernel.ip(&["addr", "add", "198.18.2.2/24", "dev", "veth1"])?;
        router.segment_in_software("veth0")?;
        kernel.segment_in_software("veth1")?;
        router.ip(&["link", "set", "veth0", "up"])?;
        kernel.ip(&["link", "set", "veth1", "up"])?;
        kernel.ip(&["route", "add", "198.18.0.0/24", "via", "198.18.2.1"])?;
        // /proc/sys/net shows the namespace of the thread that opens it.
        router
            .thread(|| std::fs::write("/proc/sys/net/ipv4/ip_forward", "1"))
            .join()
            .map_err(|_| io::Error::other("the sysctl thread panicked"))??;
        Ok(Routed { router, kernel })
    }
}

/// Moves the calling thread into the network namespace `name` (one that
/// `ip netns add` created).
pub fn enter(name: &str) -> io::Result<()> {
    let f = File::open(format!("/var/run/netns/{name}"))?;
    // SAFETY: setns only reads the descriptor, which stays open for the
    // call; it affects the calling thread alone.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn ip(args: &[&str]) -> io::Result<()> {
    let mut cmd = Command::new("ip");
    cmd.args(args);
    run_checked(cmd, &format!("ip {}", args.join(" ")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_with_tun_is_created_and_removed() {
        let Some(_) = require(&[]) else { return };
        let name;
        {
            let ns = Netns::new("selftest").expect("netns");
            name = ns.name().to_string();
            ns.add_device("tun0", "tun").expect("tun device");
            let out = ns
                .run("ip", &["-4", "addr", "show", "dev", "tun0"])
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("198.18.0.1/24"), "{text}");
        }
        let list = Command::new("ip").args(["netns", "list"]).output().unwrap();
        assert!(!String::from_utf8_lossy(&list.stdout).contains(&name));
    }

    #[test]
    fn veth_pair_links_two_namespaces() {
        let Some(_) = require(&["ping"]) else { return };
        let pair = VethPair::new("selftest").expect("veth");
        pair.a
            .run_ok("ping", &["-c", "1", "-W", "2", "198.18.1.2"])
            .unwrap();
    }

    #[test]
    fn routed_kernel_reaches_the_router_and_the_router_forwards() {
        let Some(_) = require(&["ping"]) else { return };
        let r = Routed::new("selfrouted", "tun0").expect("routed testbed");
        // Through the route to 198.18.0.0/24: the router's side of the TUN.
        r.kernel
            .run_ok("ping", &["-c", "1", "-W", "2", KERNEL_V4])
            .unwrap();
        let fwd = r
            .router
            .run_ok("cat", &["/proc/sys/net/ipv4/ip_forward"])
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&fwd.stdout).trim(), "1");
        // The write reached the router's namespace alone.
        let ours = r
            .kernel
            .run_ok("cat", &["/proc/sys/net/ipv4/ip_forward"])
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&ours.stdout).trim(), "0");
    }

    #[test]
    fn threads_enter_the_namespace() {
        let Some(_) = require(&[]) else { return };
        let pair = VethPair::new("selfthread").expect("veth");
        let server = pair.b.thread(|| {
            let l = std::net::TcpListener::bind("198.18.1.2:5000").unwrap();
            let (mut s, _) = l.accept().unwrap();
            io::copy(&mut s.try_clone().unwrap(), &mut s).unwrap();
        });
        let client = pair.a.thread(|| {
            use std::io::{Read, Write};
            let mut s = loop {
                match std::net::TcpStream::connect("198.18.1.2:5000") {
                    Ok(s) => break s,
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            };
            s.write_all(b"hello").unwrap();
            s.shutdown(std::net::Shutdown::Write).unwrap();
            let mut back = Vec::new();
            s.read_to_end(&mut back).unwrap();
            back
        });
        assert_eq!(client.join().unwrap(), b"hello");
        server.join().unwrap();
        // The test's own thread never left the host's namespace.
        assert!(std::net::TcpListener::bind("198.18.1.2:0").is_err());
    }

    /// A temporary directory of its own, removed on drop.
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir()
                .join(format!("synack-testbed-{tag}-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn programs_are_looked_up_on_path_as_exec_would() {
        let d = TempDir::new("path");
        let exe = |name: &str, mode: u32| {
            let p = d.0.join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        exe("ping", 0o755);
        // Present but not executable: exec would fail, so it is missing.
        exe("curl", 0o644);
        // A directory of the program's name is not the program.
        std::fs::create_dir(d.0.join("iptables")).unwrap();
        std::os::unix::fs::symlink(d.0.join("ping"), d.0.join("ip")).unwrap();
        let path = std::env::join_paths([Path::new("/nonexistent"), &d.0]).unwrap();
        assert_eq!(
            find_missing(&["ip", "ping", "curl", "iptables"], Some(&path)),
            ["curl", "iptables"]
        );
    }

    #[test]
    fn a_skip_names_each_program_and_its_package() {
        assert_eq!(needs(&["ping"]), "needs ping (Debian package iputils-ping)");
        assert_eq!(
            needs(&["ip", "curl"]),
            "needs ip (Debian package iproute2) and curl (Debian package curl)"
        );
    }

    #[test]
    #[should_panic(expected = "has no Debian package")]
    fn a_program_without_a_package_is_a_bug_in_the_test() {
        let _ = needs(&["no-such-program"]);
    }

    #[test]
    fn the_test_is_named_by_binary_and_thread() {
        // libtest runs each test on a thread named after it.
        assert_eq!(
            current_test(),
            "synack_testbed tests::the_test_is_named_by_binary_and_thread"
        );
    }

    #[test]
    #[should_panic(
        expected = "skipped t: needs ping (Debian package iputils-ping) (SYNACK_REQUIRE_INTEROP is set"
    )]
    fn a_strict_skip_fails_with_its_reason() {
        report_skip("skipped t: needs ping (Debian package iputils-ping)", true);
    }

    #[test]
    fn a_failed_command_says_how_and_what_it_printed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo 'no route' >&2; exit 3"]);
        let e = run_checked(cmd, "sh -c ...").unwrap_err().to_string();
        assert_eq!(
            e,
            "`sh -c ...` failed with exit status: 3\nstderr: no route\nstdout: out"
        );
        let e = run_checked(Command::new("/nonexistent/prog"), "prog")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("`prog` could not be started: "), "{e}");
    }
}
