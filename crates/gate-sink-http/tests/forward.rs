//! The HTTP sink against local servers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gate_conduit::test_server::{Reply, TestServer};
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::RawContent;
use gate_core::{ActionStatus, Envelope, Notification, Sink, SinkFactory};
use gate_sink_http::{HttpSinkConfig, HttpSinkFactory};
use serde_json::{json, Value};

const RAW: &str = r#"{"ref":"refs/heads/main","repository":{"full_name":"acme/widgets"}}"#;

fn envelope() -> Envelope {
    Envelope {
        delivery: "d-42".into(),
        source: "GitHub".into(),
        door: "acme".into(),
        event: "push".into(),
        received_at: 1_700_000_000,
        notification: Notification {
            service: "GitHub".into(),
            project: "acme".into(),
            group: "ci".into(),
            raw_content: RawContent::from_string(RAW.into()).expect("raw"),
            kind: "push".into(),
            text: "octocat pushed 1 commit to acme/widgets main".into(),
            link: "https://github.com/acme/widgets/compare/a...b".into(),
        },
    }
}

fn sink(toml_text: &str) -> Arc<dyn Sink> {
    let config: HttpSinkConfig = toml::from_str(toml_text).expect("config");
    HttpSinkFactory::build("out", config).expect("sink")
}

async fn server_with(statuses: &'static [u16]) -> TestServer {
    let calls = AtomicUsize::new(0);
    TestServer::start(move |_| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        Reply::status(*statuses.get(n).or(statuses.last()).unwrap_or(&200))
    })
    .await
    .expect("server")
}

#[tokio::test]
async fn posts_the_signed_notification_with_gate_headers() {
    let server = server_with(&[204]).await;
    let sink = sink(&format!(
        "url = \"{}/hooks/ci?x=1\"\nsecret = \"s3cret\"\nheaders = {{ \"X-Custom\" = \"v\" }}",
        server.url()
    ));
    let action = sink.deliver(&envelope()).await;
    assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
    assert_eq!(action.action, "http");
    assert_eq!(action.target, format!("{}/…", server.url()));
    assert_eq!(action.routing_key.as_deref(), Some("acme.ci.github.push"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.uri.path(), "/hooks/ci");
    assert_eq!(request.uri.query(), Some("x=1"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-gate-delivery"), Some("d-42"));
    assert_eq!(request.header("x-gate-source"), Some("GitHub"));
    assert_eq!(request.header("x-gate-event"), Some("push"));
    assert_eq!(request.header("x-custom"), Some("v"));
    let expected_signature = format!(
        "sha256={}",
        sign_hmac_hex(HmacAlgorithm::Sha256, b"s3cret", &request.body)
    );
    assert_eq!(
        request.header("x-gate-signature"),
        Some(expected_signature.as_str())
    );
    let body: Value = serde_json::from_slice(&request.body).expect("json body");
    assert_eq!(
        body,
        json!({
            "service": "GitHub", "project": "acme", "group": "ci",
            "rawContent": serde_json::from_str::<Value>(RAW).expect("raw"),
            "type": "push",
            "text": "octocat pushed 1 commit to acme/widgets main",
            "link": "https://github.com/acme/widgets/compare/a...b"
        })
    );
}

#[tokio::test]
async fn raw_body_is_the_payload_as_received_and_unsigned_without_secret() {
    let server = server_with(&[200]).await;
    let sink = sink(&format!("url = \"{}/\"\nbody = \"raw\"", server.url()));
    assert_eq!(
        sink.deliver(&envelope()).await.status,
        ActionStatus::Delivered
    );
    let request = &server.requests()[0];
    assert_eq!(request.body.as_ref(), RAW.as_bytes());
    assert_eq!(request.header("x-gate-signature"), None);
    assert_eq!(sink.ready().await, Ok(()));
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = server_with(&[500, 503, 200]).await;
    let sink = sink(&format!(
        "url = \"{}/\"\nretry_backoff_ms = 5",
        server.url()
    ));
    let action = sink.deliver(&envelope()).await;
    assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // The same delivery every time, so the receiver can deduplicate.
    assert!(requests
        .iter()
        .all(|r| r.header("x-gate-delivery") == Some("d-42")));
    assert!(requests.iter().all(|r| r.body == requests[0].body));
}

#[tokio::test]
async fn retries_are_bounded_and_reported() {
    let server = server_with(&[429]).await;
    let sink = sink(&format!(
        "url = \"{}/\"\nretries = 2\nretry_backoff_ms = 5",
        server.url()
    ));
    let action = sink.deliver(&envelope()).await;
    assert_eq!(action.status, ActionStatus::Failed);
    assert_eq!(server.requests().len(), 3);
    let error = action.error.expect("error");
    assert_eq!(error.kind, "http_status");
    assert_eq!(error.message, "http 429 Too Many Requests after 3 attempts");
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = server_with(&[404]).await;
    let sink = sink(&format!(
        "url = \"{}/\"\nretry_backoff_ms = 5",
        server.url()
    ));
    let action = sink.deliver(&envelope()).await;
    assert_eq!(action.status, ActionStatus::Failed);
    assert_eq!(server.requests().len(), 1);
    assert_eq!(action.error.expect("error").message, "http 404 Not Found");
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let server = TestServer::start(|_| Reply::status(200).after(Duration::from_millis(600)))
        .await
        .expect("server");
    let sink = sink(&format!(
        "url = \"{}/\"\ntimeout_ms = 100\nretries = 1\nretry_backoff_ms = 5",
        server.url()
    ));
    let started = std::time::Instant::now();
    let action = sink.deliver(&envelope()).await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(action.status, ActionStatus::Failed);
    let error = action.error.expect("error");
    assert_eq!(error.kind, "timeout");
    assert_eq!(error.message, "no answer within 100 ms after 2 attempts");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_a_connect_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let sink = sink(&format!(
        "url = \"http://127.0.0.1:{port}/\"\nretries = 1\nretry_backoff_ms = 5"
    ));
    let action = sink.deliver(&envelope()).await;
    assert_eq!(action.status, ActionStatus::Failed);
    let error = action.error.expect("error");
    assert_eq!(error.kind, "connect");
    assert!(
        error.message.ends_with("after 2 attempts"),
        "{}",
        error.message
    );
}

#[test]
fn config_is_described_without_secrets_and_checked() {
    let config: HttpSinkConfig = toml::from_str(
        "url = \"https://hooks.example.com/services/T0/B0/XXXX\"\nsecret = \"s3cret\"\nheaders = { Authorization = \"Bearer abc\" }",
    )
    .expect("config");
    let described = serde_json::to_value(&config).expect("describe").to_string();
    for hidden in ["s3cret", "Bearer", "XXXX"] {
        assert!(!described.contains(hidden), "{described}");
    }
    assert!(
        described.contains("https://hooks.example.com/…"),
        "{described}"
    );

    let reserved: HttpSinkConfig =
        toml::from_str("url = \"http://x.example\"\nheaders = { X-Gate-Signature = \"forged\" }")
            .expect("config");
    let Err(err) = HttpSinkFactory::build("out", reserved) else {
        panic!("a reserved header must be refused");
    };
    assert!(err.to_string().contains("set by the sink itself"), "{err}");
    assert!(toml::from_str::<HttpSinkConfig>("url = \"ftp://x\"").is_err());
    assert!(toml::from_str::<HttpSinkConfig>("url = \"http://x\"\nbody = \"xml\"").is_err());
}
