//! Authentication, delivery ids and payload checks of the native source.

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{DynSource, OpenDoor, Received, Rejection, Request};
use gate_source_native::Native;
use http::{HeaderMap, StatusCode};

const TOKEN: &str = "native-bearer-token-0123456789";
const OLD_TOKEN: &str = "native-old-token-abcdefghij";
const KEY: &str = "hmac-key-current";
const OLD_KEY: &str = "hmac-key-previous";
const BODY: &str = r#"{"service":"Deployer","group":"ops","type":"deploy.finished","text":"deployed","link":"https://deploy.acme.example/1"}"#;

fn open(toml_text: &str) -> Result<(Box<dyn DynSource>, OpenDoor), String> {
    let source = gate_core::erase(Native);
    let table: toml::Table = toml::from_str(toml_text).expect("toml");
    let door = source
        .open_door("acme", table, "sources.Notification.doors.acme")
        .map_err(|e| e.to_string())?;
    Ok((source, door))
}

fn door(toml_text: &str) -> (Box<dyn DynSource>, OpenDoor) {
    open(toml_text).expect("door opens")
}

fn signed_door() -> (Box<dyn DynSource>, OpenDoor) {
    door(&format!("secrets = [\"{KEY}\", \"{OLD_KEY}\"]"))
}

fn token_door() -> (Box<dyn DynSource>, OpenDoor) {
    door(&format!("tokens = [\"{TOKEN}\", \"{OLD_TOKEN}\"]"))
}

fn both_door() -> (Box<dyn DynSource>, OpenDoor) {
    door(&format!("secrets = [\"{KEY}\"]\ntokens = [\"{TOKEN}\"]"))
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("value"));
    for (name, value) in pairs {
        headers.insert(*name, value.parse().expect("value"));
    }
    headers
}

fn signature(key: &str, body: &str) -> String {
    format!(
        "sha256={}",
        sign_hmac_hex(HmacAlgorithm::Sha256, key.as_bytes(), body.as_bytes())
    )
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn post(
    door: &(Box<dyn DynSource>, OpenDoor),
    headers: &HeaderMap,
    body: &str,
) -> Result<Received, Rejection> {
    let request = Request {
        headers,
        body: body.as_bytes(),
        query: None,
        peer: None,
    };
    door.0.receive(&request, &door.1).await
}

fn status(result: &Result<Received, Rejection>) -> StatusCode {
    match result {
        Ok(_) => StatusCode::OK,
        Err(rejection) => rejection.status(),
    }
}

#[tokio::test]
async fn hmac_signature_with_any_configured_secret_is_accepted() {
    let door = signed_door();
    for key in [KEY, OLD_KEY] {
        let h = headers(&[("x-gate-signature", signature(key, BODY))]);
        let received = post(&door, &h, BODY).await.expect("accepted");
        let n = &received.notifications[0];
        assert_eq!(
            (n.service.as_str(), n.group.as_str(), n.kind.as_str()),
            ("Deployer", "ops", "deploy.finished")
        );
        assert_eq!(n.project, "acme", "project defaults to the door");
        assert_eq!(n.text, "deployed");
        assert_eq!(n.link, "https://deploy.acme.example/1");
        assert_eq!(n.raw_content.get(), BODY);
        assert_eq!(received.event, "deploy.finished");
    }
}

#[tokio::test]
async fn bad_missing_or_misformatted_signatures_are_refused() {
    let door = signed_door();
    let missing = post(&door, &headers(&[]), BODY).await;
    assert_eq!(
        missing.unwrap_err(),
        Rejection::MissingSignature("X-Gate-Signature")
    );
    let tampered = BODY.replace("ops", "dev");
    let h = headers(&[("x-gate-signature", signature(KEY, BODY))]);
    assert_eq!(
        post(&door, &h, &tampered).await.unwrap_err(),
        Rejection::BadSignature
    );
    for wrong in [
        signature("not-the-key", BODY),
        signature(KEY, BODY).replace("sha256=", ""),
        signature(KEY, BODY).replace("sha256=", "sha1="),
        "sha256=zz".to_owned(),
    ] {
        let h = headers(&[("x-gate-signature", wrong.clone())]);
        let result = post(&door, &h, BODY).await;
        assert_eq!(status(&result), StatusCode::FORBIDDEN, "{wrong}");
    }
    // A bearer token means nothing to a door that has only HMAC secrets.
    let h = headers(&[("authorization", bearer(TOKEN))]);
    assert_eq!(
        status(&post(&door, &h, BODY).await),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bearer_tokens_rotate_and_are_checked() {
    let door = token_door();
    for token in [TOKEN, OLD_TOKEN] {
        let h = headers(&[("authorization", bearer(token))]);
        assert_eq!(status(&post(&door, &h, BODY).await), StatusCode::OK);
    }
    let h = headers(&[("authorization", bearer("native-bearer-token-012345678X"))]);
    assert_eq!(
        post(&door, &h, BODY).await.unwrap_err(),
        Rejection::Forbidden("token does not match".into())
    );
    for h in [
        headers(&[]),
        headers(&[("authorization", format!("Basic {TOKEN}"))]),
        headers(&[("x-gate-signature", signature(KEY, BODY))]),
    ] {
        let result = post(&door, &h, BODY).await;
        assert!(
            matches!(result, Err(Rejection::Unauthorized(_))),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn with_both_kinds_either_suffices_but_what_is_presented_must_be_right() {
    let door = both_door();
    let sig = signature(KEY, BODY);
    let ok = [
        headers(&[("x-gate-signature", sig.clone())]),
        headers(&[("authorization", bearer(TOKEN))]),
        headers(&[
            ("x-gate-signature", sig.clone()),
            ("authorization", bearer(TOKEN)),
        ]),
    ];
    for h in &ok {
        assert_eq!(status(&post(&door, h, BODY).await), StatusCode::OK);
    }
    let wrong = [
        headers(&[
            ("x-gate-signature", sig.clone()),
            ("authorization", bearer(OLD_TOKEN)),
        ]),
        headers(&[
            ("x-gate-signature", signature(OLD_KEY, BODY)),
            ("authorization", bearer(TOKEN)),
        ]),
    ];
    for h in &wrong {
        assert_eq!(status(&post(&door, h, BODY).await), StatusCode::FORBIDDEN);
    }
    let none = post(&door, &headers(&[]), BODY).await;
    assert_eq!(status(&none), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn insecure_door_takes_anything_authentic_or_not() {
    let door = door("insecure_no_auth = true");
    assert_eq!(
        status(&post(&door, &headers(&[]), BODY).await),
        StatusCode::OK
    );
    assert_eq!(door.1.described["insecure_no_auth"], true);
}

#[tokio::test]
async fn authentication_comes_before_content_checks() {
    let door = token_door();
    let mut form = HeaderMap::new();
    form.insert("content-type", "text/plain".parse().expect("value"));
    assert_eq!(
        status(&post(&door, &form, "junk").await),
        StatusCode::UNAUTHORIZED
    );
    form.insert("authorization", bearer(TOKEN).parse().expect("value"));
    assert_eq!(
        post(&door, &form, BODY).await.unwrap_err(),
        Rejection::UnsupportedMediaType("text/plain".into())
    );
}

#[tokio::test]
async fn delivery_id_comes_from_its_header() {
    let door = token_door();
    let auth = ("authorization", bearer(TOKEN));
    let h = headers(&[auth.clone(), ("x-gate-delivery", " 7f3c2a1e-0b4d ".into())]);
    let received = post(&door, &h, BODY).await.expect("accepted");
    assert_eq!(received.delivery.as_deref(), Some("7f3c2a1e-0b4d"));
    let received = post(&door, &headers(std::slice::from_ref(&auth)), BODY)
        .await
        .expect("accepted");
    assert_eq!(received.delivery, None);

    let long = "x".repeat(201);
    let h = headers(&[auth.clone(), ("x-gate-delivery", long)]);
    assert_eq!(
        post(&door, &h, BODY).await.unwrap_err(),
        Rejection::Malformed("X-Gate-Delivery is longer than 200 characters".into())
    );
    let h = headers(&[auth.clone(), ("x-gate-delivery", "  ".into())]);
    assert_eq!(
        status(&post(&door, &h, BODY).await),
        StatusCode::BAD_REQUEST
    );
    let mut h = headers(&[auth]);
    h.insert(
        "x-gate-delivery",
        http::HeaderValue::from_bytes(b"caf\xc3\xa9").expect("value"),
    );
    assert_eq!(
        status(&post(&door, &h, BODY).await),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn payload_fields_are_taken_as_sent() {
    let door = door(&format!(
        "tokens = [\"{TOKEN}\"]\ndefault_group = \"mapped\"\n[[groups]]\ngroup = \"mapped-too\"\nkeywords = [\"deployed\"]"
    ));
    let h = headers(&[("authorization", bearer(TOKEN))]);
    let body = r#"{"service":"S","group":"ops","type":"t","project":"widgets","text":"deployed","link":null,"extra":1,"rawContent":  { "keep" : "spacing" } }"#;
    let n = post(&door, &h, body)
        .await
        .expect("accepted")
        .notifications
        .remove(0);
    assert_eq!(
        n.group, "ops",
        "the payload's group wins over the door's rules"
    );
    assert_eq!(n.project, "widgets");
    assert_eq!(n.link, "");
    assert_eq!(n.raw_content.get(), r#"{ "keep" : "spacing" }"#);

    let body = r#"{"service":"S","group":"ops","type":"t","project":"","rawContent":null}"#;
    let n = post(&door, &h, body)
        .await
        .expect("accepted")
        .notifications
        .remove(0);
    assert_eq!(n.project, "acme", "an empty project falls back to the door");
    assert_eq!(
        n.raw_content.get(),
        body,
        "null rawContent means the whole body"
    );
}

#[tokio::test]
async fn malformed_bodies_name_the_problem() {
    let door = token_door();
    let h = headers(&[("authorization", bearer(TOKEN))]);
    let cases = [
        (r#"{"group":"g","type":"t"}"#, "missing field `service`"),
        (r#"{"service":"s","type":"t"}"#, "missing field `group`"),
        (r#"{"service":"s","group":"g"}"#, "missing field `type`"),
        (
            r#"{"service":"s","group":"g","type":null}"#,
            "missing field `type`",
        ),
        (
            r#"{"service":"s","group":"g","type":" "}"#,
            "empty field `type`",
        ),
        (
            r#"{"service":"s","group":"g","type":7}"#,
            "invalid notification: invalid type",
        ),
        (r#"{"service":"s""#, "invalid notification: EOF"),
        ("\"just a string\"", "must be a JSON object"),
    ];
    for (body, wanted) in cases {
        match post(&door, &h, body).await {
            Err(Rejection::Malformed(message)) => {
                assert!(message.contains(wanted), "{body}: {message}")
            }
            other => panic!("{body}: {other:?}"),
        }
    }
    let request = Request {
        headers: &h,
        body: b"{\"service\":\"\xff\"}",
        query: None,
        peer: None,
    };
    assert_eq!(
        door.0.receive(&request, &door.1).await.unwrap_err(),
        Rejection::Malformed("body is not UTF-8".into())
    );
}

#[test]
fn door_settings_are_validated() {
    let cases = [
        ("", "secrets or tokens are required"),
        (
            "secrets = []\ntokens = []",
            "secrets or tokens are required",
        ),
        (
            "secrets = [\"k\"]\ninsecure_no_auth = true",
            "insecure_no_auth = true contradicts",
        ),
        (
            &format!("tokens = [\"{TOKEN}\", \"short\"]"),
            "tokens[1] is too short",
        ),
        ("secret = [\"k\"]", "secret"),
    ];
    for (toml_text, wanted) in cases {
        let err = open(toml_text).err().expect("door refused");
        assert!(
            err.starts_with("sources.Notification.doors.acme: ") && err.contains(wanted),
            "{toml_text:?}: {err}"
        );
    }
    // An HMAC key never travels, so a short one is allowed.
    assert!(open("secrets = [\"k\"]").is_ok());
}

#[test]
fn described_door_hides_secrets_and_tokens() {
    let (_, door) = both_door();
    assert_eq!(door.described["secrets"], serde_json::json!(["set"]));
    assert_eq!(door.described["tokens"], serde_json::json!(["set"]));
    let text = door.described.to_string();
    assert!(!text.contains(KEY) && !text.contains(TOKEN), "{text}");
}

/// Fuzzing regression: a lone UTF-16 surrogate escape passed the raw-JSON
/// check and was published as a message serde_json consumers cannot parse.
#[tokio::test]
async fn a_lone_surrogate_escape_is_400() {
    let door = signed_door();
    let body = r#"{"service":"Deployer","group":"ops","type":"deploy","rawContent":{"environment":"\ud800pr"}}"#;
    let headers = headers(&[("x-gate-signature", signature(KEY, body))]);
    let refused = post(&door, &headers, body).await.unwrap_err();
    assert!(
        matches!(&refused, Rejection::Malformed(m) if m.contains("surrogate") || m.contains("escape")),
        "{refused:?}"
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

/// A notification has no nested struct, but arrays must still not pass for
/// its text fields, while `rawContent` may hold anything, arrays included.
#[tokio::test]
async fn arrays_are_refused_as_fields_but_kept_as_raw_content() {
    let door = signed_door();
    let body = r#"{"service":["Deployer","x"],"group":"ops","type":"deploy"}"#;
    let headers_for = |body: &str| headers(&[("x-gate-signature", signature(KEY, body))]);
    let refused = post(&door, &headers_for(body), body).await.unwrap_err();
    assert!(
        matches!(&refused, Rejection::Malformed(m) if m.contains("invalid notification: invalid type: sequence")),
        "{refused:?}"
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    let body =
        r#"{"service":"Deployer","group":"ops","type":"deploy","rawContent":[{"env":["prod"]},2]}"#;
    let received = post(&door, &headers_for(body), body)
        .await
        .expect("accepted");
    assert_eq!(
        received.notifications[0].raw_content.get(),
        r#"[{"env":["prod"]},2]"#
    );
}
