//! What makes two requests the same event: the sender's id, the payload's
//! own identity fields, or an `Idempotency-Key`, always scoped by source and
//! door. Without any, a notification is published every time (a cron job's
//! identical "backup done" twice a day is two events).

mod common;

use std::time::Duration;

use common::amqp::Consumer;
use common::{call, payload, request, unique, Answer, AMQP_URL};
use http::StatusCode;
use serde_json::Value;

const DOCKERHUB_TOKEN: &str = "identity-docker-token-0123";
const JENKINS_TOKEN: &str = "identity-jenkins-token-0123";
const FEED_TOKEN: &str = "identity-feed-token-0123";

struct Fixture {
    gateway: std::sync::Arc<gate_server::Gateway>,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out.jsonl");
        let toml_text = format!(
            r#"
            [server]
            default_sinks = ["local"]

            [sinks.local]
            kind = "file"
            path = {out:?}

            [sources.Notification.doors.cron]
            insecure_no_auth = true
            [sources.Notification.doors.other]
            insecure_no_auth = true
            [sources.DockerHub.doors.acme]
            token = "{DOCKERHUB_TOKEN}"
            [sources.Jenkins.doors.acme]
            token = "{JENKINS_TOKEN}"
            [sources.Phabricator.doors.acme]
            accept_feed_hooks = true
            insecure_no_signature = true
            token = "{FEED_TOKEN}"
            "#
        );
        Self {
            gateway: common::gateway(&toml_text),
            out,
            _dir: dir,
        }
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        call(&self.gateway, request("POST", path, headers, body.to_vec())).await
    }

    /// The `delivery` of every line the file sink wrote.
    fn published(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let value: Value = serde_json::from_str(line).expect("json line");
                value["delivery"].as_str().expect("delivery").to_owned()
            })
            .collect()
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");

fn status_of(answer: &Answer) -> (StatusCode, String) {
    (
        answer.status,
        answer.json()["actions"][0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn delivered() -> (StatusCode, String) {
    (StatusCode::OK, "delivered".into())
}

fn duplicate() -> (StatusCode, String) {
    (StatusCode::OK, "duplicate".into())
}

#[tokio::test]
async fn identical_notifications_without_an_id_are_published_every_time() {
    let fixture = Fixture::new();
    let body = payload("native/minimal.json");
    let first = fixture
        .post("/gate/Notification/cron", &[JSON], &body)
        .await;
    let second = fixture
        .post("/gate/Notification/cron", &[JSON], &body)
        .await;
    assert_eq!(status_of(&first), delivered(), "{}", first.text());
    assert_eq!(status_of(&second), delivered(), "{}", second.text());
    let published = fixture.published();
    assert_eq!(published.len(), 2, "the cron job's second run is an event");
    assert_ne!(published[0], published[1], "each with its own message id");
    assert!(published
        .iter()
        .all(|id| id.starts_with("Notification/cron/")));
}

#[tokio::test]
async fn an_idempotency_key_makes_a_repeat_a_duplicate() {
    let fixture = Fixture::new();
    let body = payload("native/minimal.json");
    let keyed = [JSON, ("idempotency-key", "backup-2026-12-01")];
    let first = fixture.post("/gate/Notification/cron", &keyed, &body).await;
    let again = fixture.post("/gate/Notification/cron", &keyed, &body).await;
    assert_eq!(status_of(&first), delivered(), "{}", first.text());
    assert_eq!(status_of(&again), duplicate(), "{}", again.text());
    assert_eq!(
        first.json()["delivery"],
        "Notification/cron/backup-2026-12-01"
    );
    // The same key at another door is another event.
    let elsewhere = fixture
        .post("/gate/Notification/other", &keyed, &body)
        .await;
    assert_eq!(status_of(&elsewhere), delivered());
    assert_eq!(
        fixture.published(),
        [
            "Notification/cron/backup-2026-12-01",
            "Notification/other/backup-2026-12-01"
        ]
    );

    let empty = fixture
        .post(
            "/gate/Notification/cron",
            &[JSON, ("idempotency-key", " ")],
            &body,
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text());
    assert_eq!(empty.json()["error"]["type"], "bad_idempotency_key");
}

#[tokio::test]
async fn docker_hub_pushes_are_known_by_repository_tag_and_time() {
    let fixture = Fixture::new();
    let path = format!("/gate/DockerHub/acme?token={DOCKERHUB_TOKEN}");
    let body = payload("dockerhub/push-tag.json");
    let text = String::from_utf8(body.clone()).expect("utf-8");
    assert_eq!(
        status_of(&fixture.post(&path, &[JSON], &body).await),
        delivered()
    );
    assert_eq!(
        status_of(&fixture.post(&path, &[JSON], &body).await),
        duplicate()
    );
    let later = text.replace("1764072000", "1764075600");
    assert_eq!(
        status_of(&fixture.post(&path, &[JSON], later.as_bytes()).await),
        delivered(),
        "the same tag pushed again later is a new event"
    );
    assert_eq!(
        fixture.published(),
        [
            "DockerHub/acme/acme/widgets:1.2.0@1764072000",
            "DockerHub/acme/acme/widgets:1.2.0@1764075600"
        ]
    );
}

#[tokio::test]
async fn jenkins_phases_are_known_by_job_number_and_phase() {
    let fixture = Fixture::new();
    let token = [JSON, ("x-gate-token", JENKINS_TOKEN)];
    let started = payload("jenkins/started.json");
    let completed = payload("jenkins/completed-failure.json");
    for (body, expected) in [
        (&started, delivered()),
        (&started, duplicate()),
        (&completed, delivered()),
        (&completed, duplicate()),
    ] {
        let answer = fixture.post("/gate/Jenkins/acme", &token, body).await;
        assert_eq!(status_of(&answer), expected, "{}", answer.text());
    }
    // An explicit Idempotency-Key wins over the inferred identity (a replay).
    let replay = [
        JSON,
        ("x-gate-token", JENKINS_TOKEN),
        ("idempotency-key", "replay-1"),
    ];
    let answer = fixture
        .post("/gate/Jenkins/acme", &replay, &completed)
        .await;
    assert_eq!(status_of(&answer), delivered(), "{}", answer.text());
    assert_eq!(
        fixture.published(),
        [
            "Jenkins/acme/widgets-main#42:STARTED",
            "Jenkins/acme/widgets-main#42:COMPLETED",
            "Jenkins/acme/replay-1"
        ]
    );
}

#[tokio::test]
async fn phabricator_stories_are_known_by_their_id() {
    let fixture = Fixture::new();
    let path = format!("/gate/Phabricator/acme?token={FEED_TOKEN}");
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let story = payload("phabricator/feed_task.form");
    let text = String::from_utf8(story.clone()).expect("utf-8");
    assert_eq!(
        status_of(&fixture.post(&path, &form, &story).await),
        delivered()
    );
    assert_eq!(
        status_of(&fixture.post(&path, &form, &story).await),
        duplicate()
    );
    let next = text.replace("storyID=48211", "storyID=48212");
    assert_eq!(
        status_of(&fixture.post(&path, &form, next.as_bytes()).await),
        delivered()
    );
    assert_eq!(
        fixture.published(),
        [
            "Phabricator/acme/story:48211",
            "Phabricator/acme/story:48212"
        ]
    );
}

/// Over RabbitMQ: the same body with the same sender id to two doors is two
/// messages with two ids, so a consumer dropping repeated ids keeps both.
#[tokio::test]
async fn the_same_event_at_two_doors_has_two_message_ids() {
    let exchange = unique("test.identity.doors");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let gateway = common::gateway(&format!(
        r#"
        [sinks.rabbit]
        kind = "amqp"
        url = "{AMQP_URL}"
        exchange = "{exchange}"
        confirm_timeout_ms = 3000

        [sources.Notification]
        sinks = ["rabbit"]
        [sources.Notification.doors.a]
        insecure_no_auth = true
        [sources.Notification.doors.b]
        insecure_no_auth = true
        "#
    ));
    let body = payload("native/minimal.json");
    let headers = [JSON, ("x-gate-delivery", "nightly-1")];
    for door in ["a", "b"] {
        let answer = call(
            &gateway,
            request(
                "POST",
                &format!("/gate/Notification/{door}"),
                &headers,
                body.clone(),
            ),
        )
        .await;
        assert_eq!(status_of(&answer), delivered(), "{}", answer.text());
    }
    let mut ids: Vec<String> = consumer
        .drain(Duration::from_secs(1))
        .await
        .iter()
        .filter_map(|m| m.properties.message_id().as_ref().map(|id| id.to_string()))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["Notification/a/nightly-1", "Notification/b/nightly-1"]
    );
    gateway.close().await;
    consumer.delete().await;
}
