//! A parsed script: options, then events, each with its time and action.

/// Microseconds.
pub type Usecs = i64;

#[derive(Clone, Debug, Default)]
pub struct Script {
    /// `--name=value` lines.
    pub options: Vec<(String, Option<String>)>,
    pub events: Vec<Event>,
}

#[derive(Clone, Debug)]
pub struct Event {
    pub line: usize,
    pub time: EventTime,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EventTime {
    /// `0.1`: since the script's start.
    Absolute(Usecs),
    /// `+0.1`: since the previous event.
    Relative(Usecs),
    /// `*`: any time.
    Any,
    /// `a~b` (or `+a~+b`): anywhere in between.
    Range {
        lo: Usecs,
        hi: Usecs,
        relative: bool,
    },
}

#[derive(Clone, Debug)]
pub enum Action {
    Packet(Packet),
    Syscall(Syscall),
    /// A backtick shell command.
    Command(String),
    /// A `%{ }%` fragment.
    Code(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script's peer sends it to the stack.
    Inbound,
    /// `>`: the stack is expected to send it.
    Outbound,
}

/// ECN codepoint of the IP header, when the script names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ecn {
    NotEct,
    Ect0,
    Ect1,
    Ce,
}

#[derive(Clone, Debug)]
pub struct Packet {
    pub direction: Direction,
    pub ecn: Option<Ecn>,
    /// Flag letters as written (`S`, `P`, `F`, `R`, `E`, `W`, `U`) plus
    /// the ACK bit for `.`.
    pub flags: u8,
    pub seq: u32,
    pub end_seq: u32,
    pub len: u32,
    pub ack: Option<u32>,
    pub win: Option<u32>,
    pub urg: Option<u32>,
    pub options: PacketOptions,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PacketOptions {
    /// No `<...>` list: no options at all.
    None,
    /// `<...>`: whatever the stack sends.
    Any,
    List(Vec<TcpOpt>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum TcpOpt {
    Nop,
    Eol,
    Mss(u16),
    WScale(u8),
    SackOk,
    Sack(Vec<(u32, u32)>),
    Timestamp { val: u32, ecr: u32 },
}

#[derive(Clone, Debug)]
pub struct Syscall {
    /// `...N`: the call may block until this (absolute, or relative to
    /// the call's start when written with a leading `+`... packetdrill
    /// writes it as an absolute end relative to the start time).
    pub end: Option<Usecs>,
    pub name: String,
    pub args: Vec<Expr>,
    pub result: Expr,
    pub errno: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Ellipsis,
    Int(i64),
    Word(String),
    Str(String),
    /// `a | b`
    Or(Box<Expr>, Box<Expr>),
    /// `name=value` inside braces.
    Field(String, Box<Expr>),
    Array(Vec<Expr>),
    Braces(Vec<Expr>),
    /// `htons(8080)`, `inet_addr("...")`.
    Call(String, Vec<Expr>),
}
