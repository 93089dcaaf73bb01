//! Conformance with the original PHP Notifications Center, written from its
//! behavioural description: the configuration a production deployment would
//! import (tests/data/original/nasqueron), then the original's production
//! checks, senders and consumers against it, on the real broker. Each test
//! names the behaviour of the original it pins.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::amqp::Consumer;
use common::{call, request, sha1_signature, unique, Answer, AMQP_URL};
use gate_conduit::test_server::{Reply, TestServer};
use gate_server::cli::import::{import, parse_env, Options};
use gate_server::{Config, Gateway};
use http::StatusCode;
use serde_json::{json, Value};

const GITHUB_SECRET: &str = "test-only-github-secret-nasqueron";
const CONDUIT_TOKEN: &str = "api-testonlyconduittoken0000";
const TASK: &str = "PHID-TASK-serversserversservers";
const SERVERS: &str = "PHID-PROJ-serversserversservers";

fn case_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/original/nasqueron")
}

/// Answers as DevCentral would for one task of the "Servers" project; no
/// Diffusion repository mirrors anything.
async fn fake_devcentral() -> TestServer {
    let ok = |result: Value| {
        Reply::json(&json!({"result": result, "error_code": null, "error_info": null}))
    };
    TestServer::start(move |request| {
        let params: Value = request
            .form_field("params")
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        if params["__conduit__"]["token"] != CONDUIT_TOKEN {
            return Reply::json(&json!({"result": null, "error_code": "ERR-INVALID-AUTH", "error_info": "bad token"}));
        }
        match request.uri.path() {
            "/api/maniphest.search" => {
                let phid = params["constraints"]["phids"][0].as_str().unwrap_or_default();
                let projects = if phid == TASK { json!([SERVERS]) } else { json!([]) };
                ok(json!({"data": [{"id": 1, "type": "TASK", "phid": phid, "fields": {},
                    "attachments": {"projects": {"projectPHIDs": projects}}}], "cursor": {}}))
            }
            "/api/project.search" => ok(json!({"data": [{"id": 2, "type": "PROJ", "phid": SERVERS,
                "fields": {"name": "Servers", "slug": "servers"}}], "cursor": {}})),
            "/api/diffusion.repository.search" => ok(json!({"data": [], "cursor": {}})),
            _ => ok(json!([])),
        }
    })
    .await
    .expect("fake conduit")
}

/// The imported production-shaped configuration, pointed at the test
/// broker (a unique exchange), a private spool and the fake DevCentral.
struct Deployment {
    gateway: Arc<Gateway>,
    exchange: String,
    _conduit: TestServer,
    _dir: tempfile::TempDir,
}

impl Deployment {
    async fn start(extra: &[(&str, &str)]) -> Self {
        Self::with_broker(AMQP_URL, extra).await
    }

    /// As imported, the Phabricator instance URL included (no Conduit call
    /// is made by the checks that use it).
    async fn as_imported() -> Self {
        Self::build(AMQP_URL, &[], false).await
    }

    async fn with_broker(broker: &str, extra: &[(&str, &str)]) -> Self {
        Self::build(broker, extra, true).await
    }

    async fn build(broker: &str, extra: &[(&str, &str)], fake_conduit: bool) -> Self {
        let case = case_dir();
        let env = parse_env(&std::fs::read_to_string(case.join("original.env")).expect("env"))
            .expect("env file");
        let imported = import(&case.join("app"), env, &Options::default()).expect("imports");
        let conduit = fake_devcentral().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let exchange = unique("test.conformance");
        let conduit_url = conduit.url();
        let spool = dir.path().join("spool.redb").display().to_string();
        let mut overrides = vec![
            ("GATE__SINKS__RABBIT__URL", broker.to_owned()),
            ("GATE__SINKS__RABBIT__EXCHANGE", exchange.clone()),
            ("GATE__SPOOL__PATH", spool),
        ];
        if fake_conduit {
            overrides.extend([
                (
                    "GATE__SOURCES__PHABRICATOR__DOORS__NASQUERON__CONDUIT_URL",
                    conduit_url.clone(),
                ),
                (
                    "GATE__SINKS__PHABRICATOR-NASQUERON__CONDUIT_URL",
                    conduit_url,
                ),
            ]);
        }
        overrides.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let env = overrides.into_iter().map(|(k, v)| (k.to_owned(), v));
        let config = Config::parse("imported", &imported.toml, env).expect("valid");
        let state = gate_server::state::GateState::open(&config).expect("spool");
        let registry = gate_server::registry().expect("plugins");
        let gateway = Gateway::build(config, registry).unwrap_or_else(|e| panic!("{e}"));
        Self {
            gateway: Arc::new(gateway.with_state(Arc::new(state))),
            exchange,
            _conduit: conduit,
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        call(&self.gateway, request("GET", path, &[], "")).await
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Answer {
        call(&self.gateway, request("POST", path, headers, body.into())).await
    }

    /// Remove the test's exchange and the catch-all the sink declared.
    async fn cleanup(self) {
        common::amqp::cleanup(&self.exchange).await;
    }

    async fn consumer(&self, binding: &str) -> Consumer {
        Consumer::bind(&self.exchange, binding).await
    }
}

async fn next_key(consumer: &mut Consumer) -> (String, Value) {
    let delivery = consumer
        .next(Duration::from_secs(5))
        .await
        .expect("a message on the exchange");
    let body: Value = serde_json::from_slice(&delivery.data).expect("JSON message");
    (delivery.routing_key.to_string(), body)
}

/// §11 "Prod reference tests": `/` 200, `/notexisting` 404, `/status` 200 +
/// `ALIVE`, `/gate/GitHub` 200, `/gate/Phabricator/Nasqueron` 200, `/config`
/// JSON-equal to the stored reference.
#[tokio::test]
async fn the_original_production_checks_pass() {
    let deployment = Deployment::as_imported().await;
    let home = deployment.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.text().contains("Notifications center"),
        "{}",
        home.text()
    );
    let head = call(&deployment.gateway, request("HEAD", "/", &[], "")).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        deployment.get("/notexisting").await.status,
        StatusCode::NOT_FOUND
    );
    let status = deployment.get("/status").await;
    assert_eq!(
        (status.status, status.body.as_ref()),
        (StatusCode::OK, &b"ALIVE"[..])
    );
    for path in ["/gate/GitHub", "/gate/Phabricator/Nasqueron"] {
        assert_eq!(deployment.get(path).await.status, StatusCode::OK, "{path}");
    }
    let stored: Value = serde_json::from_str(
        &std::fs::read_to_string(case_dir().join("config-reference.json")).expect("reference"),
    )
    .expect("reference JSON");
    let config = deployment.get("/config").await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.json(), stored);
    // Deterministic: a second answer is byte for byte the same.
    assert_eq!(deployment.get("/config").await.body, config.body);
    // This gateway's report stays available beside it, secrets redacted.
    let full = deployment.get("/config?schema=full").await;
    assert_eq!(full.status, StatusCode::OK);
    assert!(full.json()["sources"]["GitHub"]["doors"]["Nasqueron"].is_object());
    assert!(!full.text().contains(GITHUB_SECRET));
    assert!(!config.text().contains(CONDUIT_TOKEN));
    assert_eq!(
        deployment.get("/config?schema=xml").await.status,
        StatusCode::BAD_REQUEST
    );
    deployment.cleanup().await;
}

/// §2.1: `POST /gate/<Gate>` without a door matches only the GET route: 405.
#[tokio::test]
async fn a_post_without_door_is_405_and_unknown_gates_404() {
    let deployment = Deployment::start(&[]).await;
    let answer = deployment.post("/gate/GitHub", &[], "{}").await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        deployment.get("/gate/Gitlab").await.status,
        StatusCode::NOT_FOUND
    );
    deployment.cleanup().await;
}

fn push_to(repository: &str) -> Vec<u8> {
    let mut push: Value =
        serde_json::from_slice(&common::payload("github/push-one-commit.json")).expect("json");
    push["repository"]["name"] = json!(repository);
    push["repository"]["full_name"] = json!(format!("nasqueron/{repository}"));
    serde_json::to_vec(&push).expect("json")
}

/// §3.1 + §5.2: GitHub signs with `X-Hub-Signature` (SHA-1) only in the
/// original; groups come from the repository's short name, `ping` goes to
/// the administrative group, doors without their own file use the default
/// (group = lower-case door).
#[tokio::test]
async fn github_deliveries_signed_as_the_original_checked_route_as_it_did() {
    let deployment = Deployment::start(&[]).await;
    let mut consumer = deployment.consumer("#").await;
    for (door, event, body, key) in [
        (
            "Nasqueron",
            "push",
            push_to("docker-php"),
            "nasqueron.docker.github.push",
        ),
        (
            "Nasqueron",
            "push",
            push_to("servers-docs"),
            "nasqueron.ops.github.push",
        ),
        (
            "Nasqueron",
            "push",
            push_to("website"),
            "nasqueron.nasqueron.github.push",
        ),
        (
            "Nasqueron",
            "ping",
            common::payload("github/ping.json"),
            "nasqueron.orgz.github.ping",
        ),
        (
            "Wolfplex",
            "push",
            push_to("hackerspace"),
            "wolfplex.wolfplex.github.push",
        ),
    ] {
        let secret = format!("test-only-github-secret-{}", door.to_lowercase());
        let signature = sha1_signature(&secret, &body);
        let headers = [
            ("content-type", "application/json"),
            ("x-github-event", event),
            ("x-github-delivery", key),
            ("x-hub-signature", signature.as_str()),
        ];
        let answer = deployment
            .post(&format!("/gate/GitHub/{door}"), &headers, body)
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{key}: {}", answer.text());
        let (routing_key, message) = next_key(&mut consumer).await;
        assert_eq!(routing_key, key);
        assert_eq!(
            message["project"], door,
            "the door is the project, case kept"
        );
    }
    // A wrong signature is refused and publishes nothing.
    let body = push_to("docker-php");
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "push"),
        ("x-github-delivery", "forged"),
        (
            "x-hub-signature",
            "sha1=0000000000000000000000000000000000000000",
        ),
    ];
    let answer = deployment
        .post("/gate/GitHub/Nasqueron", &headers, body)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(consumer.next(Duration::from_millis(300)).await.is_none());
    consumer.delete().await;
    deployment.cleanup().await;
}

/// §3.5 + §11: the Airflow DAG posts native notifications without a
/// Content-Type and fails on anything but 200; a missing project is the door.
#[tokio::test]
async fn airflow_native_notifications_without_content_type_are_accepted() {
    let deployment = Deployment::start(&[]).await;
    let mut consumer = deployment.consumer("#").await;
    let body = json!({"service": "Airflow", "project": "Nasqueron", "group": "datasources",
        "type": "fantoir-fetch", "text": "FANTOIR fetched", "link": "https://airflow.example.org"});
    let answer = deployment
        .post("/gate/Notification/Nasqueron", &[], body.to_string())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut consumer).await;
    assert_eq!(key, "nasqueron.datasources.airflow.fantoir-fetch");
    assert_eq!(message["text"], "FANTOIR fetched");
    let body = json!({"service": "Airflow", "group": "datasources", "type": "x"});
    let answer = deployment
        .post("/gate/Notification/Wolfplex", &[], body.to_string())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut consumer).await;
    assert_eq!(key, "wolfplex.datasources.airflow.x");
    assert_eq!(message["project"], "Wolfplex");
    // Invalid JSON is still a 400, as in the original.
    let answer = deployment
        .post("/gate/Notification/Nasqueron", &[], "null")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    consumer.delete().await;
    deployment.cleanup().await;
}

/// A new number per call: a build, like a story, is one event per id (the
/// gateway drops a repeated one as a duplicate, as senders retry).
fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(4242);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn jenkins(job: &str, phase: &str, status: Option<&str>) -> String {
    let number = next_id();
    let mut build = json!({"full_url": format!("https://ci.example.org/job/{job}/{number}/"),
        "number": number, "phase": phase});
    if let Some(status) = status {
        build["status"] = json!(status);
    }
    json!({"name": job, "url": format!("job/{job}/"), "build": build}).to_string()
}

/// §5.5 + §6: Jenkins keys keep the dot of their type (five segments, so
/// `*.*.jenkins.completed.*` matches), jobs listed in notifyOnlyOnFailure
/// report failures only, any door is accepted without Content-Type.
#[tokio::test]
async fn jenkins_keys_keep_their_dots_and_failure_only_jobs_filter() {
    let deployment = Deployment::start(&[]).await;
    let mut completed = deployment.consumer("*.*.jenkins.completed.*").await;
    let path = "/gate/Jenkins/Nasqueron";
    let answer = deployment
        .post(
            path,
            &[],
            jenkins("deploy-wikidata-dumps", "COMPLETED", Some("SUCCESS")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut completed).await;
    assert_eq!(key, "nasqueron.wikidata.jenkins.completed.success");
    assert_eq!(message["type"], "completed.success");

    let answer = deployment
        .post(
            path,
            &[],
            jenkins("test-prod-env", "COMPLETED", Some("SUCCESS")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json()["actions"],
        json!([]),
        "filtered out: no action"
    );
    let answer = deployment
        .post(
            path,
            &[],
            jenkins("test-prod-env", "COMPLETED", Some("FAILURE")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let (key, _) = next_key(&mut completed).await;
    assert_eq!(key, "nasqueron.ops.jenkins.completed.failure");

    // Any door name: the wildcard door, its project the name in the URL.
    let mut all = deployment.consumer("acme.#").await;
    let answer = deployment
        .post(
            "/gate/Jenkins/Acme",
            &[],
            jenkins("anything", "STARTED", None),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut all).await;
    assert_eq!(key, "acme.ci.jenkins.started");
    assert_eq!(message["project"], "Acme");
    completed.delete().await;
    deployment.cleanup().await;
}

/// §3.2: Docker Hub posts without any token, to any door.
#[tokio::test]
async fn docker_hub_posts_without_token_while_urls_are_migrated() {
    let deployment = Deployment::start(&[]).await;
    let mut consumer = deployment.consumer("#").await;
    let body = common::payload("dockerhub/push-minimal.json");
    let answer = deployment
        .post(
            "/gate/DockerHub/Nasqueron",
            &[("content-type", "application/json")],
            body,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut consumer).await;
    assert_eq!(key, "nasqueron.docker.dockerhub.push");
    assert_eq!(
        message["rawContent"]["repository"]["repo_name"],
        "acme/tools"
    );
    assert!(deployment
        .gateway
        .warnings()
        .iter()
        .any(|w| w.starts_with("sources.DockerHub.doors.*: insecure_no_token = true")));
    consumer.delete().await;
    deployment.cleanup().await;
}

fn story(object: Option<&str>, text: &str) -> String {
    let mut fields = vec![
        ("storyID", next_id().to_string()),
        (
            "storyType",
            "PhabricatorApplicationTransactionFeedStory".to_owned(),
        ),
        ("storyAuthorPHID", "PHID-USER-dereckson000000000".to_owned()),
        ("storyText", text.to_owned()),
        ("epoch", "1764000000".to_owned()),
    ];
    if let Some(phid) = object {
        fields.push(("storyData[objectPHID]", phid.to_owned()));
    }
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// §5.6: the story object as rawContent (`instanceName` = the door), `VOID`
/// for stories without an object, every project rule before any word rule,
/// and 404 for a door without credentials.
#[tokio::test]
async fn phabricator_stories_type_group_and_carry_the_story_object() {
    let deployment = Deployment::start(&[]).await;
    let mut consumer = deployment.consumer("#").await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let path = "/gate/Phabricator/Nasqueron";
    // A task of the Servers project (ops) whose text names Docker (a word
    // of the docker group): the project wins.
    let text = "dereckson updated T1: Upgrade Docker on the servers.";
    let answer = deployment.post(path, &form, story(Some(TASK), text)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut consumer).await;
    assert_eq!(key, "nasqueron.ops.phabricator.task");
    assert_eq!(message["text"], text);
    // Richer than the original (always ""): the object's page, on purpose.
    assert!(
        message["link"].as_str().is_some_and(|l| l.ends_with("/T1")),
        "{message}"
    );
    let raw = &message["rawContent"];
    assert_eq!(raw["instanceName"], "Nasqueron");
    assert!(
        raw["id"]
            .as_str()
            .is_some_and(|id| id.parse::<u64>().is_ok()),
        "{raw}"
    );
    assert_eq!(raw["type"], "PhabricatorApplicationTransactionFeedStory");
    assert_eq!(raw["data"]["objectPHID"], TASK);
    assert_eq!(raw["authorPHID"], "PHID-USER-dereckson000000000");
    assert_eq!(raw["text"], text);
    assert_eq!(raw["epoch"], "1764000000");

    // No object: VOID; the word rule still applies (case-insensitive).
    let answer = deployment
        .post(path, &form, story(None, "rebooted ysul"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let (key, message) = next_key(&mut consumer).await;
    assert_eq!(key, "nasqueron.ops.phabricator.void");
    assert_eq!(message["type"], "VOID");
    let answer = deployment.post(path, &form, story(None, "a status")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        next_key(&mut consumer).await.0,
        "nasqueron.nasqueron.phabricator.void"
    );

    // The original: "Unknown Phabricator instance." (404).
    let answer = deployment
        .post("/gate/Phabricator/Elsewhere", &form, story(None, "x"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    consumer.delete().await;
    deployment.cleanup().await;
}

/// The original answered only 200 or 503; imported, a spooled event is 200
/// (its senders fail on anything else), and a door may choose 202.
#[tokio::test]
async fn a_spooled_event_answers_200_or_the_door_s_choice() {
    // Nothing listens on port 1: every publish fails and is spooled.
    let deployment = Deployment::with_broker(
        "amqp://guest:guest@127.0.0.1:1/%2f",
        &[(
            "GATE__SOURCES__JENKINS__DOORS__NASQUERON__SPOOLED_STATUS",
            "202",
        )],
    )
    .await;
    let body = json!({"service": "Airflow", "group": "datasources", "type": "x"});
    let answer = deployment
        .post("/gate/Notification/Nasqueron", &[], body.to_string())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["actions"][0]["status"], "spooled");
    let answer = deployment
        .post(
            "/gate/Jenkins/Nasqueron",
            &[],
            jenkins("ops-x", "STARTED", None),
        )
        .await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    assert_eq!(answer.json()["actions"][0]["status"], "spooled");
    deployment.cleanup().await;
}

/// A wildcard door authenticates as a named door would, and the names it
/// serves share one metrics label.
#[tokio::test]
async fn a_wildcard_door_needs_what_a_named_door_needs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let gateway = common::gateway(&format!(
        r#"
        [server]
        default_sinks = ["local"]
        [sinks.local]
        kind = "file"
        path = {out:?}
        log = false
        [sources.Jenkins.doors."*"]
        token = "wildcard-token-0123456789"
        [sources.Jenkins.doors.named]
        token = "named-token-0123456789ab"
        "#
    ));
    let body = jenkins("job", "STARTED", None);
    let post = |path: &str| {
        request(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.clone(),
        )
    };
    let answer = call(&gateway, post("/gate/Jenkins/Anything")).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
    let answer = call(
        &gateway,
        post("/gate/Jenkins/Anything?token=named-token-0123456789ab"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "another door's token");
    let answer = call(
        &gateway,
        post("/gate/Jenkins/Anything?token=wildcard-token-0123456789"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["door"], "Anything");
    let answer = call(
        &gateway,
        post("/gate/Jenkins/named?token=wildcard-token-0123456789"),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::FORBIDDEN,
        "a named door keeps its own token"
    );
    let written = std::fs::read_to_string(&out).expect("file sink");
    let line: Value =
        serde_json::from_str(written.lines().next().expect("one line")).expect("json");
    assert_eq!(line["notification"]["project"], "Anything");
    assert_eq!(line["door"], "Anything");
    let metrics = call(&gateway, request("GET", "/metrics", &[], ""))
        .await
        .text();
    assert!(
        !metrics.contains("Anything"),
        "stranger names must not become labels"
    );
    assert!(metrics.contains("door=\"*\""), "{metrics}");
}

/// A Docker Hub door without a token is warned about when the server starts
/// (and by `config check`, see import.rs).
#[test]
fn an_unauthenticated_door_is_warned_about_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("gate.toml");
    let log = dir.path().join("gate.log");
    std::fs::write(
        &config,
        format!(
            "[server]\ndefault_sinks = [\"local\"]\n[spool]\npath = {:?}\n\
             [sinks.local]\nkind = \"file\"\npath = {:?}\nlog = false\n\
             [sources.DockerHub.doors.\"*\"]\ninsecure_no_token = true\n",
            dir.path().join("spool.redb").display().to_string(),
            dir.path().join("out.jsonl").display().to_string()
        ),
    )
    .expect("write");
    let process = common::process::GateProcess::start(&config, common::process::free_addr(), &log);
    let text = std::fs::read_to_string(&log).expect("log");
    process.kill9();
    assert!(
        text.contains("sources.DockerHub.doors.*: insecure_no_token = true"),
        "{text}"
    );
}
