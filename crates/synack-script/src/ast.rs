//! A parsed script: options, then events, each with its time and action.

/// A time or a duration in microseconds (scripts write seconds: `0.1` is
/// 100,000).
pub type Usecs = i64;

/// One `.pkt` file as [`parse`](crate::parse::parse) reads it.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// The `--name=value` lines at the top, in order: the name without its
    /// dashes, and the value (`None` for a bare `--name`).
    pub options: Vec<(String, Option<String>)>,
    /// Every event in the order written.
    pub events: Vec<Event>,
}

/// One line (or one multi-line statement) of a script.
#[derive(Clone, Debug)]
pub struct Event {
    /// The 1-based line of the file where the event starts, for messages.
    pub line: usize,
    /// When it happens. A shell command standing on its own line without
    /// a time gets `Relative(0)`.
    pub time: EventTime,
    /// What happens.
    pub action: Action,
}

/// When an event happens, in the script's virtual time (0 is the start of
/// the script).
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
        /// The earliest time.
        lo: Usecs,
        /// The latest time.
        hi: Usecs,
        /// Both ends count from the previous event (`+a~+b`); the parser
        /// refuses a range with one relative end and one absolute.
        relative: bool,
    },
}

/// What an event does.
#[derive(Clone, Debug)]
pub enum Action {
    /// A TCP segment injected (`<`) or expected (`>`).
    Packet(Packet),
    /// A system call made on the stack, with its expected result.
    Syscall(Syscall),
    /// A backtick shell command.
    Command(String),
    /// A `%{ }%` fragment.
    Code(String),
}

/// Which way a packet line goes.
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
    /// `[noecn]`: Not-ECT (00).
    NotEct,
    /// `[ect0]`: ECT(0) (10).
    Ect0,
    /// `[ect1]`: ECT(1) (01).
    Ect1,
    /// `[ce]`: Congestion Experienced (11).
    Ce,
}

/// A packet line: `< S 0:0(0) win 65535 <mss 1460>` and the like.
#[derive(Clone, Debug)]
pub struct Packet {
    /// Injected or expected.
    pub direction: Direction,
    /// The ECN codepoint written in brackets before the flags, if any
    /// (`None`: not checked on outbound, Not-ECT on inbound).
    pub ecn: Option<Ecn>,
    /// Flag letters as written (`S`, `P`, `F`, `R`, `E`, `W`, `U`) plus
    /// the ACK bit for `.`, in the bit layout of the TCP header's flag
    /// byte (FIN 0x01 to CWR 0x80).
    pub flags: u8,
    /// The starting sequence number as written, in the script's sequence
    /// space (relative to the script's ISNs, not the stack's).
    pub seq: u32,
    /// `seq` + `len` (modulo 2^32); the parser checks that they agree.
    pub end_seq: u32,
    /// Payload bytes, at most 65,495.
    pub len: u32,
    /// `ack N`: the acknowledgment number; `None` when not written.
    pub ack: Option<u32>,
    /// `win N`: the window field as sent (unscaled); `None` when not
    /// written (then not checked on outbound).
    pub win: Option<u32>,
    /// `urg N`: the urgent pointer; `None` when not written.
    pub urg: Option<u32>,
    /// The `<...>` option list.
    pub options: PacketOptions,
}

/// The TCP options of a packet line.
#[derive(Clone, Debug, PartialEq)]
pub enum PacketOptions {
    /// No `<...>` list: no options at all.
    None,
    /// `<...>`: whatever the stack sends.
    Any,
    /// `<mss 1460,nop,...>`: exactly these, in this order (outbound
    /// segments are compared byte for byte).
    List(Vec<TcpOpt>),
}

/// One TCP option in a packet line (RFC 9293 3.1, RFC 7323, RFC 2018).
#[derive(Clone, Debug, PartialEq)]
pub enum TcpOpt {
    /// `nop`: one padding byte.
    Nop,
    /// `eol`: End of Option List.
    Eol,
    /// `mss N`: Maximum Segment Size, in bytes.
    Mss(u16),
    /// `wscale N`: the window-scale shift count.
    WScale(u8),
    /// `sackOK`: SACK permitted.
    SackOk,
    /// `sack L:R ...`: SACK blocks, left and right edges in the script's
    /// sequence space.
    Sack(Vec<(u32, u32)>),
    /// `TS val V ecr E`: the timestamps option.
    Timestamp {
        /// TSval, in the script's timestamp space.
        val: u32,
        /// TSecr, in the script's timestamp space.
        ecr: u32,
    },
}

/// A system-call line: `+0 connect(3, ..., ...) = -1 EINPROGRESS (...)`.
#[derive(Clone, Debug)]
pub struct Syscall {
    /// `...N` after the event's time: the call may block and must return
    /// at `N`. Absolute when the event's time is, otherwise counted from
    /// the previous event's time, as packetdrill reads it.
    pub end: Option<Usecs>,
    /// The call's name (`socket`, `accept`, `setsockopt`, ...).
    pub name: String,
    /// The arguments as written.
    pub args: Vec<Expr>,
    /// The expected return value (`...` for any).
    pub result: Expr,
    /// The expected `errno` name (`EINPROGRESS`), when the line gives one.
    /// A note in parentheses after it is skipped.
    pub errno: Option<String>,
}

/// An expression in a system call's arguments or result.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `...`: any value (an argument the runner fills in, or a result
    /// not checked).
    Ellipsis,
    /// An integer literal.
    Int(i64),
    /// A bare name: a constant such as `SOL_SOCKET`, `O_NONBLOCK`.
    Word(String),
    /// A string literal, without its quotes.
    Str(String),
    /// `a | b`
    Or(Box<Expr>, Box<Expr>),
    /// `name=value` inside braces.
    Field(String, Box<Expr>),
    /// `[a, b]`.
    Array(Vec<Expr>),
    /// `{a, b}` (a struct: its members are usually `Field`s).
    Braces(Vec<Expr>),
    /// `htons(8080)`, `inet_addr("...")`.
    Call(String, Vec<Expr>),
}
