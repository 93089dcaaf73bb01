//! Golden tests: every `payloads/<case>.json` is sent with the headers of
//! `<case>.headers.json` and must give the notifications of
//! `<case>.expected.json` (an empty list for a filtered event).

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("payloads");
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

fn sidecar(case: &Path, suffix: &str) -> Value {
    let stem = case.file_stem().and_then(|s| s.to_str()).expect("stem");
    let path = case.with_file_name(format!("{stem}.{suffix}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn every_payload_gives_its_expected_notifications() {
    let source = common::source();
    let door = common::open(source.as_ref(), common::DOOR).expect("door");
    let cases = cases();
    assert!(cases.len() >= 4, "payload folder looks empty: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let body = std::fs::read_to_string(case).expect("payload");
        let sent = sidecar(case, "headers");
        let event = sent["X-Gitea-Event"].as_str().expect("event header");
        let delivery = sent["X-Gitea-Delivery"].as_str().expect("delivery header");
        let mut headers = common::headers(event, common::SECRET, body.as_bytes());
        headers.insert("x-gitea-delivery", delivery.parse().expect("header"));
        let received = common::send(source.as_ref(), &door, &headers, body.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{}: rejected: {e}", case.display()));
        assert_eq!(received.delivery.as_deref(), Some(delivery));
        assert_eq!(received.event, event);
        let actual: Vec<Value> = received
            .notifications
            .iter()
            .map(|n| {
                // The exact JSON received, not a re-serialisation.
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
        let expected = sidecar(case, "expected");
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
