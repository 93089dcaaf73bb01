//! Who may post to a Phabricator door, and what is refused.

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{OpenDoor, Rejection, Request};
use gate_source_phabricator::PhabricatorSource;

const HERALD: &str = r#"{"object":{"type":"TASK","phid":"PHID-TASK-4mxk2ofyzq3vbc7hd5ln"},"triggers":[],"action":{"test":false,"silent":false,"secure":false,"epoch":1764072000},"transactions":[]}"#;
const FEED: &str = "storyID=1&storyType=PhabricatorApplicationTransactionFeedStory&storyData%5BobjectPHID%5D=PHID-TASK-4mxk2ofyzq3vbc7hd5ln&storyAuthorPHID=PHID-USER-x&storyText=octocat+closed+T1.&epoch=1";

fn open(toml_text: &str) -> Result<OpenDoor, gate_core::ConfigError> {
    gate_core::erase(PhabricatorSource).open_door(
        "acme",
        toml::from_str(toml_text).expect("toml"),
        "sources.Phabricator.doors.acme",
    )
}

async fn post(
    door: &OpenDoor,
    content_type: &str,
    headers: &[(&str, &str)],
    query: Option<&str>,
    body: &str,
) -> Result<gate_core::Received, Rejection> {
    let mut map = http::HeaderMap::new();
    if !content_type.is_empty() {
        map.insert("content-type", content_type.parse().expect("header"));
    }
    for (name, value) in headers {
        let name: http::HeaderName = name.parse().expect("name");
        map.insert(name, value.parse().expect("value"));
    }
    let request = Request {
        headers: &map,
        body: body.as_bytes(),
        query,
        peer: None,
    };
    gate_core::erase(PhabricatorSource)
        .receive(&request, door)
        .await
}

fn signed(key: &str, body: &str) -> String {
    sign_hmac_hex(HmacAlgorithm::Sha256, key.as_bytes(), body.as_bytes())
}

const SIG: &str = "X-Phabricator-Webhook-Signature";

#[tokio::test]
async fn herald_signatures_are_required_and_checked() {
    let door = open("hook_key = \"k1\"").expect("door");
    let missing = post(&door, "application/json", &[], None, HERALD)
        .await
        .unwrap_err();
    assert_eq!(missing, Rejection::MissingSignature(SIG));
    assert_eq!(missing.status(), 401);
    let wrong = post(
        &door,
        "application/json",
        &[(SIG, &signed("k2", HERALD))],
        None,
        HERALD,
    )
    .await
    .unwrap_err();
    assert_eq!(wrong, Rejection::BadSignature);
    assert_eq!(wrong.status(), 403);
    let garbage = post(&door, "application/json", &[(SIG, "not-hex")], None, HERALD)
        .await
        .unwrap_err();
    assert_eq!(garbage, Rejection::BadSignature);
    let ok = post(
        &door,
        "application/json",
        &[(SIG, &signed("k1", HERALD))],
        None,
        HERALD,
    )
    .await
    .expect("accepted");
    assert_eq!(ok.notifications[0].kind, "TASK");
    // Without a content type the body's first byte says it is Herald's JSON.
    let sniffed = post(&door, "", &[(SIG, &signed("k1", HERALD))], None, HERALD)
        .await
        .expect("accepted");
    assert_eq!(sniffed.event, "TASK");
}

#[tokio::test]
async fn unsigned_herald_only_when_explicitly_insecure() {
    let door = open("insecure_no_signature = true").expect("door");
    assert!(post(&door, "application/json", &[], None, HERALD)
        .await
        .is_ok());
    let feed_only =
        open("accept_feed_hooks = true\ntoken = \"feed-token-0123456789\"").expect("door");
    let refused = post(&feed_only, "application/json", &[], None, HERALD)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn feed_hooks_need_the_switch_and_the_token() {
    let form = "application/x-www-form-urlencoded";
    let herald_only = open("hook_key = \"k1\"").expect("door");
    let refused = post(&herald_only, form, &[], None, FEED).await.unwrap_err();
    assert_eq!(
        refused,
        Rejection::Forbidden("feed.http-hooks are not accepted on this door".into())
    );

    let door = open("accept_feed_hooks = true\ntoken = \"feed-token-0123456789\"").expect("door");
    let missing = post(&door, form, &[], None, FEED).await.unwrap_err();
    assert_eq!(missing.status(), 401);
    let wrong = post(&door, form, &[], Some("token=feed-token-9876543210"), FEED)
        .await
        .unwrap_err();
    assert_eq!(wrong, Rejection::Forbidden("token does not match".into()));
    let by_query = post(&door, form, &[], Some("token=feed-token-0123456789"), FEED)
        .await
        .expect("accepted");
    assert_eq!(by_query.notifications[0].text, "octocat closed T1.");
    assert!(post(
        &door,
        form,
        &[("X-Gate-Token", "feed-token-0123456789")],
        None,
        FEED
    )
    .await
    .is_ok());

    // Without a token, feed hooks are taken only when the door says insecure.
    let open_feed = open("insecure_no_signature = true\naccept_feed_hooks = true").expect("door");
    assert!(post(&open_feed, form, &[], None, FEED).await.is_ok());
}

#[tokio::test]
async fn malformed_bodies_and_content_types_are_refused() {
    let door = open("insecure_no_signature = true\naccept_feed_hooks = true").expect("door");
    let cases: [(&str, &str, u16); 5] = [
        ("application/json", "{\"object\":", 400),
        ("application/json", "{\"object\":{\"phid\":\"T123\"}}", 400),
        ("application/json", "[1,2]", 400),
        (
            "application/x-www-form-urlencoded",
            "storyID=1&epoch=2",
            400,
        ),
        ("text/xml", "<story/>", 415),
    ];
    for (content_type, body, status) in cases {
        let err = post(&door, content_type, &[], None, body)
            .await
            .unwrap_err();
        assert_eq!(err.status(), status, "{content_type} {body}: {err}");
    }
}

#[test]
fn door_settings_are_checked_and_described_without_secrets() {
    let door = open(
        "hook_key = \"k1\"\nconduit_url = \"https://phab.acme.test\"\nconduit_token = \"api-abc\"",
    )
    .expect("door");
    assert_eq!(door.described["hook_key"], "set");
    assert_eq!(door.described["conduit_token"], "set");
    assert_eq!(door.described["token"], "unset");
    assert_eq!(door.described["cache_ttl_seconds"], 300);
    assert!(!door.described.to_string().contains("api-abc"));

    for (config, message) in [
        ("", "hook_key is required"),
        (
            "hook_key = \"k\"\ntoken = \"feed-token-0123456789\"",
            "token is only used with accept_feed_hooks",
        ),
        (
            "accept_feed_hooks = true\ntoken = \"short\"",
            "token is too short: use at least 16 random characters",
        ),
        (
            "hook_key = \"k\"\naccept_feed_hooks = true",
            "accept_feed_hooks needs a token (or insecure_no_signature = true)",
        ),
        (
            "hook_key = \"k\"\nconduit_url = \"https://phab.acme.test\"",
            "conduit_url needs conduit_token",
        ),
        (
            "hook_key = \"k\"\nconduit_token = \"api-x\"",
            "conduit_token needs conduit_url",
        ),
        (
            "hook_key = \"k\"\nconduit_url = \"phab\"\nconduit_token = \"api-x\"",
            "conduit_url: invalid conduit url",
        ),
        ("hook_key = \"k\"\nhookkey = \"typo\"", "hookkey"),
    ] {
        let err = open(config).unwrap_err();
        assert!(err.message.contains(message), "{config:?}: {err}");
        assert_eq!(err.location, "sources.Phabricator.doors.acme");
    }
}

/// Fuzzing regression: serde fills a struct from a JSON array by position,
/// so `[{"phid": ...}]` was taken as a Herald hook of type TASK.
#[tokio::test]
async fn herald_body_must_be_a_json_object() {
    let door = open("hook_key = \"k1\"").expect("door");
    for body in [
        r#"[{"type":"TASK","phid":"PHID-TASK-4mxk2ofyzq3vbc7hd5ln"}]"#,
        r#" [["TASK","PHID-TASK-4mxk2ofyzq3vbc7hd5ln"],[true]]"#,
        "\"PHID-TASK-x\"",
    ] {
        let refused = post(
            &door,
            "application/json",
            &[(SIG, &signed("k1", body))],
            None,
            body,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&refused, Rejection::Malformed(m) if m.contains("JSON object")),
            "{body}: {refused:?}"
        );
        assert_eq!(refused.status(), 400);
    }
}

/// Fuzzing regression: a lone UTF-16 surrogate escape passed the raw-JSON
/// check and was published as a message serde_json consumers cannot parse.
#[tokio::test]
async fn herald_lone_surrogate_escape_is_400() {
    let door = open("hook_key = \"k1\"").expect("door");
    let body = r#"{"object":{"type":"TASK","phid":"PHID-TASK-4mxk2ofyzq3vbc7hd5ln"},"transactions":[{"phid":"PHID-XACT-TASK-\ud800x"}]}"#;
    let refused = post(
        &door,
        "application/json",
        &[(SIG, &signed("k1", body))],
        None,
        body,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&refused, Rejection::Malformed(m) if m.contains("surrogate") || m.contains("escape")),
        "{refused:?}"
    );
    assert_eq!(refused.status(), 400);
}
