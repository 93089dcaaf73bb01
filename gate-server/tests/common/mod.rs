//! Helpers shared by the gate-server integration tests.
#![allow(dead_code)] // each test file uses a different subset

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gate_server::{Config, Gateway};
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full};

pub mod amqp;
/// The private RabbitMQ node lives in gate-testkit (the soak run uses it too).
#[allow(unused_imports)] // only the fault tests use it
pub use gate_testkit::broker;
pub mod process;
pub mod proxy;
pub mod redis_keys;

pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

pub fn payload(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../payloads")
        .join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
}

/// `sha256=<hex>` as GitHub sends it.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

pub fn sha1_signature(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret.as_bytes());
    format!(
        "sha1={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

/// A gateway from TOML text (must run inside the Tokio runtime).
pub fn gateway(toml_text: &str) -> Arc<Gateway> {
    let registry = gate_server::registry().expect("plugins linked");
    let config = Config::parse("test.toml", toml_text, []).expect("valid config");
    Arc::new(Gateway::build(config, registry).unwrap_or_else(|e| panic!("gateway: {e}")))
}

/// A gateway with its spool and delivery-id memory opened as `serve` does
/// (the TOML must set `[spool] path`).
pub fn gateway_with_state(toml_text: &str) -> Arc<Gateway> {
    let registry = gate_server::registry().expect("plugins linked");
    let config = Config::parse("test.toml", toml_text, []).expect("valid config");
    let state = gate_server::state::GateState::open(&config).expect("spool opens");
    let gateway = Gateway::build(config, registry).unwrap_or_else(|e| panic!("gateway: {e}"));
    Arc::new(gateway.with_state(Arc::new(state)))
}

/// A unique name per test run, so that tests sharing the broker never see
/// each other's messages.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}.{}.{nanos}", std::process::id())
}

/// A request to call `gate_server::route` with directly.
pub fn request(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Full::new(body.into())).expect("request")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The error message of the report's first action, or "" without one.
    pub fn first_action_error(&self) -> String {
        self.json()["actions"][0]["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_default()
    }
}

pub async fn call(gateway: &Gateway, request: http::Request<Full<Bytes>>) -> Answer {
    // From this machine, as a test is: doors needing no credential serve
    // loopback peers only (an unknown peer is refused).
    let loopback = Some(std::net::IpAddr::from([127, 0, 0, 1]));
    let response = gate_server::route(gateway, request, loopback).await;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("full body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// GitHub's headers for a JSON delivery signed with `secret`.
pub fn github_headers(event: &str, delivery: &str, signature: &str) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-github-event".into(), event.into()),
        ("x-github-delivery".into(), delivery.into()),
        ("x-hub-signature-256".into(), signature.into()),
    ]
}

/// A running gate-server on an ephemeral port; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub async fn start(gateway: Arc<Gateway>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // As `serve` runs it: a gate (redelivery included) on the listener,
        // shut down once the listener is drained.
        let task = tokio::spawn(async move {
            let gate = gate_server::Gate::from_gateway(gateway);
            gate_server::server::serve(&gate, listener, async {
                let _ = stopped.await;
            })
            .await;
            gate.shutdown().await;
        });
        Self {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Graceful stop: waits for in-flight requests.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(35), task)
                .await
                .expect("drained")
                .expect("server task");
        }
    }

    /// POST over a real TCP connection.
    pub async fn post(&self, path: &str, headers: &[(String, String)], body: Vec<u8>) -> Answer {
        post_to(self.addr, path, headers, body).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(connection);
        let request = http::Request::builder()
            .uri(path)
            .header("host", self.addr.to_string())
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// POST to any gate-server address over a real TCP connection.
pub async fn post_to(
    addr: SocketAddr,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("host", addr.to_string());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let response = sender
        .send_request(builder.body(Full::new(Bytes::from(body))).expect("request"))
        .await
        .expect("response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}
