//! The hyper application on a real socket (127.0.0.1, ephemeral port): a
//! signed GitHub push is delivered, the application's own route answers,
//! and shutdown stops the server.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_server::{Config, Gate};
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

const SECRET: &str = "github-secret";

async fn send(
    addr: std::net::SocketAddr,
    request: http::Request<Full<Bytes>>,
) -> (StatusCode, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
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
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn serves_the_gateway_and_its_own_routes_on_its_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl");
    let toml_text = format!(
        r#"
        [spool]
        path = {spool:?}

        [sinks.local]
        kind = "file"
        path = {out:?}
        log = false

        [sources.GitHub.doors.acme]
        secrets = ["{SECRET}"]
        sinks = ["local"]
        "#,
        out = out.display().to_string(),
        spool = dir.path().join("spool.redb").display().to_string(),
    );
    let config = Config::parse("test.toml", &toml_text, []).expect("config");
    let gate = Gate::builder(config).start().await.expect("gate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(gate_example_embed_hyper::serve(
        listener,
        gate.tower_service(),
        async {
            let _ = stopped.await;
        },
    ));

    let body = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../payloads/github/push-one-commit.json"),
    )
    .expect("payload");
    let post = |secret: &str| {
        let signature = sign_hmac_hex(HmacAlgorithm::Sha256, secret.as_bytes(), &body);
        http::Request::post("/gate/GitHub/acme")
            .header("host", addr.to_string())
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-github-delivery", "hyper-delivery-1")
            .header("x-hub-signature-256", format!("sha256={signature}"))
            .body(Full::new(Bytes::from(body.clone())))
            .expect("request")
    };

    let (status, _) = send(addr, post("wrong")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, answer) = send(addr, post(SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let report: Value = serde_json::from_str(&answer).expect("report");
    assert_eq!(report["delivery"], "GitHub/acme/hyper-delivery-1");
    assert_eq!(report["actions"][0]["status"], "delivered");
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .expect("sink file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1, "the forged request delivered nothing");
    assert_eq!(lines[0]["notification"]["service"], "GitHub");
    assert_eq!(lines[0]["routingKey"], "acme.default.github.push");

    let hello = http::Request::get("/hello")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, answer) = send(addr, hello).await;
    assert_eq!(
        (status, answer.as_str()),
        (StatusCode::OK, "hello from the hyper application\n")
    );

    stop.send(()).expect("server still running");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops after shutdown")
        .expect("server task");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
    gate.shutdown().await;
}
