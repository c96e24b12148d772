//! What the tests against the Linux kernel over a TUN device share: a
//! namespace of the test's own with `tun0` (the kernel's side
//! 198.18.0.1 / 2001:db8::1), kernel sockets bound inside it, and a
//! synack stack on `tun0` running its own thread in the namespace.

#![allow(dead_code)]

use std::future::Future;
use std::net::TcpListener;
use std::thread::JoinHandle;
use std::time::Duration;
use synack_io::device::{Device, Tun};
use synack_io::{Stack, StackConfig};
use synack_testbed::Netns;

/// A new namespace tagged `tag` with the TUN device `tun0` in it.
pub fn namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag).expect("namespace");
    ns.add_device("tun0", "tun").expect("tun");
    ns
}

/// A kernel socket listening at `addr`, bound inside `ns`.
pub fn kernel_listener(ns: &Netns, addr: &'static str) -> TcpListener {
    ns.thread(move || TcpListener::bind(addr))
        .join()
        .expect("bind thread")
        .expect("bind")
}

/// Runs `body` with a synack stack (`cfg`) attached to `tun0`, on a
/// single-threaded tokio runtime in a thread of its own inside `ns`.
pub fn on_tun<T, F, Fut>(ns: &Netns, cfg: StackConfig, body: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce(Stack) -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    ns.thread(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let tun: Box<dyn Device> = Box::new(Tun::open("tun0").expect("tun0"));
            let stack = Stack::new(tun, cfg).expect("stack");
            let out = body(stack.clone()).await;
            // The stack's event loop is a task of this runtime, which ends
            // with `block_on`: what the body wrote must reach the kernel
            // first, or the kernel's side of the test waits for bytes that
            // went down with the runtime.
            let until = tokio::time::Instant::now() + Duration::from_secs(30);
            while stack.connections().iter().any(|c| c.send_queue > 0)
                && tokio::time::Instant::now() < until
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            out
        })
    })
}
