//! System calls mapped onto the engine's API, with errno results and
//! blocking calls.

use super::*;

/// What a call did.
pub(super) enum Outcome {
    Done(Result<i64, &'static str>),
    /// It would block; try again as the stack moves.
    Blocked,
}

const SOCK_STREAM: i64 = 1;
const IPPROTO_TCP: i64 = 6;

impl Runner {
    pub(super) fn syscall(
        &mut self,
        line: usize,
        sc: &Syscall,
        start: Usecs,
        end: Option<Usecs>,
    ) -> Result<(), Failure> {
        if self.opts.verbose {
            self.log
                .push(format!("{:>10.6}   {}(...)", secs(start), sc.name));
        }
        match self.call(line, sc, 0)? {
            Outcome::Done(r) => self.check_result(line, sc, r),
            Outcome::Blocked => {
                let deadline = end.unwrap_or(start);
                let wake = match sc.name.as_str() {
                    "poll" => Some(self.int_arg(line, sc, 2)?)
                        .filter(|ms| *ms > 0)
                        .map(|ms| start.saturating_add(ms.saturating_mul(1000))),
                    _ => None,
                };
                self.pending = Some(Pending {
                    line,
                    call: sc.clone(),
                    start,
                    deadline,
                    written: 0,
                    wake,
                });
                Ok(())
            }
        }
    }

    pub(super) fn retry_pending(&mut self) -> Result<(), Failure> {
        let Some(mut p) = self.pending.take() else {
            return Ok(());
        };
        if self.ep.is_none() {
            self.pending = Some(p);
            return Ok(());
        }
        let written = p.written;
        self.retrying = true;
        self.poll_expired = p.wake.is_some_and(|w| self.now >= w);
        let outcome = self.call(p.line, &p.call, written);
        self.retrying = false;
        self.poll_expired = false;
        match outcome? {
            Outcome::Done(r) => {
                if self.now > p.deadline + self.tolerance {
                    return Err(mismatch(
                        p.line,
                        format!(
                            "{} returned at {:.6}, expected by {:.6}",
                            p.call.name,
                            secs(self.now),
                            secs(p.deadline)
                        ),
                    ));
                }
                if self.opts.verbose {
                    self.log.push(format!(
                        "{:>10.6}   {}(...) returned (called at {:.6})",
                        secs(self.now),
                        p.call.name,
                        secs(p.start)
                    ));
                }
                self.check_result(p.line, &p.call, r)
            }
            Outcome::Blocked => {
                if self.now > p.deadline + self.tolerance {
                    return Err(mismatch(
                        p.line,
                        format!(
                            "{} still blocked at {:.6}, expected to return by {:.6}",
                            p.call.name,
                            secs(self.now),
                            secs(p.deadline)
                        ),
                    ));
                }
                // A blocking write keeps what it has queued so far.
                if let Some(w) = self.partial_write.take() {
                    p.written = w;
                }
                self.pending = Some(p);
                Ok(())
            }
        }
    }

    pub(super) fn check_result(
        &mut self,
        line: usize,
        sc: &Syscall,
        r: Result<i64, &'static str>,
    ) -> Result<(), Failure> {
        let got = match r {
            Ok(v) => format!("{v}"),
            Err(e) => format!("-1 {e}"),
        };
        let ok = match (&sc.result, r) {
            (Expr::Ellipsis, _) => true,
            (Expr::Int(want), Ok(v)) => *want == v,
            (Expr::Int(-1), Err(e)) => sc.errno.as_deref().is_none_or(|want| want == e),
            (Expr::Int(_), Err(_)) => false,
            (other, _) => return Err(unsupported(line, format!("result expression {other:?}"))),
        };
        if ok {
            return Ok(());
        }
        let want = match (&sc.result, &sc.errno) {
            (Expr::Int(v), Some(e)) => format!("{v} {e}"),
            (Expr::Int(v), None) => format!("{v}"),
            (e, _) => format!("{e:?}"),
        };
        Err(mismatch(
            line,
            format!("{}: expected result {want} but got {got}", sc.name),
        ))
    }

    pub(super) fn fd(&self, line: usize, sc: &Syscall) -> Result<i64, Failure> {
        match sc.args.first() {
            Some(Expr::Int(fd)) => Ok(*fd),
            _ => Err(unsupported(
                line,
                format!("{}: the first argument must be a file descriptor", sc.name),
            )),
        }
    }

    pub(super) fn int_arg(&self, line: usize, sc: &Syscall, i: usize) -> Result<i64, Failure> {
        match sc.args.get(i) {
            Some(Expr::Int(v)) => Ok(*v),
            Some(Expr::Array(a)) if a.len() == 1 => match &a[0] {
                Expr::Int(v) => Ok(*v),
                e => Err(unsupported(line, format!("{}: argument {e:?}", sc.name))),
            },
            Some(e) => {
                constant(e).ok_or_else(|| unsupported(line, format!("{}: argument {e:?}", sc.name)))
            }
            None => Err(mismatch(
                line,
                format!("{}: missing argument {}", sc.name, i + 1),
            )),
        }
    }

    pub(super) fn call(
        &mut self,
        line: usize,
        sc: &Syscall,
        written: usize,
    ) -> Result<Outcome, Failure> {
        self.blocked = false;
        self.partial_write = None;
        let outcome = self.call_inner(line, sc, written)?;
        if self.blocked {
            return Ok(Outcome::Blocked);
        }
        Ok(outcome)
    }

    pub(super) fn call_inner(
        &mut self,
        line: usize,
        sc: &Syscall,
        written: usize,
    ) -> Result<Outcome, Failure> {
        let name = sc.name.as_str();
        if name == "poll" {
            return self.poll(line, sc);
        }
        if name == "socket" {
            let ty = self.int_arg(line, sc, 1)?;
            let proto = self.int_arg(line, sc, 2)?;
            if ty & 0xf != SOCK_STREAM || (proto != IPPROTO_TCP && proto != 0) {
                return Ok(Outcome::Done(Err("EPROTONOSUPPORT")));
            }
            let fd = self.new_fd(sc);
            self.socks
                .insert(fd, Sock::new(SockState::Fresh, ty & 0o4000 != 0));
            return Ok(Outcome::Done(Ok(fd)));
        }
        let fd = self.fd(line, sc)?;
        let Some(sock) = self.socks.get(&fd) else {
            return Ok(Outcome::Done(Err("EBADF")));
        };
        let state = sock.state;
        let nonblocking = sock.nonblocking;
        let r = match name {
            "bind" => match state {
                SockState::Fresh => {
                    self.sock(fd).state =
                        SockState::Bound(SocketAddr::new(self.local_ip, BIND_PORT));
                    Ok(0)
                }
                _ => Err("EINVAL"),
            },
            "listen" => match state {
                SockState::Bound(addr) => {
                    let backlog = self.int_arg(line, sc, 1)?.max(1) as usize;
                    match self.ep().listen(addr, backlog) {
                        Ok(l) => {
                            self.sock(fd).state = SockState::Listening(l);
                            self.apply_opts(fd);
                            Ok(0)
                        }
                        Err(e) => Err(errno(e)),
                    }
                }
                SockState::Listening(_) => Ok(0),
                _ => Err("EINVAL"),
            },
            "accept" | "accept4" => return Ok(self.accept_call(sc, fd, state, nonblocking)),
            "connect" => return Ok(self.connect_call(fd, state, nonblocking)),
            "read" | "recv" | "recvfrom" | "readv" | "recvmsg" => {
                let len = match name {
                    "readv" => self.iov_len(line, sc)?,
                    "recvmsg" => return Err(unsupported(line, "recvmsg")),
                    _ => self.io_len(line, sc)?,
                };
                self.read(fd, len)?
            }
            "write" | "send" | "sendto" => {
                let len = self.io_len(line, sc)?;
                self.write(fd, len, written)?
            }
            "writev" => {
                let len = self.iov_len(line, sc)?;
                self.write(fd, len, written)?
            }
            "sendmsg" => return Err(unsupported(line, "sendmsg")),
            "close" => {
                match state {
                    SockState::Listening(l) => {
                        let _ = self.ep().close_listener(l);
                    }
                    // SO_LINGER with a zero timeout: ABORT (RFC 9293 3.10.5).
                    SockState::Connecting(c) | SockState::Connected(c)
                        if self.sock(fd).linger_zero =>
                    {
                        self.ep().abort(c);
                    }
                    SockState::Connecting(c) | SockState::Connected(c) => {
                        let _ = self.ep().close(c);
                    }
                    _ => {}
                }
                self.socks.remove(&fd);
                Ok(0)
            }
            "shutdown" => {
                let how = self.int_arg(line, sc, 1)?;
                match state {
                    SockState::Connected(c) | SockState::Connecting(c) => {
                        if how == 0 || how == 2 {
                            self.sock(fd).shut_rd = true;
                        }
                        if how == 1 || how == 2 {
                            let _ = self.ep().shutdown(c);
                        }
                        Ok(0)
                    }
                    _ => Err("ENOTCONN"),
                }
            }
            "fcntl" => {
                let cmd = self.int_arg(line, sc, 1)?;
                match cmd {
                    // F_GETFL: O_RDWR, plus O_NONBLOCK.
                    3 => Ok(2 | if nonblocking { 0o4000 } else { 0 }),
                    // F_SETFL
                    4 => {
                        let fl = self.int_arg(line, sc, 2)?;
                        self.sock(fd).nonblocking = fl & 0o4000 != 0;
                        Ok(0)
                    }
                    _ => return Err(unsupported(line, format!("fcntl command {cmd}"))),
                }
            }
            "ioctl" => {
                let req = self.int_arg(line, sc, 1)?;
                // FIONREAD / SIOCINQ
                if req != 0x541B {
                    return Err(unsupported(line, format!("ioctl request {req:#x}")));
                }
                let queued = match state {
                    SockState::Connected(c) => self.ep().info(c).map_or(0, |i| i.recv_queue),
                    _ => 0,
                };
                let want = self.int_arg(line, sc, 2)?;
                if want as usize != queued {
                    return Err(mismatch(
                        line,
                        format!("ioctl(SIOCINQ): expected {want} bytes queued, found {queued}"),
                    ));
                }
                Ok(0)
            }
            "setsockopt" => self.setsockopt(line, sc, fd)?,
            "getsockopt" => self.getsockopt(line, sc, fd)?,
            other => return Err(unsupported(line, format!("system call {other}"))),
        };
        Ok(Outcome::Done(r))
    }

    /// The descriptor a new socket gets: the one the script names as the
    /// call's result (packetdrill maps script descriptors to live ones, so
    /// any number a script chooses is valid), else the lowest free one.
    pub(super) fn new_fd(&self, sc: &Syscall) -> i64 {
        match sc.result {
            Expr::Int(fd) if fd >= 0 && !self.socks.contains_key(&fd) => fd,
            _ => (3..)
                .find(|f| !self.socks.contains_key(f))
                .expect("a free fd"),
        }
    }

    /// The byte count of a read or write: at most 64 MiB a call (the
    /// runner builds the data in memory).
    pub(super) fn io_len(&self, line: usize, sc: &Syscall) -> Result<usize, Failure> {
        let n = self.int_arg(line, sc, 2)?;
        if !(0..=64 << 20).contains(&n) {
            return Err(unsupported(
                line,
                format!("{}: {n} bytes in one call", sc.name),
            ));
        }
        Ok(n as usize)
    }

    /// `accept`: the next connection a listener has, as a new descriptor
    /// that inherits the listener's options.
    fn accept_call(
        &mut self,
        sc: &Syscall,
        fd: i64,
        state: SockState,
        nonblocking: bool,
    ) -> Outcome {
        let SockState::Listening(l) = state else {
            return Outcome::Done(Err("EINVAL"));
        };
        let r = match self.ep().accept(l) {
            Some(c) => {
                let newfd = self.new_fd(sc);
                let mut child = Sock::new(SockState::Connected(c), false);
                // Linux's children inherit these from the listener.
                child.opts = self.sock(fd).opts;
                self.socks.insert(newfd, child);
                self.apply_opts(newfd);
                Ok(newfd)
            }
            None if nonblocking => Err("EAGAIN"),
            None => return Outcome::Blocked,
        };
        Outcome::Done(r)
    }

    /// `connect`: an active OPEN (RFC 9293 3.10.1) from the socket's
    /// address, or its progress when called again.
    fn connect_call(&mut self, fd: i64, state: SockState, nonblocking: bool) -> Outcome {
        let r = match state {
            SockState::Fresh | SockState::Bound(_) => {
                let local = match state {
                    SockState::Bound(a) => a,
                    _ => SocketAddr::new(self.local_ip, 0),
                };
                let remote = SocketAddr::new(self.remote_ip, CONNECT_PORT);
                let now = self.instant();
                match self.ep().connect(now, local, remote) {
                    Ok(c) => {
                        let nodelay = self.sock(fd).nodelay;
                        if nodelay {
                            let _ = self.ep().set_nodelay(c, true);
                        }
                        self.sock(fd).state = SockState::Connecting(c);
                        // Before the SYN leaves: it offers what they say.
                        self.apply_opts(fd);
                        if nonblocking {
                            Err("EINPROGRESS")
                        } else {
                            return Outcome::Blocked;
                        }
                    }
                    // Linux refuses a route to a broadcast or
                    // multicast destination with ENETUNREACH.
                    Err(Error::InvalidAddress) if !unicast_ip(remote.ip()) => Err("ENETUNREACH"),
                    Err(e) => Err(errno(e)),
                }
            }
            SockState::Connecting(_) => {
                if let Some(e) = self.sock(fd).error.take() {
                    self.sock(fd).state = SockState::Closed;
                    Err(e)
                } else if nonblocking {
                    Err("EALREADY")
                } else {
                    return Outcome::Blocked;
                }
            }
            // A blocking connect returns once established.
            SockState::Connected(_) if self.retrying => Ok(0),
            SockState::Connected(_) => Err("EISCONN"),
            _ => Err("EBADF"),
        };
        Outcome::Done(r)
    }

    /// The total length of `readv`/`writev`'s vector, written
    /// `[{..., 1000}, {iov_base=..., iov_len=500}]`, whose count argument
    /// must match it. The stream has no boundaries, so the calls move the
    /// total as `read`/`write` would.
    pub(super) fn iov_len(&self, line: usize, sc: &Syscall) -> Result<usize, Failure> {
        let Some(Expr::Array(iov)) = sc.args.get(1) else {
            return Err(unsupported(line, format!("{}: the iovec array", sc.name)));
        };
        let mut total: i64 = 0;
        for entry in iov {
            let len = match entry {
                Expr::Braces(fields) => fields.iter().rev().find_map(|f| match f {
                    Expr::Int(n) => Some(*n),
                    Expr::Field(name, v) if name == "iov_len" => match **v {
                        Expr::Int(n) => Some(n),
                        _ => None,
                    },
                    _ => None,
                }),
                _ => None,
            };
            let Some(len) = len.filter(|n| *n >= 0) else {
                return Err(unsupported(line, format!("{}: iovec {entry:?}", sc.name)));
            };
            total = total.saturating_add(len);
        }
        let count = self.int_arg(line, sc, 2)?;
        if count != iov.len() as i64 {
            return Err(unsupported(
                line,
                format!("{}: count {count} for {} iovecs", sc.name, iov.len()),
            ));
        }
        if total > 64 << 20 {
            return Err(unsupported(
                line,
                format!("{}: {total} bytes in one call", sc.name),
            ));
        }
        Ok(total as usize)
    }

    pub(super) fn sock(&mut self, fd: i64) -> &mut Sock {
        self.socks.get_mut(&fd).expect("checked by the caller")
    }

    pub(super) fn conn_of(&self, fd: i64) -> Option<ConnId> {
        match self.socks.get(&fd)?.state {
            SockState::Connected(c) | SockState::Connecting(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn read(
        &mut self,
        fd: i64,
        len: usize,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let nonblocking = self.sock(fd).nonblocking;
        let Some(c) = self.conn_of(fd) else {
            return Ok(Err("ENOTCONN"));
        };
        let shut_rd = self.sock(fd).shut_rd;
        let mut buf = vec![0u8; len.max(1)];
        let r = self.ep().recv(c, &mut buf[..len]);
        Ok(match r {
            Ok(n) => Ok(n as i64),
            // After SHUT_RD, Linux still returns what is queued, and end
            // of file where it would wait.
            Err(Error::WouldBlock) if shut_rd => Ok(0),
            Err(Error::WouldBlock) if nonblocking => Err("EAGAIN"),
            Err(Error::WouldBlock) => {
                self.blocked = true;
                Err("EAGAIN")
            }
            Err(e) => self.conn_error(fd, c, e),
        })
    }

    /// The error a call on a connection that ended reports: the reason
    /// once, then end of file (as Linux reports a reset).
    pub(super) fn conn_error(&mut self, fd: i64, c: ConnId, e: Error) -> Result<i64, &'static str> {
        if let Some(err) = self.sock(fd).error.take() {
            self.sock(fd).reset_reported = true;
            return Err(err);
        }
        if self.sock(fd).reset_reported {
            return Ok(0);
        }
        match self.closed.get(&c).copied() {
            // An orderly end (the engine reported `Closed { Normal }`;
            // its TCB may be gone to TIME-WAIT): end of file.
            Some(CloseReason::Normal) => Ok(0),
            Some(r) => match reason_errno(r) {
                Some(err) => {
                    self.sock(fd).reset_reported = true;
                    Err(err)
                }
                None => Err(errno(e)),
            },
            None => Err(errno(e)),
        }
    }

    pub(super) fn write(
        &mut self,
        fd: i64,
        len: usize,
        written: usize,
    ) -> Result<Result<i64, &'static str>, Failure> {
        let nonblocking = self.sock(fd).nonblocking;
        let Some(c) = self.conn_of(fd) else {
            return Ok(Err("ENOTCONN"));
        };
        if let Some(SockState::Connecting(_)) = self.socks.get(&fd).map(|s| s.state) {
            return Ok(if nonblocking {
                Err("EAGAIN")
            } else {
                self.blocked = true;
                Err("EAGAIN")
            });
        }
        let data = vec![0u8; len - written.min(len)];
        let r = if data.is_empty() {
            Ok(0)
        } else {
            self.ep().send(c, &data)
        };
        Ok(match r {
            Ok(n) if written + n == len => Ok(len as i64),
            Ok(n) if nonblocking && written + n > 0 => Ok((written + n) as i64),
            Ok(n) => {
                self.blocked = true;
                self.partial_write = Some(written + n);
                Err("EAGAIN")
            }
            Err(Error::WouldBlock) if nonblocking && written == 0 => Err("EAGAIN"),
            Err(Error::WouldBlock) => {
                self.blocked = true;
                self.partial_write = Some(written);
                Err("EAGAIN")
            }
            Err(Error::BrokenPipe) => Err("EPIPE"),
            Err(e) => self.conn_error(fd, c, e),
        })
    }
}

pub(super) fn word_arg(sc: &Syscall, i: usize) -> Option<String> {
    match sc.args.get(i)? {
        Expr::Word(w) => Some(w.clone()),
        _ => None,
    }
}

/// The value of a symbolic constant the scripts use.
pub(super) fn constant(e: &Expr) -> Option<i64> {
    match e {
        Expr::Int(v) => Some(*v),
        Expr::Or(a, b) => Some(constant(a)? | constant(b)?),
        Expr::Word(w) => Some(match w.as_str() {
            "SOCK_STREAM" => 1,
            "SOCK_DGRAM" => 2,
            "SOCK_NONBLOCK" => 0o4000,
            "IPPROTO_TCP" => 6,
            "IPPROTO_UDP" => 17,
            "IPPROTO_IP" => 0,
            "SHUT_RD" => 0,
            "SHUT_WR" => 1,
            "SHUT_RDWR" => 2,
            "F_GETFL" => 3,
            "F_SETFL" => 4,
            "O_RDWR" => 2,
            "O_NONBLOCK" => 0o4000,
            "FIONREAD" | "SIOCINQ" => 0x541B,
            "MSG_DONTWAIT" => 0x40,
            other => return super::poll::poll_constant(other),
        }),
        _ => None,
    }
}

/// Neither multicast nor (IPv4) limited broadcast.
fn unicast_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => !v4.is_multicast() && !v4.is_broadcast(),
        std::net::IpAddr::V6(v6) => !v6.is_multicast(),
    }
}

pub(super) fn errno(e: Error) -> &'static str {
    match e {
        Error::WouldBlock => "EAGAIN",
        Error::NotConnected => "ENOTCONN",
        Error::BrokenPipe => "EPIPE",
        Error::ConnectionRefused => "ECONNREFUSED",
        Error::ConnectionReset => "ECONNRESET",
        Error::ConnectionAborted => "ECONNABORTED",
        Error::TimedOut => "ETIMEDOUT",
        Error::AddrInUse => "EADDRINUSE",
        Error::AddrNotAvailable => "EADDRNOTAVAIL",
        Error::InvalidAddress | Error::InvalidArgument => "EINVAL",
        Error::LimitReached => "ENOBUFS",
        Error::InvalidHandle => "EBADF",
        _ => "EIO",
    }
}

pub(super) fn errno_number(e: &str) -> i64 {
    match e {
        "EAGAIN" => 11,
        "EPIPE" => 32,
        "ECONNABORTED" => 103,
        "ECONNRESET" => 104,
        "ENOTCONN" => 107,
        "ETIMEDOUT" => 110,
        "ECONNREFUSED" => 111,
        "EHOSTUNREACH" => 113,
        "ENETUNREACH" => 101,
        _ => 5,
    }
}

/// The errno a call reports on a connection the engine closed for `r`.
pub(super) fn reason_errno(r: CloseReason) -> Option<&'static str> {
    match r {
        CloseReason::Normal => None,
        CloseReason::Refused => Some("ECONNREFUSED"),
        CloseReason::Reset => Some("ECONNRESET"),
        CloseReason::TimedOut | CloseReason::KeepaliveTimeout => Some("ETIMEDOUT"),
        CloseReason::Aborted => Some("ECONNABORTED"),
        CloseReason::HostUnreachable => Some("EHOSTUNREACH"),
        CloseReason::NetworkUnreachable => Some("ENETUNREACH"),
        _ => None,
    }
}
