//! Golden tests: every `payloads/github/<case>.json` is sent with the headers
//! of `<case>.headers.json` and must give the notifications of
//! `<case>.expected.json`. Set `GATE_BLESS=1` to rewrite the expected files.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

const DOOR: &str = r#"
secrets = ["It's a Secret to Everybody"]
admin_group = "admin"
[[groups]]
group = "infra"
repositories = ["infra-*"]
"#;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../payloads/github");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("payload folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            name.ends_with(".json")
                && !name.ends_with(".expected.json")
                && !name.ends_with(".headers.json")
        })
        .collect();
    cases.sort();
    cases
}

fn sidecar(case: &Path, suffix: &str) -> PathBuf {
    let stem = case.file_stem().and_then(|s| s.to_str()).expect("stem");
    case.with_file_name(format!("{stem}.{suffix}.json"))
}

#[tokio::test]
async fn every_payload_gives_its_expected_notifications() {
    let source = common::source();
    let door = common::open(source.as_ref(), DOOR).expect("door");
    let bless = std::env::var_os("GATE_BLESS").is_some();
    let cases = cases();
    assert!(cases.len() >= 8, "payload folder looks empty: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let body = std::fs::read_to_string(case).expect("payload");
        let headers: Value = serde_json::from_str(
            &std::fs::read_to_string(sidecar(case, "headers")).expect("headers sidecar"),
        )
        .expect("headers json");
        let event = headers["X-GitHub-Event"].as_str().expect("event header");
        let delivery = headers["X-GitHub-Delivery"]
            .as_str()
            .expect("delivery header");
        let mut request_headers =
            common::headers(event, "application/json", common::SECRET, body.as_bytes());
        request_headers.insert("x-github-delivery", delivery.parse().expect("header"));
        let received = common::send(source.as_ref(), &door, &request_headers, body.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{}: rejected: {e}", case.display()));
        assert_eq!(received.delivery.as_deref(), Some(delivery));
        assert_eq!(received.event, event);
        let actual: Vec<Value> = received
            .notifications
            .iter()
            .map(|n| {
                assert_eq!(n.raw_content.get(), body.trim(), "{}", case.display());
                json!({
                    "service": n.service,
                    "project": n.project,
                    "group": n.group,
                    "type": n.kind,
                    "text": n.text,
                    "link": n.link,
                    "routingKey": n.routing_key(),
                })
            })
            .collect();
        let expected_path = sidecar(case, "expected");
        if bless {
            let text = serde_json::to_string_pretty(&actual).expect("json") + "\n";
            std::fs::write(&expected_path, text).expect("write expected");
            continue;
        }
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("missing {}", expected_path.display())),
        )
        .expect("expected json");
        if Value::Array(actual.clone()) != expected {
            failures.push(format!(
                "{}:\n  expected {expected}\n  actual   {}",
                case.display(),
                Value::Array(actual)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
