//! What the stack tells `tracing`: the device coming up or failing, drops,
//! and each connection's opening and end with its 4-tuple and reason. The
//! engine itself stays free of logging; this layer turns its events and
//! counters into tracing events, under the target `synack_io`.
//!
//! Levels: `error` when the device is lost, `warn` for device errors,
//! `info` for the device coming up and connections that ended abnormally
//! (reset, timed out, refused), `debug` for every connection's life and
//! drops, so that at the usual default (`warn`) a healthy stack prints
//! nothing.

use std::io;
use std::net::SocketAddr;
use synack::{CloseReason, ConnId, Counters, DropReason, OpenKind, SoftError};
use tracing::{Level, debug, enabled, error, info, warn};

/// The stack is running on a device.
pub(crate) fn device_up(addrs: &[std::net::IpAddr], mtu: usize) {
    info!(?addrs, mtu, "stack up on its device");
}

/// One read from the device failed; `fatal` if the driver gives the
/// device up because of it.
pub(crate) fn read_error(e: &io::Error, fatal: bool) {
    if fatal {
        error!(error = %e, "device lost: no more packets will be read");
    } else {
        warn!(error = %e, "device read failed");
    }
}

/// A write to the device failed. Logged for the first failure and then
/// at every power of two, so a device that refuses everything does not
/// flood the log; `count` is the running total.
pub(crate) fn write_error(count: u64) {
    if count.is_power_of_two() {
        warn!(count, "device write failed; the datagram is lost");
    }
}

/// A connection was opened (`how` says which way) and has a handle.
pub(crate) fn opened(conn: ConnId, local: SocketAddr, remote: SocketAddr, how: &str) {
    debug!(?conn, %local, %remote, how, "connection opened");
}

/// An active open completed.
pub(crate) fn established(conn: ConnId, tuple: Option<(SocketAddr, SocketAddr)>, how: OpenKind) {
    if let Some((local, remote)) = tuple {
        debug!(?conn, %local, %remote, ?how, "connection established");
    }
}

/// The engine finished a connection.
pub(crate) fn closed(conn: ConnId, tuple: Option<(SocketAddr, SocketAddr)>, reason: CloseReason) {
    let (local, remote) = match tuple {
        Some((l, r)) => (Some(l), Some(r)),
        None => (None, None),
    };
    let local = local.map(|a| a.to_string()).unwrap_or_default();
    let remote = remote.map(|a| a.to_string()).unwrap_or_default();
    match reason {
        CloseReason::Normal | CloseReason::Aborted => {
            debug!(?conn, local, remote, ?reason, "connection closed");
        }
        _ => info!(?conn, local, remote, ?reason, "connection ended abnormally"),
    }
}

/// An intercepted SYN went away before the application decided.
pub(crate) fn abandoned(request: synack::RequestId, reason: synack::AbandonReason) {
    debug!(?request, ?reason, "intercepted SYN abandoned");
}

/// Trouble short of failure on a connection.
pub(crate) fn soft_error(conn: ConnId, error: SoftError) {
    info!(?conn, ?error, "connection in trouble");
}

/// The engine's drops since the last look, by reason, when `debug` is on
/// for this target. `seen` keeps the totals already reported.
pub(crate) fn drops(c: &Counters, seen: &mut [u64; DropReason::COUNT]) {
    if !enabled!(Level::DEBUG) {
        return;
    }
    for (i, (&now, before)) in c.drops.iter().zip(seen.iter_mut()).enumerate() {
        if now > *before {
            let reason = DropReason::ALL[i].name();
            debug!(reason, count = now - *before, "segments dropped");
            *before = now;
        }
    }
}
