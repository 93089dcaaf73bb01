//! Recent deliveries, in the spirit of GitHub's "Recent deliveries": the
//! last requests of each door with their answer, kept in memory (bounded per
//! door and in doors), headers redacted, bodies only when configured and
//! capped. Read through `GET /deliveries` (admin token), the
//! `gate-server deliveries` command and the page at `/deliveries/ui`.

pub mod endpoints;

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use gate_core::Secret;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

/// At most this many doors keep a history: door names come from URLs, so
/// a wildcard door must not let strangers grow the memory.
const MAX_DOORS: usize = 1024;

/// `[deliveries]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesConfig {
    /// Requests kept per door; 0 keeps none.
    #[serde(default = "default_per_door")]
    pub per_door: usize,
    /// Keep the request bodies too (needed by `deliveries replay`).
    #[serde(default)]
    pub bodies: bool,
    /// A kept body is cut to this many bytes (and marked truncated).
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Bearer token for `GET /deliveries...`; without one the endpoints and
    /// the page answer 404.
    #[serde(
        default,
        serialize_with = "Secret::serialize_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub admin_token: Option<Secret>,
}

impl Default for DeliveriesConfig {
    fn default() -> Self {
        Self {
            per_door: default_per_door(),
            bodies: false,
            max_body_bytes: default_max_body_bytes(),
            admin_token: None,
        }
    }
}

fn default_per_door() -> usize {
    50
}
fn default_max_body_bytes() -> usize {
    64 * 1024
}

/// One request to a door and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// The request id (`X-Request-Id`, given or generated).
    pub id: String,
    /// Unix milliseconds.
    pub received_at: u64,
    pub source: String,
    pub door: String,
    pub peer: Option<IpAddr>,
    pub status: u16,
    pub duration_ms: f64,
    /// Header names and values; credentials replaced by `"[redacted]"`.
    pub headers: Vec<(String, String)>,
    /// The query string, credentials redacted.
    pub query: Option<String>,
    /// The answer's JSON (the actions report, or the refusal).
    pub answer: serde_json::Value,
    /// The body as received (UTF-8, lossy), when `bodies = true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub body_truncated: bool,
}

impl Delivery {
    /// The list view: everything but headers, body and the actions' detail.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "received_at": self.received_at,
            "source": self.source,
            "door": self.door,
            "peer": self.peer,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "delivery": self.answer.get("delivery"),
            "event": self.headers.iter().find(|(name, _)| is_event_header(name)).map(|(_, v)| v),
            "error": self.answer.pointer("/error/message"),
        })
    }
}

fn is_event_header(name: &str) -> bool {
    matches!(
        name,
        "x-github-event" | "x-gitea-event" | "x-gate-event" | "x-phabricator-event"
    )
}

/// The bounded history of every door.
#[derive(Debug)]
pub struct Deliveries {
    per_door: usize,
    doors: Mutex<HashMap<(String, String), VecDeque<Delivery>>>,
}

impl Deliveries {
    pub fn new(per_door: usize) -> Self {
        Self {
            per_door,
            doors: Mutex::new(HashMap::new()),
        }
    }

    pub fn record(&self, delivery: Delivery) {
        if self.per_door == 0 {
            return;
        }
        let mut doors = self.lock();
        let key = (delivery.source.clone(), delivery.door.clone());
        if !doors.contains_key(&key) && doors.len() >= MAX_DOORS {
            // The door whose latest request is the oldest gives way.
            let stalest = doors
                .iter()
                .min_by_key(|(_, kept)| kept.back().map_or(0, |d| d.received_at))
                .map(|(key, _)| key.clone());
            if let Some(stalest) = stalest {
                doors.remove(&stalest);
            }
        }
        let kept = doors.entry(key).or_default();
        if kept.len() >= self.per_door {
            kept.pop_front();
        }
        kept.push_back(delivery);
    }

    /// Newest first, optionally of one source and door, at most `limit`.
    pub fn list(&self, source: Option<&str>, door: Option<&str>, limit: usize) -> Vec<Delivery> {
        let doors = self.lock();
        let mut found: Vec<Delivery> = doors
            .iter()
            .filter(|((s, d), _)| {
                source.is_none_or(|want| want == s) && door.is_none_or(|want| want == d)
            })
            .flat_map(|(_, kept)| kept.iter().cloned())
            .collect();
        found.sort_by(|a, b| b.received_at.cmp(&a.received_at).then(b.id.cmp(&a.id)));
        found.truncate(limit);
        found
    }

    pub fn get(&self, id: &str) -> Option<Delivery> {
        self.lock()
            .values()
            .flat_map(|kept| kept.iter())
            .find(|d| d.id == id)
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), VecDeque<Delivery>>> {
        // A panic elsewhere while holding the lock leaves consistent data.
        self.doors.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Header names whose values are credentials, or derived from them.
fn is_credential(name: &str) -> bool {
    const WORDS: [&str; 8] = [
        "authorization",
        "cookie",
        "token",
        "signature",
        "secret",
        "password",
        "key",
        "auth",
    ];
    WORDS.iter().any(|word| name.contains(word))
}

pub fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let value = if is_credential(&name) {
                "[redacted]".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}

/// The query string with the value of every credential-like key redacted.
pub fn redacted_query(query: Option<&str>) -> Option<String> {
    let query = query?;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_credential(&key.to_ascii_lowercase()) => {
                format!("{key}=[redacted]")
            }
            _ => pair.to_owned(),
        })
        .collect();
    Some(pairs.join("&"))
}

/// A kept body: at most `max` bytes, cut on a character boundary.
pub fn kept_body(body: &[u8], max: usize) -> (String, bool) {
    let text = String::from_utf8_lossy(body);
    if text.len() <= max {
        return (text.into_owned(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: &str, door: &str, at: u64) -> Delivery {
        Delivery {
            id: id.into(),
            received_at: at,
            source: "GitHub".into(),
            door: door.into(),
            peer: None,
            status: 200,
            duration_ms: 1.0,
            headers: vec![],
            query: None,
            answer: serde_json::json!({}),
            body: None,
            body_truncated: false,
        }
    }

    #[test]
    fn keeps_the_last_n_per_door_newest_first() {
        let kept = Deliveries::new(2);
        for (i, door) in ["a", "a", "a", "b"].iter().enumerate() {
            kept.record(delivery(&format!("r{i}"), door, i as u64));
        }
        let ids: Vec<String> = kept
            .list(None, None, 10)
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, ["r3", "r2", "r1"]);
        let ids: Vec<String> = kept
            .list(None, Some("a"), 10)
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, ["r2", "r1"]);
        assert!(kept.get("r0").is_none());
        assert_eq!(kept.get("r3").map(|d| d.door), Some("b".into()));
    }

    #[test]
    fn door_count_is_bounded() {
        let kept = Deliveries::new(1);
        for i in 0..(MAX_DOORS + 10) {
            kept.record(delivery(&format!("r{i}"), &format!("door{i}"), i as u64));
        }
        assert_eq!(kept.lock().len(), MAX_DOORS);
        assert!(kept.get("r0").is_none(), "the stalest door went first");
        assert!(kept.get(&format!("r{}", MAX_DOORS + 9)).is_some());
    }

    #[test]
    fn credentials_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("x-hub-signature-256", "sha256=abc".parse().expect("value"));
        headers.insert("authorization", "Bearer t".parse().expect("value"));
        headers.insert("x-gate-token", "t".parse().expect("value"));
        headers.insert("x-github-event", "push".parse().expect("value"));
        let shown = redacted_headers(&headers);
        for (name, value) in &shown {
            if name == "x-github-event" {
                assert_eq!(value, "push");
            } else {
                assert_eq!(value, "[redacted]", "{name}");
            }
        }
        assert_eq!(
            redacted_query(Some("token=s3cret&x=1")).as_deref(),
            Some("token=[redacted]&x=1")
        );
    }

    #[test]
    fn bodies_are_cut_on_a_character_boundary() {
        let (kept, cut) = kept_body("aé".as_bytes(), 2);
        assert_eq!((kept.as_str(), cut), ("a", true));
        let (kept, cut) = kept_body(b"abc", 3);
        assert_eq!((kept.as_str(), cut), ("abc", false));
    }
}
