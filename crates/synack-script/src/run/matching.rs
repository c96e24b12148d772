//! Matching what the stack sent against the script's `>` lines: timing,
//! the 4-tuple, sequence and timestamp mapping, TSO joining, flags,
//! fields and options (exactly, or by the portable profile's rules).

use super::*;

impl Runner {
    /// Waits for the next outbound segment (aggregating consecutive ones
    /// into one expected segment) and checks it against `p`. Returns when
    /// it left.
    pub(super) fn expect(
        &mut self,
        line: usize,
        p: &Packet,
        lo: Usecs,
        hi: Usecs,
    ) -> Result<Usecs, Failure> {
        let give_up = hi.saturating_add(self.tolerance);
        while self.out.is_empty() {
            let next = self
                .ep
                .as_ref()
                .and_then(Endpoint::poll_timeout)
                .map(|i| i.micros() as i64 - EPOCH_US as i64);
            match next {
                Some(n) if n <= give_up => self.step_until(n.max(self.now))?,
                _ => {
                    self.step_until(give_up)?;
                    if self.out.is_empty() {
                        return Err(mismatch(
                            line,
                            format!(
                                "Timed out waiting for packet: expected {} at {:.6}",
                                show_script(p),
                                secs(lo)
                            ),
                        ));
                    }
                }
            }
        }
        let (at, first) = self.out.pop_front().expect("not empty");
        if at < lo - self.tolerance || at > hi.saturating_add(self.tolerance) {
            return Err(mismatch(
                line,
                format!(
                    "outbound packet timing error: expected {} at {:.6}{}, sent at {:.6}",
                    show_script(p),
                    secs(lo),
                    if hi != lo && hi < Usecs::MAX / 8 {
                        format!("~{:.6}", secs(hi))
                    } else {
                        String::new()
                    },
                    secs(at)
                ),
            ));
        }
        // Learn the 4-tuple of a connection we opened, and our ISN.
        if p.flags & flags::SYN != 0 {
            if p.flags & flags::ACK == 0 {
                self.live = Some(Live {
                    local: SocketAddr::new(self.local_ip, first.src_port),
                    remote: SocketAddr::new(self.remote_ip, first.dst_port),
                });
            }
            if first.flags & flags::SYN != 0 && !(self.keep_isn_base && self.live_isn.is_some()) {
                self.script_isn = Some(p.seq);
                self.live_isn = Some(first.seq);
            }
        }
        if self.opts.verbose {
            self.log
                .push(format!("{:>10.6} > {}", secs(at), self.show_seen(&first)));
        }
        let mut seen = first;
        // One expected segment made of several: take the next ones while
        // they continue it, sent at the same time.
        if !self.strict_segments {
            while seen.len < p.len
                && seen.flags & flags::FIN == 0
                && let Some((t2, next)) = self.out.front()
                && *t2 == at
                && next.seq == seen.seq.wrapping_add(seen.len)
                && next.flags & !(flags::PSH | flags::FIN) == seen.flags & !flags::PSH
            {
                let (_, next) = self.out.pop_front().expect("peeked");
                if self.opts.verbose {
                    self.log.push(format!(
                        "{:>10.6} > {} (part of one)",
                        secs(at),
                        self.show_seen(&next)
                    ));
                }
                seen.len += next.len;
                seen.flags = (seen.flags & !flags::PSH) | next.flags;
            }
        }
        self.compare(line, p, seen)?;
        Ok(at)
    }

    pub(super) fn compare(
        &mut self,
        line: usize,
        p: &Packet,
        mut seen: Segment,
    ) -> Result<(), Failure> {
        let off = self.local_offset();
        let expected = show_script(p);
        // The 4-tuple, addresses included: our address is chosen before
        // the first SYN and kept (RFC 9293 MUST-44, MUST-45).
        if let Some(live) = self.live
            && (SocketAddr::new(seen.src, seen.src_port) != live.local
                || SocketAddr::new(seen.dst, seen.dst_port) != live.remote)
        {
            return Err(mismatch(
                line,
                format!(
                    "expected {expected}, but the stack sent a segment of another connection ({} > {})",
                    SocketAddr::new(seen.src, seen.src_port),
                    SocketAddr::new(seen.dst, seen.dst_port)
                ),
            ));
        }
        seen.seq = seen.seq.wrapping_sub(off);
        // Options in script space: the TSval mapped from the first one.
        let mut actual_opts = seen.options.clone();
        let mut problems = Vec::new();
        if let (PacketOptions::List(list), Some(at)) =
            (&p.options, wire::timestamp_at(&actual_opts))
        {
            let script_val = list.iter().find_map(|o| match o {
                TcpOpt::Timestamp { val, .. } => Some(*val),
                _ => None,
            });
            if let Some(sv) = script_val {
                let actual =
                    u32::from_be_bytes(actual_opts[at..at + 4].try_into().expect("4 bytes"));
                self.ts_map.insert(sv, actual);
                let (fs, fa) = *self.first_ts.get_or_insert((sv, actual));
                let in_script = fs.wrapping_add(actual.wrapping_sub(fa));
                if let Some(tick) = self.ts_tick {
                    let dev = i64::from(in_script.wrapping_sub(sv) as i32).abs();
                    if dev * tick > self.tolerance {
                        problems.push(format!("TS val {in_script} (expected {sv})"));
                    }
                }
                actual_opts[at..at + 4].copy_from_slice(&sv.to_be_bytes());
            }
        }
        if seen.flags != p.flags {
            problems.push(format!("flags {}", show_flags(seen.flags)));
        }
        if seen.seq != p.seq || seen.len != p.len {
            problems.push(format!(
                "{}:{}({})",
                seen.seq,
                seen.seq.wrapping_add(seen.len),
                seen.len
            ));
        }
        if p.flags & flags::ACK != 0
            && let Some(a) = p.ack
            && seen.ack != a
        {
            problems.push(format!("ack {}", seen.ack));
        }
        // Portable: the window the script expects is the other kernel's
        // buffer size, not something RFC 9293 fixes.
        if let Some(w) = p.win
            && !self.portable()
            && u32::from(seen.win) != w
        {
            problems.push(format!("win {}", seen.win));
        }
        if let Some(u) = p.urg
            && u32::from(seen.urg) != u
        {
            problems.push(format!("urg {}", seen.urg));
        }
        if let Some(e) = p.ecn
            && seen.ecn != e
        {
            problems.push(format!("ECN {:?}", seen.ecn));
        }
        match &p.options {
            PacketOptions::Any => {}
            PacketOptions::None => {
                if !actual_opts.is_empty() {
                    problems.push(format!("options <{}>", show_option_bytes(&actual_opts)));
                }
            }
            PacketOptions::List(list) => {
                let differs = if self.portable() {
                    portable_options_differ(list, &actual_opts)
                } else {
                    wire::option_bytes(list) != actual_opts
                };
                if differs {
                    problems.push(format!("options <{}>", show_option_bytes(&actual_opts)));
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(mismatch(
            line,
            format!(
                "expected {expected}; the stack sent {} (differs in {})",
                self.show_seen_script(&seen, &actual_opts),
                problems.join(", ")
            ),
        ))
    }

    pub(super) fn show_seen(&self, s: &Segment) -> String {
        let mut t = s.clone();
        t.seq = t.seq.wrapping_sub(self.local_offset());
        self.show_seen_script(&t, &s.options)
    }

    pub(super) fn show_seen_script(&self, s: &Segment, opts: &[u8]) -> String {
        let mut out = format!(
            "{} {}:{}({})",
            show_flags(s.flags),
            s.seq,
            s.seq.wrapping_add(s.len),
            s.len
        );
        if s.flags & flags::ACK != 0 {
            out += &format!(" ack {}", s.ack);
        }
        out += &format!(" win {}", s.win);
        if !opts.is_empty() {
            out += &format!(" <{}>", show_option_bytes(opts));
        }
        out
    }
}

/// Portable: options compared as a set of kinds, NOP and EOL padding and
/// the order ignored; the stack's own choices (its window-scale shift, its
/// TSval) not compared; the MSS, the echoed timestamp and SACK blocks are.
fn portable_options_differ(expected: &[TcpOpt], actual: &[u8]) -> bool {
    // (kind, the bytes that must match)
    let key = |kind: u8, body: &[u8]| -> (u8, Vec<u8>) {
        match kind {
            3 => (3, Vec::new()),
            8 => (8, body.get(4..8).map(<[u8]>::to_vec).unwrap_or_default()),
            _ => (kind, body.to_vec()),
        }
    };
    let parse = |o: &[u8]| -> Option<Vec<(u8, Vec<u8>)>> {
        let mut v = Vec::new();
        let mut i = 0;
        while i < o.len() {
            match o[i] {
                0 | 1 => i += 1,
                kind => {
                    let len = usize::from(*o.get(i + 1)?);
                    if len < 2 || i + len > o.len() {
                        return None;
                    }
                    v.push(key(kind, &o[i + 2..i + len]));
                    i += len;
                }
            }
        }
        v.sort();
        Some(v)
    };
    parse(&wire::option_bytes(expected)) != parse(actual)
}
