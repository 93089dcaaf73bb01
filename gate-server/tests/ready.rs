//! `GET /ready` as a load balancer reads it.

mod common;

use common::{call, request};

const CONFIG: &str = r#"
[server]
maintenance = MAINTENANCE

[sinks.local]
kind = "file"
path = "OUT"

[sources.GitHub.doors.acme]
sinks = ["local"]
secrets = ["ready-test-secret"]
"#;

async fn ready(maintenance: bool) -> (u16, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let text = CONFIG
        .replace("MAINTENANCE", &maintenance.to_string())
        .replace("OUT", &out);
    let gateway = common::gateway(&text);
    let answer = call(&gateway, request("GET", "/ready", &[], Vec::new())).await;
    (answer.status.as_u16(), answer.json())
}

#[tokio::test]
async fn ready_when_every_sink_can_deliver() {
    let (status, body) = ready(false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
}

#[tokio::test]
async fn not_ready_during_maintenance() {
    let (status, body) = ready(true).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["maintenance"], true);
}
