//! The shape of a Herald webhook body.

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{OpenDoor, Rejection, Request};
use gate_source_phabricator::PhabricatorSource;

const KEY: &str = "k1";
const SIG: &str = "X-Phabricator-Webhook-Signature";

fn door() -> OpenDoor {
    gate_core::erase(PhabricatorSource)
        .open_door(
            "acme",
            toml::from_str(&format!("hook_key = \"{KEY}\"")).expect("toml"),
            "sources.Phabricator.doors.acme",
        )
        .expect("door")
}

async fn post(door: &OpenDoor, body: &str) -> Result<gate_core::Received, Rejection> {
    let signature = sign_hmac_hex(HmacAlgorithm::Sha256, KEY.as_bytes(), body.as_bytes());
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("value"));
    headers.insert(SIG, signature.parse().expect("value"));
    let request = Request {
        headers: &headers,
        body: body.as_bytes(),
        query: None,
        peer: None,
    };
    gate_core::erase(PhabricatorSource)
        .receive(&request, door)
        .await
}

/// Fuzzing leftover: serde also fills a nested struct from an array, by
/// position, so `"object":["TASK","PHID-TASK-…"]` was taken as a task.
#[tokio::test]
async fn nested_arrays_in_place_of_objects_are_400() {
    let door = door();
    for body in [
        r#"{"object":["TASK","PHID-TASK-4mxk2ofyzq3vbc7hd5ln"],"transactions":[]}"#,
        r#"{"object":{"type":"TASK","phid":"PHID-TASK-4mxk2ofyzq3vbc7hd5ln"},"action":[true]}"#,
    ] {
        let refused = post(&door, body).await.unwrap_err();
        assert!(
            matches!(&refused, Rejection::Malformed(m) if m.starts_with("not a herald webhook: invalid type: sequence, expected struct")),
            "{body}: {refused:?}"
        );
        assert_eq!(refused.status(), 400);
    }
}

/// Arrays where Herald sends arrays, and unread keys of any shape, still pass.
#[tokio::test]
async fn arrays_where_herald_sends_them_are_fine() {
    let door = door();
    let body = r#"{"object":{"type":"TASK","phid":"PHID-TASK-4mxk2ofyzq3vbc7hd5ln"},"triggers":[{"phid":"PHID-HRUL-1"}],"action":{"test":true,"silent":false,"secure":false,"epoch":1764072000},"transactions":[{"phid":"PHID-XACT-TASK-1"}]}"#;
    let received = post(&door, body).await.expect("accepted");
    assert_eq!(received.event, "TASK");
    assert_eq!(received.notifications[0].raw_content.get(), body);
}

/// Without Conduit, the text is what the hook says and the link the
/// instance named by `instance_url` (none when the door has no address).
#[tokio::test]
async fn without_conduit_the_hook_speaks_for_itself() {
    let body = r#"{"object":{"type":"DREV","phid":"PHID-DREV-e5bq2cf7tnhwlr4pyx6j"},"triggers":[{"phid":"PHID-HRUL-1"}],"action":{"test":false,"silent":false,"secure":false,"epoch":1764072000},"transactions":[{"phid":"PHID-XACT-DREV-1"},{"phid":"PHID-XACT-DREV-2"},{"phid":"PHID-XACT-DREV-3"}]}"#;
    let received = post(&door(), body).await.expect("accepted");
    let n = &received.notifications[0];
    assert_eq!(
        n.text,
        "Revision PHID-DREV-e5bq2cf7tnhwlr4pyx6j updated (3 transactions, Herald rule PHID-HRUL-1)"
    );
    assert_eq!(n.link, "");
    let source = gate_core::erase(PhabricatorSource);
    let with_instance = source
        .open_door(
            "acme",
            toml::from_str(&format!(
                "hook_key = \"{KEY}\"\ninstance_url = \"https://phorge.acme.test/\""
            ))
            .expect("toml"),
            "sources.Phabricator.doors.acme",
        )
        .expect("door");
    let received = post(&with_instance, body).await.expect("accepted");
    assert_eq!(received.notifications[0].link, "https://phorge.acme.test/");
    for bad in ["phorge.acme.test", "ftp://phorge.acme.test", "https://a b"] {
        let refused = source
            .open_door(
                "acme",
                toml::from_str(&format!("hook_key = \"{KEY}\"\ninstance_url = {bad:?}"))
                    .expect("toml"),
                "sources.Phabricator.doors.acme",
            )
            .unwrap_err();
        assert!(
            refused
                .message
                .contains("instance_url must be an http(s) address"),
            "{bad}: {refused}"
        );
    }
}
