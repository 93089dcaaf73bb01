//! Every way a Jenkins request is refused or filtered, and the door
//! settings that decide it.

use gate_core::{DynSource, OpenDoor, Rejection, Request};
use gate_source_jenkins::Jenkins;
use http::{HeaderMap, StatusCode};

const TOKEN: &str = "jenkins-door-token-0123456789";

/// What the Notification plugin sends for the job `full` (`folder/job`):
/// the short name in `name`, the folders only in the URLs.
fn body(full: &str, phase: &str, status: Option<&str>) -> String {
    let status = status.map_or(String::new(), |s| format!(r#","status":"{s}""#));
    let name = full.rsplit('/').next().unwrap_or(full);
    let path: String = full.split('/').map(|s| format!("job/{s}/")).collect();
    format!(
        r#"{{"name":"{name}","display_name":"{name}","url":"{path}","build":{{"full_url":"https://jenkins.acme.example/{path}9/","number":9,"phase":"{phase}","url":"{path}9/"{status}}}}}"#
    )
}

fn open(toml_text: &str) -> Result<(Box<dyn DynSource>, OpenDoor), String> {
    let source = gate_core::erase(Jenkins);
    let table: toml::Table = toml::from_str(toml_text).expect("toml");
    let door = source
        .open_door("acme", table, "sources.Jenkins.doors.acme")
        .map_err(|e| e.to_string())?;
    Ok((source, door))
}

fn door(extra: &str) -> (Box<dyn DynSource>, OpenDoor) {
    open(&format!("token = \"{TOKEN}\"\n{extra}")).expect("door opens")
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("value"));
    for (name, value) in pairs {
        headers.insert(*name, value.parse().expect("value"));
    }
    headers
}

async fn receive(
    source: &dyn DynSource,
    door: &OpenDoor,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &str,
) -> Result<gate_core::Received, Rejection> {
    let request = Request {
        headers,
        body: body.as_bytes(),
        query,
        peer: None,
    };
    source.receive(&request, door).await
}

fn status(result: &Result<gate_core::Received, Rejection>) -> StatusCode {
    match result {
        Ok(_) => StatusCode::OK,
        Err(rejection) => rejection.status(),
    }
}

#[tokio::test]
async fn token_may_come_from_header_bearer_or_query() {
    let (source, door) = door("");
    let failure = body("widgets-main", "COMPLETED", Some("FAILURE"));
    let bearer = format!("Bearer {TOKEN}");
    let query = format!("token={TOKEN}");
    let ways = [
        (headers(&[("x-gate-token", TOKEN)]), None),
        (headers(&[("authorization", &bearer)]), None),
        (headers(&[]), Some(query.as_str())),
    ];
    for (headers, query) in &ways {
        let received = receive(source.as_ref(), &door, headers, *query, &failure)
            .await
            .expect("accepted");
        assert_eq!(received.notifications.len(), 1);
        assert_eq!(received.notifications[0].kind, "completed.failure");
        assert_eq!(
            received.notifications[0].text,
            "Build #9 of widgets-main: FAILURE"
        );
        assert_eq!(
            received.notifications[0].link,
            "https://jenkins.acme.example/job/widgets-main/9/"
        );
        assert_eq!(
            received.delivery.as_deref(),
            Some("widgets-main#9:COMPLETED"),
            "the build's own identity"
        );
    }
}

#[tokio::test]
async fn missing_token_is_401_and_wrong_token_403() {
    let (source, door) = door("");
    let started = body("widgets-main", "STARTED", None);
    let none = receive(source.as_ref(), &door, &headers(&[]), None, &started).await;
    assert!(matches!(none, Err(Rejection::Unauthorized(_))), "{none:?}");
    // Basic credentials are not a token.
    let basic = headers(&[("authorization", "Basic dXNlcjpwYXNz")]);
    let result = receive(source.as_ref(), &door, &basic, None, &started).await;
    assert_eq!(status(&result), StatusCode::UNAUTHORIZED);
    for (headers, query) in [
        (headers(&[("x-gate-token", "nope")]), None),
        (
            headers(&[("authorization", "Bearer jenkins-door-token-012345678")]),
            None,
        ),
        (headers(&[]), Some("token=jenkins-door-token-0123456789x")),
    ] {
        let result = receive(source.as_ref(), &door, &headers, query, &started).await;
        assert_eq!(
            result.unwrap_err(),
            Rejection::Forbidden("token does not match".into())
        );
    }
}

#[tokio::test]
async fn insecure_door_needs_no_token() {
    let (source, door) = open("insecure_no_token = true").expect("opens");
    let started = body("widgets-main", "STARTED", None);
    let received = receive(source.as_ref(), &door, &headers(&[]), None, &started)
        .await
        .expect("accepted");
    assert_eq!(received.notifications[0].kind, "started");
    assert_eq!(door.described["token"], "unset");
    assert_eq!(door.described["insecure_no_token"], true);
}

#[tokio::test]
async fn xml_is_415_and_bad_bodies_are_400() {
    let (source, door) = door("");
    let mut xml = headers(&[("x-gate-token", TOKEN)]);
    xml.insert("content-type", "application/xml".parse().expect("value"));
    let result = receive(source.as_ref(), &door, &xml, None, "<build/>").await;
    assert_eq!(
        result.unwrap_err(),
        Rejection::UnsupportedMediaType("application/xml".into())
    );
    let authed = headers(&[("x-gate-token", TOKEN)]);
    for bad in [
        "{",
        "[]",
        r#"["w", {"phase":"STARTED"}]"#,
        r#"{"build":{"phase":"STARTED"}}"#,
        r#"{"name":"w"}"#,
        r#"{"name":"w","build":{"phase":"STARTED","number":"nine"}}"#,
    ] {
        let result = receive(source.as_ref(), &door, &authed, None, bad).await;
        assert!(
            matches!(result, Err(Rejection::Malformed(_))),
            "{bad}: {result:?}"
        );
    }
    let request = Request {
        headers: &authed,
        body: b"\xff",
        query: None,
        peer: None,
    };
    assert_eq!(
        source.receive(&request, &door).await.unwrap_err(),
        Rejection::Malformed("body is not UTF-8".into())
    );
}

#[tokio::test]
async fn only_failures_keeps_unsuccessful_finished_builds() {
    let (source, door) = door(r#"only_failures = ["nightly-*", "release/{a,b}"]"#);
    let authed = headers(&[("x-gate-token", TOKEN)]);
    let cases = [
        ("nightly-db", "QUEUED", None, 0),
        ("nightly-db", "STARTED", None, 0),
        ("nightly-db", "COMPLETED", Some("SUCCESS"), 0),
        ("nightly-db", "FINALIZED", Some("SUCCESS"), 0),
        ("nightly-db", "COMPLETED", Some("FAILURE"), 1),
        ("nightly-db", "COMPLETED", Some("UNSTABLE"), 1),
        ("nightly-db", "FINALIZED", Some("ABORTED"), 1),
        ("nightly-db", "COMPLETED", Some("NOT_BUILT"), 1),
        // Folder jobs match on their last segment too.
        ("ops/nightly-db", "COMPLETED", Some("SUCCESS"), 0),
        ("release/a", "STARTED", None, 0),
        // Other jobs report everything.
        ("widgets-main", "STARTED", None, 1),
        ("widgets-main", "COMPLETED", Some("SUCCESS"), 1),
    ];
    for (job, phase, result, expected) in cases {
        let received = receive(
            source.as_ref(),
            &door,
            &authed,
            None,
            &body(job, phase, result),
        )
        .await
        .expect("accepted, even when filtered");
        assert_eq!(
            received.notifications.len(),
            expected,
            "{job} {phase} {result:?}"
        );
        assert_eq!(
            received.event,
            match result {
                Some(r) => format!("{phase}.{r}").to_lowercase(),
                None => phase.to_lowercase(),
            }
        );
    }
}

#[tokio::test]
async fn the_first_success_after_a_failure_is_reported_as_back_to_normal() {
    let (source, door) = door(r#"only_failures = ["nightly-*"]"#);
    let authed = headers(&[("x-gate-token", TOKEN)]);
    // (job, phase, result, notified text or None when filtered)
    let cases = [
        ("nightly-db", "COMPLETED", Some("SUCCESS"), None),
        (
            "nightly-db",
            "COMPLETED",
            Some("FAILURE"),
            Some("Build #9 of nightly-db: FAILURE"),
        ),
        (
            "nightly-db",
            "FINALIZED",
            Some("FAILURE"),
            Some("Build #9 of nightly-db finalized: FAILURE"),
        ),
        // Jobs are tracked apart.
        ("nightly-web", "COMPLETED", Some("SUCCESS"), None),
        ("nightly-db", "STARTED", None, None),
        // Passes the only_failures filter: whoever saw the failure sees the fix.
        (
            "nightly-db",
            "COMPLETED",
            Some("SUCCESS"),
            Some("Build #9 of nightly-db: SUCCESS, back to normal after FAILURE"),
        ),
        ("nightly-db", "FINALIZED", Some("SUCCESS"), None),
        ("nightly-db", "COMPLETED", Some("SUCCESS"), None),
        // A job without the filter gets the same wording.
        (
            "widgets",
            "COMPLETED",
            Some("UNSTABLE"),
            Some("Build #9 of widgets: UNSTABLE"),
        ),
        (
            "widgets",
            "COMPLETED",
            Some("SUCCESS"),
            Some("Build #9 of widgets: SUCCESS, back to normal after UNSTABLE"),
        ),
    ];
    for (job, phase, result, expected) in cases {
        let received = receive(
            source.as_ref(),
            &door,
            &authed,
            None,
            &body(job, phase, result),
        )
        .await
        .expect("accepted");
        let texts: Vec<&str> = received
            .notifications
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(texts, Vec::from_iter(expected), "{job} {phase} {result:?}");
        if let Some(notification) = received.notifications.first() {
            // The type stays `<phase>.<status>`: consumers' bindings hold.
            assert_eq!(notification.kind, received.event);
        }
    }
}

#[tokio::test]
async fn group_comes_from_the_mapping_on_the_job_name() {
    let (source, door) = door(
        r#"default_group = "builds"
        [[groups]]
        group = "deploy"
        repositories = ["*-deploy"]
        [[groups]]
        group = "alerts"
        keywords = ["failure"]"#,
    );
    let authed = headers(&[("x-gate-token", TOKEN)]);
    for (job, result, group) in [
        ("prod-deploy", "SUCCESS", "deploy"),
        ("widgets", "FAILURE", "alerts"),
        // The fix's text names the failure, so it follows it to `alerts`.
        ("widgets", "SUCCESS", "alerts"),
        ("gadgets", "SUCCESS", "builds"),
    ] {
        let received = receive(
            source.as_ref(),
            &door,
            &authed,
            None,
            &body(job, "COMPLETED", Some(result)),
        )
        .await
        .expect("accepted");
        assert_eq!(received.notifications[0].group, group, "{job} {result}");
        assert_eq!(received.notifications[0].project, "acme");
    }
}

/// Multibranch projects all have a `main` job: the plugin's `name` alone
/// would mix them in the text, the rules, the filter and the memory.
#[tokio::test]
async fn folder_and_multibranch_jobs_are_known_by_their_full_name() {
    let (source, door) = door(
        r#"only_failures = ["platform/*/PR-*"]
        [[groups]]
        group = "platform"
        repositories = ["platform/*"]"#,
    );
    let authed = headers(&[("x-gate-token", TOKEN)]);
    let send = |job: &'static str, phase: &'static str, result: Option<&'static str>| {
        let body = body(job, phase, result);
        let (source, door, authed) = (&source, &door, &authed);
        async move {
            receive(source.as_ref(), door, authed, None, &body)
                .await
                .expect("accepted")
        }
    };
    let failed = send("platform/gateway/main", "COMPLETED", Some("FAILURE")).await;
    let n = &failed.notifications[0];
    assert_eq!(n.text, "Build #9 of platform/gateway/main: FAILURE");
    assert_eq!(n.group, "platform");
    // Another project's main never failed: a plain success, not a fix.
    let other = send("tools/linter/main", "COMPLETED", Some("SUCCESS")).await;
    assert_eq!(
        other.notifications[0].text,
        "Build #9 of tools/linter/main: SUCCESS"
    );
    assert_eq!(other.notifications[0].group, "ci");
    // Same build number and phase, other project: not a duplicate.
    assert_eq!(
        failed.delivery.as_deref(),
        Some("platform/gateway/main#9:COMPLETED")
    );
    assert_eq!(
        other.delivery.as_deref(),
        Some("tools/linter/main#9:COMPLETED")
    );
    let fixed = send("platform/gateway/main", "COMPLETED", Some("SUCCESS")).await;
    assert_eq!(
        fixed.notifications[0].text,
        "Build #9 of platform/gateway/main: SUCCESS, back to normal after FAILURE"
    );
    // The filter sees the full name: pull requests of platform projects only.
    let pr = send("platform/gateway/PR-12", "COMPLETED", Some("SUCCESS")).await;
    assert!(pr.notifications.is_empty());
    let pr = send("platform/gateway/PR-12", "COMPLETED", Some("FAILURE")).await;
    assert_eq!(
        pr.notifications[0].text,
        "Build #9 of platform/gateway/PR-12: FAILURE"
    );
    let elsewhere = send("tools/linter/PR-3", "COMPLETED", Some("SUCCESS")).await;
    assert_eq!(elsewhere.notifications.len(), 1);
}

#[test]
fn door_settings_are_validated() {
    let cases = [
        ("", "token is required"),
        ("token = \"tiny\"", "token is too short"),
        (
            &format!("token = \"{TOKEN}\"\ninsecure_no_token = true"),
            "token and insecure_no_token = true contradict each other",
        ),
        (
            &format!("token = \"{TOKEN}\"\nonly_failures = [\"nightly-[\"]"),
            "only_failures: bad glob \"nightly-[\"",
        ),
        (
            &format!("token = \"{TOKEN}\"\nonly_failure = []"),
            "only_failure",
        ),
    ];
    for (toml_text, wanted) in cases {
        let err = open(toml_text).err().expect("door refused");
        assert!(
            err.starts_with("sources.Jenkins.doors.acme: ") && err.contains(wanted),
            "{toml_text:?}: {err}"
        );
        assert!(!err.contains(TOKEN), "{err}");
    }
}

#[test]
fn described_door_hides_the_token() {
    let (_, door) = door("only_failures = [\"nightly-*\"]");
    assert_eq!(door.described["token"], "set");
    assert_eq!(door.described["only_failures"][0], "nightly-*");
    assert!(!door.described.to_string().contains(TOKEN));
}

/// Fuzzing regression: a lone UTF-16 surrogate escape passed the raw-JSON
/// check and was published as a message serde_json consumers cannot parse.
#[tokio::test]
async fn a_lone_surrogate_escape_is_400() {
    let (source, door) = door("");
    let headers = headers(&[("x-gate-token", TOKEN)]);
    let body = r#"{"name":"widgets-main","build":{"phase":"STARTED","log":"\udc00 done"}}"#;
    let refused = receive(source.as_ref(), &door, &headers, None, body)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Rejection::Malformed(m) if m.contains("surrogate") || m.contains("escape")),
        "{refused:?}"
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

/// Fuzzing leftover: serde also fills a nested struct from an array, by
/// position, so `"build":["COMPLETED","FAILURE"]` was read as a failed build.
#[tokio::test]
async fn a_nested_array_in_place_of_an_object_is_400() {
    let (source, door) = door("");
    let headers = headers(&[("x-gate-token", TOKEN)]);
    for body in [
        r#"{"name":"widgets-main","build":["COMPLETED","FAILURE"]}"#,
        r#"{"name":"widgets-main","build":{"phase":"STARTED","scm":["main","c0ffee"]}}"#,
    ] {
        let refused = receive(source.as_ref(), &door, &headers, None, body)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, Rejection::Malformed(m) if m.contains("invalid type: sequence, expected struct")),
            "{body}: {refused:?}"
        );
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
}
