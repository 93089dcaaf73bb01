//! Slow or greedy clients cannot hold the gateway: header and body read
//! timeouts, and a cap on connections served at once.

mod common;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(server_keys: &str) -> String {
    format!(
        "[server]\ndefault_sinks = [\"log\"]\n{server_keys}\n[sinks.log]\nkind = \"file\"\nlog = true\n[sources.GitHub.doors.acme]\nsecrets = [\"s\"]\n"
    )
}

/// Everything the server sends until it closes, or None if it keeps the
/// connection open past `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into_owned()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let server =
        common::Running::start(common::gateway(&config("header_read_timeout_ms = 300"))).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.is_some(), "the connection stayed open");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let server =
        common::Running::start(common::gateway(&config("body_read_timeout_ms = 300"))).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(format!("POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: d1\r\nX-Hub-Signature-256: sha256={}\r\nContent-Length: 100\r\n\r\n{{\"partial\":", "0".repeat(64)).as_bytes())
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
}

#[tokio::test]
async fn connections_past_the_limit_wait_their_turn() {
    let server = common::Running::start(common::gateway(&config("max_connections = 1"))).await;
    let first = TcpStream::connect(server.addr).await.expect("first");
    let mut second = TcpStream::connect(server.addr)
        .await
        .expect("second (listen backlog)");
    second
        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    assert!(
        read_until_closed(&mut second, Duration::from_millis(700))
            .await
            .is_none(),
        "the second connection was served while the first held the only slot"
    );
    drop(first);
    let answer = read_until_closed(&mut second, Duration::from_secs(5))
        .await
        .expect("served once the slot is free");
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("ALIVE"),
        "{answer}"
    );
}
