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
//! timewait N
//! counter NAME VALUE
//! end
//! ```
//!
//! `SRTT_US` and `RTTVAR_US` are `-` before the first measurement, and
//! `SSTHRESH` is `-` before the first loss. The file is removed when the
//! server stops.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use synack::ConnInfo;
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
}

impl ConnRow {
    pub fn from_info(i: &ConnInfo) -> ConnRow {
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
        }
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
        let mut conns: Vec<ConnRow> = stack.connections().iter().map(ConnRow::from_info).collect();
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
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            match (f[0], f.len()) {
                ("listen", 2) => snap.listening.push(f[1].into()),
                ("conn", 13) => snap.conns.push(ConnRow {
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
                }),
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

    #[test]
    fn round_trip() {
        let snap = Snapshot {
            listening: vec!["198.18.0.2:7".into()],
            conns: vec![ConnRow {
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
            }],
            time_wait: 3,
            counters: vec![("ActiveOpens".into(), 1), ("RxPackets".into(), 9)],
        };
        assert_eq!(Snapshot::decode(&snap.encode()), Ok(snap.clone()));
        let cut = snap.encode().replace("end\n", "");
        assert!(Snapshot::decode(&cut).is_err());
        assert!(Snapshot::decode("HTTP/1.1 200 OK\r\n").is_err());
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
        let connect =
            tokio::spawn(
                async move { TcpStream::connect(&s, "198.18.0.1:7".parse().unwrap()).await },
            );
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
