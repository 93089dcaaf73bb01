//! The Docker Hub sink against a local server that answers like both Docker
//! Hub trigger endpoints.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gate_conduit::test_server::{Recorded, Reply, TestServer};
use gate_core::RawContent;
use gate_core::{Action, ActionStatus, Envelope, Notification, Sink, SinkFactory};
use gate_sink_dockerhub::{DockerHubSinkConfig, DockerHubSinkFactory};
use serde_json::{json, Value};

const SOURCE: &str = "5c3f0a2e-8d1b-4b7e-9a6c-2f4e8d1b3a5c";
const TRIGGER: &str = "a7d9e2c4-1b3f-4e6a-8c0d-9f2b4d6e8a1c";
const OTHER_SOURCE: &str = "0e4b8c2a-6f1d-4a3e-b5c7-9d2f4a6c8e0b";
const OTHER_TRIGGER: &str = "d2f6a8c0-3e5b-4d7f-91a3-c5e7b9d1f3a5";
const TOKEN: &str = "3f7a1c9e-legacy-token-5b2d8e4a";

/// Answers like Docker Hub: known triggers are accepted, anything else is
/// a 404, as for a deleted or mistyped trigger.
async fn docker_hub() -> TestServer {
    TestServer::start(|request| answer(request, 200))
        .await
        .expect("server")
}

fn answer(request: &Recorded, ok: u16) -> Reply {
    let path = request.uri.path();
    let known_build = [(SOURCE, TRIGGER), (OTHER_SOURCE, OTHER_TRIGGER)]
        .iter()
        .any(|(s, t)| path == format!("/api/build/v1/source/{s}/trigger/{t}/call/"));
    let known_legacy = path == format!("/u/acme/widgets/trigger/{TOKEN}/");
    if request.method != http::Method::POST {
        Reply::status(405)
    } else if known_build {
        Reply::json(&json!({"state": "Pending", "build_tag": "latest"})).with_status(ok)
    } else if known_legacy {
        Reply::status(ok).with_body("OK")
    } else {
        Reply::json(&json!({"detail": "Not found."})).with_status(404)
    }
}

fn push_payload(repository: &str, reference: &str, deleted: bool) -> String {
    json!({
        "ref": reference,
        "before": "0000000000000000000000000000000000000000",
        "after": "1111111111111111111111111111111111111111",
        "deleted": deleted,
        "repository": {"full_name": repository, "clone_url": format!("https://github.com/{repository}.git")},
        "head_commit": {"id": "1111111", "message": "Build me"}
    })
    .to_string()
}

fn envelope(source: &str, event: &str, raw: &str, delivery: &str) -> Envelope {
    Envelope {
        delivery: delivery.into(),
        source: source.into(),
        door: "acme".into(),
        event: event.into(),
        received_at: 0,
        notification: Notification {
            service: source.into(),
            project: "acme".into(),
            group: "docker".into(),
            raw_content: RawContent::from_string(raw.into()).expect("raw"),
            kind: event.into(),
            text: String::new(),
            link: String::new(),
        },
    }
}

fn push(repository: &str, reference: &str) -> Envelope {
    envelope(
        "GitHub",
        "push",
        &push_payload(repository, reference, false),
        "delivery-1",
    )
}

fn config(toml_text: &str) -> DockerHubSinkConfig {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("config: {e}"))
}

fn sink(toml_text: &str) -> Arc<dyn Sink> {
    DockerHubSinkFactory::build("dockerhub", config(toml_text))
        .unwrap_or_else(|e| panic!("sink: {e}"))
}

fn build_error(toml_text: &str) -> String {
    match DockerHubSinkFactory::build("dockerhub", config(toml_text)) {
        Ok(sink) => panic!("must be refused: {sink:?}"),
        Err(e) => e.to_string(),
    }
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path.display().to_string()
}

/// The production file as Salt renders it.
fn production_triggers(dir: &Path) -> String {
    write(
        dir,
        "DockerHubTriggers.json",
        &json!({
            "acme/widgets": {"source": SOURCE, "trigger": TRIGGER},
            "acme/gadgets": {"source": OTHER_SOURCE, "trigger": OTHER_TRIGGER}
        }),
    )
}

/// Nothing in a report may carry a credential.
fn assert_no_secret(text: &str) {
    for secret in [SOURCE, TRIGGER, OTHER_SOURCE, OTHER_TRIGGER, TOKEN] {
        assert!(!text.contains(secret), "a credential leaked: {text}");
    }
}

fn shown(action: &Action) -> String {
    serde_json::to_string(action).expect("action json")
}

#[tokio::test]
async fn production_triggers_file_calls_the_build_trigger_api() {
    let hub = docker_hub().await;
    let dir = tempfile::tempdir().expect("dir");
    let sink = sink(&format!(
        "triggers_file = {:?}\nbase_url = \"{}\"",
        production_triggers(dir.path()),
        hub.url()
    ));
    let action = sink.deliver(&push("acme/widgets", "refs/heads/main")).await;
    assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
    assert_eq!(action.action, "dockerhub");
    assert_eq!(action.target, "acme/widgets");
    assert_eq!(
        action.routing_key.as_deref(),
        Some("acme.docker.github.push")
    );
    assert_no_secret(&shown(&action));

    let requests = hub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, http::Method::POST);
    assert_eq!(
        requests[0].uri.path(),
        format!("/api/build/v1/source/{SOURCE}/trigger/{TRIGGER}/call/")
    );
    // No body: Docker Hub runs every build rule, as the original did.
    assert!(requests[0].body.is_empty());

    // GitHub names are case-insensitive; the map is looked up the same way.
    let other = sink.deliver(&push("ACME/Gadgets", "refs/tags/v2.0")).await;
    assert_eq!(other.status, ActionStatus::Delivered, "{other:?}");
    assert_eq!(other.target, "acme/gadgets");
    assert_eq!(
        hub.requests()[1].uri.path(),
        format!("/api/build/v1/source/{OTHER_SOURCE}/trigger/{OTHER_TRIGGER}/call/")
    );
    let stats = sink.stats();
    assert!(stats.contains(&("builds_triggered", 2)), "{stats:?}");
    assert!(stats.contains(&("images_mapped", 2)), "{stats:?}");
}

#[tokio::test]
async fn legacy_tokens_file_calls_the_legacy_trigger_api() {
    let hub = docker_hub().await;
    let dir = tempfile::tempdir().expect("dir");
    let tokens = write(
        dir.path(),
        "DockerHubTokens.json",
        &json!({"acme/widgets": TOKEN}),
    );
    let sink = sink(&format!(
        "tokens_file = {tokens:?}\nlegacy_base_url = \"{}/\"",
        hub.url()
    ));
    let action = sink.deliver(&push("acme/widgets", "refs/heads/dev")).await;
    assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
    assert_eq!(action.target, "acme/widgets");
    let request = &hub.requests()[0];
    assert_eq!(
        request.uri.path(),
        format!("/u/acme/widgets/trigger/{TOKEN}/")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&request.body).expect("json");
    assert_eq!(body, json!({"build": true}));
}

#[tokio::test]
async fn filters_choose_the_images_and_send_ref_names_the_ref() {
    let hub = docker_hub().await;
    let sink = sink(&format!(
        r#"
        base_url = "{url}"
        legacy_base_url = "{url}"
        [[triggers."acme/widgets"]]
        source = "{SOURCE}"
        trigger = "{TRIGGER}"
        branches = ["main", "release/*"]
        send_ref = true
        [[triggers."acme/widgets"]]
        image = "acme/widgets-docs"
        source = "{OTHER_SOURCE}"
        trigger = "{OTHER_TRIGGER}"
        tags = ["v*"]
        [tokens."acme/widgets"]
        token = "{TOKEN}"
        tags = ["v*"]
        send_ref = true
        "#,
        url = hub.url()
    ));
    let main = sink.deliver(&push("acme/widgets", "refs/heads/main")).await;
    assert_eq!(main.status, ActionStatus::Delivered, "{main:?}");
    assert_eq!(main.target, "acme/widgets");
    let first = &hub.requests()[0];
    assert_eq!(
        serde_json::from_slice::<Value>(&first.body).expect("json"),
        json!({"source_type": "Branch", "source_name": "main"})
    );

    let tag = sink.deliver(&push("acme/widgets", "refs/tags/v1.2")).await;
    assert_eq!(tag.status, ActionStatus::Delivered, "{tag:?}");
    assert_eq!(tag.target, "acme/widgets-docs, acme/widgets");
    let mut paths: Vec<String> = hub.requests()[1..]
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            format!("/api/build/v1/source/{OTHER_SOURCE}/trigger/{OTHER_TRIGGER}/call/"),
            format!("/u/acme/widgets/trigger/{TOKEN}/"),
        ]
    );
    let legacy = hub
        .requests()
        .into_iter()
        .find(|r| r.uri.path().starts_with("/u/"))
        .expect("legacy call");
    assert_eq!(
        serde_json::from_slice::<Value>(&legacy.body).expect("json"),
        json!({"source_type": "Tag", "source_name": "v1.2"})
    );

    let feature = sink
        .deliver(&push("acme/widgets", "refs/heads/feature/x"))
        .await;
    assert_eq!(feature.status, ActionStatus::Skipped);
    assert_eq!(
        feature.error.expect("reason").message,
        "branch feature/x of acme/widgets matches no branch or tag filter"
    );
    assert_eq!(hub.requests().len(), 3, "a filtered push calls nothing");
}

#[tokio::test]
async fn other_events_unmapped_and_deleted_refs_are_skipped_with_a_reason() {
    let hub = docker_hub().await;
    let dir = tempfile::tempdir().expect("dir");
    let sink = sink(&format!(
        "triggers_file = {:?}\nbase_url = \"{}\"",
        production_triggers(dir.path()),
        hub.url()
    ));
    let raw = push_payload("acme/widgets", "refs/heads/main", false);
    let cases = [
        (
            envelope("GitHub", "issues", &raw, "d"),
            "docker hub",
            "only github pushes trigger builds",
        ),
        (
            envelope("DockerHub", "push", &raw, "d"),
            "docker hub",
            "only github pushes trigger builds",
        ),
        (
            push("acme/elsewhere", "refs/heads/main"),
            "acme/elsewhere",
            "acme/elsewhere has no docker hub image",
        ),
        (
            envelope(
                "GitHub",
                "push",
                &push_payload("acme/widgets", "refs/heads/old", true),
                "d",
            ),
            "acme/widgets",
            "branch old was deleted: nothing to build",
        ),
        (
            envelope("GitHub", "push", r#"{"ref":"refs/heads/main"}"#, "d"),
            "docker hub",
            "push payload has no repository.full_name",
        ),
    ];
    for (envelope, target, reason) in cases {
        let action = sink.deliver(&envelope).await;
        assert_eq!(action.status, ActionStatus::Skipped, "{action:?}");
        assert_eq!(action.target, target);
        assert_eq!(action.error.expect("reason").message, reason);
    }
    assert!(hub.requests().is_empty(), "no call for skipped events");
}

#[tokio::test]
async fn a_wrong_trigger_is_a_failure_naming_the_image_not_the_ids() {
    let hub = docker_hub().await;
    let sink = sink(&format!(
        "base_url = \"{url}\"\nlegacy_base_url = \"{url}\"\n\
         [triggers]\n\"acme/widgets\" = {{ source = \"{SOURCE}\", trigger = \"{OTHER_TRIGGER}\" }}\n\
         [tokens]\n\"acme/gadgets\" = \"{TOKEN}\"",
        url = hub.url()
    ));
    let action = sink.deliver(&push("acme/widgets", "refs/heads/main")).await;
    assert_eq!(action.status, ActionStatus::Failed);
    assert_eq!(action.target, "acme/widgets");
    let error = action.error.clone().expect("error");
    assert_eq!(error.kind, "http_status");
    assert_eq!(
        error.message,
        "acme/widgets: docker hub answered http 404 Not Found (wrong or revoked trigger?)"
    );
    assert_no_secret(&shown(&action));

    // The legacy endpoint, for an image it does not know.
    let legacy = sink.deliver(&push("acme/gadgets", "refs/heads/main")).await;
    assert_eq!(legacy.status, ActionStatus::Failed);
    assert_eq!(
        hub.requests()[1].uri.path(),
        format!("/u/acme/gadgets/trigger/{TOKEN}/")
    );
    assert_no_secret(&shown(&legacy));
    assert!(sink.stats().contains(&("trigger_failures", 2)));
}

#[tokio::test]
async fn server_errors_timeouts_and_refused_connections_fail_within_the_timeout() {
    let failing = TestServer::start(|request| answer(request, 503))
        .await
        .expect("server");
    let slow = TestServer::start(|request| answer(request, 200).after(Duration::from_secs(5)))
        .await
        .expect("server");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let cases = [
        (
            failing.url(),
            "http_status",
            "acme/widgets: docker hub answered http 503 Service Unavailable",
        ),
        (
            slow.url(),
            "timeout",
            "acme/widgets: no answer within 300 ms",
        ),
        (
            format!("http://{closed}"),
            "connect",
            "acme/widgets: cannot connect: ",
        ),
    ];
    for (url, kind, message) in cases {
        let sink = sink(&format!(
            "base_url = \"{url}\"\ntimeout_ms = 300\n\
             [triggers]\n\"acme/widgets\" = {{ source = \"{SOURCE}\", trigger = \"{TRIGGER}\" }}"
        ));
        let started = Instant::now();
        let action = sink.deliver(&push("acme/widgets", "refs/heads/main")).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(action.status, ActionStatus::Failed, "{url}: {action:?}");
        let error = action.error.clone().expect("error");
        assert_eq!(error.kind, kind, "{url}");
        assert!(error.message.starts_with(message), "{}", error.message);
        assert_no_secret(&shown(&action));
    }
    assert_eq!(failing.requests().len(), 1);
    assert_eq!(slow.requests().len(), 1);
}

#[tokio::test]
async fn a_retry_after_a_partial_failure_triggers_only_the_missing_images() {
    // The second image's trigger fails once, then works.
    let calls = AtomicUsize::new(0);
    let hub = TestServer::start(move |request| {
        if request.uri.path().contains(OTHER_SOURCE) && calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::status(500);
        }
        answer(request, 200)
    })
    .await
    .expect("server");
    let sink = sink(&format!(
        r#"
        base_url = "{url}"
        [triggers]
        "acme/widgets" = [
          {{ source = "{SOURCE}", trigger = "{TRIGGER}" }},
          {{ image = "acme/widgets-slim", source = "{OTHER_SOURCE}", trigger = "{OTHER_TRIGGER}" }},
        ]
        "#,
        url = hub.url()
    ));
    let envelope = push("acme/widgets", "refs/heads/main");
    let first = sink.deliver(&envelope).await;
    assert_eq!(first.status, ActionStatus::Failed);
    assert_eq!(first.target, "acme/widgets, acme/widgets-slim");
    assert_eq!(
        first.error.expect("error").message,
        "acme/widgets-slim: docker hub answered http 500 Internal Server Error"
    );
    assert_eq!(hub.requests().len(), 2);

    // The spool redelivers the same envelope: only the failed image is called.
    let again = sink.deliver(&envelope).await;
    assert_eq!(again.status, ActionStatus::Delivered, "{again:?}");
    let requests = hub.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[2].uri.path().contains(OTHER_SOURCE));

    // Once complete, the same delivery id (a manual redelivery) builds all.
    assert_eq!(
        sink.deliver(&envelope).await.status,
        ActionStatus::Delivered
    );
    assert_eq!(hub.requests().len(), 5);
}

#[test]
fn configuration_is_checked_without_network_and_shown_without_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let triggers = production_triggers(dir.path());
    let tokens = write(
        dir.path(),
        "DockerHubTokens.json",
        &json!({"acme/foo": TOKEN}),
    );
    let config = config(&format!(
        "triggers_file = {triggers:?}\ntokens_file = {tokens:?}\n\
         [triggers]\n\"acme/inline\" = {{ source = \"{SOURCE}\", trigger = \"{TRIGGER}\", branches = [\"main\"] }}\n\
         [tokens]\n\"acme/old\" = \"{TOKEN}\""
    ));
    let described = serde_json::to_value(&config).expect("describe");
    assert_no_secret(&described.to_string());
    assert_eq!(described["triggers"]["acme/inline"][0]["source"], "set");
    assert_eq!(
        described["triggers"]["acme/inline"][0]["branches"],
        json!(["main"])
    );
    assert_eq!(described["tokens"]["acme/old"][0]["api"], "legacy");
    assert_eq!(described["base_url"], "https://hub.docker.com");
    assert_eq!(described["timeout_ms"], 5000);
    // Building reads the files, and nothing else: no network is needed.
    let sink = DockerHubSinkFactory::build("dockerhub", config).expect("sink");
    assert!(sink.stats().contains(&("images_mapped", 5)));
    assert_no_secret(&format!("{sink:?}"));

    let missing = dir.path().join("absent.json");
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        format!("{{\"acme/widgets\": {{\"source\": \"{SOURCE}\","),
    )
    .expect("write");
    let wrong_id = write(
        dir.path(),
        "wrong.json",
        &json!({"acme/widgets": {"source": format!("{SOURCE}/x"), "trigger": TRIGGER}}),
    );
    let cases = [
        (String::new(), "no map: set triggers_file (DockerHubTriggers.json), tokens_file (DockerHubTokens.json), triggers or tokens".to_owned()),
        (format!("triggers_file = {missing:?}"), format!("triggers_file {}: cannot read: No such file or directory (os error 2)", missing.display())),
        (format!("triggers_file = {broken:?}"), format!("triggers_file {}: not valid JSON: EOF while parsing a value at line 1 column {}", broken.display(), 31 + SOURCE.len())),
        (format!("tokens_file = {wrong_id:?}"), format!("tokens_file {wrong_id}: \"acme/widgets\": \"source\" and \"trigger\" are the DockerHubTriggers.json format (triggers_file or triggers), here a token is expected")),
        (format!("triggers_file = {wrong_id:?}"), format!("triggers_file {wrong_id}: \"acme/widgets\".source: must be letters, digits, '-', '_' or '.' (it goes into the URL)")),
        (format!("triggers_file = {triggers:?}\nbase_url = \"ftp://hub\""), "base_url: must start with http:// or https://".to_owned()),
        (format!("triggers_file = {triggers:?}\ntimeout_ms = 0"), "timeout_ms must be greater than 0".to_owned()),
    ];
    for (text, expected) in cases {
        let error = build_error(&text);
        assert_eq!(error, expected);
        assert_no_secret(&error);
    }
    let unknown = toml::from_str::<DockerHubSinkConfig>("trigger_file = \"x\"").expect_err("typo");
    assert!(
        unknown.to_string().contains("unknown field `trigger_file`"),
        "{unknown}"
    );
    let inline = toml::from_str::<DockerHubSinkConfig>(&format!(
        "[triggers]\n\"acme/widgets\" = {{ source = \"{SOURCE}\" }}"
    ))
    .expect_err("missing trigger");
    assert!(
        inline
            .to_string()
            .contains("triggers: \"acme/widgets\": missing \"trigger\""),
        "{inline}"
    );
    assert_no_secret(&inline.to_string());
}
