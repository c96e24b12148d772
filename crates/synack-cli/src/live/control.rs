//! The control socket: a Unix stream socket on which a running `serve` or
//! `connect` describes its stack to `synack ss`.
//!
//! The protocol is one snapshot per connection, written by the server as
//! soon as a client connects, in tab-separated lines:
//!
//! ```text
//! synack-control 1
//! listen  ADDR:PORT
//! conn    STATE RECVQ SENDQ LOCAL PEER SRTT_US RTTVAR_US RTO_US CWND SSTHRESH MSS RETRANS
//! info    KEY=VALUE ...
//! timewait N
//! counter NAME VALUE
//! end
//! ```
//!
//! `SRTT_US` and `RTTVAR_US` are `-` before the first measurement, and
//! `SSTHRESH` is `-` before the first loss. The file is removed when the
//! server stops.
//!
//! An `info` line follows its `conn` line and carries what `ss -i` shows
//! beyond the table (see [`ConnDetail::encode`] for the keys). It is a line
//! of its own, and its fields are named, so that either side may be older:
//! a reader that does not know `info` lines (or some of their keys) skips
//! them, and a reader given none shows the table alone. Keys with no value
//! yet (no RTT sample, no timer armed) are left out.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use synack::{ConnInfo, Instant};
use synack_io::Stack;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::task::JoinHandle;

const MAGIC: &str = "synack-control 1";

/// One connection as `ss` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnRow {
    pub state: String,
    pub recv_q: u64,
    pub send_q: u64,
    pub local: String,
    pub peer: String,
    pub srtt_us: Option<u64>,
    pub rttvar_us: Option<u64>,
    pub rto_us: u64,
    pub cwnd: u64,
    pub ssthresh: Option<u64>,
    pub mss: u64,
    pub retrans: u64,
    /// What `ss -i` adds; `None` from a server that sends no `info` lines.
    pub detail: Option<ConnDetail>,
}

impl ConnRow {
    /// `now` is the engine's clock at the time of the snapshot: the wire
    /// carries a timer's time left rather than its deadline, because the
    /// reader cannot know the engine's clock.
    pub fn from_info(i: &ConnInfo, now: Instant) -> ConnRow {
        ConnRow {
            state: super::ss_state(i.state).into(),
            recv_q: i.recv_queue as u64,
            send_q: i.send_queue as u64,
            local: i.local.to_string(),
            peer: i.remote.to_string(),
            srtt_us: i.srtt.map(|d| d.as_micros() as u64),
            rttvar_us: i.rttvar.map(|d| d.as_micros() as u64),
            rto_us: i.rto.as_micros() as u64,
            cwnd: u64::from(i.cwnd),
            ssthresh: (i.ssthresh != u32::MAX).then_some(u64::from(i.ssthresh)),
            mss: u64::from(i.mss),
            retrans: u64::from(i.retransmits),
            detail: Some(ConnDetail::from_info(i, now)),
        }
    }
}

/// Congestion control and loss recovery of one connection, as `ss -i`
/// shows them: the `info` line of the protocol.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnDetail {
    /// The congestion-control algorithm (`cubic`, `newreno`).
    pub cc: String,
    /// Where the connection stands with loss: `open`, `disorder`,
    /// `recovery` or `loss` (`tcp_info`'s ca_state).
    pub ca_state: String,
    /// SACK permitted (RFC 2018).
    pub sack: bool,
    /// Timestamps in use (RFC 7323).
    pub timestamps: bool,
    /// Window-scale shifts in force (send, receive), when negotiated.
    pub wscale: Option<(u8, u8)>,
    /// The smallest RTT measured, once one was.
    pub min_rtt_us: Option<u64>,
    /// Bytes per second delivered over the last whole round trip, once one
    /// was measured.
    pub delivery_rate: Option<u64>,
    /// Bytes per second, when the congestion controller paces.
    pub pacing_rate: Option<u64>,
    /// Bytes in flight (RFC 6675's pipe).
    pub in_flight: u64,
    /// Segments SACKed above SND.UNA.
    pub sacked: u64,
    /// Segments marked lost and not yet delivered.
    pub lost: u64,
    /// Retransmissions in flight.
    pub retrans_in_flight: u64,
    /// RACK's reordering window in quarter-min-RTTs (RFC 8985), once
    /// reordering was seen.
    pub reordering: Option<u64>,
    /// The next timer to fire and the microseconds left at the snapshot.
    pub timer: Option<(String, u64)>,
}

impl ConnDetail {
    fn from_info(i: &ConnInfo, now: Instant) -> ConnDetail {
        ConnDetail {
            cc: i.congestion_control.into(),
            ca_state: i.recovery.name().into(),
            sack: i.sack,
            timestamps: i.timestamps,
            wscale: i.wscale,
            min_rtt_us: i.min_rtt.map(|d| d.as_micros() as u64),
            // Zero until the first round trip is measured: not a rate.
            delivery_rate: (i.delivery_rate > 0).then_some(i.delivery_rate),
            pacing_rate: i.pacing_rate,
            in_flight: u64::from(i.in_flight),
            sacked: u64::from(i.sacked),
            lost: u64::from(i.lost),
            retrans_in_flight: u64::from(i.retrans_in_flight),
            reordering: i
                .reordering_seen
                .then_some(u64::from(i.reorder_window_mult)),
            // A timer already due (the event loop has not run it yet) has
            // nothing left, not a negative time.
            timer: i.timer.map(|(t, at)| {
                let left = at.saturating_since(now).as_micros();
                (t.name().into(), u64::try_from(left).unwrap_or(u64::MAX))
            }),
        }
    }

    /// The fields of an `info` line, tab-separated `KEY=VALUE`: `cc`,
    /// `ca_state`, `opts` (comma-separated: `sack`, `ts`), `wscale` (SEND,RECV),
    /// `min_rtt_us`, `delivery_rate` and `pacing_rate` (bytes per second),
    /// `in_flight` (bytes), `sacked`, `lost` and `retrans_in_flight`
    /// (segments), `reordering` (RACK's window multiplier) and `timer`
    /// (NAME,MICROSECONDS_LEFT).
    pub fn encode(&self) -> String {
        let mut f = vec![
            format!("cc={}", self.cc),
            format!("ca_state={}", self.ca_state),
        ];
        let opts: Vec<&str> = [(self.sack, "sack"), (self.timestamps, "ts")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
        if !opts.is_empty() {
            f.push(format!("opts={}", opts.join(",")));
        }
        if let Some((snd, rcv)) = self.wscale {
            f.push(format!("wscale={snd},{rcv}"));
        }
        let mut some = |key: &str, v: Option<u64>| {
            if let Some(v) = v {
                f.push(format!("{key}={v}"));
            }
        };
        some("min_rtt_us", self.min_rtt_us);
        some("delivery_rate", self.delivery_rate);
        some("pacing_rate", self.pacing_rate);
        some("in_flight", Some(self.in_flight));
        some("sacked", Some(self.sacked));
        some("lost", Some(self.lost));
        some("retrans_in_flight", Some(self.retrans_in_flight));
        some("reordering", self.reordering);
        if let Some((name, left)) = &self.timer {
            f.push(format!("timer={name},{left}"));
        }
        f.join("\t")
    }

    /// Parses the fields of an `info` line (after the word `info`). Keys
    /// this version does not know are skipped: a later server may add some.
    pub fn decode(fields: &[&str]) -> Result<ConnDetail, String> {
        let num = |key: &str, v: &str| -> Result<u64, String> {
            v.parse()
                .map_err(|_| format!("bad number '{v}' for {key} in an info line"))
        };
        let mut d = ConnDetail::default();
        for field in fields {
            let (key, v) = field
                .split_once('=')
                .ok_or_else(|| format!("'{field}' in an info line is not KEY=VALUE"))?;
            match key {
                "cc" => d.cc = v.into(),
                "ca_state" => d.ca_state = v.into(),
                "opts" => {
                    for opt in v.split(',') {
                        match opt {
                            "sack" => d.sack = true,
                            "ts" => d.timestamps = true,
                            // An option a later server negotiates.
                            _ => {}
                        }
                    }
                }
                "wscale" => {
                    let pair = v.split_once(',').and_then(|(snd, rcv)| {
                        Some((snd.parse::<u8>().ok()?, rcv.parse::<u8>().ok()?))
                    });
                    d.wscale = Some(pair.ok_or_else(|| {
                        format!("bad wscale '{v}' in an info line (expected SEND,RECV)")
                    })?);
                }
                "min_rtt_us" => d.min_rtt_us = Some(num(key, v)?),
                "delivery_rate" => d.delivery_rate = Some(num(key, v)?),
                "pacing_rate" => d.pacing_rate = Some(num(key, v)?),
                "in_flight" => d.in_flight = num(key, v)?,
                "sacked" => d.sacked = num(key, v)?,
                "lost" => d.lost = num(key, v)?,
                "retrans_in_flight" => d.retrans_in_flight = num(key, v)?,
                "reordering" => d.reordering = Some(num(key, v)?),
                "timer" => {
                    // The time left is after the last comma, so a name
                    // could hold one.
                    let (name, left) = v.rsplit_once(',').ok_or_else(|| {
                        format!("bad timer '{v}' in an info line (expected NAME,MICROSECONDS)")
                    })?;
                    d.timer = Some((name.into(), num(key, left)?));
                }
                _ => {}
            }
        }
        Ok(d)
    }
}

/// Everything one snapshot says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub listening: Vec<String>,
    pub conns: Vec<ConnRow>,
    pub time_wait: u64,
    pub counters: Vec<(String, u64)>,
}

impl Snapshot {
    /// The stack as it is now.
    pub fn take(stack: &Stack, listening: &[SocketAddr]) -> Snapshot {
        let infos = stack.connections();
        // Read after the connections, so no timer looks further off than it
        // was.
        let now = stack.now();
        let mut conns: Vec<ConnRow> = infos.iter().map(|i| ConnRow::from_info(i, now)).collect();
        conns.sort_by(|a, b| (&a.local, &a.peer).cmp(&(&b.local, &b.peer)));
        // The engine's, then the event loop's, then what the device dropped
        // itself: one list, names distinct across the three.
        let counters = stack
            .counters()
            .iter()
            .map(|(n, v)| (n.to_string(), v))
            .chain(stack.io_counters().iter().map(|(n, v)| (n.to_string(), v)))
            .chain(
                stack
                    .device_counters()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v)),
            )
            .collect();
        Snapshot {
            listening: listening.iter().map(ToString::to_string).collect(),
            conns,
            time_wait: stack.time_wait_count() as u64,
            counters,
        }
    }

    /// The wire form.
    pub fn encode(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        let mut out = format!("{MAGIC}\n");
        for l in &self.listening {
            out += &format!("listen\t{l}\n");
        }
        for c in &self.conns {
            out += &format!(
                "conn\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                c.state,
                c.recv_q,
                c.send_q,
                c.local,
                c.peer,
                opt(c.srtt_us),
                opt(c.rttvar_us),
                c.rto_us,
                c.cwnd,
                opt(c.ssthresh),
                c.mss,
                c.retrans
            );
            if let Some(d) = &c.detail {
                out += &format!("info\t{}\n", d.encode());
            }
        }
        out += &format!("timewait\t{}\n", self.time_wait);
        for (n, v) in &self.counters {
            out += &format!("counter\t{n}\t{v}\n");
        }
        out += "end\n";
        out
    }

    /// Parses the wire form; a snapshot cut short (no `end`) is an error.
    pub fn decode(text: &str) -> Result<Snapshot, String> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err("not a synack control socket (unexpected greeting)".into());
        }
        let num = |s: &str| -> Result<u64, String> {
            s.parse()
                .map_err(|_| format!("bad number '{s}' in the snapshot"))
        };
        let opt = |s: &str| -> Result<Option<u64>, String> {
            if s == "-" { Ok(None) } else { num(s).map(Some) }
        };
        let mut snap = Snapshot::default();
        // Whether the line before was a conn line we kept: an info line
        // belongs to the conn line just before it, and one after a line we
        // skipped (a conn line of a later version) is skipped with it.
        let mut after_conn = false;
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            let was_after_conn = std::mem::replace(&mut after_conn, false);
            match (f[0], f.len()) {
                ("listen", 2) => snap.listening.push(f[1].into()),
                ("conn", 13) => {
                    after_conn = true;
                    snap.conns.push(ConnRow {
                        state: f[1].into(),
                        recv_q: num(f[2])?,
                        send_q: num(f[3])?,
                        local: f[4].into(),
                        peer: f[5].into(),
                        srtt_us: opt(f[6])?,
                        rttvar_us: opt(f[7])?,
                        rto_us: num(f[8])?,
                        cwnd: num(f[9])?,
                        ssthresh: opt(f[10])?,
                        mss: num(f[11])?,
                        retrans: num(f[12])?,
                        detail: None,
                    })
                }
                ("info", _) => {
                    if let (true, Some(conn)) = (was_after_conn, snap.conns.last_mut()) {
                        conn.detail = Some(ConnDetail::decode(&f[1..])?);
                    }
                }
                ("timewait", 2) => snap.time_wait = num(f[1])?,
                ("counter", 3) => snap.counters.push((f[1].into(), num(f[2])?)),
                ("end", 1) => return Ok(snap),
                // Lines of a later version of the protocol.
                _ => {}
            }
        }
        Err("the snapshot ended early".into())
    }
}

/// A running control socket; dropping it stops answering and removes the
/// file.
pub struct Server {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl Server {
    /// Listens on `path` (in the current runtime) and answers every client
    /// with a snapshot of `stack`. A stale socket file left by a synack that
    /// died is replaced; one that a live synack answers on is an error.
    pub fn start(path: &Path, stack: Stack, listening: Vec<SocketAddr>) -> Result<Server, String> {
        let shown = path.display();
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                return Err(format!(
                    "{shown} exists and is not a socket; not replacing it"
                ));
            }
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(format!(
                    "{shown}: another synack answers on this control socket"
                ));
            }
            std::fs::remove_file(path)
                .map_err(|e| format!("{shown}: cannot remove the stale socket: {e}"))?;
        }
        let listener = UnixListener::bind(path).map_err(|e| format!("{shown}: {e}"))?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let text = Snapshot::take(&stack, &listening).encode();
                // A client that does not read is not waited for.
                tokio::spawn(async move {
                    let write = async {
                        client.write_all(text.as_bytes()).await?;
                        client.shutdown().await
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), write).await;
                });
            }
        });
        Ok(Server {
            path: path.to_path_buf(),
            task,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads one snapshot from the control socket at `path` (blocking).
pub fn fetch(path: &Path) -> Result<Snapshot, String> {
    use std::io::Read;
    let shown = path.display();
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => {
            format!("{shown}: no such control socket (is synack running with --control {shown}?)")
        }
        io::ErrorKind::ConnectionRefused => {
            format!("{shown}: nobody answers (a synack that stopped left it behind)")
        }
        _ => format!("{shown}: {e}"),
    })?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .map_err(|e| format!("{shown}: {e}"))?;
    let mut text = String::new();
    s.read_to_string(&mut text)
        .map_err(|e| format!("{shown}: {e}"))?;
    Snapshot::decode(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(detail: Option<ConnDetail>) -> ConnRow {
        ConnRow {
            state: "ESTAB".into(),
            recv_q: 0,
            send_q: 10,
            local: "198.18.0.2:7".into(),
            peer: "198.18.0.1:40000".into(),
            srtt_us: Some(250),
            rttvar_us: None,
            rto_us: 200_000,
            cwnd: 14480,
            ssthresh: None,
            mss: 1460,
            retrans: 2,
            detail,
        }
    }

    /// Every field of the details set, none at its default.
    fn full_detail() -> ConnDetail {
        ConnDetail {
            cc: "cubic".into(),
            ca_state: "recovery".into(),
            sack: true,
            timestamps: true,
            wscale: Some((7, 9)),
            min_rtt_us: Some(50),
            delivery_rate: Some(12_500_000),
            pacing_rate: Some(25_000_000),
            in_flight: 14480,
            sacked: 3,
            lost: 2,
            retrans_in_flight: 1,
            reordering: Some(2),
            timer: Some(("tlp".into(), 5000)),
        }
    }

    fn snapshot(conns: Vec<ConnRow>) -> Snapshot {
        Snapshot {
            listening: vec!["198.18.0.2:7".into()],
            conns,
            time_wait: 3,
            counters: vec![("ActiveOpens".into(), 1), ("RxPackets".into(), 9)],
        }
    }

    #[test]
    fn round_trip() {
        let snap = snapshot(vec![
            row(Some(full_detail())),
            // Nothing known yet: the options left out on the wire come back
            // as not known.
            row(Some(ConnDetail {
                cc: "newreno".into(),
                ca_state: "open".into(),
                ..ConnDetail::default()
            })),
            // From a server that sent no details.
            row(None),
        ]);
        let text = snap.encode();
        assert_eq!(Snapshot::decode(&text), Ok(snap.clone()));
        assert!(
            text.contains(
                "info\tcc=cubic\tca_state=recovery\topts=sack,ts\twscale=7,9\tmin_rtt_us=50\t\
                 delivery_rate=12500000\tpacing_rate=25000000\tin_flight=14480\tsacked=3\t\
                 lost=2\tretrans_in_flight=1\treordering=2\ttimer=tlp,5000\n"
            ),
            "{text}"
        );
        let cut = text.replace("end\n", "");
        assert!(Snapshot::decode(&cut).is_err());
        assert!(Snapshot::decode("HTTP/1.1 200 OK\r\n").is_err());
    }

    /// A reader of the first version takes `conn` lines of exactly 13
    /// fields and skips lines it does not know: the details must not change
    /// the `conn` line.
    #[test]
    fn conn_lines_are_as_before() {
        let text = snapshot(vec![row(Some(full_detail()))]).encode();
        let conn: Vec<&str> = text.lines().filter(|l| l.starts_with("conn\t")).collect();
        assert_eq!(
            conn,
            [
                "conn\tESTAB\t0\t10\t198.18.0.2:7\t198.18.0.1:40000\t250\t-\t200000\t14480\t-\t1460\t2"
            ]
        );
    }

    #[test]
    fn info_lines_from_other_versions() {
        let head =
            "synack-control 1\nconn\tESTAB\t0\t0\ta:1\tb:2\t-\t-\t1000000\t14600\t-\t1460\t0\n";
        // Keys and options of a later version are skipped.
        let snap = Snapshot::decode(&format!(
            "{head}info\tcc=cubic\topts=ts,ecn\tbrand_new=7\tca_state=open\nend\n"
        ))
        .unwrap();
        let d = snap.conns[0].detail.as_ref().unwrap();
        assert_eq!((d.cc.as_str(), d.ca_state.as_str()), ("cubic", "open"));
        assert!(d.timestamps && !d.sack);
        // An info line after a line we skipped (a later version's conn
        // line) belongs to that line, not to the conn before it.
        let snap = Snapshot::decode(&format!(
            "{head}conn\tESTAB\t0\t0\ta:1\tb:3\tnew-field\t-\t-\t1000000\t14600\t-\t1460\t0\n\
             info\tcc=bbr\nend\n"
        ))
        .unwrap();
        assert_eq!(snap.conns.len(), 1);
        assert_eq!(snap.conns[0].detail, None);
        // An info line before any connection is skipped too.
        let snap = Snapshot::decode("synack-control 1\ninfo\tcc=cubic\nend\n").unwrap();
        assert!(snap.conns.is_empty());
    }

    #[test]
    fn bad_info_lines_are_clear_errors() {
        let head =
            "synack-control 1\nconn\tESTAB\t0\t0\ta:1\tb:2\t-\t-\t1000000\t14600\t-\t1460\t0\n";
        for (info, says) in [
            ("lost=many", "bad number 'many' for lost"),
            ("in_flight=-1", "bad number '-1' for in_flight"),
            ("wscale=7", "bad wscale '7'"),
            ("wscale=7,300", "bad wscale '7,300'"),
            ("timer=on", "bad timer 'on'"),
            ("timer=on,soon", "bad number 'soon' for timer"),
            ("cubic", "'cubic' in an info line is not KEY=VALUE"),
            ("", "'' in an info line is not KEY=VALUE"),
        ] {
            let err = Snapshot::decode(&format!("{head}info\t{info}\nend\n")).unwrap_err();
            assert!(err.contains(says), "{info}: {err}");
        }
    }

    /// Whatever arrives, decoding answers, never panics: every prefix of a
    /// snapshot, and every line with one field dropped.
    #[test]
    fn decoding_garbage_does_not_panic() {
        let text = snapshot(vec![row(Some(full_detail())), row(None)]).encode();
        for end in 0..=text.len() {
            let _ = Snapshot::decode(&text[..end]);
        }
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            let fields: Vec<&str> = line.split('\t').collect();
            for drop in 0..fields.len() {
                let mut f = fields.clone();
                f.remove(drop);
                let mut l = lines.clone();
                let changed = f.join("\t");
                l[n] = &changed;
                let _ = Snapshot::decode(&l.join("\n"));
            }
        }
    }

    /// A link that drops everything: the SYN of a connect is lost there,
    /// and the snapshot (what `ss --counters` prints) says so beside the
    /// engine's count of the open.
    #[tokio::test]
    async fn the_snapshot_has_the_device_counters_beside_the_engines() {
        use synack_io::StackConfig;
        use synack_io::device::ChannelDevice;
        use synack_io::net::TcpStream;
        let (dev, _peer) = ChannelDevice::pair_with_capacity(1500, 0).unwrap();
        let stack = Stack::new(dev, StackConfig::new("198.18.0.2".parse().unwrap())).unwrap();
        let s = stack.clone();
        let connect = tokio::spawn(async move { TcpStream::connect(&s, "198.18.0.1:7").await });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while stack.device_counters().tx_dropped == 0 {
            assert!(std::time::Instant::now() < deadline, "the SYN never left");
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let snap = Snapshot::take(&stack, &[]);
        connect.abort();
        let get = |name: &str| {
            snap.counters
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
        };
        assert_eq!(get("ActiveOpens"), Some(1));
        // The SYN waits for its retransmission timer, which was armed with
        // the initial RTO (1 s, RFC 6298 2.1) a moment ago.
        let [conn] = &snap.conns[..] else {
            panic!("{snap:?}")
        };
        let d = conn.detail.as_ref().unwrap();
        assert_eq!(d.ca_state, "open");
        let Some((name, left)) = &d.timer else {
            panic!("no timer: {d:?}")
        };
        assert_eq!(name, "on");
        assert!(*left > 0 && *left <= 1_000_000, "{left} us left");
        assert!(get("TxPackets").is_some_and(|v| v >= 1));
        assert!(get("TxDropped").is_some_and(|v| v >= 1), "{snap:?}");
        for (name, _) in synack_io::device::DeviceCounters::default().iter() {
            assert!(get(name).is_some(), "{name} missing");
        }
        let mut names: Vec<&str> = snap.counters.iter().map(|(n, _)| n.as_str()).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a counter name appears twice");
    }
}
