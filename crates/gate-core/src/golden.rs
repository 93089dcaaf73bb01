//! The golden-file harness shared by the sources' tests (feature
//! `testing`): every `<dir>/<case>.json` goes through a door and the outcome
//! is compared with `<case>.expected.json`. An expected file may also hold
//! the request around the body: `headers` (object, replacing the suite's
//! defaults by name), `query` (string) and `peer` (address).
//! `GATE_BLESS=1` rewrites the expected files from the current output, for
//! review in the diff.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::{DynSource, OpenDoor, Place, Received, Rejection, Request};

const REQUEST_KEYS: [&str; 3] = ["headers", "query", "peer"];

/// One source's golden cases.
pub struct GoldenSuite {
    /// The source under test, erased ([`crate::erase`]).
    pub source: Box<dyn DynSource>,
    /// The door every case goes through (named `acme`).
    pub door: toml::Table,
    /// The folder of `<case>.json` and `<case>.expected.json` files.
    pub dir: PathBuf,
    /// Fewer cases than this fails, so a moved folder cannot pass silently.
    pub min_cases: usize,
    /// Headers every request starts with (e.g. content type, credentials).
    pub default_headers: Vec<(&'static str, String)>,
    /// The query string when a case names none.
    pub default_query: Option<String>,
    /// Sign each body with the source's own [`Source::sign`](crate::Source::sign)
    /// for the door, as a genuine sender would (its headers after the
    /// defaults; a case's own headers still win). Every accepted case then
    /// also proves that `sign` makes requests the source accepts.
    pub signed: bool,
}

impl std::fmt::Debug for GoldenSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoldenSuite")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl GoldenSuite {
    /// Run every case; panics with every mismatch at once.
    pub async fn check(&self) {
        let bless = std::env::var_os("GATE_BLESS").is_some();
        let door = self
            .source
            .open_door("acme", self.door.clone(), "golden")
            .unwrap_or_else(|e| panic!("door opens: {e}"));
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap_or_else(|e| panic!("{}: {e}", self.dir.display()))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                name.ends_with(".json") && !name.ends_with(".expected.json")
            })
            .collect();
        cases.sort();
        assert!(
            cases.len() >= self.min_cases,
            "payload cases found: {cases:?}"
        );
        let mut failures = Vec::new();
        for case in &cases {
            let expected_path = case.with_extension("expected.json");
            let body =
                std::fs::read_to_string(case).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
            let expected: Map<String, Value> = match std::fs::read_to_string(&expected_path) {
                Ok(text) => serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
                Err(_) if bless => Map::new(),
                Err(e) => panic!("{}: {e}", expected_path.display()),
            };
            let mut request_part = expected.clone();
            request_part.retain(|key, _| REQUEST_KEYS.contains(&key.as_str()));
            let headers = self.headers(&request_part, &door, body.as_bytes());
            let query = match request_part.get("query") {
                Some(value) => value.as_str().map(str::to_owned),
                None => self.default_query.clone(),
            };
            let request = Request {
                headers: &headers,
                body: body.as_bytes(),
                query: query.as_deref(),
                peer: request_part
                    .get("peer")
                    .and_then(Value::as_str)
                    .map(|p| p.parse().unwrap_or_else(|e| panic!("peer {p}: {e}"))),
            };
            let actual = outcome(self.source.receive(&request, &door).await, &body);
            let mut wanted = expected.clone();
            wanted.retain(|key, _| !REQUEST_KEYS.contains(&key.as_str()));
            if Value::Object(wanted) != actual {
                if bless {
                    let mut blessed = request_part;
                    blessed.extend(actual.as_object().cloned().unwrap_or_default());
                    let text = serde_json::to_string_pretty(&blessed).unwrap_or_default() + "\n";
                    std::fs::write(&expected_path, text)
                        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
                } else {
                    failures.push(format!("{}: got {actual:#}", case.display()));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn headers(
        &self,
        request_part: &Map<String, Value>,
        door: &OpenDoor,
        body: &[u8],
    ) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        let given = request_part.get("headers").and_then(Value::as_object);
        let signed = if self.signed {
            self.source.sign(door, body)
        } else {
            Vec::new()
        };
        assert!(
            signed.iter().all(|c| c.place == Place::Header),
            "the harness signs with headers only"
        );
        let pairs = self
            .default_headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .chain(signed.into_iter().map(|c| (c.name, c.value)))
            .chain(given.into_iter().flatten().map(|(name, value)| {
                (
                    name.clone(),
                    value
                        .as_str()
                        .unwrap_or_else(|| panic!("header {name} is not a string"))
                        .to_owned(),
                )
            }));
        for (name, value) in pairs {
            let name: http::HeaderName = name
                .parse()
                .unwrap_or_else(|e| panic!("header name {name}: {e}"));
            headers.insert(
                name,
                value
                    .parse()
                    .unwrap_or_else(|e| panic!("header value {value}: {e}")),
            );
        }
        headers
    }
}

/// The notifications (rawContent only when it is not the body itself) or the
/// rejection.
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
                    if n.raw_content.get() != body.trim() {
                        value["rawContent"] =
                            serde_json::from_str(n.raw_content.get()).unwrap_or(Value::Null);
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
