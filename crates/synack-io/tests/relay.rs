//! `synack_io::relay`: a client on one synack stack, the relay between a
//! second stack and either a third stack or a kernel socket on loopback,
//! and a server behind it.

mod common;

use common::*;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use synack_io::Stack;
use synack_io::net::{TcpListener, TcpStream};
use synack_io::relay::{
    AbortByDrop, DirectionEnd, RelayError, RelayOptions, RelayStats, RelayStream, Side, relay,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;

const PROXY: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 1, 2));

type Relay = JoinHandle<Result<RelayStats, RelayError>>;

/// A client connection through a running relay to a server connection.
struct Path<S> {
    client: TcpStream,
    server: S,
    relay: Relay,
    _stacks: Vec<Stack>,
}

/// client stack --link 1--> proxy stack, relayed from a second proxy
/// stack --link 2--> server stack.
async fn through_synack(options: RelayOptions) -> Path<TcpStream> {
    let (client, proxy_in) = pair_of(A, PROXY);
    let (proxy_out, server) = pair_of(B, SERVER);
    let front = TcpListener::bind(&proxy_in, addr(PROXY, 80)).await.unwrap();
    let back = TcpListener::bind(&server, addr(SERVER, 80)).await.unwrap();
    let c = within(5, TcpStream::connect(&client, addr(PROXY, 80)))
        .await
        .unwrap();
    let (inbound, _) = within(5, front.accept()).await.unwrap();
    let outbound = within(5, TcpStream::connect(&proxy_out, addr(SERVER, 80)))
        .await
        .unwrap();
    let (s, _) = within(5, back.accept()).await.unwrap();
    Path {
        client: c,
        server: s,
        relay: tokio::spawn(relay(inbound, outbound, options)),
        _stacks: vec![client, proxy_in, proxy_out, server],
    }
}

/// client stack --link--> proxy stack, relayed to a kernel socket on
/// 127.0.0.1 whose accepted end is the server.
async fn through_kernel(options: RelayOptions) -> Path<tokio::net::TcpStream> {
    let (client, proxy_in) = pair_of(A, PROXY);
    let kernel = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = TcpListener::bind(&proxy_in, addr(PROXY, 80)).await.unwrap();
    let c = within(5, TcpStream::connect(&client, addr(PROXY, 80)))
        .await
        .unwrap();
    let (inbound, _) = within(5, front.accept()).await.unwrap();
    let outbound = tokio::net::TcpStream::connect(kernel.local_addr().unwrap())
        .await
        .unwrap();
    let (s, _) = within(5, kernel.accept()).await.unwrap();
    Path {
        client: c,
        server: s,
        relay: tokio::spawn(relay(inbound, outbound, options)),
        _stacks: vec![client, proxy_in],
    }
}

/// Writes `msg` and half-closes while reading everything the other end
/// sends.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, msg: &[u8]) -> Vec<u8> {
    let (mut r, mut w) = tokio::io::split(s);
    let send = async {
        w.write_all(msg).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let mut got = Vec::new();
    let ((), n) = tokio::join!(send, r.read_to_end(&mut got));
    n.unwrap();
    got
}

/// Reads until the stream fails, and returns the error's kind; an end of
/// stream fails the test.
async fn read_until_error<S: AsyncRead + Unpin>(s: &mut S) -> ErrorKind {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match s.read(&mut buf).await {
            Ok(0) => panic!("end of stream where a reset was due"),
            Ok(_) => {}
            Err(e) => return e.kind(),
        }
    }
}

async fn stats(relay: Relay) -> RelayStats {
    within(10, relay).await.unwrap().unwrap()
}

async fn one_mebibyte_each_way<S: AsyncRead + AsyncWrite + Unpin>(mut p: Path<S>) {
    let up = pattern(1 << 20);
    let down: Vec<u8> = pattern((1 << 20) + 7).into_iter().skip(7).collect();
    let (from_server, from_client) = within(20, async {
        tokio::join!(exchange(&mut p.client, &up), exchange(&mut p.server, &down))
    })
    .await;
    assert!(from_client == up, "server received other bytes");
    assert!(from_server == down, "client received other bytes");
    let st = stats(p.relay).await;
    assert!(st.is_clean(), "{st}");
    assert_eq!((st.a_to_b.bytes, st.b_to_a.bytes), (1 << 20, 1 << 20));
}

#[tokio::test]
async fn one_mebibyte_each_way_to_synack() {
    one_mebibyte_each_way(through_synack(RelayOptions::new()).await).await;
}

#[tokio::test]
async fn one_mebibyte_each_way_to_kernel() {
    one_mebibyte_each_way(through_kernel(RelayOptions::new()).await).await;
}

/// A buffer of 7 bytes: many small writes, and the FIN still comes after
/// the last of them.
#[tokio::test]
async fn tiny_buffer_keeps_order_and_fin_last() {
    let mut p = through_synack(RelayOptions::new().buffer_size(7)).await;
    let up = pattern(50_000);
    let (from_server, from_client) = within(20, async {
        tokio::join!(exchange(&mut p.client, &up), exchange(&mut p.server, b"ok"))
    })
    .await;
    assert!(from_client == up);
    assert_eq!(from_server, b"ok");
    assert!(stats(p.relay).await.is_clean());
}

/// `first` writes `said` and half-closes; `second` reads to the end, then
/// answers with `answer` and half-closes, and `first` still receives it.
async fn half_close_then_answer(
    first: &mut (impl AsyncRead + AsyncWrite + Unpin),
    second: &mut (impl AsyncRead + AsyncWrite + Unpin),
    said: &[u8],
    answer: &[u8],
) {
    within(5, async {
        first.write_all(said).await.unwrap();
        first.shutdown().await.unwrap();
        let mut got = Vec::new();
        second.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, said);
        second.write_all(answer).await.unwrap();
        second.shutdown().await.unwrap();
        let mut got = Vec::new();
        first.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, answer);
    })
    .await;
}

/// The client sends a request and half-closes; the server reads to the
/// end, then answers, and the client still receives the answer.
async fn client_half_closes_first<S: AsyncRead + AsyncWrite + Unpin>(mut p: Path<S>) {
    half_close_then_answer(&mut p.client, &mut p.server, b"request", b"the answer").await;
    let st = stats(p.relay).await;
    assert!(st.is_clean(), "{st}");
    assert_eq!((st.a_to_b.bytes, st.b_to_a.bytes), (7, 10));
}

#[tokio::test]
async fn client_half_closes_first_to_synack() {
    client_half_closes_first(through_synack(RelayOptions::new()).await).await;
}

#[tokio::test]
async fn client_half_closes_first_to_kernel() {
    client_half_closes_first(through_kernel(RelayOptions::new()).await).await;
}

/// The server greets and half-closes; the client reads to the end, then
/// sends, and the server still receives it.
async fn server_half_closes_first<S: AsyncRead + AsyncWrite + Unpin>(mut p: Path<S>) {
    half_close_then_answer(&mut p.server, &mut p.client, b"hello", b"late words").await;
    let st = stats(p.relay).await;
    assert!(st.is_clean(), "{st}");
    assert_eq!((st.a_to_b.bytes, st.b_to_a.bytes), (10, 5));
}

#[tokio::test]
async fn server_half_closes_first_to_synack() {
    server_half_closes_first(through_synack(RelayOptions::new()).await).await;
}

#[tokio::test]
async fn server_half_closes_first_to_kernel() {
    server_half_closes_first(through_kernel(RelayOptions::new()).await).await;
}

/// Both ends write and half-close at the same time.
#[tokio::test]
async fn both_close_at_once() {
    let mut p = through_synack(RelayOptions::new()).await;
    p.client.write_all(b"from client").await.unwrap();
    p.server.write_all(b"from server").await.unwrap();
    p.client.shutdown().await.unwrap();
    p.server.shutdown().await.unwrap();
    let (mut c, mut s) = (Vec::new(), Vec::new());
    let (rc, rs) = within(5, async {
        tokio::join!(p.client.read_to_end(&mut c), p.server.read_to_end(&mut s))
    })
    .await;
    rc.unwrap();
    rs.unwrap();
    assert_eq!((&c[..], &s[..]), (&b"from server"[..], &b"from client"[..]));
    assert!(stats(p.relay).await.is_clean());
}

/// The client writes a mebibyte and reads nothing until the server has
/// all of it, while the server's mebibyte to the client backs up behind
/// the client's receive window: one direction moves while the other
/// waits.
#[tokio::test]
async fn one_direction_flows_while_the_other_is_stuck() {
    let p = through_synack(RelayOptions::new()).await;
    let mut client = p.client;
    let up = pattern(1 << 20);
    let down = pattern(1 << 20);
    let (mut sr, mut sw) = p.server.into_split();
    let sent = down.clone();
    let server_writer = tokio::spawn(async move {
        sw.write_all(&sent).await.unwrap();
        sw.shutdown().await.unwrap();
    });
    within(20, async {
        client.write_all(&up).await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = Vec::new();
        sr.read_to_end(&mut got).await.unwrap();
        assert!(got == up);
    })
    .await;
    let mut got = Vec::new();
    within(20, client.read_to_end(&mut got)).await.unwrap();
    assert!(got == down);
    within(5, server_writer).await.unwrap();
    let st = stats(p.relay).await;
    assert!(st.is_clean(), "{st}");
}

/// The server resets: the client's next read fails with
/// `ConnectionReset`, not an end of stream.
async fn server_reset_reaches_the_client_as_a_reset<S: RelayStream>(mut p: Path<S>) -> RelayStats {
    p.server.write_all(b"some").await.unwrap();
    let mut buf = [0u8; 4];
    within(5, p.client.read_exact(&mut buf)).await.unwrap();
    RelayStream::abort(p.server);
    assert_eq!(
        within(5, read_until_error(&mut p.client)).await,
        ErrorKind::ConnectionReset
    );
    let st = stats(p.relay).await;
    assert_eq!(st.b_to_a.end, DirectionEnd::Reset(Side::B));
    st
}

#[tokio::test]
async fn server_reset_reaches_the_client_as_a_reset_synack() {
    let p = through_synack(RelayOptions::new()).await;
    let st = server_reset_reaches_the_client_as_a_reset(p).await;
    assert_eq!(st.a_to_b.end, DirectionEnd::Reset(Side::B));
    assert_eq!(st.b_to_a.bytes, 4);
}

#[tokio::test]
async fn server_reset_reaches_the_client_as_a_reset_kernel() {
    server_reset_reaches_the_client_as_a_reset(through_kernel(RelayOptions::new()).await).await;
}

/// The client resets: the server's next read fails with `ConnectionReset`.
async fn client_reset_reaches_the_server_as_a_reset<S: AsyncRead + AsyncWrite + Unpin>(
    mut p: Path<S>,
) -> RelayStats {
    p.client.write_all(b"some").await.unwrap();
    let mut buf = [0u8; 4];
    within(5, p.server.read_exact(&mut buf)).await.unwrap();
    p.client.abort();
    assert_eq!(
        within(5, read_until_error(&mut p.server)).await,
        ErrorKind::ConnectionReset
    );
    let st = stats(p.relay).await;
    assert_eq!(st.a_to_b.end, DirectionEnd::Reset(Side::A));
    st
}

#[tokio::test]
async fn client_reset_reaches_the_server_as_a_reset_synack() {
    let p = through_synack(RelayOptions::new()).await;
    let st = client_reset_reaches_the_server_as_a_reset(p).await;
    assert_eq!(st.b_to_a.end, DirectionEnd::Reset(Side::A));
}

#[tokio::test]
async fn client_reset_reaches_the_server_as_a_reset_kernel() {
    client_reset_reaches_the_server_as_a_reset(through_kernel(RelayOptions::new()).await).await;
}

/// The server writes a lot and resets at once: some data may be lost,
/// but the client sees a reset, never an end of stream.
#[tokio::test]
async fn reset_behind_data_in_flight_is_still_a_reset() {
    let mut p = through_synack(RelayOptions::new()).await;
    let data = pattern(256 * 1024);
    let mut server = p.server;
    let writer = tokio::spawn(async move {
        server.write_all(&data).await.unwrap();
        server.abort();
    });
    assert_eq!(
        within(10, read_until_error(&mut p.client)).await,
        ErrorKind::ConnectionReset
    );
    writer.await.unwrap();
    let st = stats(p.relay).await;
    assert_eq!(st.b_to_a.end, DirectionEnd::Reset(Side::B));
}

/// The client has half-closed (its FIN went through) when the server
/// resets: the client still sees the reset.
#[tokio::test]
async fn reset_after_a_half_close_is_a_reset() {
    let mut p = through_synack(RelayOptions::new()).await;
    p.client.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(5, p.server.read_to_end(&mut got)).await.unwrap();
    p.server.abort();
    assert_eq!(
        within(5, read_until_error(&mut p.client)).await,
        ErrorKind::ConnectionReset
    );
    let st = stats(p.relay).await;
    assert_eq!(st.a_to_b.end, DirectionEnd::Finished);
    assert_eq!(st.b_to_a.end, DirectionEnd::Reset(Side::B));
}

/// Nothing moves for the idle timeout: both ends are reset.
///
/// The timeout tests run on paused time: tokio jumps to the next timer
/// once every task waits, so the relay's timeouts fire without waiting
/// and in a fixed order. The stacks' engines count real time, though, so
/// when tokio's clock has jumped past an engine timer (a retransmission
/// timer, up to a second), the stack's loop polls until the real clock
/// catches up: each of these tests spends about a second of CPU.
#[tokio::test(start_paused = true)]
async fn idle_timeout_resets_both_ends() {
    let options = RelayOptions::new()
        .idle(Some(Duration::from_secs(30)))
        .half_close(None);
    let mut p = through_synack(options).await;
    p.client.write_all(b"x").await.unwrap();
    let mut buf = [0u8; 1];
    within(5, p.server.read_exact(&mut buf)).await.unwrap();
    let (c, s) = within(60, async {
        tokio::join!(
            read_until_error(&mut p.client),
            read_until_error(&mut p.server)
        )
    })
    .await;
    assert_eq!(
        (c, s),
        (ErrorKind::ConnectionReset, ErrorKind::ConnectionReset)
    );
    let st = stats(p.relay).await;
    assert_eq!(st.a_to_b.end, DirectionEnd::IdleTimeout);
    assert_eq!(st.b_to_a.end, DirectionEnd::IdleTimeout);
    assert_eq!(st.a_to_b.bytes, 1);
}

/// Traffic more often than the idle timeout keeps the relay going.
#[tokio::test(start_paused = true)]
async fn traffic_defers_the_idle_timeout() {
    let options = RelayOptions::new()
        .idle(Some(Duration::from_secs(30)))
        .half_close(None);
    let mut p = through_synack(options).await;
    within(600, async {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(20)).await;
            p.client.write_all(b"tick").await.unwrap();
            let mut buf = [0u8; 4];
            p.server.read_exact(&mut buf).await.unwrap();
        }
    })
    .await;
    assert!(!p.relay.is_finished());
    p.client.shutdown().await.unwrap();
    p.server.shutdown().await.unwrap();
    let st = stats(p.relay).await;
    assert!(st.is_clean(), "{st}");
    assert_eq!(st.a_to_b.bytes, 20);
}

/// The client has half-closed and the server says nothing more: after the
/// half-close timeout both ends are reset.
#[tokio::test(start_paused = true)]
async fn half_close_timeout_resets_both_ends() {
    let options = RelayOptions::new()
        .idle(None)
        .half_close(Some(Duration::from_secs(10)));
    let mut p = through_synack(options).await;
    p.client.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(5, p.server.read_to_end(&mut got)).await.unwrap();
    assert_eq!(
        within(60, read_until_error(&mut p.client)).await,
        ErrorKind::ConnectionReset
    );
    let e = within(5, p.server.write_all(b"too late"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionReset);
    let st = stats(p.relay).await;
    assert_eq!(st.a_to_b.end, DirectionEnd::Finished);
    assert_eq!(st.b_to_a.end, DirectionEnd::HalfCloseTimeout);
}

/// After the client's FIN, a server that keeps sending (more often than
/// the half-close timeout) is not cut off.
#[tokio::test(start_paused = true)]
async fn half_close_timeout_counts_from_the_last_byte() {
    let options = RelayOptions::new()
        .idle(None)
        .half_close(Some(Duration::from_secs(10)));
    let mut p = through_synack(options).await;
    p.client.shutdown().await.unwrap();
    let mut got = Vec::new();
    within(5, p.server.read_to_end(&mut got)).await.unwrap();
    within(600, async {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(7)).await;
            p.server.write_all(b"chunk").await.unwrap();
        }
        p.server.shutdown().await.unwrap();
        let mut got = Vec::new();
        p.client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 20);
    })
    .await;
    assert!(stats(p.relay).await.is_clean());
}

/// Any stream, through `AbortByDrop`: here tokio's in-memory duplex pipes.
/// Its abort is a drop, which the peer sees as an end of stream.
#[tokio::test]
async fn abort_by_drop_relays_any_stream() {
    let (mut client, a) = tokio::io::duplex(1024);
    let (b, mut server) = tokio::io::duplex(1024);
    let r = tokio::spawn(relay(
        AbortByDrop(a),
        AbortByDrop(b),
        RelayOptions::new().buffer_size(100),
    ));
    let msg = pattern(100_000);
    let (from_server, from_client) = within(10, async {
        tokio::join!(exchange(&mut client, &msg), exchange(&mut server, b"bye"))
    })
    .await;
    assert!(from_client == msg);
    assert_eq!(from_server, b"bye");
    let st = stats(r).await;
    assert!(st.is_clean());
    assert_eq!((st.a_to_b.bytes, st.b_to_a.bytes), (100_000, 3));
}

/// A non-reset error (here a write that accepts nothing) aborts both sides
/// and comes back as a `RelayError` with the stats.
#[tokio::test]
async fn other_errors_come_back_with_the_stats() {
    struct Broken;
    impl AsyncRead for Broken {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Pending
        }
    }
    impl AsyncWrite for Broken {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Err(ErrorKind::Other.into()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }
    let (client, proxy) = pair_of(A, PROXY);
    let front = TcpListener::bind(&proxy, addr(PROXY, 80)).await.unwrap();
    let mut c = within(5, TcpStream::connect(&client, addr(PROXY, 80)))
        .await
        .unwrap();
    let (inbound, _) = within(5, front.accept()).await.unwrap();
    let r = tokio::spawn(relay(inbound, AbortByDrop(Broken), RelayOptions::new()));
    c.write_all(b"data").await.unwrap();
    let e = within(5, r).await.unwrap().unwrap_err();
    assert_eq!((e.side(), e.error().kind()), (Side::B, ErrorKind::Other));
    assert_eq!(e.stats().a_to_b.end, DirectionEnd::Error(Side::B));
    assert_eq!(e.stats().a_to_b.bytes, 0);
    assert_eq!(
        within(5, read_until_error(&mut c)).await,
        ErrorKind::ConnectionReset
    );
    let e: std::io::Error = e.into();
    assert_eq!(e.kind(), ErrorKind::Other);
}

/// Degenerate timeouts are no panic: a zero idle timeout ends the relay at
/// once, one too far to represent never fires.
#[tokio::test]
async fn zero_and_huge_timeouts() {
    let (_client, a) = tokio::io::duplex(64);
    let (b, _server) = tokio::io::duplex(64);
    let options = RelayOptions::new().idle(Some(Duration::ZERO));
    let st = stats(tokio::spawn(relay(AbortByDrop(a), AbortByDrop(b), options))).await;
    assert_eq!(st.a_to_b.end, DirectionEnd::IdleTimeout);
    assert_eq!(st.b_to_a.end, DirectionEnd::IdleTimeout);

    let (mut client, a) = tokio::io::duplex(64);
    let (b, mut server) = tokio::io::duplex(64);
    let options = RelayOptions::new()
        .idle(Some(Duration::MAX))
        .half_close(Some(Duration::MAX));
    let r = tokio::spawn(relay(AbortByDrop(a), AbortByDrop(b), options));
    let (from_server, from_client) = within(10, async {
        tokio::join!(exchange(&mut client, b"hi"), exchange(&mut server, b"yo"))
    })
    .await;
    assert_eq!(
        (&from_server[..], &from_client[..]),
        (&b"yo"[..], &b"hi"[..])
    );
    assert!(stats(r).await.is_clean());
}
