//! The TCP User Timeout option (RFC 5482; TM-09, WF-18): off by default;
//! when on, advertised in the SYN and the first segment after it, and the
//! peer's adopted within the bounds: USER_TIMEOUT = min(U_LIMIT,
//! max(ADV_UTO, REMOTE_UTO, L_LIMIT)).

use crate::harness::*;
use synack::{CloseReason, Config, Event, UserTimeoutOption};
use synack_wire::UserTimeout;

/// ADV_UTO 5 min, L_LIMIT 100 s, U_LIMIT 1 h.
fn with_uto() -> Config {
    let mut c = conf();
    c.user_timeout_option =
        Some(UserTimeoutOption::new(secs(300), secs(100), secs(3600)).expect("valid bounds"));
    c
}

/// An active open whose peer answers with `remote` (or no option).
fn open(cfg: Config, remote: Option<UserTimeout>) -> Harness {
    let mut h = Harness::new(cfg);
    h.active_layout();
    h.connect().unwrap();
    let syn = h.next();
    assert!(syn.has(SYN));
    let mut sa = seg(SYN | ACK).seq(0).ack(1).mss(1460);
    let mut o = sa_options();
    o.user_timeout = remote;
    sa = sa.opts(o);
    h.inject(sa);
    h
}

fn sa_options() -> TcpOptions {
    TcpOptions {
        mss: Some(1460),
        ..TcpOptions::default()
    }
}

/// WF-18, TM-09: by default no option goes out and the user timeout is
/// `Config::user_timeout` (5 min); a peer's option changes nothing.
#[test]
fn tm_09_off_by_default() {
    let mut h = open(conf(), Some(UserTimeout::from_secs(7200)));
    assert!(h.log.iter().all(|s| s.options.user_timeout.is_none()));
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.info().unwrap().user_timeout, Some(secs(300)));
}

/// TM-09: on, the SYN advertises 300 s (seconds granularity) and so does
/// the first segment after it, and no later one; the peer's 10 minutes
/// (minutes granularity) becomes the user timeout: max(300, 600, 100).
#[test]
fn tm_09_advertised_and_adopted() {
    let mut h = open(
        with_uto(),
        Some(UserTimeout {
            minutes: true,
            value: 10,
        }),
    );
    let syn = h.log.iter().find(|s| s.has(SYN)).unwrap();
    assert_eq!(
        syn.options.user_timeout,
        Some(UserTimeout {
            minutes: false,
            value: 300
        })
    );
    let ack = h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(
        ack.options.user_timeout,
        Some(UserTimeout {
            minutes: false,
            value: 300
        })
    );
    assert_eq!(h.info().unwrap().user_timeout, Some(secs(600)));
    h.send(b"later").unwrap();
    let d = h.expect(out(ACK | PSH).len(5));
    assert_eq!(
        d.options.user_timeout, None,
        "only the first non-SYN segment"
    );
}

/// TM-09: the bounds. A peer's 2 hours is capped at U_LIMIT (1 h); a
/// peer's 10 s leaves ADV_UTO (300 s, above L_LIMIT); no option from the
/// peer leaves ADV_UTO too.
#[test]
fn tm_09_within_the_bounds() {
    for (remote, want) in [
        (Some(UserTimeout::from_secs(7200)), 3600),
        (Some(UserTimeout::from_secs(10)), 300),
        (None, 300),
    ] {
        let h = open(with_uto(), remote);
        assert_eq!(
            h.info().unwrap().user_timeout,
            Some(secs(want)),
            "{remote:?}"
        );
    }
    assert!(UserTimeoutOption::new(secs(300), secs(200), secs(100)).is_err());
}

/// TM-09 with R2: the adopted 10 minutes is the time unacknowledged data
/// may wait: retransmitted until then, and the connection times out at
/// the first retransmission timeout past 600 s, not at 300 s.
#[test]
fn tm_09_adopted_timeout_ends_the_connection() {
    let mut h = open(with_uto(), Some(UserTimeout::from_secs(600)));
    let c = h.conn();
    h.expect(out(ACK).seq(1).ack(1));
    assert_eq!(h.info().unwrap().user_timeout, Some(secs(600)));
    h.take_events();
    let t0 = h.now;
    h.send(b"unanswered").unwrap();
    h.advance_to(t0 + secs(599));
    assert!(
        !h.take_events()
            .iter()
            .any(|e| matches!(e, Event::Closed { .. })),
        "alive past the configured 300 s"
    );
    h.advance_to(t0 + secs(800));
    let closed = h.take_events().into_iter().any(|e| {
        e == Event::Closed {
            conn: c,
            reason: CloseReason::TimedOut,
        }
    });
    assert!(closed, "timed out between 600 and 800 s");
}
