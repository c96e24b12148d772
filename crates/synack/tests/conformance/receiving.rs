//! The receiving side of data transfer (RFC-CHECKLIST.md section 3.E):
//! receiver-side SWS avoidance (DT-06) and the zero receive window (DT-10).

use crate::harness::*;
use synack::Config;

/// A passive connection with a receive buffer of `buffer` bytes that the
/// peer fills completely in 1000-byte segments (from `stream`); the last
/// ACK advertises window 0.
fn full_receiver(buffer: usize, stream: &[u8]) -> Harness {
    full_receiver_with(small_window(buffer), buffer, stream)
}

/// The same with `cfg` (whose receive buffer is `buffer`).
fn full_receiver_with(cfg: Config, buffer: usize, stream: &[u8]) -> Harness {
    let mut h = Harness::new(cfg);
    h.enter_syn_received();
    h.enter_established_passive();
    let mut off = 0;
    while off < buffer {
        let n = (buffer - off).min(1000);
        h.inject(
            seg(ACK)
                .seq(1 + off as i64)
                .ack(1)
                .data(&stream[off..off + n]),
        );
        off += n;
        // The right edge stays where the SYN-ACK put it.
        h.expect(
            out(ACK)
                .seq(1)
                .ack(1 + off as i64)
                .win((buffer - off) as u16),
        );
    }
    h.expect_none();
    assert_eq!(h.info().unwrap().rcv_wnd, 0);
    h
}

/// Reads one byte and checks it against `stream` at `*read`.
#[track_caller]
fn read_one(h: &mut Harness, stream: &[u8], read: &mut usize) {
    let mut b = [0u8; 1];
    assert_eq!(h.recv(&mut b), Ok(1));
    assert_eq!(b[0], stream[*read]);
    *read += 1;
}

/// DT-06 (MUST-39, RFC 9293 3.8.6.2.2): receiver-side SWS avoidance with
/// an 8000-byte buffer, so the step is min(8000 / 2, Eff.snd.MSS = 1460) =
/// 1460. From a full buffer, the application reads one byte at a time: the
/// first 1459 reads announce nothing, the 1460th sends a window update of
/// exactly 1460. Then the peer sends a 10-byte segment every 50 reads
/// while the application keeps reading single bytes: across every segment
/// the engine emits, the right edge (ACK + window) never moves left and
/// moves right only in steps of at least 1460.
#[test]
fn dt_06_receiver_sws_right_edge_moves_in_mss_steps() {
    let stream = bytes(40_000);
    // Every segment acknowledged at once, so that the peer (this loop,
    // which never lets time pass) learns each window as it goes.
    let mut cfg = small_window(8000);
    cfg.delayed_ack = None;
    let mut h = full_receiver_with(cfg, 8000, &stream);
    let mut read = 0;
    for _ in 0..1459 {
        read_one(&mut h, &stream, &mut read);
        h.expect_none();
    }
    read_one(&mut h, &stream, &mut read);
    h.expect(out(ACK).seq(1).ack(8001).win(1460));
    h.expect_none();

    let first = h.log.len();
    // The peer's view: what it has sent and the last window it was given.
    let mut sent = 8000usize;
    for i in 0..30_000 {
        if i % 50 == 0 {
            let last = h.log.last().unwrap();
            let right = last.rack as usize + usize::from(last.window);
            if right >= 1 + sent + 10 {
                h.inject(
                    seg(ACK)
                        .seq(1 + sent as i64)
                        .ack(1)
                        .data(&stream[sent..sent + 10]),
                );
                sent += 10;
            }
        }
        if read < sent {
            read_one(&mut h, &stream, &mut read);
        }
    }
    h.drain();
    let segs = &h.log[first..];
    assert!(segs.len() > 100, "{} segments", segs.len());
    let mut edge = 8001 + 1460u32;
    let mut moves = 0;
    for s in segs {
        assert_eq!(s.flags, ACK, "{}", describe(s));
        let right = s.rack + u32::from(s.window);
        assert!(right >= edge, "the right edge moved left: {}", describe(s));
        if right > edge {
            assert!(
                right - edge >= 1460,
                "moved by {} only: {}",
                right - edge,
                describe(s)
            );
            moves += 1;
        }
        edge = right;
    }
    assert!(moves >= 6, "the window did reopen ({moves} moves)");
    assert!(read > 8000 && sent > 8000);
}

/// DT-06 (MUST-39) with a buffer smaller than two segments: the step is
/// min(2000 / 2, 1460) = 1000, so the window update comes after 1000
/// single-byte reads, not 1460.
#[test]
fn dt_06_receiver_sws_step_is_half_a_small_buffer() {
    let stream = bytes(2000);
    let mut h = full_receiver(2000, &stream);
    let mut read = 0;
    for _ in 0..999 {
        read_one(&mut h, &stream, &mut read);
        h.expect_none();
    }
    read_one(&mut h, &stream, &mut read);
    h.expect(out(ACK).seq(1).ack(2001).win(1000));
    h.expect_none();
}

/// DT-10 (RFC 9293 3.8.6.1): a receiver at window 0 answers every arriving
/// segment that occupies sequence space or falls outside the window, with
/// the next expected sequence number and window 0: one-octet probes at
/// RCV.NXT, zero-length probes at RCV.NXT - 1, and whole data segments,
/// fifteen of each (more than the challenge-ACK budget of ten, which must
/// not apply here). None of their data is taken.
#[test]
fn dt_10_zero_window_receiver_acks_every_segment() {
    let stream = bytes(4000);
    let mut h = full_receiver(4000, &stream);
    for _ in 0..15 {
        h.inject(seg(ACK).seq(4001).ack(1).data(b"P"));
        h.expect(out(ACK).seq(1).ack(4001).win(0).len(0));
        h.inject(seg(ACK).seq(4000).ack(1));
        h.expect(out(ACK).seq(1).ack(4001).win(0).len(0));
        h.inject(seg(ACK | PSH).seq(4001).ack(1).len(500));
        h.expect(out(ACK).seq(1).ack(4001).win(0).len(0));
        h.expect_none();
        h.advance(millis(100));
        h.expect_none();
    }
    assert_eq!(h.info().unwrap().recv_queue, 4000);
    assert_eq!(h.recv_all(), stream);
}

/// DT-10: once the application reads, the receiver sends an unsolicited
/// window update, as soon as the window can grow by one SWS step (here
/// min(4000 / 2, 1460) = 1460 bytes), and the peer can then fill it.
#[test]
fn dt_10_window_update_when_application_reads() {
    let stream = bytes(6000);
    let mut h = full_receiver(4000, &stream);
    let mut buf = vec![0u8; 1459];
    assert_eq!(h.recv(&mut buf[..100]), Ok(100));
    h.expect_none();
    assert_eq!(h.recv(&mut buf[..1359]), Ok(1359));
    h.expect_none();
    assert_eq!(h.recv(&mut buf[..1]), Ok(1));
    h.expect(out(ACK).seq(1).ack(4001).win(1460));
    h.expect_none();
    h.inject(seg(ACK | PSH).seq(4001).ack(1).data(&stream[4000..5460]));
    h.expect(out(ACK).seq(1).ack(5461).win(0));
    let mut rest = h.recv_all();
    assert_eq!(rest.len(), 4000);
    rest.drain(..2540);
    assert_eq!(rest, &stream[4000..5460]);
}

/// DT-13 (RFC 7323 2.3): with window scaling, SND.WND is the peer's
/// SEG.WND shifted by its scale (100 << 10 = 102,400 bytes usable), and
/// the window we advertise is RCV.WND shifted right by ours, never
/// rounded down past what we offered.
#[test]
fn dt_13_scaled_windows_both_ways() {
    let mut cfg = conf();
    cfg.recv_buffer = 1 << 20;
    let mut h = Harness::new(cfg);
    h.peer_syn_opts.window_scale = Some(10);
    h.enter_syn_received();
    h.inject(seg(ACK).seq(1).ack(1).win(100));
    h.take_events();
    h.accept().unwrap();
    let i = h.info().unwrap();
    assert_eq!(i.snd_wnd, 102_400);
    let (_, ours) = i.wscale.expect("window scaling");
    assert!(ours >= 4, "1 MiB needs a shift");
    h.inject(seg(ACK).seq(1).ack(1).win(100).len(1000));
    let a = h.expect(out(ACK).ack(1001));
    let advertised = u32::from(a.window) << ours;
    let free = (1u32 << 20) - 1000;
    assert!(
        advertised >= free && advertised < free + (1 << ours),
        "advertised {advertised} for {free} free"
    );
}

/// DT-10: a window left at one segment is announced again once reading
/// would at least double it. A 16,000-byte buffer is filled to 14,540
/// bytes (1,460 of window left, exactly one segment: no SWS update is
/// owed); the application then reads everything: the reopened window is
/// announced at once, not after the peer's persist timer.
#[test]
fn dt_10_window_of_one_segment_reopened_when_the_buffer_drains() {
    let stream = bytes(20_000);
    let mut h = Harness::new(small_window(16_000));
    h.enter_syn_received();
    h.enter_established_passive();
    let mut off = 0;
    while off < 14_540 {
        let n = (14_540 - off).min(1000);
        h.inject(
            seg(ACK)
                .seq(1 + off as i64)
                .ack(1)
                .data(&stream[off..off + n]),
        );
        off += n;
    }
    let last = h.drain().pop().expect("ACKs");
    assert_eq!((last.rack, last.window), (14_541, 1460));
    assert_eq!(h.recv_all().len(), 14_540);
    // Read in pieces: each read that at least doubles the window is
    // announced (the first at once), and each announcement is larger.
    let updates = h.drain();
    assert!(!updates.is_empty(), "the reopened window is announced");
    let mut last = 1460;
    for u in &updates {
        assert_eq!((u.flags, u.rack), (ACK, 14_541));
        assert!(u32::from(u.window) >= 2 * last, "{} after {last}", u.window);
        last = u32::from(u.window);
    }
}
