//! `poll`: each socket's readiness from the engine's state, in the bits
//! Linux's `tcp_poll` reports, masked by the events asked for (errors and
//! hang-ups always reported). With nothing ready it blocks until something
//! is or its timeout (milliseconds; -1 forever) passes.

use super::syscall::Outcome;
use super::*;
use synack::State;

const POLLIN: i64 = 0x1;
const POLLPRI: i64 = 0x2;
const POLLOUT: i64 = 0x4;
const POLLERR: i64 = 0x8;
const POLLHUP: i64 = 0x10;
const POLLNVAL: i64 = 0x20;
const POLLRDNORM: i64 = 0x40;
const POLLWRNORM: i64 = 0x100;
const POLLRDHUP: i64 = 0x2000;

/// The value of a `POLL*` name, for the expression evaluator.
pub(super) fn poll_constant(name: &str) -> Option<i64> {
    Some(match name {
        "POLLIN" => POLLIN,
        "POLLPRI" => POLLPRI,
        "POLLOUT" => POLLOUT,
        "POLLERR" => POLLERR,
        "POLLHUP" => POLLHUP,
        "POLLNVAL" => POLLNVAL,
        "POLLRDNORM" => POLLRDNORM,
        "POLLRDBAND" => 0x80,
        "POLLWRNORM" => POLLWRNORM,
        "POLLWRBAND" => 0x200,
        "POLLRDHUP" => POLLRDHUP,
        _ => return None,
    })
}

/// One `{fd=..., events=..., revents=...}` entry.
struct Entry {
    fd: i64,
    events: i64,
    revents: Option<i64>,
}

impl Runner {
    pub(super) fn poll(&mut self, line: usize, sc: &Syscall) -> Result<Outcome, Failure> {
        let Some(Expr::Array(list)) = sc.args.first() else {
            return Err(unsupported(line, "poll: the pollfd array"));
        };
        let mut entries = Vec::new();
        for e in list {
            let Expr::Braces(fields) = e else {
                return Err(unsupported(line, format!("poll: entry {e:?}")));
            };
            let field = |name: &str| {
                fields.iter().find_map(|f| match f {
                    Expr::Field(n, v) if n == name => Some(syscall::constant(v)),
                    _ => None,
                })
            };
            let (Some(Some(fd)), Some(Some(events))) = (field("fd"), field("events")) else {
                return Err(unsupported(line, format!("poll: entry {e:?}")));
            };
            let revents = match field("revents") {
                Some(Some(r)) => Some(r),
                Some(None) => return Err(unsupported(line, format!("poll: entry {e:?}"))),
                None => None,
            };
            entries.push(Entry {
                fd,
                events,
                revents,
            });
        }
        let nfds = self.int_arg(line, sc, 1)?;
        if nfds != entries.len() as i64 {
            return Err(unsupported(
                line,
                format!("poll: nfds {nfds} for {} entries", entries.len()),
            ));
        }
        let timeout = self.int_arg(line, sc, 2)?;
        let got: Vec<i64> = entries
            .iter()
            .map(|e| self.revents(e.fd) & (e.events | POLLERR | POLLHUP | POLLNVAL))
            .collect();
        let ready = got.iter().filter(|r| **r != 0).count() as i64;
        if ready == 0 && timeout != 0 && !self.poll_expired {
            return Ok(Outcome::Blocked);
        }
        for (e, got) in entries.iter().zip(&got) {
            if let Some(want) = e.revents
                && want != *got
            {
                return Err(mismatch(
                    line,
                    format!(
                        "poll: fd {}: expected revents {} but got {}",
                        e.fd,
                        show_events(want),
                        show_events(*got)
                    ),
                ));
            }
        }
        Ok(Outcome::Done(Ok(ready)))
    }

    /// What `tcp_poll` would report for `fd`, before masking.
    fn revents(&self, fd: i64) -> i64 {
        let Some(sock) = self.socks.get(&fd) else {
            return POLLNVAL;
        };
        let err = if sock.error.is_some() { POLLERR } else { 0 };
        let readable = POLLIN | POLLRDNORM;
        let writable = POLLOUT | POLLWRNORM;
        let Some(ep) = self.ep.as_ref() else {
            return writable | POLLHUP;
        };
        match sock.state {
            SockState::Fresh | SockState::Bound(_) | SockState::Closed => writable | POLLHUP | err,
            SockState::Listening(l) => {
                if ep.accept_queue_len(l).unwrap_or(0) > 0 {
                    readable
                } else {
                    0
                }
            }
            SockState::Connecting(c) | SockState::Connected(c) => {
                let Some(info) = ep.info(c).filter(|i| i.state != State::Closed) else {
                    // Gone (reset, timed out or closed): both directions
                    // shut.
                    return POLLHUP | readable | POLLRDHUP | writable | err;
                };
                let fin_received = matches!(
                    info.state,
                    State::CloseWait | State::LastAck | State::Closing | State::TimeWait
                );
                let fin_sent = matches!(
                    info.state,
                    State::FinWait1
                        | State::FinWait2
                        | State::Closing
                        | State::TimeWait
                        | State::LastAck
                );
                let mut mask = err;
                if matches!(info.state, State::SynSent | State::SynReceived) {
                    return mask;
                }
                if info.recv_queue > 0 || fin_received || sock.shut_rd {
                    mask |= readable;
                }
                if fin_received || sock.shut_rd {
                    mask |= POLLRDHUP;
                }
                if fin_sent || ep.send_capacity(c) > 0 {
                    mask |= writable;
                }
                if fin_received && fin_sent {
                    mask |= POLLHUP;
                }
                mask
            }
        }
    }
}

fn show_events(mask: i64) -> String {
    if mask == 0 {
        return "0".into();
    }
    let names = [
        ("POLLIN", POLLIN),
        ("POLLPRI", POLLPRI),
        ("POLLOUT", POLLOUT),
        ("POLLERR", POLLERR),
        ("POLLHUP", POLLHUP),
        ("POLLNVAL", POLLNVAL),
        ("POLLRDNORM", POLLRDNORM),
        ("POLLWRNORM", POLLWRNORM),
        ("POLLRDHUP", POLLRDHUP),
    ];
    let mut parts: Vec<String> = names
        .iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(n, _)| (*n).to_string())
        .collect();
    let known = names.iter().fold(0, |m, (_, b)| m | b);
    if mask & !known != 0 {
        parts.push(format!("{:#x}", mask & !known));
    }
    parts.join("|")
}
