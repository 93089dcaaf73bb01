//! What the source refuses, with which status, and how doors are validated.

mod common;

use gate_core::Rejection;
use http::StatusCode;

fn push_body() -> Vec<u8> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("payloads/push-two-commits.json");
    std::fs::read(path).expect("payload")
}

async fn refusal(headers: &http::HeaderMap, body: &[u8]) -> Rejection {
    let source = common::source();
    let door = common::open(source.as_ref(), common::DOOR).expect("door");
    common::send(source.as_ref(), &door, headers, body)
        .await
        .expect_err("must be refused")
}

#[tokio::test]
async fn unsigned_and_badly_signed_requests_are_refused() {
    let body = push_body();
    let mut headers = common::headers("push", common::SECRET, &body);
    headers.remove("x-gitea-signature");
    let missing = refusal(&headers, &body).await;
    assert_eq!(missing, Rejection::MissingSignature("X-Gitea-Signature"));
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);

    let wrong_secret = common::headers("push", "not-the-secret", &body);
    let bad = refusal(&wrong_secret, &body).await;
    assert_eq!(bad, Rejection::BadSignature);
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);

    // A signature of another body: the body was altered on the way.
    let other = common::headers("push", common::SECRET, b"{}");
    assert_eq!(refusal(&other, &body).await, Rejection::BadSignature);

    // GitHub's `sha256=` prefix is not Gitea's format.
    let mut prefixed = common::headers("push", common::SECRET, &body);
    let hex = prefixed["x-gitea-signature"]
        .to_str()
        .expect("ascii")
        .to_owned();
    prefixed.insert(
        "x-gitea-signature",
        format!("sha256={hex}").parse().expect("header"),
    );
    assert_eq!(refusal(&prefixed, &body).await, Rejection::BadSignature);
}

#[tokio::test]
async fn any_of_several_secrets_verifies() {
    let source = common::source();
    let door = common::open(source.as_ref(), "secrets = [\"old\", \"new\"]").expect("door");
    let body = push_body();
    for secret in ["old", "new"] {
        let headers = common::headers("push", secret, &body);
        let received = common::send(source.as_ref(), &door, &headers, &body)
            .await
            .expect("accepted");
        assert_eq!(received.notifications.len(), 1);
    }
}

#[tokio::test]
async fn missing_event_header_is_a_bad_request() {
    let body = push_body();
    let mut headers = common::headers("push", common::SECRET, &body);
    headers.remove("x-gitea-event");
    let rejection = refusal(&headers, &body).await;
    assert_eq!(rejection, Rejection::MissingHeader("X-Gitea-Event"));
    assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn form_deliveries_are_unsupported() {
    let body = push_body();
    let mut headers = common::headers("push", common::SECRET, &body);
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().expect("header"),
    );
    let rejection = refusal(&headers, &body).await;
    assert_eq!(rejection.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        rejection.to_string().contains("application/json"),
        "{rejection}"
    );
    headers.remove("content-type");
    let rejection = refusal(&headers, &body).await;
    assert_eq!(rejection.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn signed_but_malformed_pushes_are_bad_requests() {
    let cases: [&[u8]; 8] = [
        b"{not json",
        // Valid pushes but for a field this source never reads: RawValue
        // and serde's skipping take them, serde_json's full parser (every
        // consumer) refuses them. The strict parse keeps them out.
        br#"{"ref": "refs/heads/main", "repository": {"full_name": "a/b"}, "pusher": {"login": "x"}, "extra": "\ud800"}"#,
        br#"{"ref": "refs/heads/main", "repository": {"full_name": "a/b"}, "pusher": {"login": "x"}, "size": 1e999}"#,
        b"[\"refs/heads/main\", \"\", 1, [], {\"full_name\": \"a/b\"}, {\"login\": \"x\"}]",
        // An array in place of a nested object, filled by position otherwise.
        br#"{"ref": "refs/heads/main", "repository": ["acme/widgets", ""], "pusher": {"login": "octocat"}}"#,
        br#"{"ref": "refs/heads/main", "pusher": {"login": "octocat"}}"#,
        br#"{"ref": 7, "repository": {"full_name": "acme/widgets"}, "pusher": {"login": "octocat"}}"#,
        b"\xff\xfe",
    ];
    for body in cases {
        let headers = common::headers("push", common::SECRET, body);
        let rejection = refusal(&headers, body).await;
        assert!(
            matches!(rejection, Rejection::Malformed(_)),
            "{}: {rejection:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(rejection.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn other_events_are_accepted_without_notification_but_still_authenticated() {
    let body = br#"{"action": "opened"}"#;
    let source = common::source();
    let door = common::open(source.as_ref(), common::DOOR).expect("door");
    let headers = common::headers("issues", common::SECRET, body);
    let received = common::send(source.as_ref(), &door, &headers, body)
        .await
        .expect("accepted");
    assert_eq!(received.event, "issues");
    assert!(received.notifications.is_empty());
    assert_eq!(received.delivery, None, "no X-Gitea-Delivery was sent");

    let forged = common::headers("issues", "guess", body);
    assert_eq!(refusal(&forged, body).await, Rejection::BadSignature);
}

#[test]
fn doors_need_a_secret_and_never_show_it() {
    let source = common::source();
    let err = common::open(source.as_ref(), "").expect_err("no secret");
    assert_eq!(err.location, "sources.Gitea.doors.acme");
    assert!(err.message.starts_with("no webhook secret"), "{err}");

    let err = common::open(source.as_ref(), "secret = \"singular\"").expect_err("typo");
    assert!(err.message.contains("unknown field `secret`"), "{err}");

    let door = common::open(source.as_ref(), common::DOOR).expect("door");
    assert_eq!(door.described["secrets"], serde_json::json!(["set"]));
    assert!(!door.described.to_string().contains(common::SECRET));
}
