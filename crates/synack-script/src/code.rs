//! `%{ }%` blocks: the `assert tcpi_... == N` statements packetdrill
//! scripts make about the kernel's `tcp_info`, evaluated against the
//! engine's [`ConnInfo`]. A field synack does not have makes the script
//! unsupported; nothing is ever skipped.

use synack::{ConnInfo, RecoveryState};

/// Runs the block's statements; `Ok(Err(msg))` is a failed assertion,
/// `Err(what)` something the evaluator or synack cannot do.
pub fn eval(code: &str, info: Option<&ConnInfo>) -> Result<Result<(), String>, String> {
    for stmt in code.split(['\n', ';']) {
        let stmt = stmt.trim();
        if stmt.is_empty() || stmt.starts_with('#') {
            continue;
        }
        let Some(rest) = stmt.strip_prefix("assert ") else {
            return Err(format!(
                "Python statement '{stmt}' (only assert is evaluated)"
            ));
        };
        // The message after the top-level comma is Python for the report.
        let cond = rest.split(',').next().unwrap_or("").trim();
        for clause in cond.split(" and ") {
            let (lhs, op, rhs) = comparison(clause.trim())?;
            let info = info.ok_or_else(|| "tcp_info with no connection under test".to_string())?;
            let l = operand(lhs, info)?;
            let r = operand(rhs, info)?;
            let holds = match op {
                "==" => l == r,
                "!=" => l != r,
                "<" => l < r,
                "<=" => l <= r,
                ">" => l > r,
                ">=" => l >= r,
                _ => unreachable!("comparison() returns one of these"),
            };
            if !holds {
                return Ok(Err(format!("assert {clause} failed: {lhs} is {l}")));
            }
        }
    }
    Ok(Ok(()))
}

fn comparison(s: &str) -> Result<(&str, &'static str, &str), String> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some((l, r)) = s.split_once(op) {
            return Ok((l.trim(), op, r.trim()));
        }
    }
    Err(format!("expression '{s}' (only comparisons are evaluated)"))
}

fn operand(s: &str, i: &ConnInfo) -> Result<i64, String> {
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    let mss = u32::from(i.mss.max(1));
    let us = |d: core::time::Duration| d.as_micros() as i64;
    Ok(match s {
        "TCP_CA_Open" => 0,
        "TCP_CA_Disorder" => 1,
        "TCP_CA_CWR" => 2,
        "TCP_CA_Recovery" => 3,
        "TCP_CA_Loss" => 4,
        // Linux counts windows in segments of the current MSS.
        "tcpi_snd_cwnd" => i64::from(i.cwnd / mss),
        "tcpi_snd_ssthresh" => {
            if i.ssthresh >= u32::MAX / 2 {
                0x7fff_ffff
            } else {
                i64::from(i.ssthresh / mss)
            }
        }
        "tcpi_snd_mss" => i64::from(i.mss),
        "tcpi_advmss" => i64::from(i.advertised_mss),
        "tcpi_ca_state" => match i.recovery {
            RecoveryState::Open => 0,
            RecoveryState::Disorder => 1,
            RecoveryState::Cwr => 2,
            RecoveryState::Recovery => 3,
            RecoveryState::Loss => 4,
            _ => return Err("a recovery state Linux has no number for".into()),
        },
        "tcpi_rto" => us(i.rto),
        "tcpi_rtt" => i.srtt.map_or(0, us),
        "tcpi_rttvar" => i.rttvar.map_or(0, us),
        "tcpi_min_rtt" => i.min_rtt.map_or(0, us),
        "tcpi_unacked" => i64::from(i.in_flight.div_ceil(mss)),
        "tcpi_sacked" => i64::from(i.sacked.div_ceil(mss)),
        "tcpi_lost" => i64::from(i.lost.div_ceil(mss)),
        "tcpi_retrans" => i64::from(i.retrans_in_flight.div_ceil(mss)),
        "tcpi_total_retrans" => i64::from(i.retransmits),
        other if other.starts_with("tcpi_") => {
            return Err(format!("tcp_info field {other}: synack has no such figure"));
        }
        other => return Err(format!("Python expression '{other}'")),
    })
}
