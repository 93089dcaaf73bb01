//! Clients that connect and never make a request (silent sockets, headers
//! a byte at a time, the HTTP/2 preface alone) cannot stop the gateway:
//! every connection has deadlines, one address has a capped share of the
//! connections, and a signed sender from another address is still served.
//! Real sockets against a real server; the benchmark with larger numbers is
//! scripts/hostile-bench.sh.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const SECRET: &str = "hostile-test-secret";
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const SENDER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn config(server_keys: &str) -> String {
    format!(
        "[server]\ndefault_sinks = [\"log\"]\n{server_keys}\n[sinks.log]\nkind = \"file\"\nlog = true\n\
         [sources.GitHub.doors.acme]\nsecrets = [\"{SECRET}\"]\n"
    )
}

/// Open file descriptors this process may hold (soft limit).
fn fd_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("read /proc/self/limits");
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(u64::MAX)
}

async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// How long until the server closes `stream` (reading whatever it sends),
/// or None when it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

/// Send `first`, then `each` (a byte at a time) every 100 ms until the
/// server closes the connection: how long that took, or None past `limit`.
async fn trickle(
    stream: &mut TcpStream,
    first: &[u8],
    each: &[u8],
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let bytes = first.iter().chain(each.iter().cycle());
    for byte in bytes {
        if started.elapsed() > limit {
            return None;
        }
        if stream.write_all(&[*byte]).await.is_err()
            || closed_within(stream, Duration::from_millis(100))
                .await
                .is_some()
        {
            return Some(started.elapsed());
        }
    }
    None
}

#[derive(Clone, Copy, Debug)]
enum Attack {
    /// Connects and sends nothing.
    Silent,
    /// Sends request headers a byte every 100 ms, never finishing.
    Slowloris,
    /// Sends the HTTP/2 client preface and nothing else.
    PrefaceOnly,
}

/// One attacker socket, reopened whenever the server closes it, until `stop`.
async fn attack(kind: Attack, server: SocketAddr, stop: Arc<AtomicBool>, held: Arc<AtomicUsize>) {
    let headers = b"POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = connect_from(ATTACKER, server).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        held.fetch_add(1, Ordering::Relaxed);
        match kind {
            Attack::Silent => {
                let _ = closed_within(&mut stream, Duration::from_secs(60)).await;
            }
            Attack::PrefaceOnly => {
                if stream.write_all(PREFACE).await.is_ok() {
                    let _ = closed_within(&mut stream, Duration::from_secs(60)).await;
                }
            }
            Attack::Slowloris => {
                for byte in headers.iter().cycle() {
                    if stop.load(Ordering::Relaxed) || stream.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        held.fetch_sub(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One signed GitHub push from the sender's address on a new connection:
/// its status, or None when it failed or took longer than `limit`.
async fn signed_push(server: SocketAddr, body: &[u8], n: usize, limit: Duration) -> Option<u16> {
    let exchange = async {
        let stream = connect_from(SENDER, server).await.ok()?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(connection);
        let mut request = http::Request::builder()
            .method("POST")
            .uri("/gate/GitHub/acme")
            .header("host", server.to_string());
        for (name, value) in common::github_headers(
            "push",
            &format!("hostile-{}-{n}", std::process::id()),
            &common::github_signature(SECRET, body),
        ) {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(Bytes::copy_from_slice(body))).ok()?;
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        response.into_body().collect().await.ok()?;
        Some(status)
    };
    tokio::time::timeout(limit, exchange).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_sender_is_served_while_one_address_holds_idle_connections() {
    let (silent, slowloris, preface) = (300, 150, 100);
    // Each attacker socket is two descriptors here (client and server side).
    let needed = 2 * (silent + slowloris + preface) as u64 + 256;
    assert!(
        fd_limit() >= needed,
        "this test needs {needed} open files; raise `ulimit -n` (now {})",
        fd_limit()
    );
    let gateway = common::gateway(&config(
        "max_connections = 200\nmax_connections_per_address = 60\n\
         first_byte_timeout_ms = 1000\nheader_read_timeout_ms = 1500\nidle_timeout_ms = 1000\n",
    ));
    let server = common::Running::start(gateway).await;
    let stop = Arc::new(AtomicBool::new(false));
    let held = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::new();
    for (kind, count) in [
        (Attack::Silent, silent),
        (Attack::Slowloris, slowloris),
        (Attack::PrefaceOnly, preface),
    ] {
        for _ in 0..count {
            attackers.push(tokio::spawn(attack(
                kind,
                server.addr,
                Arc::clone(&stop),
                Arc::clone(&held),
            )));
        }
    }
    // Let the attack fill what it can.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let body = common::payload("github/push-forced.json");
    let requests = 100;
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    for n in 0..requests {
        let started = Instant::now();
        if signed_push(server.addr, &body, n, Duration::from_secs(2)).await == Some(200) {
            answered += 1;
            slowest = slowest.max(started.elapsed());
        }
    }
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.abort();
    }
    assert!(
        answered * 100 >= requests * 99,
        "{answered}/{requests} answered 200 within 2 s (slowest {slowest:?})"
    );
}

#[tokio::test]
async fn each_kind_of_idle_connection_is_closed_at_its_deadline() {
    let gateway = common::gateway(&config(
        "first_byte_timeout_ms = 300\nheader_read_timeout_ms = 600\nidle_timeout_ms = 400\n",
    ));
    let server = common::Running::start(gateway).await;
    let limit = Duration::from_secs(5);

    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let waited = closed_within(&mut silent, limit)
        .await
        .expect("silent closed");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");

    let mut preface = TcpStream::connect(server.addr).await.expect("connect");
    preface.write_all(PREFACE).await.expect("preface");
    let waited = closed_within(&mut preface, limit)
        .await
        .expect("preface-only closed");
    assert!(waited >= Duration::from_millis(500), "{waited:?}");

    // An HTTP/2 client that keeps pinging but never asks for anything: an
    // empty SETTINGS frame, then a PING every 100 ms.
    let mut pinging = TcpStream::connect(server.addr).await.expect("connect");
    pinging.write_all(PREFACE).await.expect("preface");
    let settings = [0u8, 0, 0, 4, 0, 0, 0, 0, 0];
    let ping = [0u8, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
    let waited = trickle(&mut pinging, &settings, &ping, limit)
        .await
        .expect("pings kept an HTTP/2 connection with no request open");
    assert!(waited >= Duration::from_millis(500), "{waited:?}");

    // Request headers a byte at a time, never finished.
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    let waited = trickle(
        &mut slow,
        b"GET /status HTTP/1.1\r\nHost: x\r\n",
        b"x",
        limit,
    )
    .await
    .expect("headers sent a byte at a time kept the connection open");
    assert!(waited >= Duration::from_millis(500), "{waited:?}");

    // Keep-alive: served once, then closed when idle.
    let mut kept = TcpStream::connect(server.addr).await.expect("connect");
    kept.write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut answer = vec![0u8; 512];
    let read = kept.read(&mut answer).await.expect("answer");
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
    let waited = closed_within(&mut kept, limit)
        .await
        .expect("idle keep-alive closed");
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
}

#[tokio::test]
async fn a_request_in_progress_is_not_cut_by_the_idle_deadline() {
    let gateway = common::gateway(&config(
        "idle_timeout_ms = 200\nheader_read_timeout_ms = 200\nbody_read_timeout_ms = 1200\n",
    ));
    let server = common::Running::start(gateway).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: push\r\nX-GitHub-Delivery: slow\r\nX-Hub-Signature-256: sha256={}\r\n\
         Content-Length: 100\r\n\r\n{{",
        "0".repeat(64)
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn one_address_gets_its_cap_and_others_are_unaffected() {
    let gateway = common::gateway(&config("max_connections_per_address = 3\n"));
    let server = common::Running::start(gateway).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(ATTACKER, server.addr).await.expect("connect"));
    }
    let mut over = connect_from(ATTACKER, server.addr).await.expect("connect");
    let waited = closed_within(&mut over, Duration::from_secs(2))
        .await
        .expect("the fourth connection of one address is closed at once");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    let mut other = connect_from(SENDER, server.addr).await.expect("connect");
    other
        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    other.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held.pop());
    // The slot is given back when a connection ends.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = connect_from(ATTACKER, server.addr).await.expect("connect");
    again
        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    again.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// HTTP/2 (prior knowledge) goes through the same first-byte wait and
/// deadlines: requests are served on one connection, which closes once it
/// has had none for the idle time.
#[tokio::test]
async fn http2_requests_are_served_and_an_idle_http2_connection_closes() {
    let gateway = common::gateway(&config("idle_timeout_ms = 500\n"));
    let server = common::Running::start(gateway).await;
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .expect("h2 handshake");
    let ended = tokio::spawn(connection);
    for _ in 0..2 {
        let request = http::Request::builder()
            .uri(format!("http://{}/status", server.addr))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = sender.send_request(request).await.expect("answer");
        assert_eq!(response.status(), 200);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"ALIVE", "the original's exact body");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let started = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(5), ended)
        .await
        .expect("the idle HTTP/2 connection was closed");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
}
