//! Test hosts for synack's interop tests and benchmarks: a network namespace
//! of our own, a persistent TUN (or TAP) device inside it with the kernel's
//! side addressed, and veth pairs between namespaces.
//!
//! Everything here stays inside namespaces this process created, on
//! addresses from 198.18.0.0/15 (RFC 2544 benchmarking space) and
//! 2001:db8::/32 (documentation space): no traffic ever reaches another
//! host. Each namespace is deleted when its handle drops, even when a test
//! fails.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// The kernel's address on the test link.
pub const KERNEL_V4: &str = "198.18.0.1";
/// synack's address on the test link.
pub const STACK_V4: &str = "198.18.0.2";
/// The kernel's IPv6 address on the test link.
pub const KERNEL_V6: &str = "2001:db8::1";
/// synack's IPv6 address on the test link.
pub const STACK_V6: &str = "2001:db8::2";

/// Why the testbed cannot run here, if it cannot: not root, no
/// `/dev/net/tun`, or no `ip` command.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return Some(format!(
            "needs root to create network namespaces (running as uid {euid})"
        ));
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun is missing".into());
    }
    match Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("the `ip` command (iproute2) is not installed".into()),
    }
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
        a.ip(&[
            "link",
            "add",
            "veth0",
            "type",
            "veth",
            "peer",
            "name",
            "veth1",
            "netns",
            b.name(),
        ])?;
        a.ip(&["addr", "add", "198.18.1.1/24", "dev", "veth0"])?;
        b.ip(&["addr", "add", "198.18.1.2/24", "dev", "veth1"])?;
        a.ip(&["link", "set", "veth0", "up"])?;
        b.ip(&["link", "set", "veth1", "up"])?;
        Ok(VethPair { a, b })
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
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_with_tun_is_created_and_removed() {
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
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
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
        let pair = VethPair::new("selftest").expect("veth");
        let out = pair
            .a
            .run("ping", &["-c", "1", "-W", "2", "198.18.1.2"])
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    #[test]
    fn threads_enter_the_namespace() {
        if let Some(why) = unavailable() {
            eprintln!("skipped: {why}");
            return;
        }
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
}
