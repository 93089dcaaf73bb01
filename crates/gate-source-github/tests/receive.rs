//! Request checks: headers, content types, signatures, malformed payloads.

mod common;

use common::{accepted, door, headers, open, payload, refused, send, source, SECRET};
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::Rejection;
use http::StatusCode;

const PING: &str = r#"{"zen":"Design for failure.","hook_id":1,"repository":{"full_name":"acme/widgets","html_url":"https://github.com/acme/widgets"},"sender":{"login":"octocat"}}"#;

#[tokio::test]
async fn accepts_a_signed_json_ping() {
    let received = accepted("ping", "application/json", PING.as_bytes()).await;
    assert_eq!(
        received.delivery.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert_eq!(received.event, "ping");
    let [n] = received.notifications.as_slice() else {
        panic!("one notification expected");
    };
    assert_eq!((n.service.as_str(), n.project.as_str()), ("GitHub", "acme"));
    assert_eq!((n.kind.as_str(), n.group.as_str()), ("ping", "default"));
    assert_eq!(n.raw_content.get(), PING);
    assert_eq!(n.link, "https://github.com/acme/widgets/settings/hooks/1");
}

#[tokio::test]
async fn missing_event_or_delivery_header_is_400() {
    let source = source();
    let door = door(source.as_ref());
    for (name, label) in [
        ("x-github-event", "X-GitHub-Event"),
        ("x-github-delivery", "X-GitHub-Delivery"),
    ] {
        let mut h = headers("ping", "application/json", SECRET, PING.as_bytes());
        h.remove(name);
        let err = send(source.as_ref(), &door, &h, PING.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err, Rejection::MissingHeader(label));
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        h.insert(name, "  ".parse().expect("header"));
        let err = send(source.as_ref(), &door, &h, PING.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err, Rejection::MissingHeader(label), "blank {label}");
    }
}

#[tokio::test]
async fn other_or_missing_content_types_are_415() {
    let source = source();
    let door = door(source.as_ref());
    let mut h = headers("ping", "text/plain", SECRET, PING.as_bytes());
    let err = send(source.as_ref(), &door, &h, PING.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err, Rejection::UnsupportedMediaType("text/plain".into()));
    assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    h.remove("content-type");
    let err = send(source.as_ref(), &door, &h, PING.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Parameters and case do not matter.
    h.insert(
        "content-type",
        "Application/JSON; charset=utf-8".parse().expect("header"),
    );
    assert!(send(source.as_ref(), &door, &h, PING.as_bytes())
        .await
        .is_ok());
}

#[tokio::test]
async fn missing_signature_is_401_and_wrong_signature_403() {
    let source = source();
    let door = door(source.as_ref());
    let mut h = headers("ping", "application/json", SECRET, PING.as_bytes());
    h.remove("x-hub-signature-256");
    let err = send(source.as_ref(), &door, &h, PING.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err, Rejection::MissingSignature("X-Hub-Signature-256"));
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);

    let wrong = headers(
        "ping",
        "application/json",
        "not the secret",
        PING.as_bytes(),
    );
    let err = send(source.as_ref(), &door, &wrong, PING.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err, Rejection::BadSignature);
    assert_eq!(err.status(), StatusCode::FORBIDDEN);

    // A body changed after signing fails too.
    let good = headers("ping", "application/json", SECRET, PING.as_bytes());
    let tampered = PING.replace("octocat", "mallory");
    let err = send(source.as_ref(), &door, &good, tampered.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err, Rejection::BadSignature);

    // The right hex under the wrong prefix, and garbage, are refused.
    let hex = sign_hmac_hex(HmacAlgorithm::Sha256, SECRET.as_bytes(), PING.as_bytes());
    for value in [format!("sha1={hex}"), hex.clone(), "sha256=zz".to_owned()] {
        h.insert("x-hub-signature-256", value.parse().expect("header"));
        let err = send(source.as_ref(), &door, &h, PING.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err, Rejection::BadSignature, "{value}");
    }
}

#[tokio::test]
async fn signature_is_checked_before_the_payload_is_parsed() {
    let source = source();
    let door = door(source.as_ref());
    let body = b"{not json";
    let unsigned = headers("push", "application/json", "wrong", body);
    let err = send(source.as_ref(), &door, &unsigned, body)
        .await
        .unwrap_err();
    assert_eq!(err, Rejection::BadSignature);
    let signed = headers("push", "application/json", SECRET, body);
    let err = send(source.as_ref(), &door, &signed, body)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Rejection::Malformed(m) if m.starts_with("payload is not valid JSON")),
        "{err:?}"
    );
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn any_of_several_secrets_verifies() {
    let source = source();
    let door = open(source.as_ref(), r#"secrets = ["old-secret", "new-secret"]"#).expect("door");
    for secret in ["old-secret", "new-secret"] {
        let h = headers("ping", "application/json", secret, PING.as_bytes());
        assert!(
            send(source.as_ref(), &door, &h, PING.as_bytes())
                .await
                .is_ok(),
            "{secret}"
        );
    }
    let h = headers("ping", "application/json", "older-secret", PING.as_bytes());
    assert_eq!(
        send(source.as_ref(), &door, &h, PING.as_bytes())
            .await
            .unwrap_err(),
        Rejection::BadSignature
    );
}

fn sha1_only(secret: &str, body: &[u8]) -> http::HeaderMap {
    let mut h = headers("ping", "application/json", SECRET, body);
    h.remove("x-hub-signature-256");
    let sig = sign_hmac_hex(HmacAlgorithm::Sha1, secret.as_bytes(), body);
    h.insert(
        "x-hub-signature",
        format!("sha1={sig}").parse().expect("header"),
    );
    h
}

#[tokio::test]
async fn sha1_signatures_only_when_the_door_allows_them() {
    let source = source();
    let strict = door(source.as_ref());
    let h = sha1_only(SECRET, PING.as_bytes());
    assert_eq!(
        send(source.as_ref(), &strict, &h, PING.as_bytes())
            .await
            .unwrap_err(),
        Rejection::MissingSignature("X-Hub-Signature-256")
    );
    let legacy = open(
        source.as_ref(),
        &format!("secrets = [{SECRET:?}]\nallow_sha1 = true"),
    )
    .expect("door");
    assert!(send(source.as_ref(), &legacy, &h, PING.as_bytes())
        .await
        .is_ok());
    let wrong = sha1_only("nope", PING.as_bytes());
    assert_eq!(
        send(source.as_ref(), &legacy, &wrong, PING.as_bytes())
            .await
            .unwrap_err(),
        Rejection::BadSignature
    );
    // When both are sent, SHA-256 decides.
    let mut both = sha1_only(SECRET, PING.as_bytes());
    both.insert("x-hub-signature-256", "sha256=00".parse().expect("header"));
    assert_eq!(
        send(source.as_ref(), &legacy, &both, PING.as_bytes())
            .await
            .unwrap_err(),
        Rejection::BadSignature
    );
}

fn form(payload: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", payload)
        .finish()
}

#[tokio::test]
async fn form_bodies_carry_the_payload_and_are_signed_raw() {
    let source = source();
    let door = door(source.as_ref());
    let json = payload("push-one-commit");
    let body = form(&json);
    let received = accepted("push", "application/x-www-form-urlencoded", body.as_bytes()).await;
    let n = &received.notifications[0];
    assert_eq!(n.raw_content.get(), json.trim());
    assert_eq!(
        n.text,
        "octocat pushed 1 commit to main of acme/widgets: Fix rounding of widget prices"
    );

    // Signing the decoded payload instead of the raw body is wrong.
    let h = headers(
        "push",
        "application/x-www-form-urlencoded",
        SECRET,
        json.as_bytes(),
    );
    assert_eq!(
        send(source.as_ref(), &door, &h, body.as_bytes())
            .await
            .unwrap_err(),
        Rejection::BadSignature
    );

    for (body, message) in [
        ("other=1".to_owned(), "form body has no payload field"),
        (form("[1,"), "payload is not valid JSON"),
    ] {
        let h = headers(
            "push",
            "application/x-www-form-urlencoded",
            SECRET,
            body.as_bytes(),
        );
        let err = send(source.as_ref(), &door, &h, body.as_bytes())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Rejection::Malformed(m) if m.starts_with(message)),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn payloads_of_the_wrong_shape_are_malformed_not_panics() {
    for (event, body) in [
        ("push", r#"{"repository":{"full_name":"acme/widgets"}}"#),
        ("push", "[]"),
        ("push", r#"{"ref":7,"repository":{"full_name":"a/b"}}"#),
        ("ping", "\"text\""),
    ] {
        let err = refused(event, body.as_bytes()).await;
        assert!(
            matches!(&err, Rejection::Malformed(m) if m.starts_with(&format!("unexpected {event} payload: "))),
            "{body}: {err:?}"
        );
    }
    let err = refused("push", &[0xff, 0xfe]).await;
    assert_eq!(err, Rejection::Malformed("body is not UTF-8".into()));
}

#[tokio::test]
async fn unknown_events_get_a_generic_text() {
    // An event GitHub may add later: linked to the object it is about.
    let body = r#"{"action":"created","gizmo":{"id":7,"html_url":"https://github.com/acme/widgets/gizmos/7"},"repository":{"full_name":"acme/widgets","html_url":"https://github.com/acme/widgets"},"sender":{"login":"octocat"}}"#;
    let received = accepted("gizmo", "application/json", body.as_bytes()).await;
    let n = &received.notifications[0];
    assert_eq!(n.text, "octocat triggered gizmo (created) on acme/widgets");
    assert_eq!(n.kind, "gizmo");
    assert_eq!(n.link, "https://github.com/acme/widgets/gizmos/7");
    // Among several objects, the one named after the event.
    let body = r#"{"action":"spun","axle":{"html_url":"https://github.com/acme/widgets/axles/1"},"widget_spin":{"html_url":"https://github.com/acme/widgets/spins/3"},"repository":{"full_name":"acme/widgets","html_url":"https://github.com/acme/widgets"}}"#;
    let received = accepted("widget_spin", "application/json", body.as_bytes()).await;
    assert_eq!(
        received.notifications[0].link,
        "https://github.com/acme/widgets/spins/3"
    );
    // A documented event lacking what its text needs: generic too, never refused.
    let body = r#"{"action":"created","repository":{"full_name":"acme/widgets","html_url":"https://github.com/acme/widgets"},"sender":{"login":"octocat"}}"#;
    let received = accepted("deployment_status", "application/json", body.as_bytes()).await;
    let n = &received.notifications[0];
    assert_eq!(
        n.text,
        "octocat triggered deployment_status (created) on acme/widgets"
    );
    assert_eq!(n.link, "https://github.com/acme/widgets");
    let body = "{}";
    let received = accepted("brand_new_event", "application/json", body.as_bytes()).await;
    assert_eq!(
        received.notifications[0].text,
        "someone triggered brand_new_event"
    );
}

#[tokio::test]
async fn doors_need_a_secret_unless_explicitly_insecure() {
    let source = source();
    let err = open(source.as_ref(), "").unwrap_err();
    assert_eq!(err.location, "sources.GitHub.doors.acme");
    assert!(err.message.starts_with("no webhook secret"), "{err}");
    assert!(
        err.message.contains("insecure_no_signature = true"),
        "{err}"
    );
    let err = open(source.as_ref(), "secrets = [\"\"]").unwrap_err();
    assert!(err.message.contains("secret is empty"), "{err}");
    let err = open(source.as_ref(), "secret = \"x\"").unwrap_err();
    assert!(err.message.contains("unknown field `secret`"), "{err}");

    let door = open(source.as_ref(), "insecure_no_signature = true").expect("door");
    let mut h = headers("ping", "application/json", SECRET, PING.as_bytes());
    h.remove("x-hub-signature-256");
    assert!(send(source.as_ref(), &door, &h, PING.as_bytes())
        .await
        .is_ok());

    // With secrets, a signature that is sent must still be right.
    let door = open(
        source.as_ref(),
        &format!("secrets = [{SECRET:?}]\ninsecure_no_signature = true"),
    )
    .expect("door");
    assert!(send(source.as_ref(), &door, &h, PING.as_bytes())
        .await
        .is_ok());
    let wrong = headers("ping", "application/json", "wrong", PING.as_bytes());
    assert_eq!(
        send(source.as_ref(), &door, &wrong, PING.as_bytes())
            .await
            .unwrap_err(),
        Rejection::BadSignature
    );
}

#[tokio::test]
async fn secrets_never_show_in_the_door_description() {
    let source = source();
    let door = open(
        source.as_ref(),
        r#"secrets = ["hunter2", "hunter3"]
admin_group = "admin""#,
    )
    .expect("door");
    assert_eq!(door.described["secrets"], serde_json::json!(["set", "set"]));
    assert_eq!(door.described["allow_sha1"], false);
    assert_eq!(door.described["admin_group"], "admin");
    assert!(!door.described.to_string().contains("hunter"));
}

/// Fuzzing regression: serde fills a struct from a JSON array by position,
/// so a signed `[]` (or `["zen", 1]`) was delivered as an event.
#[tokio::test]
async fn payload_must_be_a_json_object() {
    for (event, body) in [
        ("team_add", "[]"),
        ("ping", r#"["Design for failure.", 1]"#),
        ("push", " [\"refs/heads/main\"] "),
        ("star", "\"octocat\""),
    ] {
        let err = refused(event, body.as_bytes()).await;
        assert_eq!(
            err,
            Rejection::Malformed(format!("unexpected {event} payload: not a JSON object")),
            "{body}"
        );
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
}

/// Fuzzing regression: a lone UTF-16 surrogate escape in a field the event
/// renderer skips passed the raw-JSON check and was published as a message
/// serde_json consumers cannot parse.
#[tokio::test]
async fn a_lone_surrogate_escape_is_malformed() {
    let body = r#"{"zen":"Design for failure.","hook_id":1,"hook":{"note":"\ud800x"},"repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"}}"#;
    let err = refused("ping", body.as_bytes()).await;
    assert!(
        matches!(&err, Rejection::Malformed(m) if m.starts_with("payload is not valid JSON")),
        "{err:?}"
    );
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
}

/// Fuzzing regression: a number out of range in a field the renderer skips
/// passed the raw-JSON check and was published unparseable.
#[tokio::test]
async fn a_number_out_of_range_is_malformed() {
    let body = r#"{"zen":"Design for failure.","hook_id":1,"hook":{"id":181e99902},"repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"}}"#;
    let err = refused("ping", body.as_bytes()).await;
    assert!(
        matches!(&err, Rejection::Malformed(m) if m.contains("number out of range")),
        "{err:?}"
    );
}

/// Fuzzing leftover: serde also fills a nested struct from an array, by
/// position, so `"repository":["acme/widgets"]` made a notification about
/// a repository named by whatever came first.
#[tokio::test]
async fn nested_arrays_in_place_of_objects_are_400() {
    for (event, body, wanted) in [
        (
            "push",
            r#"{"ref":"refs/heads/main","repository":["acme/widgets","https://github.com/acme/widgets"]}"#,
            "struct Repo",
        ),
        (
            "push",
            r#"{"ref":"refs/heads/main","commits":[["c0ffee","fix"]],"repository":{"full_name":"acme/widgets"}}"#,
            "struct Commit",
        ),
        (
            "ping",
            r#"{"hook_id":1,"sender":["octocat"]}"#,
            "struct User",
        ),
        (
            "deployment_status",
            r#"{"action":"created","repository":["acme/widgets"]}"#,
            "struct Repo",
        ),
    ] {
        let err = refused(event, body.as_bytes()).await;
        let prefix =
            format!("unexpected {event} payload: invalid type: sequence, expected {wanted}");
        assert!(
            matches!(&err, Rejection::Malformed(m) if m.starts_with(&prefix)),
            "{body}: {err:?}"
        );
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }
}
