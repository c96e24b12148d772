//! Shell commands in scripts: `defaults.sh` and `sysctl` lines mapped onto
//! the configuration, and (portable) socket counts answered from the
//! endpoint's table. Anything else is unsupported.

use super::*;
impl Runner {
    /// A shell command: `defaults.sh` files and `sysctl` lines are read
    /// and mapped onto the configuration; anything else is unsupported.
    pub(super) fn command(&mut self, line: usize, cmd: &str) -> Result<(), Failure> {
        let joined = cmd.replace("\\\n", " ");
        for raw in joined.lines() {
            let l = raw.split(" #").next().unwrap_or("").trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let first = l.split_whitespace().next().unwrap_or("");
            if first.ends_with(".sh") {
                let Some(dir) = &self.dir else {
                    return Err(unsupported(
                        line,
                        format!("shell script {first} (no script directory)"),
                    ));
                };
                let path = dir.join(first);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| unsupported(line, format!("shell script {first}: {e}")))?;
                self.command(line, &text)?;
                continue;
            }
            self.shell_line(line, l)?;
        }
        Ok(())
    }

    pub(super) fn shell_line(&mut self, line: usize, l: &str) -> Result<(), Failure> {
        let words = shell_words(l);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if self.portable()
            && let Some(r) = self.socket_count(line, l)
        {
            return r;
        }
        match words.first().copied() {
            Some("sysctl") => {
                // Flags and redirections aside, every word is NAME=VALUE.
                for w in &words[1..] {
                    if w.starts_with('-')
                        || w.starts_with('>')
                        || w.starts_with("/dev/")
                        || *w == "2>&1"
                    {
                        continue;
                    }
                    self.sysctl_assignment(line, w, l)?;
                }
                Ok(())
            }
            // A host cache of per-destination metrics that synack does not
            // keep; flushing it changes nothing.
            Some("ip") if l.contains("tcp_metrics flush") => Ok(()),
            // The qdisc of packetdrill's tun device: in-process there is
            // none to pace or reorder.
            Some("tc") if l.contains("qdisc") => Ok(()),
            // Offloads of packetdrill's tun device: synack in-process sends
            // no TSO or GSO segments to turn off.
            Some("ethtool") if words.get(1) == Some(&"-K") => Ok(()),
            _ if words.first().is_some_and(|w| w.ends_with("set_sysctls.py")) => {
                for w in &words[1..] {
                    let Some(rest) = w.strip_prefix("/proc/sys/net/ipv4/") else {
                        return Err(unsupported(line, format!("shell command: {l}")));
                    };
                    self.sysctl_assignment(line, &format!("net.ipv4.{rest}"), l)?;
                }
                Ok(())
            }
            _ => Err(unsupported(line, format!("shell command: {l}"))),
        }
    }

    pub(super) fn sysctl_assignment(
        &mut self,
        line: usize,
        w: &str,
        whole: &str,
    ) -> Result<(), Failure> {
        let Some((name, value)) = w.split_once('=') else {
            return Err(unsupported(line, format!("shell command: {whole}")));
        };
        let value = expand_arith(value);
        if self.ep.is_some() {
            return Err(unsupported(
                line,
                format!("sysctl {name} after the stack started"),
            ));
        }
        // Linux's names in every profile; another system's (the BSDs')
        // only in the portable one.
        let effect = match name.strip_prefix("net.ipv4.") {
            Some(linux) => profile::sysctl(&mut self.cfg, linux, &value),
            None if self.portable() => profile::bsd_sysctl(&mut self.cfg, name, &value),
            None => return Err(unsupported(line, format!("sysctl {name}"))),
        };
        match effect {
            Ok(Effect::Applied) => Ok(()),
            Ok(Effect::NoEffect(why)) => {
                if self.opts.verbose {
                    self.log
                        .push(format!("sysctl {name}={value}: no effect ({why})"));
                }
                Ok(())
            }
            Err(why) => Err(unsupported(line, why)),
        }
    }
}

impl Runner {
    /// Portable: `sockstat|netstat|ss ... | grep -c STATE | grep N` (or
    /// `grep -q N`, `test ... -eq N`-free forms only), answered from the
    /// endpoint's own table. `None` when the line is not such a count.
    pub(super) fn socket_count(&mut self, line: usize, l: &str) -> Option<Result<(), Failure>> {
        let stages: Vec<&str> = l.split('|').map(str::trim).collect();
        let tool = stages.first()?.split_whitespace().next()?;
        if !["sockstat", "netstat", "ss"].contains(&tool) || stages.len() != 3 {
            return None;
        }
        let state = stages[1].strip_prefix("grep -c ")?.trim().trim_matches('"');
        let want: usize = stages[2]
            .strip_prefix("grep ")?
            .trim_start_matches("-q ")
            .trim()
            .trim_matches('"')
            .parse()
            .ok()?;
        let norm = state.to_ascii_uppercase().replace('-', "_");
        let have = match norm.as_str() {
            "LISTEN" => self
                .socks
                .values()
                .filter(|s| matches!(s.state, SockState::Listening(_)))
                .count(),
            "TIME_WAIT" => self.ep.as_ref().map_or(0, |e| e.time_wait_count()),
            other => {
                let want_state = match other {
                    "ESTABLISHED" | "ESTAB" => synack::State::Established,
                    "SYN_SENT" => synack::State::SynSent,
                    "SYN_RECEIVED" | "SYN_RECV" | "SYN_RCVD" => synack::State::SynReceived,
                    "FIN_WAIT_1" | "FIN_WAIT1" => synack::State::FinWait1,
                    "FIN_WAIT_2" | "FIN_WAIT2" => synack::State::FinWait2,
                    "CLOSE_WAIT" => synack::State::CloseWait,
                    "CLOSING" => synack::State::Closing,
                    "LAST_ACK" => synack::State::LastAck,
                    _ => return Some(Err(unsupported(line, format!("socket state {state}")))),
                };
                self.ep.as_ref().map_or(0, |e| {
                    e.connections()
                        .filter(|(_, i)| i.state == want_state)
                        .count()
                })
            }
        };
        Some(if have == want {
            Ok(())
        } else {
            Err(mismatch(
                line,
                format!("{l}: {have} sockets in {state}, expected {want}"),
            ))
        })
    }
}

/// A shell line split into words, double quotes grouping and removed.
pub(super) fn shell_words(l: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in l.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// `$((15*1024*1024))` in a sysctl value, evaluated.
pub(super) fn expand_arith(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v.trim_matches('"');
    while let Some(i) = rest.find("$((") {
        out += &rest[..i];
        let Some(j) = rest[i..].find("))") else {
            break;
        };
        let expr = &rest[i + 3..i + j];
        let prod: Option<i64> = expr
            .split('*')
            .map(|x| x.trim().parse::<i64>().ok())
            .try_fold(1i64, |a, x| a.checked_mul(x?));
        out += &prod.map_or_else(|| expr.to_string(), |p| p.to_string());
        rest = &rest[i + j + 2..];
    }
    out += rest;
    out
}
