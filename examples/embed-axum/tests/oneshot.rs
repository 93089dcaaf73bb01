//! The axum application driven with `oneshot`, no socket: the gateway
//! answers under `/webhooks` and the application's own routes still work.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_server::{Config, Gate};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const SECRET: &str = "github-secret";
const DOCKERHUB_TOKEN: &str = "0123456789abcdef0123";

struct Fixture {
    app: axum::Router,
    out: PathBuf,
    /// Kept running for the test: a dropped gate answers 503.
    _gate: Gate,
    _dir: tempfile::TempDir,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out.jsonl");
        let toml_text = format!(
            r#"
            [server]
            default_sinks = ["local"]

            [spool]
            path = {spool:?}

            [sinks.local]
            kind = "file"
            path = {out:?}
            log = false

            [sources.GitHub.doors.acme]
            secrets = ["{SECRET}"]

            [sources.DockerHub.doors.acme]
            token = "{DOCKERHUB_TOKEN}"
            allow_ips = ["203.0.113.0/24"]
            "#,
            out = out.display().to_string(),
            spool = dir.path().join("spool.redb").display().to_string(),
        );
        let config = Config::parse("test.toml", &toml_text, []).expect("config");
        let gate = Gate::builder(config).start().await.expect("gate");
        Self {
            app: gate_example_embed_axum::app(gate.tower_service()),
            out,
            _gate: gate,
            _dir: dir,
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, String) {
        let response: Response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn delivered(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("json line"))
            .collect()
    }
}

fn payload(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../payloads")
        .join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
}

fn github_push(path: &str, signature_secret: &str) -> Request<Body> {
    let body = payload("github/push-one-commit.json");
    let signature = sign_hmac_hex(HmacAlgorithm::Sha256, signature_secret.as_bytes(), &body);
    Request::post(path)
        .header("content-type", "application/json")
        .header("x-github-event", "push")
        .header("x-github-delivery", "axum-delivery-1")
        .header("x-hub-signature-256", format!("sha256={signature}"))
        .body(Body::from(body))
        .expect("request")
}

#[tokio::test]
async fn signed_github_push_under_the_prefix_reaches_the_file_sink() {
    let fixture = Fixture::new().await;
    let (status, body) = fixture
        .send(github_push("/webhooks/gate/GitHub/acme", SECRET))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).expect("report");
    assert_eq!(report["gate"], "GitHub");
    assert_eq!(report["delivery"], "GitHub/acme/axum-delivery-1");
    assert_eq!(report["actions"][0]["status"], "delivered");

    let delivered = fixture.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        delivered[0]["notification"]["text"],
        "octocat pushed 1 commit to main of acme/widgets: Fix rounding of widget prices"
    );
    assert_eq!(delivered[0]["routingKey"], "acme.default.github.push");
}

#[tokio::test]
async fn refusals_keep_their_status_and_deliver_nothing() {
    let fixture = Fixture::new().await;
    let (status, _) = fixture
        .send(github_push("/webhooks/gate/GitHub/acme", "wrong"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Only under the prefix: the host's root is not the gateway's.
    let (status, _) = fixture.send(github_push("/gate/GitHub/acme", SECRET)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = fixture
        .send(github_push("/webhooks/gate/GitHub/nobody", SECRET))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(fixture.delivered().is_empty());
}

#[tokio::test]
async fn the_application_routes_and_the_gateway_probes_both_answer() {
    let fixture = Fixture::new().await;
    let get = |path: &str| Request::get(path).body(Body::empty()).expect("request");
    let (status, body) = fixture.send(get("/hello")).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "hello from the host application\n")
    );
    let (status, body) = fixture.send(get("/webhooks/status")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ALIVE"));
    let (status, body) = fixture.send(get("/webhooks/config")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !body.contains(SECRET) && !body.contains(DOCKERHUB_TOKEN),
        "{body}"
    );
    let (status, _) = fixture.send(get("/nothing-here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The client address reaches the gateway: a Docker Hub door with an IP
/// allow-list accepts a peer inside it and refuses one outside.
#[tokio::test]
async fn connect_info_becomes_the_gateway_peer() {
    let fixture = Fixture::new().await;
    let body = payload("dockerhub/push-tag.json");
    let post = |peer: [u8; 4]| {
        let mut request = Request::post(format!(
            "/webhooks/gate/DockerHub/acme?token={DOCKERHUB_TOKEN}"
        ))
        .header("content-type", "application/json")
        .body(Body::from(body.clone()))
        .expect("request");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 40000))));
        request
    };
    let (status, answer) = fixture.send(post([198, 51, 100, 9])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert!(fixture.delivered().is_empty());
    let (status, answer) = fixture.send(post([203, 0, 113, 7])).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(fixture.delivered().len(), 1);
}
