//! The id of an event: the dedup key, the AMQP `message_id`, the `delivery`
//! of the actions report. Always `<Source>/<door>/<id>`, so two doors (or two
//! sources) never share one, where `<id>` is, first found: an
//! `Idempotency-Key` header (the sender said explicitly what makes a repeat),
//! the source's (the sender's delivery id, or the payload's own identity
//! fields), or a fresh random id, which is never deduplicated: a
//! notification without an identity is published every time.

use gate_core::signature::body_digest;
use gate_core::{Envelope, Notification};
use http::HeaderMap;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// As the native source's `X-Gate-Delivery`.
pub const MAX_KEY_CHARS: usize = 200;
/// AMQP short strings hold 255 bytes; room is left for the `#<n>` of a
/// request that makes several notifications.
const MAX_ID_BYTES: usize = 240;

/// What an event is known by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventId {
    pub id: String,
    /// False for a random id: there is nothing to recognise a repeat by.
    pub deduplicated: bool,
}

/// The id of a request to `<kind>/<door>` whose source said `identity`;
/// an unreadable `Idempotency-Key` is an error (the sender meant one).
pub fn event_id(
    kind: &str,
    door: &str,
    identity: Option<&str>,
    headers: &HeaderMap,
) -> Result<EventId, String> {
    let key = idempotency_key(headers)?.or_else(|| identity.map(str::to_owned));
    Ok(match key {
        Some(key) => EventId {
            id: scoped(kind, door, &key),
            deduplicated: true,
        },
        None => EventId {
            id: scoped(kind, door, &random_id()),
            deduplicated: false,
        },
    })
}

/// The id of the `index`th (from 0) of `count` notifications of one event.
pub fn notification_id(event: &str, index: usize, count: usize) -> String {
    if count > 1 {
        format!("{event}#{}", index + 1)
    } else {
        event.to_owned()
    }
}

/// One envelope per notification of the event `event_id`, each under its
/// own [`notification_id`]: what the gate and `simulate --send` deliver.
pub fn envelopes(
    notifications: Vec<Notification>,
    event_id: &str,
    source: &str,
    door: &str,
    event: &str,
    received_at: u64,
) -> Vec<Envelope> {
    let count = notifications.len();
    notifications
        .into_iter()
        .enumerate()
        .map(|(index, notification)| Envelope {
            delivery: notification_id(event_id, index, count),
            source: source.to_owned(),
            door: door.to_owned(),
            event: event.to_owned(),
            received_at,
            notification,
        })
        .collect()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "Idempotency-Key must be visible ASCII".to_owned())?
        .trim();
    if value.is_empty() {
        return Err("Idempotency-Key is empty".into());
    }
    if value.len() > MAX_KEY_CHARS {
        return Err(format!(
            "Idempotency-Key is longer than {MAX_KEY_CHARS} characters"
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Long identities (a Docker Hub repository name can be long) are replaced
/// by their SHA-256, so the id is never cut (cut ids could collide).
fn scoped(kind: &str, door: &str, key: &str) -> String {
    let id = format!("{kind}/{door}/{key}");
    if id.len() <= MAX_ID_BYTES {
        return id;
    }
    let hashed = format!("{kind}/{door}/sha256:{}", body_digest(key.as_bytes()));
    if hashed.len() <= MAX_ID_BYTES {
        hashed
    } else {
        format!("sha256:{}", body_digest(id.as_bytes()))
    }
}

fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    #[test]
    fn scoped_by_source_and_door() {
        let none = HeaderMap::new();
        let a = event_id("Notification", "a", Some("d1"), &none).expect("id");
        let b = event_id("Notification", "b", Some("d1"), &none).expect("id");
        assert_eq!(a.id, "Notification/a/d1");
        assert_eq!(b.id, "Notification/b/d1");
        assert!(a.deduplicated && b.deduplicated);
    }

    #[test]
    fn idempotency_key_first_then_source_identity_then_random() {
        let keyed = headers(&[("idempotency-key", " k-7 ")]);
        let from_header = event_id("Jenkins", "ci", Some("job#1:COMPLETED"), &keyed).expect("id");
        assert_eq!(from_header.id, "Jenkins/ci/k-7");
        let from_source =
            event_id("Jenkins", "ci", Some("job#1:COMPLETED"), &HeaderMap::new()).expect("id");
        assert_eq!(from_source.id, "Jenkins/ci/job#1:COMPLETED");
        let first = event_id("Notification", "n", None, &HeaderMap::new()).expect("id");
        let second = event_id("Notification", "n", None, &HeaderMap::new()).expect("id");
        assert!(!first.deduplicated);
        assert_ne!(first.id, second.id, "no identity: every request is new");
        assert!(first.id.starts_with("Notification/n/"), "{}", first.id);
    }

    #[test]
    fn bad_keys_are_refused() {
        let empty = headers(&[("idempotency-key", "  ")]);
        assert_eq!(
            event_id("X", "d", None, &empty).unwrap_err(),
            "Idempotency-Key is empty"
        );
        let long = "k".repeat(MAX_KEY_CHARS + 1);
        let long = headers(&[("idempotency-key", &long)]);
        assert!(event_id("X", "d", None, &long)
            .unwrap_err()
            .contains("longer than 200"));
    }

    #[test]
    fn long_identities_are_hashed_not_cut() {
        let none = HeaderMap::new();
        let a = event_id("DockerHub", "d", Some(&"r".repeat(300)), &none).expect("id");
        let b = event_id("DockerHub", "d", Some(&"r".repeat(301)), &none).expect("id");
        assert!(a.id.starts_with("DockerHub/d/sha256:"), "{}", a.id);
        assert_ne!(a.id, b.id);
        let door = "x".repeat(250);
        let c = event_id("DockerHub", &door, Some("t"), &none).expect("id");
        assert!(c.id.len() <= MAX_ID_BYTES && c.id.starts_with("sha256:"));
    }

    #[test]
    fn several_notifications_get_numbered_ids() {
        assert_eq!(notification_id("S/d/x", 0, 1), "S/d/x");
        assert_eq!(notification_id("S/d/x", 1, 3), "S/d/x#2");
    }
}
