//! The Phabricator sink against a local fake Conduit.

use std::sync::Arc;

use gate_conduit::test_server::{Recorded, Reply, TestServer};
use gate_core::RawContent;
use gate_core::{ActionStatus, Envelope, Notification, Sink, SinkFactory};
use gate_sink_phabricator::{PhabricatorSinkConfig, PhabricatorSinkFactory};
use serde_json::{json, Value};

const TOKEN: &str = "api-sinktoken000000000000000000";
const MIRRORED: &str = "https://github.com/acme/widgets.git";

fn push(source: &str, event: &str, clone_url: &str) -> Envelope {
    let raw = json!({
        "ref": "refs/heads/main",
        "repository": {
            "full_name": "acme/widgets",
            "clone_url": clone_url,
            "ssh_url": "git@github.com:acme/widgets.git",
            "html_url": "https://github.com/acme/widgets",
            "git_url": "git://github.com/acme/widgets.git"
        }
    });
    Envelope {
        delivery: "d-1".into(),
        source: source.into(),
        door: "acme".into(),
        event: event.into(),
        received_at: 0,
        notification: Notification {
            service: source.into(),
            project: "acme".into(),
            group: "ci".into(),
            raw_content: RawContent::from_string(raw.to_string()).expect("raw"),
            kind: event.into(),
            text: String::new(),
            link: String::new(),
        },
    }
}

fn params(request: &Recorded) -> Value {
    serde_json::from_str(&request.form_field("params").expect("params")).expect("json")
}

/// Mirrors `MIRRORED` as PHID-REPO-widgets; looksoon fails for a marked repo.
async fn fake_conduit() -> TestServer {
    TestServer::start(|request| {
        let params = params(request);
        match request.uri.path() {
            "/api/diffusion.repository.search" => {
                let uris = &params["constraints"]["uris"];
                let mirrored = uris
                    .as_array()
                    .is_some_and(|all| all.iter().any(|u| u == MIRRORED));
                let data = if mirrored {
                    json!([{"id": 7, "type": "REPO", "phid": "PHID-REPO-widgets",
                            "fields": {"name": "Widgets", "callsign": "WDG", "status": "active"}}])
                } else {
                    json!([])
                };
                Reply::json(&json!({"result": {"data": data, "cursor": {}}, "error_code": null, "error_info": null}))
            }
            "/api/diffusion.looksoon" => Reply::json(&json!({"result": null, "error_code": null, "error_info": null})),
            _ => Reply::json(&json!({"result": null, "error_code": "ERR-CONDUIT-CALL", "error_info": "unknown method"})),
        }
    })
    .await
    .expect("server")
}

fn sink(url: &str) -> Arc<dyn Sink> {
    let config: PhabricatorSinkConfig = toml::from_str(&format!(
        "conduit_url = \"{url}\"\ntoken = \"{TOKEN}\"\ntimeout_ms = 1000"
    ))
    .expect("config");
    PhabricatorSinkFactory::build("phab", config).expect("sink")
}

#[tokio::test]
async fn push_to_a_mirror_asks_diffusion_to_look_soon_and_caches_the_search() {
    let conduit = fake_conduit().await;
    let sink = sink(&conduit.url());
    let action = sink.deliver(&push("GitHub", "push", MIRRORED)).await;
    assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
    assert_eq!(action.action, "phabricator");
    assert_eq!(action.target, conduit.url());

    let requests = conduit.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.uri.path()).collect();
    assert_eq!(
        paths,
        [
            "/api/diffusion.repository.search",
            "/api/diffusion.looksoon"
        ]
    );
    assert_eq!(
        params(&requests[0])["constraints"]["uris"],
        json!([
            "git://github.com/acme/widgets.git",
            "git@github.com:acme/widgets.git",
            "https://github.com/acme/widgets",
            MIRRORED
        ])
    );
    assert_eq!(params(&requests[0])["__conduit__"]["token"], TOKEN);
    assert_eq!(
        params(&requests[1])["repositories"],
        json!(["PHID-REPO-widgets"])
    );

    // Within the TTL the mirror is known: only looksoon is called.
    let again = sink.deliver(&push("GitHub", "push", MIRRORED)).await;
    assert_eq!(again.status, ActionStatus::Delivered);
    let paths: Vec<String> = conduit
        .requests()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(paths.len(), 3);
    assert_eq!(paths[2], "/api/diffusion.looksoon");
}

#[tokio::test]
async fn unmirrored_repositories_and_other_events_are_skipped() {
    let conduit = fake_conduit().await;
    let sink = sink(&conduit.url());
    let action = sink
        .deliver(&push(
            "GitHub",
            "push",
            "https://github.com/acme/elsewhere.git",
        ))
        .await;
    assert_eq!(action.status, ActionStatus::Skipped);
    assert_eq!(
        action.error.expect("reason").message,
        "acme/widgets is not mirrored by phabricator"
    );
    assert_eq!(conduit.requests().len(), 1, "no looksoon");

    for (source, event) in [("GitHub", "issues"), ("DockerHub", "push")] {
        let action = sink.deliver(&push(source, event, MIRRORED)).await;
        assert_eq!(action.status, ActionStatus::Skipped, "{source} {event}");
    }
    assert_eq!(
        conduit.requests().len(),
        1,
        "no conduit call for other events"
    );
}

#[tokio::test]
async fn conduit_errors_fail_the_action_without_the_token() {
    let conduit = TestServer::start(|_| {
        Reply::json(&json!({"result": null, "error_code": "ERR-INVALID-AUTH",
                            "error_info": "API token is not valid."}))
    })
    .await
    .expect("server");
    let action = sink(&conduit.url())
        .deliver(&push("GitHub", "push", MIRRORED))
        .await;
    assert_eq!(action.status, ActionStatus::Failed);
    assert_eq!(action.routing_key.as_deref(), Some("acme.ci.github.push"));
    let error = action.error.expect("error");
    assert_eq!(error.kind, "conduit_error");
    assert_eq!(
        error.message,
        "conduit error ERR-INVALID-AUTH: API token is not valid."
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let action = sink(&format!("http://127.0.0.1:{port}"))
        .deliver(&push("GitHub", "push", MIRRORED))
        .await;
    assert_eq!(action.status, ActionStatus::Failed);
    let error = action.error.expect("error");
    assert_eq!(error.kind, "unreachable");
    assert!(!error.message.contains(TOKEN));
}

#[test]
fn config_hides_the_token_and_checks_the_url() {
    let config: PhabricatorSinkConfig = toml::from_str(&format!(
        "conduit_url = \"https://phab.acme.test\"\ntoken = \"{TOKEN}\""
    ))
    .expect("config");
    let described = serde_json::to_value(&config).expect("describe");
    assert_eq!(described["token"], "set");
    assert_eq!(described["cache_ttl_seconds"], 300);
    let bad: PhabricatorSinkConfig = toml::from_str(&format!(
        "conduit_url = \"phab.acme.test\"\ntoken = \"{TOKEN}\""
    ))
    .expect("config");
    let Err(err) = PhabricatorSinkFactory::build("phab", bad) else {
        panic!("a url without scheme must be refused");
    };
    assert_eq!(
        err.to_string(),
        "conduit_url: invalid conduit url \"phab.acme.test\""
    );
}
