//! What a Phabricator door refuses before the body is read agrees with what
//! it refuses after: the head decides herald signatures' presence and form,
//! feed tokens, and the content type.

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{DynSource, OpenDoor, Rejection, Request};
use gate_source_phabricator::PhabricatorSource;

const HERALD: &str = r#"{"object":{"type":"TASK","phid":"PHID-TASK-4mxk2ofyzq3vbc7hd5ln"},"triggers":[],"action":{"test":false,"silent":false,"secure":false,"epoch":1764072000},"transactions":[]}"#;
const FEED: &str = "storyID=1&storyType=PhabricatorApplicationTransactionFeedStory&storyData%5BobjectPHID%5D=PHID-TASK-4mxk2ofyzq3vbc7hd5ln&storyAuthorPHID=PHID-USER-x&storyText=octocat+closed+T1.&epoch=1";
const KEY: &str = "herald-key";
const TOKEN: &str = "feed-token-0123456789";
const SIG: &str = "x-phabricator-webhook-signature";

fn open(source: &dyn DynSource, toml_text: &str) -> OpenDoor {
    source
        .open_door("acme", toml::from_str(toml_text).expect("toml"), "here")
        .expect("door opens")
}

/// Headers, query, body, and the refusal expected of both checks.
type Case<'a> = (
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
    &'a str,
    Option<Rejection>,
);

/// (precheck, receive) for one request.
async fn both(
    source: &dyn DynSource,
    door: &OpenDoor,
    headers: &[(&str, &str)],
    query: Option<&str>,
    body: &str,
) -> (Result<(), Rejection>, Result<(), Rejection>) {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        let name: http::HeaderName = name.parse().expect("name");
        map.insert(name, value.parse().expect("value"));
    }
    let head = Request {
        headers: &map,
        body: b"",
        query,
        peer: None,
    };
    let full = Request {
        body: body.as_bytes(),
        ..head
    };
    (
        source.precheck(&head, door),
        source.receive(&full, door).await.map(|_| ()),
    )
}

#[tokio::test]
async fn the_head_refuses_what_the_body_could_not_redeem() {
    let source = gate_core::erase(PhabricatorSource);
    let door = open(
        source.as_ref(),
        &format!("hook_key = \"{KEY}\"\naccept_feed_hooks = true\ntoken = \"{TOKEN}\"\n"),
    );
    let good = sign_hmac_hex(HmacAlgorithm::Sha256, KEY.as_bytes(), HERALD.as_bytes());
    let json = ("content-type", "application/json");
    let form = ("content-type", "application/x-www-form-urlencoded");
    let cases: Vec<Case> = vec![
        (vec![json, (SIG, &good)], None, HERALD, None),
        (
            vec![json],
            None,
            HERALD,
            Some(Rejection::MissingSignature(
                "X-Phabricator-Webhook-Signature",
            )),
        ),
        (
            vec![json, (SIG, "nothex")],
            None,
            HERALD,
            Some(Rejection::BadSignature),
        ),
        (vec![form, ("x-gate-token", TOKEN)], None, FEED, None),
        (
            vec![form],
            Some("token=wrong-token-0123456789"),
            FEED,
            Some(Rejection::Forbidden("token does not match".into())),
        ),
        (
            vec![("content-type", "text/plain")],
            None,
            HERALD,
            Some(Rejection::UnsupportedMediaType("text/plain".into())),
        ),
        // No content type: refused only when neither kind could pass.
        (vec![(SIG, &good)], None, HERALD, None),
        (vec![], Some("token=feed-token-0123456789"), FEED, None),
    ];
    for (headers, query, body, refused) in cases {
        let (head, full) = both(source.as_ref(), &door, &headers, query, body).await;
        match &refused {
            Some(rejection) => {
                assert_eq!(head.as_ref().err(), Some(rejection), "{headers:?}");
                assert_eq!(full.as_ref().err(), Some(rejection), "{headers:?}");
            }
            None => {
                assert_eq!(head, Ok(()), "{headers:?}");
                assert_eq!(full, Ok(()), "{headers:?}");
            }
        }
    }
    // A well-formed but wrong signature needs the body: the head lets it by.
    let wrong = "0".repeat(64);
    let (head, full) = both(source.as_ref(), &door, &[json, (SIG, &wrong)], None, HERALD).await;
    assert_eq!((head, full), (Ok(()), Err(Rejection::BadSignature)));
}

#[test]
fn doors_needing_no_credential_are_known() {
    let source = gate_core::erase(PhabricatorSource);
    let anonymous = |toml_text: &str| source.accepts_anonymous(&open(source.as_ref(), toml_text));
    assert!(anonymous("insecure_no_signature = true"));
    assert!(anonymous(
        "insecure_no_signature = true\nhook_key = \"k\"\naccept_feed_hooks = true"
    ));
    assert!(!anonymous("hook_key = \"k\""));
    assert!(!anonymous(&format!(
        "insecure_no_signature = true\nhook_key = \"k\"\naccept_feed_hooks = true\ntoken = \"{TOKEN}\""
    )));
}
