//! Interop with the Linux kernel's own TCP: the `synack` binary on a TUN
//! (or TAP) device in a network namespace of each test's own, the kernel's
//! side a plain `std::net` socket on a thread that entered the namespace.
//!
//! Kernel 198.18.0.1 / 2001:db8::1, synack 198.18.0.2 / 2001:db8::2 (under
//! loss, `lossy`, the kernel is 198.18.2.2, one router away). Every
//! namespace is deleted when its test ends, pass or fail. Without root,
//! `/dev/net/tun`, `ip` or another program a test runs (ping, curl), that
//! test prints `skipped interop TEST: <why>` on standard error and passes;
//! with `SYNACK_REQUIRE_INTEROP=1` (CI as root) it fails instead.

mod common;

mod apps;
mod client;
mod close;
mod echo;
mod forward;
mod forward_bed;
mod forward_socks;
mod forward_v6;
mod http;
mod logging;
mod lossy;
mod offload;
