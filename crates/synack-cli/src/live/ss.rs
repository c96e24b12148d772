//! `synack ss`: the connections of a running synack, as `ss -ant` shows the
//! kernel's, read from its control socket.

use super::control::{self, ConnRow, Snapshot};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub control: PathBuf,
    /// Also print the stack's counters.
    pub counters: bool,
}

pub fn run(o: &Options) -> ExitCode {
    match control::fetch(&o.control) {
        Ok(snap) => {
            out!("{}", table(&snap));
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

/// The table: one row per listener and connection, columns aligned.
pub fn table(s: &Snapshot) -> String {
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
    let mut out = String::new();
    for r in &rows {
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
            }],
            time_wait: 2,
            counters: vec![],
        };
        let t = table(&s);
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
