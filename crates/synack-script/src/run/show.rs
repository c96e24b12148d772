//! Packets and flags in packetdrill's notation, for reports.

use super::*;

pub(super) fn secs(us: Usecs) -> f64 {
    us as f64 / 1e6
}

pub(super) fn show_flags(f: u8) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags::SYN, 'S'),
        (flags::FIN, 'F'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::URG, 'U'),
        (flags::ECE, 'E'),
        (flags::CWR, 'W'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    if f & flags::ACK != 0 {
        s.push('.');
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

pub(super) fn show_script(p: &Packet) -> String {
    let mut out = format!(
        "{}{} {}:{}({})",
        match p.ecn {
            Some(e) => format!("[{}] ", format!("{e:?}").to_lowercase()),
            None => String::new(),
        },
        show_flags(p.flags),
        p.seq,
        p.end_seq,
        p.len
    );
    if let Some(a) = p.ack {
        out += &format!(" ack {a}");
    }
    if let Some(w) = p.win {
        out += &format!(" win {w}");
    }
    match &p.options {
        PacketOptions::None => {}
        PacketOptions::Any => out += " <...>",
        PacketOptions::List(l) => {
            out += &format!(" <{}>", show_option_bytes(&wire::option_bytes(l)))
        }
    }
    out
}

/// Option bytes in packetdrill's notation.
pub(super) fn show_option_bytes(o: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < o.len() {
        let kind = o[i];
        if kind == 0 {
            parts.push("eol".to_string());
            i += 1;
            continue;
        }
        if kind == 1 {
            parts.push("nop".to_string());
            i += 1;
            continue;
        }
        let len = o.get(i + 1).copied().unwrap_or(0) as usize;
        if len < 2 || i + len > o.len() {
            parts.push(format!("bad option {kind}"));
            break;
        }
        let body = &o[i + 2..i + len];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        parts.push(match (kind, len) {
            (2, 4) => format!("mss {}", u16::from_be_bytes([body[0], body[1]])),
            (3, 3) => format!("wscale {}", body[0]),
            (4, 2) => "sackOK".into(),
            (8, 10) => format!("TS val {} ecr {}", be32(&body[0..4]), be32(&body[4..8])),
            (5, _) => {
                let blocks: Vec<String> = body
                    .chunks_exact(8)
                    .map(|b| format!("{}:{}", be32(&b[0..4]), be32(&b[4..8])))
                    .collect();
                format!("sack {}", blocks.join(" "))
            }
            _ => format!("kind {kind} len {len}"),
        });
        i += len;
    }
    parts.join(",")
}
