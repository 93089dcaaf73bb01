//! Every payload in payloads/phabricator/ through a door without Conduit,
//! compared with its `<case>.expected.json`.

use std::path::{Path, PathBuf};

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::Request;
use gate_source_phabricator::PhabricatorSource;
use serde_json::Value;

const HOOK_KEY: &str = "golden-hook-key";

const DOOR: &str = r#"
hook_key = "golden-hook-key"
instance_url = "https://phabricator.acme.example"
accept_feed_hooks = true
token = "golden-feed-door-token"
[[groups]]
group = "ops"
keywords = ["outage"]
"#;

fn payload_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../payloads/phabricator")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn payloads_match_their_expected_notifications() {
    let source = gate_core::erase(PhabricatorSource);
    let door = source
        .open_door("acme", toml::from_str(DOOR).expect("toml"), "golden")
        .expect("door");
    let mut cases = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(payload_dir())
        .expect("payload dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let Some((case, extension)) = name.split_once('.') else {
            continue;
        };
        if !matches!(extension, "json" | "form") {
            continue;
        }
        cases += 1;
        let expected = read_json(&path.with_file_name(format!("{case}.expected.json")));
        let body = std::fs::read(&path).expect("body");

        let mut headers = http::HeaderMap::new();
        let content_type = expected["contentType"].as_str().expect("contentType");
        headers.insert("content-type", content_type.parse().expect("header"));
        if extension == "json" {
            let signature = sign_hmac_hex(HmacAlgorithm::Sha256, HOOK_KEY.as_bytes(), &body);
            headers.insert(
                "x-phabricator-webhook-signature",
                signature.parse().expect("header"),
            );
        }
        if let Some(extra) = expected["headers"].as_object() {
            for (key, value) in extra {
                let name: http::HeaderName = key.parse().expect("header name");
                headers.insert(
                    name,
                    value
                        .as_str()
                        .expect("header value")
                        .parse()
                        .expect("value"),
                );
            }
        }
        let request = Request {
            headers: &headers,
            body: &body,
            query: expected["query"].as_str(),
            peer: None,
        };
        let received = source
            .receive(&request, &door)
            .await
            .unwrap_or_else(|e| panic!("{case}: rejected: {e}"));
        let wanted = expected["notifications"].as_array().expect("notifications");
        assert_eq!(received.notifications.len(), wanted.len(), "{case}");
        for (got, want) in received.notifications.iter().zip(wanted) {
            let mut got_json = serde_json::to_value(got).expect("serialise");
            let raw = got_json
                .as_object_mut()
                .and_then(|o| o.remove("rawContent"))
                .expect("rawContent");
            got_json["routingKey"] = Value::String(got.routing_key());
            assert_eq!(&got_json, want, "{case}");
            assert_eq!(received.event, got.kind, "{case}");
            if extension == "json" {
                // Herald's JSON is kept byte for byte (serde_json's RawValue
                // drops only the whitespace around the document).
                assert_eq!(
                    got.raw_content.get().as_bytes(),
                    body.trim_ascii(),
                    "{case}"
                );
            } else {
                // The form becomes an object with storyData nested.
                assert_eq!(raw["storyText"], got.text.as_str(), "{case}");
                assert!(raw["storyData"].is_object(), "{case}: {raw}");
                assert!(raw["storyID"].is_string(), "{case}: {raw}");
            }
        }
    }
    assert!(cases >= 6, "only {cases} cases found");
}
