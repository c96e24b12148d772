//! One stack: an engine, a device, and the event loop that joins them.

mod clock;
mod counters;
mod driver;
mod errors;
mod intercept;
mod ops;
mod ready;
mod registry;
mod shared;
mod sockopts;
mod trace;

pub use counters::IoCounters;
pub(crate) use sockopts::ConnOptions;

use crate::device::{Device, DeviceCounters};
use clock::Clock;
use shared::{Inner, Shared};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use synack::{ConnInfo, Counters, Endpoint, Secret};

/// How a stack is set up.
#[derive(Clone)]
pub struct StackConfig {
    /// Our addresses. `connect` uses the first of the remote's family;
    /// ICMP echo is answered for all of them.
    pub addrs: Vec<IpAddr>,
    /// The engine's configuration. Its MTU is lowered to the device's.
    pub engine: synack::Config,
    /// Keys ISNs, SYN cookies and ephemeral ports; random if `None`.
    pub secret: Option<Secret>,
    /// Backlog of listeners bound through this crate.
    pub backlog: usize,
    /// How long the event loop keeps running after the last handle is
    /// dropped, so closing connections can finish their FIN exchange.
    pub linger: Duration,
    /// What a TCP segment for an address that is not ours (and that no
    /// intercepting listener takes) gets. `None`, the default: nothing, it
    /// is dropped (counted as `DropReason::NotLocal`), as a host discards
    /// what is not addressed to it (RFC 1122 3.2.1.3). `Some(why)`: an
    /// ICMP destination unreachable of that kind, from our address of the
    /// segment's family, quoting the segment, at most
    /// [`NOT_LOCAL_ICMP_PER_SECOND`] a second (Linux's default
    /// `icmp_msgs_per_sec`), as a router without a route answers; the
    /// peer's TCP then gives up at once instead of after its timeouts.
    pub not_local: Option<crate::net::Unreachable>,
}

/// The most ICMP errors a second that [`StackConfig::not_local`] sends.
pub const NOT_LOCAL_ICMP_PER_SECOND: u32 = 1000;

impl StackConfig {
    /// A stack with one address and the engine's defaults.
    pub fn new(ip: IpAddr) -> StackConfig {
        StackConfig {
            addrs: vec![ip],
            engine: synack::Config::default(),
            secret: None,
            backlog: 1024,
            linger: Duration::from_secs(2),
            not_local: None,
        }
    }

    /// Adds another address (for example an IPv6 one beside IPv4).
    pub fn with_address(mut self, ip: IpAddr) -> StackConfig {
        self.addrs.push(ip);
        self
    }
}

/// A handle to a running stack. Clones are cheap and share the stack; the
/// event loop stops once every handle, listener and stream is gone and the
/// remaining connections closed (or `linger` passed).
///
/// Create it with [`Stack::new`] inside a tokio runtime (the event loop is a
/// task of that runtime) or with [`Stack::spawn_thread`] anywhere (the
/// event loop gets a thread and a runtime of its own; use this one with the
/// [`blocking`](crate::blocking) sockets).
#[derive(Clone)]
pub struct Stack {
    pub(crate) shared: Arc<Shared>,
    _life: Arc<Lifeline>,
}

/// Dropped with the last user handle: tells the event loop to wind down.
struct Lifeline(Arc<Shared>);

impl Drop for Lifeline {
    fn drop(&mut self) {
        self.0.stopping.store(true, Ordering::Release);
        self.0.notify.notify_one();
    }
}

impl Stack {
    /// Starts a stack on `device`, its event loop a task of the current
    /// tokio runtime. Fails outside a runtime.
    pub fn new<D: Device + 'static>(device: D, config: StackConfig) -> io::Result<Stack> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            io::Error::other("Stack::new needs a tokio runtime; use Stack::spawn_thread")
        })?;
        let stack = Stack::build(device, config)?;
        let fd = {
            let _entered = handle.enter();
            driver::register(&stack.shared)?
        };
        handle.spawn(driver::run(stack.shared.clone(), fd));
        Ok(stack)
    }

    /// Starts a stack on `device` with its event loop on a new thread that
    /// runs a current-thread tokio runtime. Works inside or outside a
    /// runtime.
    pub fn spawn_thread<D: Device + 'static>(device: D, config: StackConfig) -> io::Result<Stack> {
        let stack = Stack::build(device, config)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let fd = {
            let _entered = rt.enter();
            driver::register(&stack.shared)?
        };
        let shared = stack.shared.clone();
        std::thread::Builder::new()
            .name("synack-io".into())
            .spawn(move || rt.block_on(driver::run(shared, fd)))?;
        Ok(stack)
    }

    fn build<D: Device + 'static>(device: D, config: StackConfig) -> io::Result<Stack> {
        if config.addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a stack needs at least one address",
            ));
        }
        let clock = Clock::new();
        let mut engine = config.engine;
        // The engine drops what is not addressed to the stack (a host's
        // rule), unless the caller named the engine's addresses itself.
        if engine.local_addrs.is_empty() {
            engine.local_addrs = config.addrs.clone();
        }
        let link_mtu = u16::try_from(device.mtu()).unwrap_or(u16::MAX);
        engine.mtu = engine.mtu.min(link_mtu);
        let secret = config.secret.unwrap_or_else(Secret::random);
        let ep = Endpoint::new(engine, secret, clock.now());
        trace::device_up(&config.addrs, device.mtu());
        let mut inner = Inner::new(ep, Box::new(device));
        inner.not_local = config.not_local;
        let shared = Arc::new(Shared::new(
            inner,
            clock,
            config.addrs,
            config.backlog,
            config.linger,
        ));
        let stack = Stack {
            _life: Arc::new(Lifeline(shared.clone())),
            shared,
        };
        Ok(stack)
    }

    /// Our first address.
    pub fn local_ip(&self) -> IpAddr {
        self.shared.addrs[0]
    }

    /// All our addresses.
    pub fn local_ips(&self) -> &[IpAddr] {
        &self.shared.addrs
    }

    /// The engine's clock now: the time `ConnInfo::timer` deadlines are
    /// counted in (microseconds since the stack was created).
    pub fn now(&self) -> synack::Instant {
        self.shared.clock.now()
    }

    /// The engine's TCP counters.
    pub fn counters(&self) -> Counters {
        self.shared.lock().ep.counters().clone()
    }

    /// Device and ICMP counters, as the event loop sees them.
    pub fn io_counters(&self) -> IoCounters {
        self.shared.lock().io.clone()
    }

    /// What the device itself dropped: a full queue, frames not for us,
    /// unresolved next hops (see [`DeviceCounters`]).
    pub fn device_counters(&self) -> DeviceCounters {
        self.shared.lock().dev.counters()
    }

    /// Snapshots of every live connection (not compact TIME-WAIT entries).
    pub fn connections(&self) -> Vec<ConnInfo> {
        self.shared
            .lock()
            .ep
            .connections()
            .map(|(_, info)| info)
            .collect()
    }

    /// Entries in the engine's TIME-WAIT table.
    pub fn time_wait_count(&self) -> usize {
        self.shared.lock().ep.time_wait_count()
    }

    /// Runs `f` on the engine, read-only, under the stack's lock (for
    /// tools that want more than the accessors above).
    pub fn inspect<R>(&self, f: impl FnOnce(&Endpoint) -> R) -> R {
        f(&self.shared.lock().ep)
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("addrs", &self.shared.addrs)
            .finish_non_exhaustive()
    }
}
