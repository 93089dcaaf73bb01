//! Golden tests: every `payloads/native/<case>.json` goes through a door
//! and the outcome is compared with `<case>.expected.json`. An expected file
//! may also hold the request around the body: `headers` (object; a bearer
//! token of the door by default), `query` and `peer` (address).
//! `GATE_BLESS=1 cargo test -p gate-source-native --test golden` rewrites
//! the expected files from the current output, for review in the diff.

use std::path::{Path, PathBuf};

use gate_core::{Received, Rejection, Request};
use gate_source_native::Native;
use serde_json::{json, Map, Value};

const TOKEN: &str = "golden-door-token-0123456789";
const REQUEST_KEYS: [&str; 3] = ["headers", "query", "peer"];

fn door_table() -> toml::Table {
    toml::from_str(&format!(
        r#"
        tokens = ["{TOKEN}"]
        secrets = ["golden-hmac-key"]
        default_group = "never-used"
        [[groups]]
        group = "never-used-either"
        keywords = ["deploy"]
        "#
    ))
    .expect("door toml")
}

fn payload_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../payloads/native")
}

fn outcome(result: Result<Received, Rejection>, body: &str) -> Value {
    match result {
        Ok(received) => {
            let notifications: Vec<Value> = received
                .notifications
                .iter()
                .map(|n| {
                    let mut value = json!({
                        "service": n.service,
                        "project": n.project,
                        "group": n.group,
                        "type": n.kind,
                        "text": n.text,
                        "link": n.link,
                        "routingKey": n.routing_key(),
                    });
                    // Shown only when the client chose it; else it is the body.
                    if n.raw_content.get() != body.trim() {
                        value["rawContent"] =
                            serde_json::from_str(n.raw_content.get()).expect("raw json");
                    }
                    value
                })
                .collect();
            json!({
                "event": received.event,
                "delivery": received.delivery,
                "notifications": notifications,
            })
        }
        Err(rejection) => json!({
            "rejection": {
                "status": rejection.status().as_u16(),
                "kind": rejection.kind(),
                "message": rejection.to_string(),
            }
        }),
    }
}

fn headers_of(request_part: &Map<String, Value>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("value"));
    headers.insert(
        "authorization",
        format!("Bearer {TOKEN}").parse().expect("value"),
    );
    if let Some(Value::Object(given)) = request_part.get("headers") {
        for (name, value) in given {
            let name: http::HeaderName = name.parse().expect("header name");
            let value = value.as_str().expect("header value is a string");
            headers.insert(name, value.parse().expect("header value"));
        }
    }
    headers
}

#[tokio::test]
async fn payloads_match_their_expected_outcome() {
    let bless = std::env::var_os("GATE_BLESS").is_some();
    let source = gate_core::erase(Native);
    let door = source
        .open_door("acme", door_table(), "sources.Notification.doors.acme")
        .expect("door opens");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(payload_dir())
        .expect("payload folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".expected.json")
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "payload cases found: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let expected_path = case.with_extension("expected.json");
        let body = std::fs::read_to_string(case).expect("payload");
        let expected: Map<String, Value> = match std::fs::read_to_string(&expected_path) {
            Ok(text) => serde_json::from_str(&text).expect("expected file is a JSON object"),
            Err(_) if bless => Map::new(),
            Err(e) => panic!("{}: {e}", expected_path.display()),
        };
        let mut request_part = expected.clone();
        request_part.retain(|key, _| REQUEST_KEYS.contains(&key.as_str()));
        let headers = headers_of(&request_part);
        let query = request_part.get("query").and_then(Value::as_str);
        let request = Request {
            headers: &headers,
            body: body.as_bytes(),
            query,
            peer: request_part
                .get("peer")
                .and_then(Value::as_str)
                .map(|p| p.parse().expect("peer address")),
        };
        let actual = outcome(source.receive(&request, &door).await, &body);
        let mut wanted = expected.clone();
        wanted.retain(|key, _| !REQUEST_KEYS.contains(&key.as_str()));
        if Value::Object(wanted) != actual {
            if bless {
                let mut blessed = request_part;
                blessed.extend(actual.as_object().cloned().unwrap_or_default());
                let text = serde_json::to_string_pretty(&blessed).expect("json") + "\n";
                std::fs::write(&expected_path, text).expect("write expected");
            } else {
                failures.push(format!("{}: got {actual:#}", case.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
