//! The gate embedded in the axum application, on real sockets: a delivery
//! to a sink that is down is spooled (202) and redelivered once the sink is
//! back, counted in `/metrics` as `serve` counts it; a reload changes the
//! doors under the running application; shutdown refuses new requests and
//! releases the spool file for the next gate, not before.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{self, StatusCode};
use gate_server::{Config, Gate, StartError};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

/// The host application with `gate` under `/webhooks`, on an ephemeral
/// port; stopped when the returned task is aborted.
async fn serve_app(gate: &Gate) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = gate_example_embed_axum::app(gate.tower_service());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("axum serves");
    });
    (addr, task)
}

/// One request over a new TCP connection.
async fn exchange(addr: SocketAddr, request: http::Request<Full<Bytes>>) -> (StatusCode, Bytes) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(connection);
    let response = sender.send_request(request).await.expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

/// A native notification to a door needing no credential (loopback only:
/// the peer reaches the gate through `ConnectInfo`).
async fn notify(addr: SocketAddr, door: &str, delivery: &str) -> (StatusCode, Value) {
    let body = format!(r#"{{"service":"Cron","group":"ops","type":"backup","text":"{delivery}"}}"#);
    let request = http::Request::post(format!("/webhooks/gate/Notification/{door}"))
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("x-gate-delivery", delivery)
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let (status, body) = exchange(addr, request).await;
    let report = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, report)
}

/// A metric's value from `/webhooks/metrics` (0 when absent).
async fn metric(addr: SocketAddr, line_start: &str) -> f64 {
    let request = http::Request::get("/webhooks/metrics")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, body) = exchange(addr, request).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, StatusCode::OK, "{text}");
    text.lines()
        .find_map(|line| line.strip_prefix(line_start))
        .map_or(0.0, |value| value.trim().parse().expect("a number"))
}

/// An HTTP endpoint the gateway's `http` sink posts to, keeping the bodies.
struct Target {
    received: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Target {
    async fn start(addr: SocketAddr) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&received);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    let value: Value = serde_json::from_slice(&body).expect("json body");
                    kept.lock().expect("lock").push(value);
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("the target's port is free again");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("target serves");
        });
        Self { received, task }
    }

    fn received(&self) -> Vec<Value> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port nothing listens on (yet).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

fn config(spool: &Path, target: SocketAddr, doors: &[&str]) -> Config {
    let mut text = format!(
        r#"
        [server]
        default_sinks = ["hook"]
        delivery_deadline_ms = 3000

        [spool]
        path = {spool:?}
        retry_initial_ms = 100
        retry_max_ms = 300

        [sinks.hook]
        kind = "http"
        url = "http://{target}/hook"
        timeout_ms = 1000
        retries = 0
        "#,
        spool = spool.display().to_string(),
    );
    for door in doors {
        text.push_str(&format!(
            "\n[sources.Notification.doors.{door}]\ninsecure_no_auth = true\n"
        ));
    }
    Config::parse("embedded.toml", &text, []).expect("config")
}

#[tokio::test]
async fn a_sink_that_is_down_is_spooled_then_redelivered_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = closed_port();
    let gate = Gate::builder(config(&dir.path().join("spool.redb"), target, &["ops"]))
        .start()
        .await
        .expect("gate starts");
    let (app, server) = serve_app(&gate).await;

    let (status, report) = notify(app, "ops", "embedded-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{report}");
    assert_eq!(report["actions"][0]["status"], "spooled", "{report}");
    assert_eq!(metric(app, "gate_spool_depth ").await, 1.0);

    let target = Target::start(target).await;
    let started = Instant::now();
    while target.received().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "not redelivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = target.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["text"], "embedded-1", "{received:?}");
    let started = Instant::now();
    while metric(app, "gate_spool_depth ").await != 0.0 {
        assert!(started.elapsed() < Duration::from_secs(5), "not removed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        metric(app, "gate_spool_redelivered_total{sink=\"hook\"} ").await,
        1.0
    );
    assert_eq!(
        metric(
            app,
            "gate_requests_total{source=\"Notification\",door=\"ops\",status=\"202\"} "
        )
        .await,
        1.0
    );
    // Live now: a new event is delivered at once.
    let (status, report) = notify(app, "ops", "embedded-2").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(target.received().len(), 2);

    server.abort();
    gate.shutdown().await;
}

#[tokio::test]
async fn reload_changes_the_doors_of_the_running_application() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = dir.path().join("spool.redb");
    let addr = closed_port();
    let target = Target::start(addr).await;
    let gate = Gate::builder(config(&spool, addr, &["ops"]))
        .start()
        .await
        .expect("gate starts");
    let (app, server) = serve_app(&gate).await;

    let (status, _) = notify(app, "deploys", "reload-1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let changes = gate
        .reload(config(&spool, addr, &["ops", "deploys"]))
        .await
        .expect("reloaded");
    assert!(changes.is_empty(), "{changes:?}");
    let (status, report) = notify(app, "deploys", "reload-2").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(target.received().len(), 1);
    // The delivery-id memory survived the reload.
    let (status, report) = notify(app, "deploys", "reload-2").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["actions"][0]["status"], "duplicate", "{report}");

    // A configuration that does not validate changes nothing.
    let mut broken = config(&spool, addr, &["ops"]);
    broken.server.default_sinks = vec!["missing".into()];
    let error = gate.reload(broken).await.expect_err("invalid");
    assert!(
        matches!(error, gate_server::ReloadError::Invalid(_)),
        "{error}"
    );
    let (status, report) = notify(app, "deploys", "reload-3").await;
    assert_eq!(status, StatusCode::OK, "{report}");

    server.abort();
    gate.shutdown().await;
}

#[tokio::test]
async fn shutdown_releases_the_spool_for_the_next_gate_and_not_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = dir.path().join("spool.redb");
    let target = closed_port();
    let first = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect("first gate starts");
    let (app, server) = serve_app(&first).await;
    let (status, report) = notify(app, "ops", "held-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{report}");

    let refused = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect_err("the spool is held");
    assert!(matches!(refused, StartError::Spool(_)), "{refused}");

    // The application still holds the first gate's service: after
    // shutdown it answers 503, so nothing is taken that cannot be kept.
    first.shutdown().await;
    let (status, report) = notify(app, "ops", "held-2").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{report}");

    let second = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect("released by shutdown");
    // The event the first gate spooled is still there for the second.
    let depth = second
        .current()
        .state()
        .spool
        .as_ref()
        .map_or(0, |spool| spool.depth());
    assert_eq!(depth, 1);
    server.abort();
    second.shutdown().await;
}

/// Dropping a gate without `shutdown` releases the spool too (a guard).
#[tokio::test]
async fn a_dropped_gate_releases_the_spool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = dir.path().join("spool.redb");
    let target = closed_port();
    let first = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect("first gate starts");
    let service = first.tower_service();
    drop(first);
    let second = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect("released by drop");
    drop(service);
    second.shutdown().await;
}

/// A delivery still running when the host stops (its sender gone) ends
/// before `shutdown` returns: here its sink fails after a while, and the
/// event is in the spool the next gate opens, not lost with the process.
#[tokio::test]
async fn shutdown_waits_for_a_delivery_in_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = dir.path().join("spool.redb");
    // An endpoint that takes the request, then fails it after 1 s.
    let arrived = Arc::new(tokio::sync::Notify::new());
    let signal = Arc::clone(&arrived);
    let slow = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let signal = Arc::clone(&signal);
            async move {
                signal.notify_one();
                tokio::time::sleep(Duration::from_secs(1)).await;
                StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let target = listener.local_addr().expect("addr");
    let endpoint = tokio::spawn(async move {
        axum::serve(listener, slow).await.expect("endpoint serves");
    });

    let gate = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect("gate starts");
    let (app, server) = serve_app(&gate).await;
    let sender = tokio::spawn(async move { notify(app, "ops", "in-flight-1").await });
    arrived.notified().await;
    // The sender and the host go away while the sink works.
    sender.abort();
    server.abort();
    let started = Instant::now();
    gate.shutdown().await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "shutdown did not wait for the delivery: {:?}",
        started.elapsed()
    );
    endpoint.abort();

    let next = Gate::builder(config(&spool, target, &["ops"]))
        .start()
        .await
        .expect("released by shutdown");
    let depth = next
        .current()
        .state()
        .spool
        .as_ref()
        .map_or(0, |spool| spool.depth());
    assert_eq!(depth, 1, "the failed delivery was spooled before shutdown");
    next.shutdown().await;
}

/// Two embedded gates sharing Redis for deduplication (as two `serve`
/// processes do): an event delivered through one is a duplicate at the
/// other.
#[tokio::test]
async fn embedded_gates_share_deduplication_through_redis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let addr = closed_port();
    let target = Target::start(addr).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let prefix = format!("embed-axum-test:{}:{nanos}:", std::process::id());
    let with_redis = |spool: &str| {
        let mut config = config(&dir.path().join(spool), addr, &["ops"]);
        let dedup = format!(
            "[dedup]\nstore = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\nkey_prefix = \"{prefix}\"\n"
        );
        config.dedup = Config::parse("dedup.toml", &dedup, [])
            .expect("dedup section")
            .dedup;
        config
    };
    let first = Gate::builder(with_redis("a.redb"))
        .start()
        .await
        .expect("first gate");
    let second = Gate::builder(with_redis("b.redb"))
        .start()
        .await
        .expect("second gate");
    let (app_a, server_a) = serve_app(&first).await;
    let (app_b, server_b) = serve_app(&second).await;

    let (status, report) = notify(app_a, "ops", "shared-1").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["actions"][0]["status"], "delivered", "{report}");
    let (status, report) = notify(app_b, "ops", "shared-1").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["actions"][0]["status"], "duplicate", "{report}");
    assert_eq!(target.received().len(), 1);

    server_a.abort();
    server_b.abort();
    first.shutdown().await;
    second.shutdown().await;
}
