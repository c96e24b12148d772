//! Capture files: classic libpcap (either byte order, microsecond or
//! nanosecond magic) and pcapng (section, interface, enhanced, simple and
//! the obsolete packet block; either byte order per section; several
//! interfaces, each with its own link type and timestamp resolution).
//!
//! The reader only frames records: it hands out each packet's link type,
//! time and captured bytes. A record that runs past the end of the file
//! ends the reading and is counted, as tcpdump reports a cut-short file;
//! only a file that is not a capture at all is an error.

use super::PlotError;

/// One captured frame, borrowing the file's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Nanoseconds since the Unix epoch (or the writer's own epoch).
    pub time_ns: u64,
    /// LINKTYPE_ value of the interface that captured it.
    pub link: u32,
    /// The captured bytes (possibly fewer than went on the wire).
    pub data: &'a [u8],
}

/// Everything a capture file held.
#[derive(Debug, Default)]
pub struct Capture<'a> {
    pub frames: Vec<Frame<'a>>,
    /// Records cut short by the end of the file, or naming an interface
    /// that was never described: skipped.
    pub bad_records: u64,
    /// "pcap" or "pcapng", for the page.
    pub format: &'static str,
}

const PCAP_MICRO: u32 = 0xa1b2_c3d4;
const PCAP_NANO: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;

/// Byte order of the fields of a file or a pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Little,
    Big,
}

/// A cursor-free reader of fixed-width fields at offsets, bounds checked.
#[derive(Clone, Copy)]
struct Fields<'a> {
    buf: &'a [u8],
    order: Order,
}

impl Fields<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.buf.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self.order {
            Order::Little => u16::from_le_bytes(b),
            Order::Big => u16::from_be_bytes(b),
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self.order {
            Order::Little => u32::from_le_bytes(b),
            Order::Big => u32::from_be_bytes(b),
        })
    }
}

/// Reads a whole capture file.
pub fn read(file: &[u8]) -> Result<Capture<'_>, PlotError> {
    let Some(head) = file.get(..4) else {
        return Err(PlotError::NotCapture(format!(
            "{} bytes, too short for a capture file header",
            file.len()
        )));
    };
    let le = u32::from_le_bytes(head.try_into().unwrap_or_default());
    let be = u32::from_be_bytes(head.try_into().unwrap_or_default());
    match (le, be) {
        (PCAP_MICRO, _) => classic(file, Order::Little, 1_000),
        (PCAP_NANO, _) => classic(file, Order::Little, 1),
        (_, PCAP_MICRO) => classic(file, Order::Big, 1_000),
        (_, PCAP_NANO) => classic(file, Order::Big, 1),
        (PCAPNG_SHB, _) => pcapng(file),
        _ => Err(PlotError::NotCapture(format!(
            "unknown magic number {be:#010x}: neither pcap nor pcapng"
        ))),
    }
}

/// Classic pcap: a 24-byte header, then 16-byte record headers each
/// followed by its captured bytes. `frac_ns` is nanoseconds per unit of
/// the fractional timestamp field.
fn classic(file: &[u8], order: Order, frac_ns: u64) -> Result<Capture<'_>, PlotError> {
    let f = Fields { buf: file, order };
    // The upper bits of the link-type field carry FCS information (the
    // pcap spec's "LinkType and additional information"); only the low 16
    // name the link.
    let link = f
        .u32(20)
        .ok_or_else(|| PlotError::NotCapture("pcap header cut short (under 24 bytes)".into()))?
        & 0xffff;
    let mut cap = Capture {
        format: "pcap",
        ..Capture::default()
    };
    let mut at = 24;
    while at < file.len() {
        let (Some(sec), Some(frac), Some(incl)) = (f.u32(at), f.u32(at + 4), f.u32(at + 8)) else {
            cap.bad_records += 1;
            break;
        };
        let start = at + 16;
        let Some(data) = start
            .checked_add(incl as usize)
            .and_then(|end| file.get(start..end))
        else {
            cap.bad_records += 1;
            break;
        };
        let time_ns = u64::from(sec) * 1_000_000_000 + u64::from(frac) * frac_ns;
        cap.frames.push(Frame {
            time_ns,
            link,
            data,
        });
        at = start + incl as usize;
    }
    Ok(cap)
}

/// One interface of a pcapng section.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: u32,
    /// Timestamp units per second as (base, exponent): 10^6 by default.
    resolution: Resolution,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    /// Units of 10^-n seconds.
    Decimal(u32),
    /// Units of 2^-n seconds.
    Binary(u32),
}

impl Resolution {
    fn to_ns(self, ticks: u64) -> u64 {
        let ns = match self {
            Resolution::Decimal(n) if n <= 9 => u128::from(ticks) * 10u128.pow(9 - n),
            Resolution::Decimal(n) => u128::from(ticks) / 10u128.pow((n - 9).min(38)),
            Resolution::Binary(n) => (u128::from(ticks) * 1_000_000_000) >> n.min(127),
        };
        u64::try_from(ns).unwrap_or(u64::MAX)
    }
}

/// pcapng: a sequence of blocks, each type, total length, body, total
/// length again. Every section header restarts the byte order and the
/// interface list.
fn pcapng(file: &[u8]) -> Result<Capture<'_>, PlotError> {
    let mut cap = Capture {
        format: "pcapng",
        ..Capture::default()
    };
    let mut order = section_order(file, 0)?;
    let mut ifaces: Vec<Interface> = Vec::new();
    // Simple packet blocks carry no time: they take the last one seen.
    let mut last_ns = 0;
    let mut at = 0;
    while at < file.len() {
        let f = Fields { buf: file, order };
        let kind = f.u32(at);
        if kind == Some(PCAPNG_SHB) {
            order = section_order(file, at)?;
            ifaces.clear();
        }
        let f = Fields { buf: file, order };
        let (Some(kind), Some(len)) = (f.u32(at), f.u32(at + 4)) else {
            cap.bad_records += 1;
            break;
        };
        let len = len as usize;
        let Some(body) = (len >= 12 && len.is_multiple_of(4))
            .then(|| file.get(at + 8..at + len - 4))
            .flatten()
        else {
            cap.bad_records += 1;
            break;
        };
        let b = Fields { buf: body, order };
        match kind {
            1 => ifaces.push(interface(b)),
            2 | 3 | 6 => match packet_block(kind, b, &ifaces, last_ns) {
                Some(frame) => {
                    last_ns = frame.time_ns;
                    cap.frames.push(frame);
                }
                None => cap.bad_records += 1,
            },
            _ => {} // statistics, name resolution, custom blocks: not needed
        }
        at += len;
    }
    Ok(cap)
}

/// The byte order of the section header block at `at`, from its
/// byte-order magic.
fn section_order(file: &[u8], at: usize) -> Result<Order, PlotError> {
    let bom = file
        .get(at + 8..at + 12)
        .ok_or_else(|| PlotError::NotCapture("pcapng section header cut short".into()))?;
    let bom: [u8; 4] = bom.try_into().unwrap_or_default();
    if u32::from_le_bytes(bom) == PCAPNG_BOM {
        Ok(Order::Little)
    } else if u32::from_be_bytes(bom) == PCAPNG_BOM {
        Ok(Order::Big)
    } else {
        Err(PlotError::NotCapture(
            "pcapng section header without its byte-order magic".into(),
        ))
    }
}

/// An interface description block: link type, then options, of which
/// only if_tsresol (9) matters here.
fn interface(b: Fields<'_>) -> Interface {
    let link = u32::from(b.u16(0).unwrap_or(0));
    let mut resolution = Resolution::Decimal(6);
    let mut at = 8;
    while let (Some(code), Some(len)) = (b.u16(at), b.u16(at + 2)) {
        if code == 0 {
            break; // opt_endofopt
        }
        if let (9, 1.., Some(&v)) = (code, len, b.buf.get(at + 4)) {
            resolution = if v & 0x80 == 0 {
                Resolution::Decimal(u32::from(v))
            } else {
                Resolution::Binary(u32::from(v & 0x7f))
            };
        }
        at += 4 + usize::from(len).div_ceil(4) * 4;
    }
    Interface { link, resolution }
}

/// An enhanced (6), simple (3) or obsolete (2) packet block's frame; None
/// if it is cut short or names an unknown interface.
fn packet_block<'a>(
    kind: u32,
    b: Fields<'a>,
    ifaces: &[Interface],
    last_ns: u64,
) -> Option<Frame<'a>> {
    let (iface, time, start, caplen): (u32, _, usize, usize) = match kind {
        // Simple: original length, then the data up to the block's end.
        3 => {
            let orig = b.u32(0)? as usize;
            let caplen = orig.min(b.buf.len().saturating_sub(4));
            (0, None, 4, caplen)
        }
        // Obsolete packet block: a 16-bit interface id and drop count.
        2 => (
            u32::from(b.u16(0)?),
            Some((b.u32(4)?, b.u32(8)?)),
            20,
            b.u32(12)? as usize,
        ),
        _ => (
            b.u32(0)?,
            Some((b.u32(4)?, b.u32(8)?)),
            20,
            b.u32(12)? as usize,
        ),
    };
    let ifc = ifaces.get(iface as usize)?;
    let data = b.buf.get(start..start.checked_add(caplen)?)?;
    let time_ns = match time {
        Some((hi, lo)) => ifc.resolution.to_ns((u64::from(hi) << 32) | u64::from(lo)),
        None => last_ns,
    };
    Some(Frame {
        time_ns,
        link: ifc.link,
        data,
    })
}
