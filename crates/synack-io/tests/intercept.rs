//! Interception through synack-io (issue 13): a stack on one side of an
//! in-memory link intercepts connections the other stack makes to a
//! destination that is neither of theirs.

mod common;

use common::*;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;
use synack::{AbandonReason, Intercept, InterceptMode};
use synack_io::device::ChannelDevice;
use synack_io::net::{Interceptor, Refusal, TcpListener, TcpStream};
use synack_io::{Stack, StackConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn dst() -> SocketAddr {
    "198.19.7.7:443".parse().unwrap()
}

/// Client stack A and intercepting stack B; B's engine gives a request up
/// after `timeout`.
fn stacks(timeout: Duration) -> (Stack, Stack) {
    let (da, db) = ChannelDevice::pair(1500).unwrap();
    let mut b = StackConfig::new(B);
    b.engine.syn_request_timeout = timeout;
    (
        Stack::new(da, StackConfig::new(A)).unwrap(),
        Stack::new(db, b).unwrap(),
    )
}

#[tokio::test]
async fn an_accepted_request_carries_data_from_the_original_destination() {
    let (a, b) = stacks(Duration::from_secs(75));
    let i = Interceptor::bind(&b, Intercept::everything(InterceptMode::Decide)).unwrap();
    let client = tokio::spawn({
        let a = a.clone();
        async move {
            let mut s = TcpStream::connect(&a, dst()).await.unwrap();
            assert_eq!(s.peer_addr().unwrap(), dst());
            s.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            buf
        }
    });
    let req = within(2, i.request()).await.unwrap();
    assert_eq!(req.original_dst(), dst());
    assert_eq!(req.peer_addr().ip(), A);
    let mut s = within(2, req.accept()).await.unwrap();
    assert_eq!(s.local_addr().unwrap(), dst());
    let mut buf = [0u8; 4];
    within(2, s.read_exact(&mut buf)).await.unwrap();
    assert_eq!(&buf, b"ping");
    s.write_all(b"pong").await.unwrap();
    assert_eq!(&within(2, client).await.unwrap(), b"pong");
}

#[tokio::test]
async fn a_refused_request_is_connection_refused_for_the_client() {
    let (a, b) = stacks(Duration::from_secs(75));
    let i = Interceptor::bind(&b, Intercept::everything(InterceptMode::Decide)).unwrap();
    let client = tokio::spawn({
        let a = a.clone();
        async move { TcpStream::connect(&a, dst()).await.map(|_| ()) }
    });
    let req = within(2, i.request()).await.unwrap();
    req.refuse(Refusal::Reset).unwrap();
    let e = within(2, client).await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn an_undecided_request_is_abandoned_after_the_engines_timeout() {
    let (a, b) = stacks(Duration::from_millis(200));
    let i = Interceptor::bind(&b, Intercept::everything(InterceptMode::Decide)).unwrap();
    let _client = tokio::spawn({
        let a = a.clone();
        async move { TcpStream::connect(&a, dst()).await.map(|_| ()) }
    });
    let req = within(2, i.request()).await.unwrap();
    assert_eq!(within(2, req.abandoned()).await, AbandonReason::TimedOut);
    let e = within(2, req.accept()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TimedOut);
}

#[tokio::test]
async fn accept_first_hands_over_established_connections() {
    let (a, b) = stacks(Duration::from_secs(75));
    let i = Interceptor::bind(&b, Intercept::everything(InterceptMode::AcceptFirst)).unwrap();
    let c = within(2, TcpStream::connect(&a, dst())).await.unwrap();
    let (s, peer) = within(2, i.accept()).await.unwrap();
    assert_eq!(peer, c.local_addr().unwrap());
    assert_eq!(s.local_addr().unwrap(), dst());
}

#[tokio::test]
async fn a_host_stack_ignores_what_is_not_addressed_to_it() {
    // No interceptor: B listens on every address, port 443, yet a SYN to
    // another address gets no answer at all (not even a RST).
    let (a, b) = stacks(Duration::from_secs(75));
    let _l = TcpListener::bind(&b, "0.0.0.0:443").await.unwrap();
    let connect = TcpStream::connect(&a, dst());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), connect)
            .await
            .is_err(),
        "the SYN went unanswered"
    );
    let drops = b.counters().dropped(synack::DropReason::NotLocal);
    assert!(drops >= 1, "{drops}");
}

/// With `StackConfig::not_local` set, a SYN to an address that is not the
/// stack's is answered with an ICMP destination unreachable of that kind
/// from its own address (as a router without a route answers) instead of
/// silence. Port unreachable is a hard error: the client's connect fails
/// at once. Host unreachable is a soft one (RFC 1122 4.2.3.9): the client
/// takes it and keeps trying, and every SYN draws another.
#[tokio::test]
async fn a_host_stack_may_answer_what_is_not_for_it_with_icmp() {
    use synack_io::net::Unreachable;
    for why in [Unreachable::Port, Unreachable::Host] {
        let (da, db) = ChannelDevice::pair(1500).unwrap();
        let mut config = StackConfig::new(B);
        config.not_local = Some(why);
        let a = Stack::new(da, StackConfig::new(A)).unwrap();
        let b = Stack::new(db, config).unwrap();
        let connect = TcpStream::connect(&a, dst());
        let r = tokio::time::timeout(Duration::from_millis(1500), connect).await;
        let sent = b.io_counters().icmp_unreachables_sent;
        let taken = a.io_counters().icmp_errors;
        match why {
            Unreachable::Port => {
                let e = r.expect("a hard error ends the connect").unwrap_err();
                assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
                assert_eq!((sent, taken), (1, 1));
            }
            _ => {
                assert!(r.is_err(), "a soft error: still trying");
                assert!(sent >= 1 && taken == sent, "{sent} {taken}");
            }
        }
        assert_eq!(b.counters().dropped(synack::DropReason::NotLocal), sent);
    }
}
