//! `synack ss`: the connections of a running synack, as `ss -ant` shows the
//! kernel's, read from its control socket; with `-i`, congestion control
//! and loss recovery under each connection, as `ss -ti` shows them.

use super::control::{self, ConnDetail, ConnRow, Snapshot};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub control: PathBuf,
    /// Also print the stack's counters.
    pub counters: bool,
    /// A line of congestion-control and loss-recovery details under each
    /// connection (`-i`).
    pub info: bool,
}

pub fn run(o: &Options) -> ExitCode {
    match control::fetch(&o.control) {
        Ok(snap) => {
            if o.info && snap.conns.iter().any(|c| c.detail.is_none()) {
                eprintln!(
                    "synack: {} sends no details for -i (an older synack); showing the table",
                    o.control.display()
                );
            }
            out!("{}", table(&snap, o.info));
            if o.counters {
                for (name, value) in &snap.counters {
                    outln!("{name}: {value}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("synack: {e}");
            ExitCode::from(1)
        }
    }
}

/// A duration in microseconds as `ss -i` prints one: milliseconds.
fn ms(us: u64) -> String {
    if us < 10_000 {
        format!("{:.3}ms", us as f64 / 1000.0)
    } else {
        format!("{}ms", us / 1000)
    }
}

/// Milliseconds from microseconds, as `ss -i` prints an RTT or RTO (`%g`):
/// as many decimals as needed, down to the microsecond. 250 us is "0.25",
/// 204 ms is "204".
fn ms_g(us: u64) -> String {
    let (whole, frac) = (us / 1000, us % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// Bytes per second as `ss -i` prints a rate: bits per second, with a unit.
fn bps(bytes_per_sec: u64) -> String {
    let b = bytes_per_sec as f64 * 8.0;
    if b >= 1e9 {
        format!("{:.1}Gbps", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1}Mbps", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1}Kbps", b / 1e3)
    } else {
        format!("{b}bps")
    }
}

/// A timer's time left: to the microsecond below 10 ms, where probe and
/// reordering timers on fast paths live; whole milliseconds up to 10 s;
/// then whole seconds, with ss's `sec`.
fn time_left(us: u64) -> String {
    if us < 10_000 {
        format!("{}ms", ms_g(us))
    } else if us < 10_000_000 {
        format!("{}ms", us / 1000)
    } else {
        format!("{}sec", us / 1_000_000)
    }
}

/// `ss` treats a slow-start threshold of this many segments or more as not
/// set yet (Linux starts it at "infinity"); ours starts at `u32::MAX` bytes,
/// and one restored after an undo may be as large, so both are left out.
const SSTHRESH_UNSET_SEGS: u64 = 0xFFFF;

/// The `-i` line of one connection: tab-indented, space-separated, the
/// fields in `ss -ti` order. Windows, flight and ssthresh are in segments of
/// the send MSS, as ss counts them; RTTs in milliseconds. A field with no
/// value yet (no RTT sample, no rate, no timer) is left out. `None` when the
/// snapshot has no details for the connection.
pub fn info_line(c: &ConnRow) -> Option<String> {
    let d: &ConnDetail = c.detail.as_ref()?;
    let mut f: Vec<String> = Vec::new();
    if d.timestamps {
        f.push("ts".into());
    }
    if d.sack {
        f.push("sack".into());
    }
    if !d.cc.is_empty() {
        f.push(d.cc.clone());
    }
    if let Some((snd, rcv)) = d.wscale {
        f.push(format!("wscale:{snd},{rcv}"));
    }
    f.push(format!("rto:{}", ms_g(c.rto_us)));
    match (c.srtt_us, c.rttvar_us) {
        (Some(srtt), Some(var)) => f.push(format!("rtt:{}/{}", ms_g(srtt), ms_g(var))),
        (Some(srtt), None) => f.push(format!("rtt:{}", ms_g(srtt))),
        _ => {}
    }
    f.push(format!("mss:{}", c.mss));
    // Without an MSS there is no segment count to give.
    if c.mss > 0 {
        // Byte counts that are not whole segments (CUBIC grows the window
        // by bytes; a short segment may be in flight) are rounded up, all
        // three alike: a short segment in flight is still one, and the
        // flight never shows above a window it is within.
        let segs = |bytes: u64| bytes.div_ceil(c.mss);
        f.push(format!("cwnd:{}", segs(c.cwnd)));
        if let Some(ssthresh) = c.ssthresh.map(segs)
            && ssthresh < SSTHRESH_UNSET_SEGS
        {
            f.push(format!("ssthresh:{ssthresh}"));
        }
        f.push(format!("inflight:{}", segs(d.in_flight)));
    }
    f.push(format!("retrans:{}/{}", d.retrans_in_flight, c.retrans));
    f.push(format!("lost:{}", d.lost));
    // Only SACK tells the sender what arrived above a hole.
    if d.sack {
        f.push(format!("sacked:{}", d.sacked));
    }
    if let Some(mult) = d.reordering {
        f.push(format!("reordering:seen(x{mult})"));
    }
    if let Some(min) = d.min_rtt_us {
        f.push(format!("minrtt:{}", ms_g(min)));
    }
    if let Some(rate) = d.pacing_rate {
        f.push(format!("pacing_rate:{}", bps(rate)));
    }
    if let Some(rate) = d.delivery_rate {
        f.push(format!("delivery_rate:{}", bps(rate)));
    }
    if !d.ca_state.is_empty() {
        f.push(format!("ca_state:{}", d.ca_state));
    }
    if let Some((name, left)) = &d.timer {
        f.push(format!("timer:({name},{})", time_left(*left)));
    }
    Some(format!("\t{}", f.join(" ")))
}

/// The table: one row per listener and connection, columns aligned; with
/// `info`, each connection's `-i` line under its row.
pub fn table(s: &Snapshot, info: bool) -> String {
    let head = [
        "State",
        "Recv-Q",
        "Send-Q",
        "Local Address:Port",
        "Peer Address:Port",
        "rtt",
        "rto",
        "cwnd",
        "retrans",
    ];
    let mut rows: Vec<Vec<String>> = vec![head.iter().map(|h| h.to_string()).collect()];
    for l in &s.listening {
        let mut r = vec![
            "LISTEN".into(),
            "0".into(),
            "0".into(),
            l.clone(),
            "*:*".into(),
        ];
        r.extend(["".into(), "".into(), "".into(), "".into()]);
        rows.push(r);
    }
    for c in &s.conns {
        rows.push(row(c));
    }
    // Right-align the numbers, left-align the rest, as ss does.
    let right = [false, true, true, false, false, true, true, true, true];
    let widths: Vec<usize> = (0..head.len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    // Rows after the header and the listeners are the connections, in order.
    let first_conn = 1 + s.listening.len();
    let mut out = String::new();
    for (n, r) in rows.iter().enumerate() {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if right[i] {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        out += cells.join("  ").trim_end();
        out.push('\n');
        if info
            && n >= first_conn
            && let Some(line) = info_line(&s.conns[n - first_conn])
        {
            out += &line;
            out.push('\n');
        }
    }
    if s.time_wait > 0 {
        out += &format!(
            "{} more in TIME-WAIT (compact entries, no details)\n",
            s.time_wait
        );
    }
    out
}

fn row(c: &ConnRow) -> Vec<String> {
    vec![
        c.state.clone(),
        c.recv_q.to_string(),
        c.send_q.to_string(),
        c.local.clone(),
        c.peer.clone(),
        c.srtt_us.map_or_else(
            || "-".into(),
            |v| match c.rttvar_us {
                Some(var) => format!("{}/{}", ms(v), ms(var).trim_end_matches("ms")),
                None => ms(v),
            },
        ),
        ms(c.rto_us),
        c.cwnd.to_string(),
        c.retrans.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An established CUBIC connection with SACK, timestamps and window
    /// scaling, 1448-byte segments, 10 in flight, nothing lost.
    fn open_conn() -> ConnRow {
        ConnRow {
            state: "ESTAB".into(),
            recv_q: 0,
            send_q: 30000,
            local: "198.18.0.2:7".into(),
            peer: "198.18.0.1:40000".into(),
            srtt_us: Some(250),
            rttvar_us: Some(125),
            rto_us: 201_000,
            cwnd: 14480,
            ssthresh: None,
            mss: 1448,
            retrans: 0,
            detail: Some(ConnDetail {
                cc: "cubic".into(),
                ca_state: "open".into(),
                sack: true,
                timestamps: true,
                wscale: Some((7, 7)),
                min_rtt_us: Some(50),
                delivery_rate: Some(15_375_000),
                pacing_rate: None,
                in_flight: 14480,
                sacked: 0,
                lost: 0,
                retrans_in_flight: 0,
                reordering: None,
                timer: Some(("on".into(), 200_500)),
            }),
        }
    }

    #[test]
    fn info_line_open_without_loss() {
        assert_eq!(
            info_line(&open_conn()).unwrap(),
            "\tts sack cubic wscale:7,7 rto:201 rtt:0.25/0.125 mss:1448 cwnd:10 inflight:10 \
             retrans:0/0 lost:0 sacked:0 minrtt:0.05 delivery_rate:123.0Mbps ca_state:open \
             timer:(on,200ms)"
        );
    }

    #[test]
    fn info_line_in_recovery_with_sacked_and_lost() {
        let mut c = open_conn();
        c.rto_us = 1_000_000;
        c.srtt_us = Some(100);
        c.rttvar_us = Some(50);
        // Reduced to 7 segments; 6 and a short one in flight.
        c.cwnd = 7 * 1448;
        c.ssthresh = Some(7 * 1448);
        c.retrans = 12;
        let d = c.detail.as_mut().unwrap();
        d.timestamps = false;
        d.ca_state = "recovery".into();
        d.in_flight = 6 * 1448 + 100;
        d.sacked = 3;
        d.lost = 2;
        d.retrans_in_flight = 1;
        d.reordering = Some(2);
        d.pacing_rate = Some(1_250_000);
        d.delivery_rate = Some(2_500);
        d.timer = Some(("tlp".into(), 5000));
        assert_eq!(
            info_line(&c).unwrap(),
            "\tsack cubic wscale:7,7 rto:1000 rtt:0.1/0.05 mss:1448 cwnd:7 ssthresh:7 \
             inflight:7 retrans:1/12 lost:2 sacked:3 reordering:seen(x2) minrtt:0.05 \
             pacing_rate:10.0Mbps delivery_rate:20.0Kbps ca_state:recovery timer:(tlp,5ms)"
        );
    }

    #[test]
    fn info_line_before_any_rtt_sample() {
        // A SYN in flight: nothing negotiated, nothing measured yet.
        let c = ConnRow {
            state: "SYN-SENT".into(),
            recv_q: 0,
            send_q: 0,
            local: "198.18.0.2:40000".into(),
            peer: "198.18.0.1:7".into(),
            srtt_us: None,
            rttvar_us: None,
            rto_us: 1_000_000,
            cwnd: 5360,
            ssthresh: None,
            mss: 536,
            retrans: 0,
            detail: Some(ConnDetail {
                cc: "newreno".into(),
                ca_state: "open".into(),
                in_flight: 1,
                timer: Some(("on".into(), 999_250)),
                ..ConnDetail::default()
            }),
        };
        assert_eq!(
            info_line(&c).unwrap(),
            "\tnewreno rto:1000 mss:536 cwnd:10 inflight:1 retrans:0/0 lost:0 ca_state:open \
             timer:(on,999ms)"
        );
    }

    #[test]
    fn info_line_leaves_out_an_infinite_ssthresh() {
        let mut c = open_conn();
        for unset in [None, Some(u64::from(u32::MAX)), Some(0xFFFF * 1448)] {
            c.ssthresh = unset;
            let line = info_line(&c).unwrap();
            assert!(!line.contains("ssthresh"), "{unset:?}: {line}");
        }
        // After a timeout: one segment, the rest lost, the timer backed off.
        c.ssthresh = Some(0xFFFE * 1448);
        // Not a whole segment: CUBIC counts bytes.
        c.cwnd = 1000;
        c.retrans = 3;
        let d = c.detail.as_mut().unwrap();
        d.ca_state = "loss".into();
        d.in_flight = 1000;
        d.lost = 9;
        d.retrans_in_flight = 1;
        d.min_rtt_us = Some(20_512);
        d.delivery_rate = Some(250_000_000);
        d.pacing_rate = Some(100);
        d.timer = Some(("on".into(), 12_000_000));
        assert_eq!(
            info_line(&c).unwrap(),
            "\tts sack cubic wscale:7,7 rto:201 rtt:0.25/0.125 mss:1448 cwnd:1 \
             ssthresh:65534 inflight:1 retrans:1/3 lost:9 sacked:0 minrtt:20.512 \
             pacing_rate:800bps delivery_rate:2.0Gbps ca_state:loss timer:(on,12sec)"
        );
        // No timer armed, no rate measured: neither shown.
        let d = c.detail.as_mut().unwrap();
        d.timer = None;
        d.delivery_rate = None;
        d.pacing_rate = None;
        let line = info_line(&c).unwrap();
        assert!(line.ends_with("minrtt:20.512 ca_state:loss"), "{line}");
    }

    #[test]
    fn units() {
        assert_eq!(ms_g(0), "0");
        assert_eq!(ms_g(1), "0.001");
        assert_eq!(ms_g(1500), "1.5");
        assert_eq!(ms_g(204_000), "204");
        assert_eq!(time_left(0), "0ms");
        assert_eq!(time_left(850), "0.85ms");
        assert_eq!(time_left(9_999), "9.999ms");
        assert_eq!(time_left(10_000), "10ms");
        assert_eq!(time_left(9_999_999), "9999ms");
        assert_eq!(time_left(60_000_000), "60sec");
        assert_eq!(bps(0), "0bps");
        assert_eq!(bps(124), "992bps");
        assert_eq!(bps(125), "1.0Kbps");
        assert_eq!(bps(125_000_000), "1.0Gbps");
        assert_eq!(bps(u64::MAX), "147573952589.7Gbps");
    }

    #[test]
    fn info_lines_go_under_their_rows() {
        let mut other = open_conn();
        other.peer = "198.18.0.1:40001".into();
        let old = ConnRow {
            peer: "198.18.0.1:40002".into(),
            detail: None,
            ..open_conn()
        };
        let s = Snapshot {
            listening: vec!["198.18.0.2:7".into()],
            conns: vec![open_conn(), old, other],
            time_wait: 1,
            counters: vec![],
        };
        let plain = table(&s, false);
        let with = table(&s, true);
        let lines: Vec<&str> = with.lines().collect();
        // The table's own lines are unchanged; each connection with details
        // has its line right under it, the listener and the one without
        // details have none.
        let rows: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.starts_with('\t'))
            .collect();
        assert_eq!(rows, plain.lines().collect::<Vec<_>>());
        assert!(
            lines[1].starts_with("LISTEN") && lines[2].starts_with("ESTAB"),
            "{with}"
        );
        assert_eq!(lines[3], info_line(&s.conns[0]).unwrap());
        assert!(lines[4].contains("198.18.0.1:40002"), "{with}");
        assert!(lines[5].contains("198.18.0.1:40001"), "{with}");
        assert_eq!(lines[6], info_line(&s.conns[2]).unwrap());
        assert!(lines[7].ends_with("in TIME-WAIT (compact entries, no details)"));
        assert_eq!(lines.len(), 8);
    }

    #[test]
    fn table_lines_up() {
        let s = Snapshot {
            listening: vec!["198.18.0.2:7".into()],
            conns: vec![ConnRow {
                state: "ESTAB".into(),
                recv_q: 0,
                send_q: 12345,
                local: "198.18.0.2:7".into(),
                peer: "198.18.0.1:40000".into(),
                srtt_us: Some(250),
                rttvar_us: Some(125),
                rto_us: 201_000,
                cwnd: 14480,
                ssthresh: None,
                mss: 1460,
                retrans: 0,
                detail: None,
            }],
            time_wait: 2,
            counters: vec![],
        };
        let t = table(&s, false);
        let lines: Vec<&str> = t.lines().collect();
        assert!(
            lines[0].starts_with("State   Recv-Q  Send-Q  Local Address:Port"),
            "{t}"
        );
        assert!(lines[1].starts_with("LISTEN"), "{t}");
        assert!(
            lines[2].contains("198.18.0.1:40000") && lines[2].contains("0.250ms/0.125"),
            "{t}"
        );
        assert!(
            lines[2].contains("201ms") && lines[2].contains("14480"),
            "{t}"
        );
        assert_eq!(
            lines[3],
            "2 more in TIME-WAIT (compact entries, no details)"
        );
        // Columns line up: the peer column starts at the same offset.
        let col = lines[0].find("Peer").unwrap();
        assert_eq!(&lines[2][col..col + 10], "198.18.0.1");
    }
}
