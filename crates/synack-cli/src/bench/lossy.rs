//! `synack bench lossy`: one bulk TCP connection through a lossy
//! bottleneck on the simulated network, in virtual time, for synack and,
//! on the same link in the same run, for smoltcp.
//!
//! The path: 100 Mbit/s each way, 10 ms each way (20 ms round trip), a
//! drop-tail queue of one bandwidth-delay product (250,000 bytes) in front
//! of each direction, 1500-byte MTU. The sender (198.18.0.1) writes an
//! endless stream to the receiver (198.18.0.2), which reads and checks
//! every byte as it arrives. Loss is applied to the data direction; ACKs
//! cross a clean link except in the row that says "both".
//!
//! Each row prints goodput (bytes the receiving application read, over
//! the virtual time) beside the Mathis bound MSS / RTT * C / sqrt(p) with
//! C = sqrt(3/2) (Mathis, Semke, Mahdavi, Ott 1997), MSS = 1460 and
//! RTT = 20 ms, p being the link's configured long-run loss rate of the
//! data direction; and the retransmitted segments beside the data
//! segments the link dropped (random or burst loss, or a full queue).
//! Both stacks get the same seed, so the same loss process; which packets
//! it hits depends on what each stack sends.

mod stream;
mod synack_node;

#[cfg(feature = "bench-smoltcp")]
mod smoltcp_node;

use crate::report::Report;
use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;
use stream::{Sink, Source};
use synack::Instant;
use synack::sim::{Fate, GilbertElliott, LinkConfig, LinkStats, Network, Node, NodeId};

#[cfg(feature = "bench-smoltcp")]
pub use smoltcp_node::SmoltcpNode;
pub use synack_node::SynackNode;

pub const SENDER: [u8; 4] = [198, 18, 0, 1];
pub const RECEIVER: [u8; 4] = [198, 18, 0, 2];
pub const PORT: u16 = 5001;

const LINK_BPS: u64 = 100_000_000;
const ONE_WAY: Duration = Duration::from_millis(10);
const RTT: Duration = Duration::from_millis(20);
/// The MSS of the Mathis bound: what both stacks announce on a 1500-byte
/// MTU. synack's segments carry 12 bytes less, for the timestamp option.
const MATHIS_MSS: f64 = 1460.0;
/// Virtual time per run: long enough for steady state at every rate in
/// the table, and for a stack whose only recovery is the retransmission
/// timeout (at least 1 s in both stacks) to pay for it many times over.
pub const SECONDS: u64 = 60;
/// Seed of every row's network (issue 8).
const SEED: u64 = 8;

/// Loss on the data direction.
#[derive(Clone, Copy, Debug)]
pub enum Loss {
    None,
    /// Each packet lost independently with this probability.
    Random(f64),
    /// Gilbert's model: bursts of `mean_burst` packets on average, long-run
    /// loss `mean_loss`.
    Burst {
        mean_loss: f64,
        mean_burst: f64,
    },
}

impl Loss {
    fn apply(self, link: LinkConfig) -> LinkConfig {
        match self {
            Loss::None => link,
            Loss::Random(p) => link.with_loss(p),
            Loss::Burst {
                mean_loss,
                mean_burst,
            } => link.with_burst(GilbertElliott::bursts(mean_loss, mean_burst)),
        }
    }

    /// The long-run loss rate per packet.
    fn rate(self) -> f64 {
        match self {
            Loss::None => 0.0,
            Loss::Random(p) => p,
            Loss::Burst { mean_loss, .. } => mean_loss,
        }
    }

    fn describe(self) -> String {
        match self {
            Loss::None => "no loss".into(),
            Loss::Random(p) => format!("random loss {}%", p * 100.0),
            Loss::Burst {
                mean_loss,
                mean_burst,
            } => format!(
                "burst loss (Gilbert model: bursts of {mean_burst} packets on average), {}% \
                 long-run",
                mean_loss * 100.0
            ),
        }
    }
}

/// One line of the table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub name: &'static str,
    pub loss: Loss,
    /// The same loss on the ACK direction too.
    pub both_ways: bool,
}

pub const ROWS: [Row; 7] = [
    Row {
        name: "clean",
        loss: Loss::None,
        both_ways: false,
    },
    Row {
        name: "random_0_1pct",
        loss: Loss::Random(0.001),
        both_ways: false,
    },
    Row {
        name: "random_1pct",
        loss: Loss::Random(0.01),
        both_ways: false,
    },
    Row {
        name: "random_2pct",
        loss: Loss::Random(0.02),
        both_ways: false,
    },
    Row {
        name: "random_5pct",
        loss: Loss::Random(0.05),
        both_ways: false,
    },
    Row {
        name: "burst_1pct_mean3",
        loss: Loss::Burst {
            mean_loss: 0.01,
            mean_burst: 3.0,
        },
        both_ways: false,
    },
    Row {
        name: "random_1pct_both_ways",
        loss: Loss::Random(0.01),
        both_ways: true,
    },
];

/// A TCP implementation the bench can run: a network node that either
/// sends a [`Source`] to `RECEIVER:PORT` or listens there and reads into a
/// [`Sink`].
pub trait Stack: Node + Sized {
    const NAME: &'static str;
    /// Connects from `SENDER` to `RECEIVER:PORT` and sends `source`, then
    /// closes if the source ends.
    fn sender(seed: u64, now: Instant, source: Source) -> Result<Self, String>;
    /// Listens on `RECEIVER:PORT` and reads everything.
    fn receiver(seed: u64, now: Instant) -> Result<Self, String>;
    /// The receiving application's state (receiver only).
    fn sink(&self) -> Option<&Sink>;
    /// Why the connection failed, if it did.
    fn failure(&self) -> Option<&str>;
    /// The stack's own count of retransmitted segments, if it keeps one.
    fn retrans_segs(&self) -> Option<u64>;
}

/// Data segments the sender put on the wire, and how many of them
/// started before the highest sequence number already sent: its
/// retransmissions, counted the same way for every stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct WireCount {
    pub data_segments: u64,
    pub retransmitted: u64,
    /// End of the highest data sent so far.
    high: Option<u32>,
}

impl WireCount {
    fn see(&mut self, seq: u32, len: u32) {
        self.data_segments += 1;
        let end = seq.wrapping_add(len);
        match self.high {
            // RFC 9293 3.4: sequence numbers compare modulo 2^32.
            Some(high) if (high.wrapping_sub(seq) as i32) > 0 => {
                self.retransmitted += 1;
                if (end.wrapping_sub(high) as i32) > 0 {
                    self.high = Some(end);
                }
            }
            _ => self.high = Some(end),
        }
    }
}

/// The sequence number of the TCP segment in an IPv4 datagram.
fn tcp_seq(packet: &[u8]) -> Option<u32> {
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    let b = packet.get(ihl + 4..ihl + 8)?;
    Some(u32::from_be_bytes(b.try_into().ok()?))
}

/// What one transfer did.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Bytes the receiving application read, all checked.
    pub received: u64,
    /// Virtual time from the connect to the end of the run.
    pub elapsed: Duration,
    pub engine_retrans: Option<u64>,
    pub wire: WireCount,
    /// The data direction's link counters.
    pub data_link: LinkStats,
    /// The ACK direction's.
    pub ack_link: LinkStats,
}

impl Outcome {
    pub fn goodput_mbps(&self) -> f64 {
        self.received as f64 * 8.0 / self.elapsed.as_secs_f64() / 1e6
    }
}

/// The path of the bench with `loss` on the data direction (and on the
/// ACK direction with `both_ways`).
fn links(row: &Row) -> (LinkConfig, LinkConfig) {
    let clean = LinkConfig::default()
        .with_delay(ONE_WAY)
        .with_bandwidth(LINK_BPS)
        .with_queue_bdp(RTT)
        // The byte limit is the queue's only bound.
        .with_queue_limit(usize::MAX);
    let lossy = row.loss.apply(clean);
    (lossy, if row.both_ways { lossy } else { clean })
}

/// Runs one connection of stack `S` over `row`'s path until `bytes` have
/// arrived followed by the FIN (with a limit), or for `until` of virtual
/// time, whichever comes first. Fails if the connection does, if a
/// single byte arrives wrong, or if a limited transfer is not over by
/// `until`.
pub fn transfer<S: Stack>(
    row: &Row,
    seed: u64,
    bytes: Option<u64>,
    until: Duration,
) -> Result<Outcome, String> {
    let mut net: Network<S> = Network::new(seed);
    let start = net.now();
    let sender = S::sender(seed, start, Source::new(bytes))?;
    let receiver = S::receiver(seed, start)?;
    let bad = |e: synack::sim::SimError| e.to_string();
    let tx = net.add_node(sender, &[IpAddr::from(SENDER)]).map_err(bad)?;
    let rx = net
        .add_node(receiver, &[IpAddr::from(RECEIVER)])
        .map_err(bad)?;
    let (data, acks) = links(row);
    net.set_link(tx, rx, data).map_err(bad)?;
    net.set_link(rx, tx, acks).map_err(bad)?;

    let wire = Rc::new(Cell::new(WireCount::default()));
    let seen = wire.clone();
    net.set_tracer(move |e| {
        // A link's extra copy is not something the sender sent.
        if e.from != tx || e.fate == Fate::Duplicated {
            return;
        }
        let len = e.tcp_payload_len().unwrap_or(0);
        if let (true, Some(seq)) = (len > 0, tcp_seq(e.packet)) {
            let mut w = seen.get();
            w.see(seq, len as u32);
            seen.set(w);
        }
    });

    let end = start + until;
    let finished = |net: &mut Network<S>| {
        let failed = net[tx].failure().is_some() || net[rx].failure().is_some();
        let done = net[rx]
            .sink()
            .is_some_and(|s| s.eof && Some(s.received) == bytes);
        failed || done
    };
    net.run_until_pred(end, finished);
    let elapsed = net.now().saturating_since(start);
    outcome(&net, tx, rx, elapsed, wire.get(), bytes)
}

fn outcome<S: Stack>(
    net: &Network<S>,
    tx: NodeId,
    rx: NodeId,
    elapsed: Duration,
    wire: WireCount,
    bytes: Option<u64>,
) -> Result<Outcome, String> {
    let name = S::NAME;
    if let Some(why) = net[tx].failure().or(net[rx].failure()) {
        return Err(format!("{name}: {why} after {elapsed:?}"));
    }
    let sink = net[rx].sink().ok_or("the receiver has no sink")?;
    if let Some(at) = sink.first_mismatch {
        return Err(format!("{name}: byte {at} of the stream arrived wrong"));
    }
    if let Some(want) = bytes
        && !(sink.eof && sink.received == want)
    {
        return Err(format!(
            "{name}: {} of {want} bytes{} after {elapsed:?}",
            sink.received,
            if sink.eof { " and the FIN" } else { "" }
        ));
    }
    Ok(Outcome {
        received: sink.received,
        elapsed,
        engine_retrans: net[tx].retrans_segs(),
        wire,
        data_link: net.link_stats(tx, rx),
        ack_link: net.link_stats(rx, tx),
    })
}

/// The Mathis bound in Mbit/s for loss rate `p`.
fn mathis_mbps(p: f64) -> f64 {
    let c = 1.5f64.sqrt();
    MATHIS_MSS * 8.0 / RTT.as_secs_f64() * c / p.sqrt() / 1e6
}

pub fn run(seconds: u64, r: &mut Report) -> Result<(), String> {
    let until = Duration::from_secs(seconds);
    let cfg = synack_node::config();
    r.note(format!(
        "one bulk connection, {seconds} virtual seconds per run, every byte checked at the \
         receiver; path: {} Mbit/s each way, {} ms round trip, drop-tail queue of one BDP \
         ({} bytes) per direction, MTU 1500; loss on the data direction only unless the row \
         says both_ways; seed {SEED} for every run",
        LINK_BPS / 1_000_000,
        RTT.as_millis(),
        links(&ROWS[0]).0.queue_bytes.unwrap_or(0),
    ));
    r.note(format!(
        "mathis = MSS/RTT * sqrt(3/2)/sqrt(p), MSS {MATHIS_MSS} bytes, RTT {} ms, p = the \
         configured long-run loss rate of the data direction (for bursts this counts every \
         lost packet, not loss events)",
        RTT.as_millis()
    ));
    r.note(format!(
        "synack: Config::default() with sack = true (buffers {} / {} bytes, timestamps {}, \
         min RTO {:?})",
        cfg.send_buffer, cfg.recv_buffer, cfg.timestamps, cfg.rtt.min_rto
    ));
    #[cfg(feature = "bench-smoltcp")]
    r.note(format!(
        "smoltcp 0.14: its defaults (no timestamps, Nagle on, 10 ms delayed ACK, min RTO 1 s) \
         with tx/rx buffers of {} / {} bytes and the socket-tcp-cubic feature (its default \
         build has no congestion control); retransmissions counted on the wire",
        cfg.send_buffer, cfg.recv_buffer
    ));
    #[cfg(not(feature = "bench-smoltcp"))]
    r.note("built without the bench-smoltcp feature: synack only");
    r.figure("link_rate", LINK_BPS as f64 / 1e6, 0, "Mbit/s");

    for row in &ROWS {
        let me = transfer::<SynackNode>(row, SEED, None, until)?;
        row_figures(r, row, SynackNode::NAME, &me);
        #[cfg(feature = "bench-smoltcp")]
        {
            let them = transfer::<SmoltcpNode>(row, SEED, None, until)?;
            row_figures(r, row, SmoltcpNode::NAME, &them);
            r.figure(
                &format!("{}_synack_vs_smoltcp", row.name),
                me.goodput_mbps() / them.goodput_mbps(),
                3,
                "x",
            );
        }
    }
    Ok(())
}

fn row_figures(r: &mut Report, row: &Row, stack: &str, o: &Outcome) {
    let name = row.name;
    let p = row.loss.rate();
    if stack == SynackNode::NAME {
        r.note(format!(
            "{name}: {}{}",
            row.loss.describe(),
            if row.both_ways {
                ", on data and ACKs"
            } else {
                ", data direction"
            }
        ));
        if p > 0.0 {
            r.figure(&format!("{name}_mathis"), mathis_mbps(p), 2, "Mbit/s");
        }
    }
    let goodput = o.goodput_mbps();
    r.figure(&format!("{name}_{stack}_goodput"), goodput, 2, "Mbit/s");
    if p > 0.0 {
        r.figure(
            &format!("{name}_{stack}_vs_mathis"),
            goodput / mathis_mbps(p),
            3,
            "x",
        );
    }
    let retrans = o.engine_retrans.unwrap_or(o.wire.retransmitted);
    let dropped = o.data_link.tcp_data.dropped();
    r.figure(
        &format!("{name}_{stack}_retrans"),
        retrans as f64,
        0,
        "segs",
    );
    r.figure(
        &format!("{name}_{stack}_link_dropped"),
        dropped as f64,
        0,
        "segs",
    );
    if dropped > 0 {
        // 1 is the ideal: every lost segment sent again once, nothing else.
        r.figure(
            &format!("{name}_{stack}_retrans_per_drop"),
            retrans as f64 / dropped as f64,
            2,
            "x",
        );
    }
    let d = o.data_link.tcp_data;
    r.note(format!(
        "{name} {stack}: {} bytes read; {} data segments sent, {} retransmitted on the \
         wire{}; the link dropped {} ({} lost, {} tail-dropped); {} packets came back",
        o.received,
        o.wire.data_segments,
        o.wire.retransmitted,
        o.engine_retrans
            .map_or(String::new(), |n| format!(" ({n} by the engine's counter)")),
        dropped,
        d.lost,
        d.queue_full,
        o.ack_link.packets.sent,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short transfer over a lossy path arrives whole and byte-exact on
    /// every stack: the harness itself works (no speed is asserted).
    fn short_transfer_is_exact<S: Stack>() {
        let row = Row {
            name: "test",
            loss: Loss::Random(0.02),
            both_ways: true,
        };
        let size = 300 * 1024;
        let o = transfer::<S>(&row, 3, Some(size), Duration::from_secs(600))
            .unwrap_or_else(|e| panic!("{e}"));
        // transfer() fails unless all of it and the FIN arrived in time.
        assert_eq!(o.received, size, "{}", S::NAME);
        assert!(o.wire.data_segments >= size / 1460);
        // Lost data was sent again.
        assert!(o.data_link.tcp_data.dropped() > 0, "{o:?}");
        assert!(o.wire.retransmitted > 0, "{o:?}");
    }

    #[test]
    fn synack_short_transfer_is_exact() {
        short_transfer_is_exact::<SynackNode>();
    }

    #[cfg(feature = "bench-smoltcp")]
    #[test]
    fn smoltcp_short_transfer_is_exact() {
        short_transfer_is_exact::<SmoltcpNode>();
    }

    #[test]
    fn wire_count_tells_retransmissions() {
        let mut w = WireCount::default();
        w.see(u32::MAX - 99, 100);
        w.see(0, 100); // across the wrap: new data
        w.see(u32::MAX - 99, 100); // the first again
        w.see(50, 100); // overlapping the end: a retransmission, extends
        w.see(150, 10);
        assert_eq!((w.data_segments, w.retransmitted), (5, 2));
    }

    #[test]
    fn mathis_at_one_percent() {
        // 1460 * 8 / 0.02 * 1.2247 / 0.1 = 7.15 Mbit/s.
        assert!((mathis_mbps(0.01) - 7.154).abs() < 0.01);
    }
}
