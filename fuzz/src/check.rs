//! The properties checked on every outcome. A failed assertion is a finding.

use gate_core::{Notification, Received, Rejection};
use serde_json::Value;

use crate::input::Auth;

const SEVEN_KEYS: [&str; 7] = [
    "group",
    "link",
    "project",
    "rawContent",
    "service",
    "text",
    "type",
];

/// What a target knows about the request it built.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub auth: Auth,
    /// The source keeps the posted body as `rawContent`, which must then be
    /// a JSON object (no array filling a struct by position).
    pub raw_is_object: bool,
}

/// Check an outcome; returns the accepted notifications for more checks.
pub fn check_outcome(
    outcome: Result<Received, Rejection>,
    expect: Expect,
) -> Option<Vec<Notification>> {
    match outcome {
        Err(rejection) => {
            // Every refusal is a client error with a one-line message.
            assert!(rejection.status().is_client_error(), "{rejection:?}");
            assert!(!rejection.to_string().is_empty());
            assert!(!rejection.kind().is_empty());
            None
        }
        Ok(received) => {
            assert_eq!(
                expect.auth,
                Auth::Right,
                "accepted a request with {:?} credentials",
                expect.auth
            );
            assert!(!received.event.is_empty(), "empty event name");
            for notification in &received.notifications {
                check_notification(notification, expect);
            }
            Some(received.notifications)
        }
    }
}

fn check_notification(notification: &Notification, expect: Expect) {
    let value = serde_json::to_value(notification).expect("a notification serialises");
    let object = value.as_object().expect("a notification is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, SEVEN_KEYS);
    // The serialised message is valid JSON that reads back the same.
    let text = serde_json::to_string(notification).expect("serialises to text");
    let back: Value = serde_json::from_str(&text).expect("serialised notification parses");
    assert_eq!(back, value);
    let key = notification.routing_key();
    assert_eq!(key.split('.').count(), 4, "routing key {key:?}");
    assert!(
        key.split('.')
            .all(|s| !s.is_empty() && !s.contains(['*', '#'])),
        "routing key {key:?}"
    );
    if expect.raw_is_object {
        let raw: Value =
            serde_json::from_str(notification.raw_content.get()).expect("rawContent is JSON");
        assert!(raw.is_object(), "rawContent is not an object: {raw}");
    }
}
