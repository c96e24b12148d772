//! `setsockopt` and `getsockopt`, and the socket options that live on a
//! socket: kept with it, applied to its connection or listener when they
//! are set and when it gets one, and inherited by the connections a
//! listener accepts (as Linux's children inherit their listener's).

use super::syscall::{errno_number, word_arg};
use super::*;

/// The options a script set on a socket that map onto per-connection (or
/// per-listener) settings of the engine.
#[derive(Clone, Copy, Debug)]
pub(super) struct SockOpts {
    /// `SO_SNDBUF` once the stack started (bytes, doubled as Linux does).
    pub(super) sndbuf: Option<usize>,
    /// `SO_RCVBUF` once the stack started (bytes, doubled as Linux does).
    pub(super) rcvbuf: Option<usize>,
    /// `TCP_MAXSEG`.
    pub(super) maxseg: Option<u16>,
    /// `SO_KEEPALIVE`, and its `TCP_KEEPIDLE`, `TCP_KEEPINTVL` and
    /// `TCP_KEEPCNT` (seconds, seconds, probes; Linux's defaults).
    pub(super) keepalive: bool,
    pub(super) keep: (u16, u16, u8),
}

impl Default for SockOpts {
    fn default() -> Self {
        SockOpts {
            sndbuf: None,
            rcvbuf: None,
            maxseg: None,
            keepalive: false,
            keep: (7200, 75, 9),
        }
    }
}

impl SockOpts {
    /// The keep-alive setting for `Endpoint::set_keepalive`.
    fn keepalive(&self) -> Option<synack::Keepalive> {
        let (idle, interval, probes) = self.keep;
        let secs = |s: u16| core::time::Duration::from_secs(u64::from(s));
        self.keepalive
            .then(|| synack::Keepalive::new(secs(idle), secs(interval), probes).ok())
            .flatten()
    }
}

/// One of [`SockOpts`].
#[derive(Clone, Copy)]
pub(super) enum Opt {
    SndBuf,
    RcvBuf,
    MaxSeg,
    KeepAlive,
}

impl Runner {
    /// Applies option `which` as set on `fd` to what the socket has: its
    /// connection, or its listener (a listener keeps the send buffer and
    /// keep-alive for the connections it accepts; the engine's listener
    /// takes the MSS and the receive buffer). Keep-alive goes on or off as
    /// set.
    pub(super) fn apply_opt(&mut self, fd: i64, which: Opt) -> Result<(), Error> {
        let (state, o) = match self.socks.get(&fd) {
            Some(s) => (s.state, s.opts),
            None => return Ok(()),
        };
        let Some(ep) = self.ep.as_mut() else {
            return Ok(());
        };
        match (state, which) {
            (SockState::Listening(l), Opt::MaxSeg) => ep.set_listener_max_segment(l, o.maxseg),
            (SockState::Listening(l), Opt::RcvBuf) => ep.set_listener_recv_buffer(l, o.rcvbuf),
            (SockState::Connecting(c) | SockState::Connected(c), which) => match which {
                Opt::SndBuf => ep.set_send_buffer(c, o.sndbuf),
                Opt::RcvBuf => ep.set_recv_buffer(c, o.rcvbuf),
                Opt::MaxSeg => ep.set_max_segment(c, o.maxseg),
                Opt::KeepAlive => ep.set_keepalive(c, o.keepalive()),
            },
            _ => Ok(()),
        }
    }

    /// Applies every option set on `fd` to the connection or listener it
    /// just got (at `connect`, before the SYN leaves; at `listen`; at
    /// `accept`, for the options the child inherited). Keep-alive only if
    /// on.
    pub(super) fn apply_opts(&mut self, fd: i64) {
        let Some(o) = self.socks.get(&fd).map(|s| s.opts) else {
            return;
        };
        let set = [
            (o.sndbuf.is_some(), Opt::SndBuf),
            (o.rcvbuf.is_some(), Opt::RcvBuf),
            (o.maxseg.is_some(), Opt::MaxSeg),
            (o.keepalive, Opt::KeepAlive),
        ];
        for (is_set, which) in set {
            if is_set {
                let _ = self.apply_opt(fd, which);
            }
        }
    }

    pub(super) fn setsockopt(
        &mut self,
        line: usize,
        sc: &Syscall,
        fd: i64,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let opt = word_arg(sc, 2).ok_or_else(|| unsupported(line, "setsockopt option"))?;
        if opt == "SO_LINGER" {
            // {onoff=1, linger=0}: close() aborts. A non-zero linger time
            // (close() blocking until the data is acknowledged) is not
            // modelled.
            let fields = match sc.args.get(3) {
                Some(Expr::Braces(f)) => f.clone(),
                other => return Err(unsupported(line, format!("SO_LINGER value {other:?}"))),
            };
            let field = |name: &str| {
                fields.iter().find_map(|f| match f {
                    Expr::Field(n, v) if n == name => match **v {
                        Expr::Int(i) => Some(i),
                        _ => None,
                    },
                    _ => None,
                })
            };
            let (Some(onoff), Some(secs)) = (field("onoff"), field("linger")) else {
                return Err(unsupported(line, "SO_LINGER without onoff and linger"));
            };
            if onoff != 0 && secs != 0 {
                return Err(unsupported(line, "SO_LINGER with a non-zero time"));
            }
            self.sock(fd).linger_zero = onoff != 0;
            return Ok(Ok(0));
        }
        let val = self.int_arg(line, sc, 3)?;
        let conn = self.conn_of(fd);
        match opt.as_str() {
            "SO_REUSEADDR" | "SO_REUSEPORT" => {}
            "TCP_NODELAY" => {
                self.sock(fd).nodelay = val != 0;
                if let Some(c) = conn {
                    let _ = self.ep().set_nodelay(c, val != 0);
                }
            }
            // After the stack started, a send buffer is per connection:
            // set now on a connection, or kept on a listener for the
            // connections it accepts (as Linux's children inherit it).
            "SO_SNDBUF" if self.ep.is_some() => {
                self.sock(fd).opts.sndbuf = Some((val.max(1) as usize) * 2);
                let _ = self.apply_opt(fd, Opt::SndBuf);
            }
            // After the stack started a receive buffer is per connection
            // too: set now on a connection, before its SYN on a socket not
            // yet connected, or on a listener for what it accepts.
            "SO_RCVBUF" if self.ep.is_some() => {
                self.sock(fd).opts.rcvbuf = Some((val.max(1) as usize) * 2);
                let _ = self.apply_opt(fd, Opt::RcvBuf);
            }
            "SO_RCVBUF" | "SO_SNDBUF" if self.ep.is_none() => {
                // Linux doubles the value for its bookkeeping overhead.
                let bytes = (val.max(0) as usize) * 2;
                if opt == "SO_RCVBUF" {
                    self.cfg.recv_buffer = bytes;
                } else {
                    self.cfg.send_buffer = bytes;
                }
            }
            "TCP_USER_TIMEOUT" if self.ep.is_none() => {
                self.cfg.user_timeout =
                    (val > 0).then(|| core::time::Duration::from_millis(val as u64));
            }
            "TCP_USER_TIMEOUT" if conn.is_some() => {
                let t = (val > 0).then(|| core::time::Duration::from_millis(val as u64));
                let c = conn.expect("checked");
                if self.ep().set_user_timeout(c, t).is_err() {
                    return Ok(Err("EINVAL"));
                }
            }
            "SO_KEEPALIVE" | "TCP_KEEPIDLE" | "TCP_KEEPINTVL" | "TCP_KEEPCNT" => {
                // Linux's bounds: times 1 to 32767 s, 1 to 127 probes.
                let o = &mut self.sock(fd).opts;
                match opt.as_str() {
                    "SO_KEEPALIVE" => o.keepalive = val != 0,
                    "TCP_KEEPCNT" if (1..=127).contains(&val) => o.keep.2 = val as u8,
                    "TCP_KEEPIDLE" if (1..=32_767).contains(&val) => o.keep.0 = val as u16,
                    "TCP_KEEPINTVL" if (1..=32_767).contains(&val) => o.keep.1 = val as u16,
                    _ => return Ok(Err("EINVAL")),
                }
                let _ = self.apply_opt(fd, Opt::KeepAlive);
            }
            "TCP_MAXSEG" => {
                // Linux's bounds: TCP_MIN_MSS (88) to MAX_TCP_WINDOW.
                let Some(mss) = u16::try_from(val)
                    .ok()
                    .filter(|m| (88..=32_767).contains(m))
                else {
                    return Ok(Err("EINVAL"));
                };
                self.sock(fd).opts.maxseg = Some(mss);
                if self.apply_opt(fd, Opt::MaxSeg).is_err() {
                    return Ok(Err("EINVAL"));
                }
            }
            other => return Err(unsupported(line, format!("setsockopt {other}"))),
        }
        Ok(Ok(0))
    }

    pub(super) fn getsockopt(
        &mut self,
        line: usize,
        sc: &Syscall,
        fd: i64,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let opt = word_arg(sc, 2).ok_or_else(|| unsupported(line, "getsockopt option"))?;
        let want = self.int_arg(line, sc, 3)?;
        let conn = self.conn_of(fd);
        let got: i64 = match opt.as_str() {
            // Portable: the other kernel's buffer accounting, not compared.
            "SO_RCVBUF" | "SO_SNDBUF" if self.portable() => want,
            "SO_ERROR" => {
                let e = self.sock(fd).error.take();
                e.map_or(0, errno_number)
            }
            "TCP_NODELAY" => i64::from(self.sock(fd).nodelay),
            "SO_KEEPALIVE" => i64::from(self.sock(fd).opts.keepalive),
            "TCP_KEEPIDLE" => i64::from(self.sock(fd).opts.keep.0),
            "TCP_KEEPINTVL" => i64::from(self.sock(fd).opts.keep.1),
            "TCP_KEEPCNT" => i64::from(self.sock(fd).opts.keep.2),
            // Linux: the MSS in use once connected; before, the value set,
            // or its default of 536.
            "TCP_MAXSEG" => match conn.and_then(|c| self.ep().info(c)) {
                Some(i) if i.state.is_synchronized() => i64::from(i.mss),
                _ => i64::from(self.sock(fd).opts.maxseg.unwrap_or(536)),
            },
            other => return Err(unsupported(line, format!("getsockopt {other}"))),
        };
        if got != want {
            return Err(mismatch(
                line,
                format!("getsockopt {opt}: expected {want}, got {got}"),
            ));
        }
        Ok(Ok(0))
    }
}
