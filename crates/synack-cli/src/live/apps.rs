//! What `synack serve` runs on each accepted connection.

use super::control::Snapshot;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use synack_io::Stack;
use synack_io::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// The application behind the listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    /// RFC 862: everything received is sent back; the peer's FIN is
    /// answered with ours once all of it was sent.
    Echo,
    /// RFC 863: everything received is thrown away.
    Discard,
    /// RFC 864 (chargen): an endless stream of text lines, until the peer
    /// goes away.
    Source,
    /// HTTP/1.1: a page showing the stack's connections and counters.
    Http,
}

impl App {
    pub const NAMES: [&'static str; 4] = ["echo", "discard", "source", "http"];

    pub fn from_name(s: &str) -> Option<App> {
        match s {
            "echo" => Some(App::Echo),
            "discard" => Some(App::Discard),
            "source" => Some(App::Source),
            "http" => Some(App::Http),
            _ => None,
        }
    }

    /// The service's well-known port.
    pub fn default_port(self) -> u16 {
        match self {
            App::Echo => 7,
            App::Discard => 9,
            App::Source => 19,
            App::Http => 80,
        }
    }
}

/// What every connection's task may need to know about the server.
#[derive(Clone)]
pub struct Ctx {
    pub stack: Stack,
    pub listening: Vec<SocketAddr>,
    pub started: Instant,
}

/// Runs `app` on one connection until it is done.
pub async fn run(app: App, s: TcpStream, ctx: Ctx) {
    let (r, w) = s.into_split();
    let _ = match app {
        App::Echo => echo(r, w).await,
        App::Discard => discard(r).await,
        App::Source => source(r, w).await,
        App::Http => http(r, w, &ctx).await,
    };
}

/// Reads in big chunks: one wakeup moves a whole receive window.
const CHUNK: usize = 64 * 1024;

async fn echo(r: OwnedReadHalf, mut w: OwnedWriteHalf) -> io::Result<()> {
    let mut r = BufReader::with_capacity(CHUNK, r);
    tokio::io::copy_buf(&mut r, &mut w).await?;
    w.shutdown().await
}

async fn discard(mut r: OwnedReadHalf) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    while r.read(&mut buf).await? > 0 {}
    Ok(())
}

/// The chargen pattern: 72-character lines of the 95 printable ASCII
/// characters, each line starting one further along.
pub fn chargen_block() -> Vec<u8> {
    let printable: Vec<u8> = (b' '..=b'~').collect();
    let mut out = Vec::with_capacity(95 * 74);
    for start in 0..printable.len() {
        for i in 0..72 {
            out.push(printable[(start + i) % printable.len()]);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn source(mut r: OwnedReadHalf, mut w: OwnedWriteHalf) -> io::Result<()> {
    let block = chargen_block();
    let send = async {
        loop {
            w.write_all(&block).await?;
        }
    };
    // Input is read and dropped; the peer's FIN does not stop the stream,
    // only its going away (a RST, or a timeout) does.
    let drain = async {
        let mut buf = vec![0u8; CHUNK];
        while r.read(&mut buf).await? > 0 {}
        std::future::pending::<io::Result<()>>().await
    };
    tokio::select! {
        r = send => r,
        r = drain => r,
    }
}

/// How long an idle keep-alive connection is kept.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// The parts of a request head the server looks at.
#[derive(Debug, PartialEq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub version: String,
    pub keep_alive: bool,
    pub content_length: u64,
    pub chunked: bool,
}

/// Parses a request head (request line and headers, CRLF or LF endings).
pub fn parse_request(head: &str) -> Result<Request, &'static str> {
    let mut lines = head.lines();
    let line = lines.next().ok_or("empty request")?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed request line");
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err("unsupported HTTP version");
    }
    let mut keep_alive = version == "HTTP/1.1";
    let mut content_length = 0;
    let mut chunked = false;
    for h in lines {
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').ok_or("malformed header")?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().map_err(|_| "bad Content-Length")?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        }
    }
    Ok(Request {
        method: method.into(),
        target: target.into(),
        version: version.into(),
        keep_alive,
        content_length,
        chunked,
    })
}

/// Reads one request head. `Ok(None)` at a clean end of stream before any
/// byte of a new request.
async fn read_head(r: &mut BufReader<OwnedReadHalf>) -> io::Result<Option<String>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = (&mut *r)
            .take((MAX_HEAD + 1 - head.len()) as u64)
            .read_until(b'\n', &mut head)
            .await?;
        if n == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            // Blank lines before a request are tolerated (RFC 9112 2.2).
            if before == 0 {
                head.clear();
                continue;
            }
            return String::from_utf8(head).map(Some).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "request head is not UTF-8")
            });
        }
    }
}

async fn http(r: OwnedReadHalf, mut w: OwnedWriteHalf, ctx: &Ctx) -> io::Result<()> {
    let mut r = BufReader::new(r);
    loop {
        let head = match tokio::time::timeout(KEEP_ALIVE, read_head(&mut r)).await {
            Ok(Ok(Some(h))) => h,
            // End of stream, idle too long, or a broken connection.
            Ok(Ok(None)) | Err(_) => break,
            Ok(Err(e)) if e.kind() == io::ErrorKind::InvalidData => {
                respond(
                    &mut w,
                    400,
                    "Bad Request",
                    "text/plain",
                    b"bad request\n",
                    false,
                    true,
                )
                .await?;
                break;
            }
            Ok(Err(e)) => return Err(e),
        };
        let req = match parse_request(&head) {
            Ok(req) => req,
            Err(why) => {
                let body = format!("bad request: {why}\n");
                respond(
                    &mut w,
                    400,
                    "Bad Request",
                    "text/plain",
                    body.as_bytes(),
                    false,
                    true,
                )
                .await?;
                break;
            }
        };
        if req.chunked {
            respond(
                &mut w,
                501,
                "Not Implemented",
                "text/plain",
                b"chunked request bodies are not supported\n",
                false,
                true,
            )
            .await?;
            break;
        }
        // A body is read and ignored, so the next request starts in the
        // right place.
        tokio::io::copy(
            &mut (&mut r).take(req.content_length),
            &mut tokio::io::sink(),
        )
        .await?;
        let head_only = req.method == "HEAD";
        let keep = req.keep_alive;
        match (
            req.method.as_str(),
            req.target.split('?').next().unwrap_or(""),
        ) {
            ("GET" | "HEAD", "/") => {
                let page = page(ctx);
                respond(
                    &mut w,
                    200,
                    "OK",
                    "text/html; charset=utf-8",
                    page.as_bytes(),
                    head_only,
                    !keep,
                )
                .await?;
            }
            ("GET" | "HEAD", _) => {
                let body = format!("{} not found; try /\n", req.target);
                respond(
                    &mut w,
                    404,
                    "Not Found",
                    "text/plain; charset=utf-8",
                    body.as_bytes(),
                    head_only,
                    !keep,
                )
                .await?;
            }
            _ => {
                respond(
                    &mut w,
                    405,
                    "Method Not Allowed",
                    "text/plain",
                    b"only GET and HEAD\n",
                    false,
                    !keep,
                )
                .await?;
            }
        }
        if !keep {
            break;
        }
    }
    // Closing: our FIN first, then read what the client still sends until
    // its FIN, so unread data does not turn our close into a reset that
    // could destroy the response in flight (RFC 9112 9.6).
    w.shutdown().await?;
    let mut buf = [0u8; 4096];
    let linger = async {
        while r.read(&mut buf).await? > 0 {}
        Ok::<(), io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), linger).await;
    Ok(())
}

async fn respond(
    w: &mut OwnedWriteHalf,
    code: u16,
    reason: &str,
    ctype: &str,
    body: &[u8],
    head_only: bool,
    close: bool,
) -> io::Result<()> {
    let conn = if close { "close" } else { "keep-alive" };
    let mut msg = format!(
        "HTTP/1.1 {code} {reason}\r\nServer: synack\r\nContent-Type: {ctype}\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: {conn}\r\n",
        body.len()
    );
    if code == 405 {
        msg += "Allow: GET, HEAD\r\n";
    }
    msg += "\r\n";
    let mut bytes = msg.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    w.write_all(&bytes).await
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page: the stack's connections and counters, now.
pub fn page(ctx: &Ctx) -> String {
    let snap = Snapshot::take(&ctx.stack, &ctx.listening);
    let ms = |us: u64| {
        if us < 10_000 {
            format!("{:.3} ms", us as f64 / 1000.0)
        } else {
            format!("{} ms", us / 1000)
        }
    };
    let mut rows = String::new();
    for c in &snap.conns {
        rows += &format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&c.state),
            esc(&c.local),
            esc(&c.peer),
            c.recv_q,
            c.send_q,
            c.srtt_us.map_or("-".into(), ms),
            c.rttvar_us.map_or("-".into(), ms),
            ms(c.rto_us),
            c.cwnd,
            c.ssthresh.map_or("-".into(), |v| v.to_string()),
            c.mss,
            c.retrans
        );
    }
    let mut counters = String::new();
    for (n, v) in &snap.counters {
        counters += &format!("<tr><td>{}</td><td>{v}</td></tr>\n", esc(n));
    }
    let listening: Vec<String> = snap.listening.iter().map(|l| esc(l)).collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>synack</title>\n\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}</style></head>\n\
         <body>\n<h1>synack</h1>\n<p>A user-space TCP/IP stack, answering from {ips} \
         (listening on {listening}; up {up} s). This page was served by it.</p>\n\
         <h2>Connections ({n})</h2>\n<table>\n<tr><th>State</th><th>Local</th><th>Peer</th>\
         <th>Recv-Q</th><th>Send-Q</th><th>rtt</th><th>rttvar</th><th>rto</th><th>cwnd</th>\
         <th>ssthresh</th><th>mss</th><th>retrans</th></tr>\n{rows}</table>\n\
         <p>TIME-WAIT entries: {tw}</p>\n<h2>Counters</h2>\n<table>\n{counters}</table>\n\
         </body></html>\n",
        ips = ctx
            .stack
            .local_ips()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        listening = listening.join(", "),
        up = ctx.started.elapsed().as_secs(),
        n = snap.conns.len(),
        tw = snap.time_wait,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let r = parse_request("GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.target.as_str(), r.keep_alive),
            ("GET", "/", true)
        );
        let r = parse_request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        assert!(!r.keep_alive);
        let r = parse_request("GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!r.keep_alive);
        let r = parse_request("GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(r.keep_alive);
        let r = parse_request("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n").unwrap();
        assert_eq!(r.content_length, 5);
        assert!(parse_request("GET /\r\n\r\n").is_err());
        assert!(parse_request("GET / HTTP/2\r\n\r\n").is_err());
        assert!(parse_request("GET / HTTP/1.1\r\nnocolon\r\n\r\n").is_err());
    }

    #[test]
    fn chargen() {
        let b = chargen_block();
        assert_eq!(b.len(), 95 * 74);
        assert_eq!(&b[..3], b" !\"");
        assert_eq!(&b[72..76], b"\r\n!\"");
    }

    #[test]
    fn escaping() {
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
