//! The topology of the `forward` tests: a client, a router, a server, each
//! a namespace of its own, and kernel servers that stop when dropped.
//!
//! ```text
//! client c0 198.18.10.2 ── r0 198.18.10.1  router  r1 198.18.30.254 ── s0 server
//!                                 tun0 198.18.0.1 (synack 198.18.0.2)   198.18.30.1-10
//! ```
//!
//! The reference run is the router's kernel forwarding. [`Bed::through_synack`]
//! starts `synack forward` on the router's TUN device and adds the policy
//! route that sends what arrives from the client into it; synack's own
//! kernel sockets leave the router by its main table, to the server.

use crate::common::*;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The server's addresses: 198.18.30.1 to .10.
pub fn server_ip(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 30, i)
}
/// On the server's subnet, held by nobody: ARP for it fails.
pub const NOBODY: &str = "198.18.30.99";

/// The IPv6 topology's server addresses: 2001:db8:2::2 to ::4.
pub fn server_ip6(i: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, i)
}

pub struct Bed {
    pub client: Netns,
    pub router: Netns,
    pub server: Netns,
    pub synack: Option<Synack>,
    /// The IPv6 topology (`new_v6`).
    v6: bool,
}

impl Bed {
    /// The three namespaces, linked and routed; the router forwards with
    /// its kernel. `None` (skipped) where the testbed cannot run.
    pub fn new(tag: &str, programs: &[&str]) -> Option<Bed> {
        Bed::build(tag, programs, false)
    }

    /// The same topology with IPv6 addresses only (`nodad`, so they are
    /// usable at once):
    ///
    /// ```text
    /// client c0 2001:db8:1::2 ── r0 2001:db8:1::1  router  r1 2001:db8:2::1 ── s0 server
    ///                           tun0 2001:db8::1 (synack 2001:db8::2)    2001:db8:2::2-4
    /// ```
    pub fn new_v6(tag: &str, programs: &[&str]) -> Option<Bed> {
        Bed::build(tag, programs, true)
    }

    fn build(tag: &str, programs: &[&str], v6: bool) -> Option<Bed> {
        synack_testbed::require(programs)?;
        let client = Netns::new(&format!("{tag}c")).expect("client namespace");
        let router = Netns::new(&format!("{tag}r")).expect("router namespace");
        let server = Netns::new(&format!("{tag}s")).expect("server namespace");
        router.add_device("tun0", "tun").expect("the TUN device");
        router.veth_to("r0", &client, "c0").unwrap();
        router.veth_to("r1", &server, "s0").unwrap();
        let bed = Bed {
            client,
            router,
            server,
            synack: None,
            v6,
        };
        if v6 {
            bed.addresses_v6();
        } else {
            bed.addresses_v4();
        }
        Some(bed)
    }

    fn addresses_v4(&self) {
        let (client, router, server) = (&self.client, &self.router, &self.server);
        router
            .ip(&["addr", "add", "198.18.10.1/24", "dev", "r0"])
            .unwrap();
        router
            .ip(&["addr", "add", "198.18.30.254/24", "dev", "r1"])
            .unwrap();
        client
            .ip(&["addr", "add", "198.18.10.2/24", "dev", "c0"])
            .unwrap();
        for i in 1..=10 {
            let a = format!("{}/24", server_ip(i));
            server.ip(&["addr", "add", &a, "dev", "s0"]).unwrap();
        }
        self.links_up();
        client
            .ip(&["route", "add", "default", "via", "198.18.10.1"])
            .unwrap();
        server
            .ip(&["route", "add", "default", "via", "198.18.30.254"])
            .unwrap();
        router.sysctl("net/ipv4/ip_forward", "1").unwrap();
        // synack's answers come out of tun0 from the server's addresses,
        // whose route is r1: no reverse-path filter may drop them.
        for dev in ["all", "default", "tun0"] {
            router
                .sysctl(&format!("net/ipv4/conf/{dev}/rp_filter"), "0")
                .unwrap();
        }
    }

    fn addresses_v6(&self) {
        let (client, router, server) = (&self.client, &self.router, &self.server);
        let add = |ns: &Netns, a: &str, dev: &str| {
            ns.ip(&["-6", "addr", "add", a, "dev", dev, "nodad"])
                .unwrap()
        };
        add(router, "2001:db8:1::1/64", "r0");
        add(router, "2001:db8:2::1/64", "r1");
        add(client, "2001:db8:1::2/64", "c0");
        for i in 2..=4 {
            add(server, &format!("{}/64", server_ip6(i)), "s0");
        }
        self.links_up();
        client
            .ip(&["-6", "route", "add", "default", "via", "2001:db8:1::1"])
            .unwrap();
        server
            .ip(&["-6", "route", "add", "default", "via", "2001:db8:2::1"])
            .unwrap();
        router.sysctl("net/ipv6/conf/all/forwarding", "1").unwrap();
    }

    fn links_up(&self) {
        for (ns, dev) in [
            (&self.router, "r0"),
            (&self.router, "r1"),
            (&self.client, "c0"),
            (&self.server, "s0"),
        ] {
            ns.segment_in_software(dev).unwrap();
            ns.ip(&["link", "set", dev, "up"]).unwrap();
        }
    }

    /// Starts `synack forward ARGS...` in the router and routes the
    /// client's traffic into it.
    pub fn through_synack(&mut self, args: &[&str]) {
        let mut all = vec!["forward", "--tun", "tun0", "--ip", STACK_V4];
        if self.v6 {
            all.extend_from_slice(&["--ip", STACK_V6]);
        }
        all.extend_from_slice(args);
        let mut s = Synack::spawn_logging(&self.router, &all, Some("info"));
        let line = s.line(Duration::from_secs(10));
        assert_eq!(
            line.as_deref(),
            Some("forwarding on tun0"),
            "synack forward did not start; stderr: {}",
            s.stderr()
        );
        self.synack = Some(s);
        let family = if self.v6 { "-6" } else { "-4" };
        self.router
            .ip(&[family, "rule", "add", "iif", "r0", "lookup", "100"])
            .unwrap();
        self.router
            .ip(&[
                family, "route", "add", "default", "dev", "tun0", "table", "100",
            ])
            .unwrap();
    }

    /// Runs `scenario` with the kernel forwarding, then through synack
    /// (started with `args`), and returns both results.
    pub fn both<T>(&mut self, args: &[&str], scenario: impl Fn(&Bed) -> T) -> (T, T) {
        let kernel = scenario(self);
        self.through_synack(args);
        let ours = scenario(self);
        (kernel, ours)
    }

    /// synack's standard error so far.
    pub fn log(&self) -> String {
        self.synack.as_ref().map(|s| s.stderr()).unwrap_or_default()
    }

    /// Runs `f` inside the client namespace.
    pub fn in_client<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        in_ns(&self.client, f)
    }
}

/// A connection to the closed port `to` is refused through synack as
/// through the router's kernel; says how fast each was (`what` names the
/// run).
pub fn refused_like_the_kernel(bed: &mut Bed, to: SocketAddr, what: &str) {
    let (kernel, ours) = bed.both(&[], |bed| {
        bed.in_client(move || {
            let started = std::time::Instant::now();
            let r = try_dial(to, Duration::from_secs(10)).map(|_| ());
            (r, started.elapsed())
        })
    });
    eprintln!(
        "{what}: kernel forwarding in {:?}, synack in {:?}",
        kernel.1, ours.1
    );
    assert_eq!(kernel.0, Err(io::ErrorKind::ConnectionRefused));
    assert_eq!(ours.0, kernel.0, "log:\n{}", bed.log());
}

/// Each of `targets`, served by `whoami`, answers with the address the
/// client dialled, through synack (started with `args`) as through the
/// router's kernel; returns what they said.
pub fn original_destinations(bed: &mut Bed, args: &[&str], targets: &[SocketAddr]) -> Vec<String> {
    let (kernel, ours) = bed.both(args, |bed| {
        let targets = targets.to_vec();
        bed.in_client(move || {
            targets
                .iter()
                .map(|to| {
                    let mut s = dial(*to);
                    String::from_utf8(read_all(&mut s).expect("reading the address")).unwrap()
                })
                .collect::<Vec<_>>()
        })
    });
    let want: Vec<String> = targets.iter().map(|t| t.to_string()).collect();
    assert_eq!(kernel, want, "the reference run");
    assert_eq!(ours, want, "through synack; log:\n{}", bed.log());
    ours
}

/// What a kernel server does with each connection, on a thread of its own.
pub type Handler = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// Kernel listeners in a namespace, on 0.0.0.0 (or another address) and each of `ports`,
/// serving each connection with the handler; stopped (listeners closed)
/// when dropped.
pub struct Servers {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Servers {
    pub fn start(ns: &Netns, ports: &[u16], handler: Handler) -> Servers {
        Servers::start_at(ns, Ipv4Addr::UNSPECIFIED.into(), ports, handler)
    }

    /// As `start`, listening on `host` (`::` for IPv6).
    pub fn start_at(ns: &Netns, host: IpAddr, ports: &[u16], handler: Handler) -> Servers {
        let stop = Arc::new(AtomicBool::new(false));
        let ports = ports.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = ns.thread(move || {
            let listeners: Vec<TcpListener> = ports
                .iter()
                .map(|p| {
                    let l = TcpListener::bind((host, *p)).expect("kernel listen");
                    l.set_nonblocking(true).unwrap();
                    l
                })
                .collect();
            tx.send(()).unwrap();
            while !flag.load(Ordering::Relaxed) {
                let mut idle = true;
                for l in &listeners {
                    match l.accept() {
                        Ok((s, _)) => {
                            idle = false;
                            s.set_nonblocking(false).unwrap();
                            // Generous: a server that gives up resets
                            // the flow, and the client would see a reset
                            // that a loaded machine, not the forwarder,
                            // caused (seen once under a parallel build).
                            s.set_read_timeout(Some(SERVER_TIMEOUT)).unwrap();
                            s.set_write_timeout(Some(SERVER_TIMEOUT)).unwrap();
                            let h = handler.clone();
                            thread::spawn(move || h(s));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => panic!("kernel accept: {e}"),
                    }
                }
                if idle {
                    thread::sleep(Duration::from_millis(2));
                }
            }
        });
        rx.recv().expect("the servers started");
        Servers {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Echoes until end of stream, then closes.
pub fn echo() -> Handler {
    Arc::new(|mut s: TcpStream| {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if s.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = s.shutdown(std::net::Shutdown::Write);
    })
}

/// Tells the client the address it reached (`local_addr`), then closes.
pub fn whoami() -> Handler {
    Arc::new(|mut s: TcpStream| {
        let me = s.local_addr().unwrap().to_string();
        let _ = s.write_all(me.as_bytes());
    })
}

/// How long a test server's socket calls may block before it gives up.
const SERVER_TIMEOUT: Duration = Duration::from_secs(120);

/// A client connect with its own timeout: the stream, or the error kind.
pub fn try_dial(to: SocketAddr, timeout: Duration) -> Result<TcpStream, io::ErrorKind> {
    let s = TcpStream::connect_timeout(&to, timeout).map_err(|e| e.kind())?;
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    Ok(s)
}

/// Closes with a RST: `SO_LINGER` of zero, then close.
pub fn reset(s: TcpStream) {
    synack_testbed::reset(s).expect("SO_LINGER");
}

/// A raw IPv4 socket that sends TCP segments with any source address
/// (`IPPROTO_RAW`: we write the IP header). Open it on a thread inside
/// the namespace it should send from.
pub struct RawTcp {
    fd: std::os::fd::OwnedFd,
}

/// TCP flags.
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;

impl RawTcp {
    pub fn open() -> RawTcp {
        use std::os::fd::FromRawFd;
        // SAFETY: socket has no memory preconditions; the descriptor it
        // returns is checked and then owned.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
        assert!(fd >= 0, "raw socket: {}", io::Error::last_os_error());
        RawTcp {
            // SAFETY: a fresh descriptor nothing else owns.
            fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) },
        }
    }

    /// Sends one segment without options or payload.
    pub fn send(
        &self,
        src: std::net::SocketAddrV4,
        dst: std::net::SocketAddrV4,
        seq: u32,
        flags: u8,
    ) {
        use std::os::fd::AsRawFd;
        let pkt = segment(src, dst, seq, flags);
        let to = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(*dst.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: the buffer and the address live across the call, their
        // lengths given.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                pkt.as_ptr().cast(),
                pkt.len(),
                0,
                (&raw const to).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        // A full queue under a flood is loss, as on a real link.
        if n < 0 {
            let e = io::Error::last_os_error();
            assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "raw sendto: {e}");
        }
    }
}

/// An IPv4 datagram holding one TCP segment (window 64240, an MSS option
/// of 1460 on a SYN).
fn segment(
    src: std::net::SocketAddrV4,
    dst: std::net::SocketAddrV4,
    seq: u32,
    flags: u8,
) -> Vec<u8> {
    let opts: &[u8] = if flags & SYN != 0 {
        &[2, 4, 0x05, 0xb4]
    } else {
        &[]
    };
    let tcp_len = 20 + opts.len();
    let mut tcp = Vec::with_capacity(tcp_len);
    tcp.extend_from_slice(&src.port().to_be_bytes());
    tcp.extend_from_slice(&dst.port().to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&0u32.to_be_bytes());
    tcp.push(((tcp_len / 4) as u8) << 4);
    tcp.push(flags);
    tcp.extend_from_slice(&64240u16.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]);
    tcp.extend_from_slice(opts);
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&src.ip().octets());
    pseudo.extend_from_slice(&dst.ip().octets());
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(tcp_len as u16).to_be_bytes());
    pseudo.extend_from_slice(&tcp);
    let sum = checksum(&pseudo);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    ip.extend_from_slice(&src.ip().octets());
    ip.extend_from_slice(&dst.ip().octets());
    let sum = checksum(&ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    ip.extend_from_slice(&tcp);
    ip
}

/// The Internet checksum (RFC 1071).
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// How many of the router's kernel sockets are in SYN-SENT towards `dst`.
pub fn syn_sent(ns: &Netns, dst: &str) -> usize {
    let out = ns
        .run_ok("ss", &["-Htn", "state", "syn-sent", "dst", dst])
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

/// The resident set of a process, in bytes.
pub fn vm_rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}
