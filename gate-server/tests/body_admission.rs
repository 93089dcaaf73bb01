//! What strangers send is bounded before it is read: a request that cannot
//! be authentic is refused on its head (its body never read), a door's
//! `max_body_bytes` is enforced, and past the global budget of body bytes in
//! flight requests get 503 with Retry-After before their body is read.
//! Real sockets: a refusal that waited for the body would not come at all,
//! since these clients never send it.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "admission-secret";
const TOKEN: &str = "dockerhub-token-0123456789";

fn config(server_keys: &str) -> String {
    format!(
        "[server]\ndefault_sinks = [\"log\"]\n{server_keys}\n[sinks.log]\nkind = \"file\"\nlog = true\n\
         [sources.GitHub.doors.acme]\nsecrets = [\"{SECRET}\"]\n\
         [sources.GitHub.doors.small]\nsecrets = [\"{SECRET}\"]\nmax_body_bytes = 100\n\
         [sources.DockerHub.doors.hub]\ntoken = \"{TOKEN}\"\n\
         [sources.Notification.doors.native]\ntokens = [\"{TOKEN}\"]\n"
    )
}

/// Send a request head announcing `length` bytes, and none of them: the
/// answer (status line and body), or None when none comes within 3 s.
async fn head_only(addr: SocketAddr, path: &str, headers: &str, length: u64) -> Option<String> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n{headers}\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                received.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&received);
                // One small JSON answer: complete once its body closes.
                if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
                    break;
                }
            }
            Err(_) => return None,
        }
    }
    Some(String::from_utf8_lossy(&received).into_owned())
}

fn github(signature: Option<&str>) -> String {
    let mut headers = String::from(
        "Content-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: d-1\r\n",
    );
    if let Some(signature) = signature {
        headers.push_str(&format!("X-Hub-Signature-256: {signature}\r\n"));
    }
    headers
}

#[tokio::test]
async fn requests_that_cannot_be_authentic_are_refused_before_their_body() {
    let server = common::Running::start(common::gateway(&config(""))).await;
    let big = 20 * 1024 * 1024;
    let cases: [(&str, String, &str, &str); 7] = [
        (
            "/gate/GitHub/acme",
            github(None),
            "401",
            "missing_signature",
        ),
        (
            "/gate/GitHub/acme",
            github(Some("sha256=not-hex")),
            "403",
            "bad_signature",
        ),
        ("/gate/GitHub/nobody", github(None), "404", "unknown_door"),
        (
            "/gate/DockerHub/hub?token=wrong-token-0123456789",
            "Content-Type: application/json\r\n".into(),
            "403",
            "forbidden",
        ),
        (
            "/gate/DockerHub/hub",
            "Content-Type: application/json\r\nX-Gate-Token: wrong-token-0123456789\r\n".into(),
            "403",
            "forbidden",
        ),
        (
            "/gate/DockerHub/hub",
            "Content-Type: application/json\r\n".into(),
            "401",
            "unauthorized",
        ),
        (
            "/gate/Notification/native",
            "Content-Type: application/json\r\nAuthorization: Bearer wrong-token-0123456789\r\n"
                .into(),
            "403",
            "forbidden",
        ),
    ];
    for (path, headers, status, kind) in cases {
        let answer = head_only(server.addr, path, &headers, big)
            .await
            .unwrap_or_else(|| panic!("{path}: no answer without the body"));
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{path}: {answer}"
        );
        assert!(answer.contains(kind), "{path}: {answer}");
    }
    // A request that could be authentic does wait for its body.
    let signature = format!("sha256={}", "0".repeat(64));
    assert!(
        head_only(
            server.addr,
            "/gate/GitHub/acme",
            &github(Some(&signature)),
            10
        )
        .await
        .is_none(),
        "a plausible request was answered without its body"
    );
}

#[tokio::test]
async fn a_door_s_own_max_body_bytes_applies() {
    let server = common::Running::start(common::gateway(&config(""))).await;
    let signature = format!("sha256={}", "0".repeat(64));
    let answer = head_only(
        server.addr,
        "/gate/GitHub/small",
        &github(Some(&signature)),
        101,
    )
    .await
    .expect("refused at once");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("limit of 100 bytes"), "{answer}");
    // The server's limit still applies to the other doors.
    let body = common::payload("github/push-forced.json");
    assert!(body.len() > 100);
    let headers = common::github_headers("push", "d-big", &common::github_signature(SECRET, &body));
    assert_eq!(
        server
            .post("/gate/GitHub/acme", &headers, body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn past_the_budget_of_bytes_in_flight_requests_get_503_before_reading() {
    let server = common::Running::start(common::gateway(&config(
        "max_body_bytes = 60000\nmax_body_bytes_in_flight = 60000\n",
    )))
    .await;
    let body = common::payload("github/push-forced.json");
    let signature = common::github_signature(SECRET, &body);
    // A plausible request holds most of the budget while its body trickles.
    let mut holder = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{}\r\n",
        60_000 - body.len() + 1,
        github(Some(&signature))
    );
    holder.write_all(head.as_bytes()).await.expect("head");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let answer = head_only(
        server.addr,
        "/gate/GitHub/acme",
        &github(Some(&signature)),
        body.len() as u64,
    )
    .await
    .expect("refused at once, body unread");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 2"),
        "{answer}"
    );
    assert!(answer.contains("\"busy\""), "{answer}");

    // Once the holder is gone its bytes are given back.
    drop(holder);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let headers = common::github_headers("push", "d-after", &signature);
    assert_eq!(
        server
            .post("/gate/GitHub/acme", &headers, body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_body_without_declared_length_is_counted_as_it_arrives() {
    let server = common::Running::start(common::gateway(&config(
        "max_body_bytes = 60000\nmax_body_bytes_in_flight = 60000\n",
    )))
    .await;
    let signature = format!("sha256={}", "0".repeat(64));
    let mut holder = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nContent-Length: 55000\r\n{}\r\n",
        github(Some(&signature))
    );
    holder.write_all(head.as_bytes()).await.expect("head");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n{}\r\n",
        github(Some(&signature))
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    // 8 000 bytes in chunks: past the 5 000 left in the budget, refused as
    // soon as they do not fit, never held beyond it.
    let chunk = format!("3e8\r\n{}\r\n", "a".repeat(1000));
    for _ in 0..8 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let answer = read_answer(&mut stream).await.expect("answered");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"busy\""), "{answer}");
    drop(holder);
}

#[test]
fn a_door_limit_above_the_budget_is_a_configuration_error() {
    let registry = gate_server::registry().expect("plugins");
    let text = config("max_body_bytes_in_flight = 50\n");
    let parsed = gate_server::Config::parse("t.toml", &text, []).expect("toml");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();
    let errors = gate_server::Gateway::build(parsed, registry)
        .expect_err("refused")
        .to_string();
    assert!(
        errors.contains("server.max_body_bytes_in_flight: 50 is below server.max_body_bytes"),
        "{errors}"
    );
    assert!(
        errors.contains("sources.GitHub.doors.small: max_body_bytes (100) is above server.max_body_bytes_in_flight (50)"),
        "{errors}"
    );
}

/// A sender that writes its whole body before reading (most HTTP clients
/// without `Expect: 100-continue`) still reads the refusal: the server
/// closes its side first and drains what is still coming, rather than
/// resetting the connection under the answer.
#[tokio::test]
async fn a_refusal_before_the_body_reaches_a_client_that_sends_it_anyway() {
    let server = common::Running::start(common::gateway(&config(""))).await;
    let body = vec![b'x'; 8 * 1024 * 1024];
    for _ in 0..5 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        let head = format!(
            "POST /gate/GitHub/acme HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            github(None)
        );
        stream.write_all(head.as_bytes()).await.expect("head");
        stream.write_all(&body).await.expect("the body is taken in");
        let answer = read_answer(&mut stream).await.expect("answered");
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    }
}
