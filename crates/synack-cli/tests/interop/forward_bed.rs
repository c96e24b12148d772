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
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
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

pub struct Bed {
    pub client: Netns,
    pub router: Netns,
    pub server: Netns,
    pub synack: Option<Synack>,
}

impl Bed {
    /// The three namespaces, linked and routed; the router forwards with
    /// its kernel. `None` (skipped) where the testbed cannot run.
    pub fn new(tag: &str, programs: &[&str]) -> Option<Bed> {
        synack_testbed::require(programs)?;
        let client = Netns::new(&format!("{tag}c")).expect("client namespace");
        let router = Netns::new(&format!("{tag}r")).expect("router namespace");
        let server = Netns::new(&format!("{tag}s")).expect("server namespace");
        router.add_device("tun0", "tun").expect("the TUN device");
        veth(&router, "r0", &client, "c0");
        veth(&router, "r1", &server, "s0");
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
        for (ns, dev) in [
            (&router, "r0"),
            (&router, "r1"),
            (&client, "c0"),
            (&server, "s0"),
        ] {
            ns.segment_in_software(dev).unwrap();
            ns.ip(&["link", "set", dev, "up"]).unwrap();
        }
        client
            .ip(&["route", "add", "default", "via", "198.18.10.1"])
            .unwrap();
        server
            .ip(&["route", "add", "default", "via", "198.18.30.254"])
            .unwrap();
        sysctl(&router, "net/ipv4/ip_forward", "1");
        // synack's answers come out of tun0 from the server's addresses,
        // whose route is r1: no reverse-path filter may drop them.
        for dev in ["all", "default", "tun0"] {
            sysctl(&router, &format!("net/ipv4/conf/{dev}/rp_filter"), "0");
        }
        Some(Bed {
            client,
            router,
            server,
            synack: None,
        })
    }

    /// Starts `synack forward ARGS...` in the router and routes the
    /// client's traffic into it.
    pub fn through_synack(&mut self, args: &[&str]) {
        let mut all = vec!["forward", "--tun", "tun0", "--ip", STACK_V4];
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
        self.router
            .ip(&["rule", "add", "iif", "r0", "lookup", "100"])
            .unwrap();
        self.router
            .ip(&["route", "add", "default", "dev", "tun0", "table", "100"])
            .unwrap();
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

fn veth(a: &Netns, a_dev: &str, b: &Netns, b_dev: &str) {
    a.ip(&[
        "link",
        "add",
        a_dev,
        "type",
        "veth",
        "peer",
        "name",
        b_dev,
        "netns",
        b.name(),
    ])
    .unwrap();
}

/// Writes a sysctl (a path under /proc/sys) inside `ns`.
pub fn sysctl(ns: &Netns, key: &str, value: &str) {
    let path = format!("/proc/sys/{key}");
    let v = value.to_string();
    in_ns(ns, move || std::fs::write(&path, v))
        .unwrap_or_else(|e| panic!("sysctl {key}={value}: {e}"));
}

/// What a kernel server does with each connection, on a thread of its own.
pub type Handler = Arc<dyn Fn(TcpStream) + Send + Sync>;

/// Kernel listeners in a namespace, on 0.0.0.0 and each of `ports`,
/// serving each connection with the handler; stopped (listeners closed)
/// when dropped.
pub struct Servers {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Servers {
    pub fn start(ns: &Netns, ports: &[u16], handler: Handler) -> Servers {
        let stop = Arc::new(AtomicBool::new(false));
        let ports = ports.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let flag = stop.clone();
        let thread = ns.thread(move || {
            let listeners: Vec<TcpListener> = ports
                .iter()
                .map(|p| {
                    let l = TcpListener::bind(("0.0.0.0", *p)).expect("kernel listen");
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
                            s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                            s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
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

/// A client connect with its own timeout: the stream, or the error kind.
pub fn try_dial(to: SocketAddr, timeout: Duration) -> Result<TcpStream, io::ErrorKind> {
    let s = TcpStream::connect_timeout(&to, timeout).map_err(|e| e.kind())?;
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    Ok(s)
}

/// Closes with a RST: `SO_LINGER` of zero, then close.
pub fn reset(s: TcpStream) {
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
    assert_eq!(r, 0, "SO_LINGER: {}", io::Error::last_os_error());
    drop(s);
}
