//! Tokens to a [`Script`], after packetdrill's grammar (`syntax.md`): the
//! TCP parts of it. UDP, ICMP, SCTP, GRE and MPLS packets are reported as
//! unsupported rather than misread.

use crate::ScriptError;
use crate::ast::*;
use crate::lex::{Tok, Token, lex};

/// Reads a script's text (after [`preprocess`](crate::run::preprocess),
/// for the portable profile). The error gives the line where reading
/// stopped; nothing is checked against the stack here.
pub fn parse(src: &str) -> Result<Script, ScriptError> {
    let toks = lex(src)?;
    let mut p = Parser { toks, i: 0 };
    let mut script = Script::default();
    while let Some(Tok::Opt(name, value)) = p.peek().cloned() {
        script.options.push((name, value));
        p.i += 1;
    }
    while p.peek().is_some() {
        // An init or cleanup command stands on its own, without a time.
        if let Some(Tok::Backtick(cmd)) = p.peek().cloned() {
            let line = p.line();
            p.i += 1;
            script.events.push(Event {
                line,
                time: EventTime::Relative(0),
                action: Action::Command(cmd),
            });
            continue;
        }
        if let Some(Tok::Opt(..)) = p.peek() {
            return Err(p.error("command-line options must come before the first event"));
        }
        script.events.push(p.event()?);
    }
    Ok(script)
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

pub(crate) const FLAG_FIN: u8 = 0x01;
pub(crate) const FLAG_SYN: u8 = 0x02;
pub(crate) const FLAG_RST: u8 = 0x04;
pub(crate) const FLAG_PSH: u8 = 0x08;
pub(crate) const FLAG_ACK: u8 = 0x10;
pub(crate) const FLAG_URG: u8 = 0x20;
pub(crate) const FLAG_ECE: u8 = 0x40;
pub(crate) const FLAG_CWR: u8 = 0x80;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.i + n).map(|t| &t.tok)
    }

    fn line(&self) -> usize {
        self.toks
            .get(self.i)
            .or(self.toks.last())
            .map_or(0, |t| t.line)
    }

    fn error(&self, msg: impl Into<String>) -> ScriptError {
        ScriptError {
            line: self.line(),
            msg: msg.into(),
        }
    }

    fn next(&mut self) -> Result<Tok, ScriptError> {
        let t = self
            .peek()
            .cloned()
            .ok_or_else(|| self.error("unexpected end of script"))?;
        self.i += 1;
        Ok(t)
    }

    fn punct(&mut self, c: char) -> Result<(), ScriptError> {
        match self.next()? {
            Tok::Punct(p) if p == c => Ok(()),
            t => {
                self.i -= 1;
                Err(self.error(format!("expected '{c}', found {}", show(&t))))
            }
        }
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.is_punct(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn int(&mut self) -> Result<i64, ScriptError> {
        match self.next()? {
            Tok::Int(v) => Ok(v),
            t => {
                self.i -= 1;
                Err(self.error(format!("expected an integer, found {}", show(&t))))
            }
        }
    }

    fn u32(&mut self) -> Result<u32, ScriptError> {
        let v = self.int()?;
        u32::try_from(v).map_err(|_| self.error(format!("{v} is out of range")))
    }

    /// A time in seconds, as microseconds.
    fn time(&mut self) -> Result<Usecs, ScriptError> {
        // Times past a million years are refused rather than overflowing.
        const LIMIT: i64 = 1 << 55;
        match self.next()? {
            Tok::Int(v) if v < LIMIT / 1_000_000 => Ok(v * 1_000_000),
            Tok::Float(f) if f < (LIMIT / 1_000_000) as f64 => Ok((f * 1e6).round() as Usecs),
            Tok::Int(_) | Tok::Float(_) => Err(self.error("time too large")),
            t => {
                self.i -= 1;
                Err(self.error(format!("expected a time, found {}", show(&t))))
            }
        }
    }

    fn event(&mut self) -> Result<Event, ScriptError> {
        let line = self.line();
        let time = if self.eat_punct('*') {
            EventTime::Any
        } else {
            let relative = self.eat_punct('+');
            let t = self.time()?;
            if self.eat_punct('~') {
                let rel_hi = self.eat_punct('+');
                if rel_hi != relative {
                    return Err(
                        self.error("both ends of a time range must be relative, or neither")
                    );
                }
                let hi = self.time()?;
                EventTime::Range {
                    lo: t,
                    hi,
                    relative,
                }
            } else if relative {
                EventTime::Relative(t)
            } else {
                EventTime::Absolute(t)
            }
        };
        let action = match self.peek().cloned() {
            Some(Tok::Punct('<')) => Action::Packet(self.packet(Direction::Inbound)?),
            Some(Tok::Punct('>')) => Action::Packet(self.packet(Direction::Outbound)?),
            Some(Tok::Backtick(c)) => {
                self.i += 1;
                Action::Command(c)
            }
            Some(Tok::Code(c)) => {
                self.i += 1;
                Action::Code(c)
            }
            Some(Tok::Ellipsis) | Some(Tok::Word(_)) => Action::Syscall(self.syscall()?),
            Some(t) => return Err(self.error(format!("expected an action, found {}", show(&t)))),
            None => return Err(self.error("an event time without an action")),
        };
        Ok(Event { line, time, action })
    }

    fn packet(&mut self, direction: Direction) -> Result<Packet, ScriptError> {
        self.i += 1; // the direction
        let mut ecn = None;
        if self.is_punct('[')
            || (self.is_punct('(') && !matches!(self.peek_at(1), Some(Tok::Int(_))))
        {
            let close = if self.eat_punct('[') {
                ']'
            } else {
                self.i += 1;
                ')'
            };
            loop {
                match self.next()? {
                    Tok::Word(w) => match w.as_str() {
                        "noecn" => ecn = Some(Ecn::NotEct),
                        "ect0" => ecn = Some(Ecn::Ect0),
                        "ect1" => ecn = Some(Ecn::Ect1),
                        "ce" => ecn = Some(Ecn::Ce),
                        other => {
                            return Err(self.error(format!("unsupported: IP field '{other}'")));
                        }
                    },
                    Tok::Punct(',') => {}
                    Tok::Punct(c) if c == close => break,
                    t => return Err(self.error(format!("unsupported: IP field {}", show(&t)))),
                }
            }
        }
        if let Some(Tok::Word(w)) = self.peek() {
            let w = w.to_ascii_lowercase();
            if [
                "udp", "icmp", "sctp", "gre", "mpls", "udplite", "ipv4", "ipv6",
            ]
            .contains(&w.as_str())
            {
                return Err(self.error(format!("unsupported: {} packets", w)));
            }
        }
        // Flags: a word of letters, '.', a word followed by '.', or '-'.
        let mut flags = 0u8;
        if let Some(Tok::Word(w)) = self.peek().cloned() {
            self.i += 1;
            for c in w.chars() {
                flags |= match c {
                    'S' => FLAG_SYN,
                    'F' => FLAG_FIN,
                    'R' => FLAG_RST,
                    'P' => FLAG_PSH,
                    'U' => FLAG_URG,
                    'E' => FLAG_ECE,
                    'W' => FLAG_CWR,
                    _ => return Err(self.error(format!("unknown TCP flag '{c}' in '{w}'"))),
                };
            }
        }
        if self.eat_punct('.') {
            flags |= FLAG_ACK;
        } else if self.eat_punct('-') {
            // No flags.
        }
        let seq = self.u32()?;
        self.punct(':')?;
        let end_seq = self.u32()?;
        self.punct('(')?;
        let len = self.u32()?;
        self.punct(')')?;
        // The largest TCP payload an IP datagram can carry.
        if len > 65_495 {
            return Err(self.error(format!("a {len}-byte segment does not fit in a datagram")));
        }
        if end_seq.wrapping_sub(seq) != len {
            return Err(self.error(format!(
                "{seq}:{end_seq}({len}): the length does not match the range"
            )));
        }
        let mut p = Packet {
            direction,
            ecn,
            flags,
            seq,
            end_seq,
            len,
            ack: None,
            win: None,
            urg: None,
            options: PacketOptions::None,
        };
        loop {
            if self.is_word("ack") {
                self.i += 1;
                p.ack = Some(self.u32()?);
            } else if self.is_word("win") {
                self.i += 1;
                p.win = Some(self.u32()?);
            } else if self.is_word("urg") {
                self.i += 1;
                p.urg = Some(self.u32()?);
            } else {
                break;
            }
        }
        if self.eat_punct('<') {
            if self.peek() == Some(&Tok::Ellipsis) {
                self.i += 1;
                self.punct('>')?;
                p.options = PacketOptions::Any;
            } else {
                let mut list = Vec::new();
                loop {
                    list.push(self.tcp_option()?);
                    if self.eat_punct(',') {
                        continue;
                    }
                    self.punct('>')?;
                    break;
                }
                p.options = PacketOptions::List(list);
            }
        }
        Ok(p)
    }

    fn tcp_option(&mut self) -> Result<TcpOpt, ScriptError> {
        let Tok::Word(w) = self.next()? else {
            self.i -= 1;
            return Err(self.error("expected a TCP option"));
        };
        Ok(match w.as_str() {
            "nop" => TcpOpt::Nop,
            "eol" => TcpOpt::Eol,
            "mss" => TcpOpt::Mss(
                self.u32()?
                    .try_into()
                    .map_err(|_| self.error("mss out of range"))?,
            ),
            "wscale" => TcpOpt::WScale(
                self.u32()?
                    .try_into()
                    .map_err(|_| self.error("wscale out of range"))?,
            ),
            "sackOK" => TcpOpt::SackOk,
            "sack" => {
                let mut blocks = Vec::new();
                while let Some(Tok::Int(_)) = self.peek() {
                    let l = self.u32()?;
                    self.punct(':')?;
                    let r = self.u32()?;
                    blocks.push((l, r));
                }
                if blocks.is_empty() || blocks.len() > 4 {
                    return Err(self.error("a sack option needs 1 to 4 blocks"));
                }
                TcpOpt::Sack(blocks)
            }
            "TS" => {
                if !self.is_word("val") {
                    return Err(self.error("expected 'val' after TS"));
                }
                self.i += 1;
                let val = self.u32()?;
                if !self.is_word("ecr") {
                    return Err(self.error("expected 'ecr' after TS val"));
                }
                self.i += 1;
                let ecr = self.u32()?;
                TcpOpt::Timestamp { val, ecr }
            }
            other => return Err(self.error(format!("unsupported: TCP option '{other}'"))),
        })
    }

    fn syscall(&mut self) -> Result<Syscall, ScriptError> {
        let mut end = None;
        if self.peek() == Some(&Tok::Ellipsis) {
            self.i += 1;
            end = Some(self.time()?);
        }
        let Tok::Word(name) = self.next()? else {
            self.i -= 1;
            return Err(self.error("expected a system call"));
        };
        self.punct('(')?;
        let args = self.list(')')?;
        self.punct('=')?;
        let result = self.expr()?;
        let mut errno = None;
        if let Some(Tok::Word(w)) = self.peek().cloned()
            && w.starts_with('E')
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            self.i += 1;
            errno = Some(w);
        }
        // A note: `(Connection Timed Out)`.
        if self.is_punct('(') {
            let mut depth = 0;
            loop {
                match self.next()? {
                    Tok::Punct('(') => depth += 1,
                    Tok::Punct(')') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(Syscall {
            end,
            name,
            args,
            result,
            errno,
        })
    }

    fn expr(&mut self) -> Result<Expr, ScriptError> {
        let e = self.primary()?;
        if self.eat_punct('|') {
            let rhs = self.expr()?;
            return Ok(Expr::Or(Box::new(e), Box::new(rhs)));
        }
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, ScriptError> {
        match self.next()? {
            Tok::Ellipsis => Ok(Expr::Ellipsis),
            Tok::Int(v) => Ok(Expr::Int(v)),
            Tok::Punct('-') => match self.next()? {
                Tok::Int(v) => Ok(Expr::Int(-v)),
                t => {
                    self.i -= 1;
                    Err(self.error(format!("expected a number after '-', found {}", show(&t))))
                }
            },
            Tok::Str(s) => {
                if self.peek() == Some(&Tok::Ellipsis) {
                    self.i += 1;
                }
                Ok(Expr::Str(s))
            }
            Tok::Word(w) => {
                if self.eat_punct('=') {
                    let v = self.expr()?;
                    return Ok(Expr::Field(w, Box::new(v)));
                }
                if self.is_punct('(') {
                    self.i += 1;
                    let args = self.list(')')?;
                    return Ok(Expr::Call(w, args));
                }
                Ok(Expr::Word(w))
            }
            Tok::Punct('[') => Ok(Expr::Array(self.list(']')?)),
            Tok::Punct('{') => Ok(Expr::Braces(self.list('}')?)),
            t => {
                self.i -= 1;
                Err(self.error(format!("expected an expression, found {}", show(&t))))
            }
        }
    }

    fn list(&mut self, close: char) -> Result<Vec<Expr>, ScriptError> {
        let mut v = Vec::new();
        if self.eat_punct(close) {
            return Ok(v);
        }
        loop {
            v.push(self.expr()?);
            if self.eat_punct(',') {
                continue;
            }
            self.punct(close)?;
            return Ok(v);
        }
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Int(v) => v.to_string(),
        Tok::Float(v) => v.to_string(),
        Tok::Word(w) => format!("'{w}'"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Backtick(_) => "a shell command".into(),
        Tok::Code(_) => "a code block".into(),
        Tok::Opt(n, _) => format!("--{n}"),
        Tok::Ellipsis => "'...'".into(),
        Tok::Punct(c) => format!("'{c}'"),
    }
}

pub(crate) mod flags {
    pub(crate) use super::{FLAG_ACK as ACK, FLAG_CWR as CWR, FLAG_ECE as ECE, FLAG_FIN as FIN};
    pub(crate) use super::{FLAG_PSH as PSH, FLAG_RST as RST, FLAG_SYN as SYN, FLAG_URG as URG};
}
