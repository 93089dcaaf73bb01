//! One end-to-end test per source against the real RabbitMQ on
//! 127.0.0.1:5672: a sample body from `payloads/<source>/` is posted with the
//! source's own authentication to a running gate-server, and the notification
//! is read back from the broker. A last test forwards to a local HTTP server
//! through the `http` sink and checks its signature. Every test uses its own
//! exchange, so they run in parallel on the shared broker.

mod common;

use std::time::Duration;

use common::amqp::Consumer;
use common::{github_headers, github_signature, payload, unique, Running, AMQP_URL};
use gate_conduit::test_server::{Reply, TestServer};
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use http::StatusCode;
use lapin::types::AMQPValue;
use serde_json::Value;

/// What the consumer must find in the one message a request publishes.
struct Expected<'a> {
    routing_key: &'a str,
    /// AMQP headers `source`, `door`, `event`.
    source: &'a str,
    door: &'a str,
    event: &'a str,
    /// The message id: `<Source>/<door>/` and the sender's delivery id, or
    /// else the payload's own identity.
    message_id: &'a str,
    service: &'a str,
    project: &'a str,
    group: &'a str,
    kind: &'a str,
    text: &'a str,
    link: &'a str,
}

/// A gate-server whose doors (`doors`, TOML with `sinks = ["rabbit"]`)
/// deliver to an AMQP sink on a fresh exchange, with a consumer bound to it.
struct Rig {
    server: Running,
    consumer: Consumer,
    exchange: String,
}

impl Rig {
    async fn start(prefix: &str, doors: &str) -> Self {
        let exchange = unique(prefix);
        let consumer = Consumer::bind(&exchange, "#").await;
        let config = format!(
            r#"
            [sinks.rabbit]
            kind = "amqp"
            url = "{AMQP_URL}"
            exchange = "{exchange}"
            confirm_timeout_ms = 3000
            connect_timeout_ms = 1000
            {doors}
            "#
        );
        let server = Running::start(common::gateway(&config)).await;
        Self {
            server,
            consumer,
            exchange,
        }
    }

    /// Post, expect 200 with one delivered action, read the message back
    /// and check it against `expected`; returns the notification JSON.
    async fn deliver(
        &mut self,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
        expected: &Expected<'_>,
    ) -> Value {
        let answer = self.server.post(path, headers, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let report = answer.json();
        assert_eq!(report["delivery"], expected.message_id, "{report}");
        assert_eq!(report["actions"].as_array().map(Vec::len), Some(1));
        assert_eq!(report["actions"][0]["status"], "delivered", "{report}");
        assert_eq!(report["actions"][0]["routingKey"], expected.routing_key);

        let message = self
            .consumer
            .next(Duration::from_secs(5))
            .await
            .expect("one message on the exchange");
        assert_eq!(message.routing_key.as_str(), expected.routing_key);
        let properties = &message.properties;
        assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
        assert_eq!(
            properties.message_id().as_ref().map(|m| m.as_str()),
            Some(expected.message_id)
        );
        let amqp_headers = properties.headers().as_ref().expect("headers");
        let header = |key: &str| match amqp_headers.inner().get(key) {
            Some(AMQPValue::LongString(value)) => value.to_string(),
            other => panic!("header {key}: {other:?}"),
        };
        assert_eq!(
            (header("source"), header("door"), header("event")),
            (
                expected.source.to_owned(),
                expected.door.to_owned(),
                expected.event.to_owned()
            )
        );

        let notification: Value = serde_json::from_slice(&message.data).expect("json body");
        assert_seven_keys(&notification);
        assert_eq!(notification["service"], expected.service);
        assert_eq!(notification["project"], expected.project);
        assert_eq!(notification["group"], expected.group);
        assert_eq!(notification["type"], expected.kind);
        assert_eq!(notification["text"], expected.text);
        assert_eq!(notification["link"], expected.link);
        assert!(
            self.consumer
                .next(Duration::from_millis(300))
                .await
                .is_none(),
            "exactly one message"
        );
        notification
    }

    async fn stop(self) {
        assert!(!self.exchange.is_empty());
        self.server.stop().await;
        self.consumer.delete().await;
    }
}

fn assert_seven_keys(notification: &Value) {
    let mut keys: Vec<&str> = notification
        .as_object()
        .expect("notification is an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "group",
            "link",
            "project",
            "rawContent",
            "service",
            "text",
            "type"
        ]
    );
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("sample payload is JSON")
}

fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

const GITHUB_SECRET: &str = "e2e-github-secret";

#[tokio::test]
async fn github_merged_pull_request_reaches_the_exchange() {
    let mut rig = Rig::start(
        "test.e2e.github",
        &format!(
            r#"
            [sources.GitHub.doors.acme]
            sinks = ["rabbit"]
            secrets = ["an-old-secret", "{GITHUB_SECRET}"]
            [[sources.GitHub.doors.acme.groups]]
            group = "web"
            repositories = ["widgets"]
            "#
        ),
    )
    .await;
    let body = payload("github/pull-request-merged.json");
    let delivery = "8a6811de-2978-52b5-a109-133b0c18119a";
    let headers = github_headers(
        "pull_request",
        delivery,
        &github_signature(GITHUB_SECRET, &body),
    );
    let notification = rig
        .deliver(
            "/gate/GitHub/acme",
            &headers,
            body.clone(),
            &Expected {
                routing_key: "acme.web.github.pull_request",
                source: "GitHub",
                door: "acme",
                event: "pull_request",
                message_id: &format!("GitHub/acme/{delivery}"),
                service: "GitHub",
                project: "acme",
                group: "web",
                kind: "pull_request",
                text: "octocat merged pull request #42 in acme/widgets: Add the colour picker",
                link: "https://github.com/acme/widgets/pull/42",
            },
        )
        .await;
    assert_eq!(notification["rawContent"], json_of(&body));
    rig.stop().await;
}

const DOCKERHUB_TOKEN: &str = "dockerhub-e2e-token-0123456789";

#[tokio::test]
async fn dockerhub_push_with_a_token_reaches_the_exchange() {
    let mut rig = Rig::start(
        "test.e2e.dockerhub",
        &format!(
            r#"
            [sources.DockerHub.doors.acme]
            sinks = ["rabbit"]
            token = "{DOCKERHUB_TOKEN}"
            allow_ips = ["127.0.0.0/8", "::1"]
            "#
        ),
    )
    .await;
    let body = payload("dockerhub/push-tag.json");
    let headers = owned(&[("content-type", "application/json")]);
    let notification = rig
        .deliver(
            &format!("/gate/DockerHub/acme?token={DOCKERHUB_TOKEN}"),
            &headers,
            body.clone(),
            &Expected {
                routing_key: "acme.docker.dockerhub.push",
                source: "DockerHub",
                door: "acme",
                event: "push",
                // Repository, tag and push time.
                message_id: "DockerHub/acme/acme/widgets:1.2.0@1764072000",
                service: "DockerHub",
                project: "acme",
                group: "docker",
                kind: "push",
                text: "octocat pushed acme/widgets:1.2.0 to Docker Hub",
                link: "https://hub.docker.com/r/acme/widgets",
            },
        )
        .await;
    assert_eq!(notification["rawContent"], json_of(&body));
    rig.stop().await;
}

const JENKINS_TOKEN: &str = "jenkins-e2e-token-0123456789";

#[tokio::test]
async fn jenkins_failed_build_reaches_the_exchange() {
    let mut rig = Rig::start(
        "test.e2e.jenkins",
        &format!(
            r#"
            [sources.Jenkins.doors.acme]
            sinks = ["rabbit"]
            token = "{JENKINS_TOKEN}"
            only_failures = ["widgets-*"]
            [[sources.Jenkins.doors.acme.groups]]
            group = "widgets"
            repositories = ["widgets-*"]
            "#
        ),
    )
    .await;
    let body = payload("jenkins/completed-failure.json");
    let bearer = format!("Bearer {JENKINS_TOKEN}");
    let headers = owned(&[
        ("content-type", "application/json"),
        ("authorization", &bearer),
    ]);
    let notification = rig
        .deliver(
            "/gate/Jenkins/acme",
            &headers,
            body.clone(),
            &Expected {
                // The `.` of `completed.failure` cannot add a routing segment.
                routing_key: "acme.widgets.jenkins.completed_failure",
                source: "Jenkins",
                door: "acme",
                event: "completed.failure",
                // Job, build number and phase.
                message_id: "Jenkins/acme/widgets-main#42:COMPLETED",
                service: "Jenkins",
                project: "acme",
                group: "widgets",
                kind: "completed.failure",
                text: "Build #42 of widgets-main: FAILURE (main @ c6d86dc)",
                link: "https://jenkins.acme.example/job/widgets-main/42/",
            },
        )
        .await;
    assert_eq!(notification["rawContent"], json_of(&body));
    rig.stop().await;
}

const NATIVE_KEY: &str = "native-e2e-hmac-key";

#[tokio::test]
async fn native_notification_signed_with_hmac_reaches_the_exchange() {
    let mut rig = Rig::start(
        "test.e2e.native",
        &format!(
            r#"
            [sources.Notification.doors.acme]
            sinks = ["rabbit"]
            secrets = ["{NATIVE_KEY}"]
            "#
        ),
    )
    .await;
    let body = payload("native/deploy-finished.json");
    let signature = format!(
        "sha256={}",
        sign_hmac_hex(HmacAlgorithm::Sha256, NATIVE_KEY.as_bytes(), &body)
    );
    let delivery = unique("deploy");
    let headers = owned(&[
        ("content-type", "application/json"),
        ("x-gate-signature", &signature),
        ("x-gate-delivery", &delivery),
    ]);
    let notification = rig
        .deliver(
            "/gate/Notification/acme",
            &headers,
            body.clone(),
            &Expected {
                routing_key: "widgets.ops.deployer.deploy_finished",
                source: "Notification",
                door: "acme",
                event: "deploy.finished",
                message_id: &format!("Notification/acme/{delivery}"),
                service: "Deployer",
                project: "widgets",
                group: "ops",
                kind: "deploy.finished",
                text: "octocat deployed widgets 1.2.0 to production",
                link: "https://deploy.acme.example/widgets/releases/1.2.0",
            },
        )
        .await;
    // The posted rawContent is forwarded, not the whole body.
    assert_eq!(notification["rawContent"], json_of(&body)["rawContent"]);
    rig.stop().await;
}

const HOOK_KEY: &str = "phabricator-e2e-hook-key";
const FEED_TOKEN: &str = "phabricator-e2e-feed-token";

fn phabricator_doors() -> String {
    format!(
        r#"
        [sources.Phabricator.doors.acme]
        sinks = ["rabbit"]
        hook_key = "{HOOK_KEY}"
        accept_feed_hooks = true
        token = "{FEED_TOKEN}"
        default_group = "phabricator"
        [[sources.Phabricator.doors.acme.groups]]
        group = "auth"
        keywords = ["login"]
        "#
    )
}

#[tokio::test]
async fn phabricator_signed_herald_webhook_reaches_the_exchange() {
    let mut rig = Rig::start("test.e2e.herald", &phabricator_doors()).await;
    let body = payload("phabricator/herald_task.json");
    let signature = sign_hmac_hex(HmacAlgorithm::Sha256, HOOK_KEY.as_bytes(), &body);
    let headers = owned(&[
        ("content-type", "application/json"),
        ("x-phabricator-webhook-signature", &signature),
    ]);
    let notification = rig
        .deliver(
            "/gate/Phabricator/acme",
            &headers,
            body.clone(),
            &Expected {
                routing_key: "acme.phabricator.phabricator.task",
                source: "Phabricator",
                door: "acme",
                event: "TASK",
                // The object and its transactions.
                message_id: "Phabricator/acme/PHID-TASK-4mxk2ofyzq3vbc7hd5ln:PHID-XACT-TASK-ssv5tdkyi2oxbcq,PHID-XACT-TASK-fq6d3jg5yq4wz3x",
                service: "Phabricator",
                project: "acme",
                group: "phabricator",
                kind: "TASK",
                // No Conduit configured: what the hook says by itself.
                text: "Task PHID-TASK-4mxk2ofyzq3vbc7hd5ln updated \
                       (2 transactions, Herald rule PHID-HRUL-7w2lq6nhxtgd4kp3ubea)",
                link: "",
            },
        )
        .await;
    assert_eq!(notification["rawContent"], json_of(&body));

    // The same door refuses the hook signed with another key.
    let forged = sign_hmac_hex(HmacAlgorithm::Sha256, b"not-the-hook-key", &body);
    let headers = owned(&[
        ("content-type", "application/json"),
        ("x-phabricator-webhook-signature", &forged),
    ]);
    let answer = rig
        .server
        .post("/gate/Phabricator/acme", &headers, body)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    assert!(rig
        .consumer
        .next(Duration::from_millis(300))
        .await
        .is_none());
    rig.stop().await;
}

#[tokio::test]
async fn phabricator_feed_story_form_reaches_the_exchange() {
    let mut rig = Rig::start("test.e2e.feed", &phabricator_doors()).await;
    let body = payload("phabricator/feed_task.form");
    let headers = owned(&[("content-type", "application/x-www-form-urlencoded")]);
    let notification = rig
        .deliver(
            &format!("/gate/Phabricator/acme?token={FEED_TOKEN}"),
            &headers,
            body,
            &Expected {
                routing_key: "acme.auth.phabricator.task",
                source: "Phabricator",
                door: "acme",
                event: "TASK",
                message_id: "Phabricator/acme/story:48211",
                service: "Phabricator",
                project: "acme",
                // The keyword rule matches "Login" in the story text.
                group: "auth",
                kind: "TASK",
                text: "octocat created T123: Login page rejects valid passwords.",
                link: "",
            },
        )
        .await;
    // The form arrives as a JSON object, storyData nested.
    assert_eq!(
        notification["rawContent"]["storyData"]["objectPHID"],
        "PHID-TASK-4mxk2ofyzq3vbc7hd5ln"
    );
    assert_eq!(notification["rawContent"]["storyID"], "48211");
    rig.stop().await;
}

const FORWARD_KEY: &str = "forward-e2e-signing-key";

#[tokio::test]
async fn http_sink_forwards_a_signed_notification_to_a_local_server() {
    let receiver = TestServer::start(|_| Reply::status(204))
        .await
        .expect("test server");
    let config = format!(
        r#"
        [sinks.forward]
        kind = "http"
        url = "{}/hooks/ci"
        secret = "{FORWARD_KEY}"
        headers = {{ "X-Team" = "ci" }}
        timeout_ms = 2000
        retries = 0

        [sources.GitHub.doors.acme]
        sinks = ["forward"]
        secrets = ["{GITHUB_SECRET}"]
        "#,
        receiver.url()
    );
    let server = Running::start(common::gateway(&config)).await;
    let body = payload("github/pull-request-merged.json");
    let delivery = unique("forward");
    let headers = github_headers(
        "pull_request",
        &delivery,
        &github_signature(GITHUB_SECRET, &body),
    );
    let answer = server.post("/gate/GitHub/acme", &headers, body).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["actions"][0]["action"], "http");
    assert_eq!(report["actions"][0]["status"], "delivered", "{report}");
    assert_eq!(
        report["actions"][0]["routingKey"],
        "acme.default.github.pull_request"
    );

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "one forward, no retry");
    let forward = &requests[0];
    assert_eq!(forward.method, http::Method::POST);
    assert_eq!(forward.uri.path(), "/hooks/ci");
    assert_eq!(forward.header("content-type"), Some("application/json"));
    assert_eq!(
        forward.header("x-gate-delivery"),
        Some(format!("GitHub/acme/{delivery}").as_str())
    );
    assert_eq!(forward.header("x-gate-source"), Some("GitHub"));
    assert_eq!(forward.header("x-gate-event"), Some("pull_request"));
    assert_eq!(forward.header("x-team"), Some("ci"));
    let expected_signature = format!(
        "sha256={}",
        sign_hmac_hex(HmacAlgorithm::Sha256, FORWARD_KEY.as_bytes(), &forward.body)
    );
    assert_eq!(
        forward.header("x-gate-signature"),
        Some(expected_signature.as_str())
    );
    let notification: Value = serde_json::from_slice(&forward.body).expect("json forward");
    assert_seven_keys(&notification);
    assert_eq!(notification["service"], "GitHub");
    assert_eq!(notification["group"], "default");
    assert_eq!(notification["type"], "pull_request");
    assert_eq!(
        notification["text"],
        "octocat merged pull request #42 in acme/widgets: Add the colour picker"
    );
    server.stop().await;
}
