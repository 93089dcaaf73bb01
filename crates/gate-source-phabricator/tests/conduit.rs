//! Names, links and groups resolved through a local fake Conduit, and what
//! happens when Conduit goes down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gate_conduit::test_server::{Recorded, Reply, TestServer};
use gate_core::{OpenDoor, Received, Request};
use gate_source_phabricator::PhabricatorSource;
use serde_json::{json, Value};

const TASK: &str = "PHID-TASK-4mxk2ofyzq3vbc7hd5ln";
const OTHER_TASK: &str = "PHID-TASK-zz9y8x7w6v5u4t3s2r1q";
const WEB: &str = "PHID-PROJ-webteamwebteamwebteam";
const TOKEN: &str = "api-sourcetoken00000000000000";

fn params(request: &Recorded) -> Value {
    serde_json::from_str(&request.form_field("params").expect("params")).expect("json")
}

fn ok(result: Value) -> Reply {
    Reply::json(&json!({"result": result, "error_code": null, "error_info": null}))
}

/// Knows TASK (T123, in project "Web Team"/web-team); answers HTTP 500 to
/// everything while `down` is set.
async fn fake_conduit(down: Arc<AtomicBool>) -> TestServer {
    TestServer::start(move |request| {
        if down.load(Ordering::SeqCst) {
            return Reply::status(500);
        }
        let params = params(request);
        assert_eq!(params["__conduit__"]["token"], TOKEN);
        match request.uri.path() {
            "/api/phid.query" => {
                if params["phids"] == json!([TASK]) {
                    ok(json!({TASK: {
                        "phid": TASK, "uri": "https://phab.acme.test/T123", "typeName": "Maniphest Task",
                        "type": "TASK", "name": "T123", "fullName": "T123: Fix the login page", "status": "open"
                    }}))
                } else {
                    ok(json!([]))
                }
            }
            "/api/maniphest.search" => {
                assert_eq!(params["attachments"]["projects"], true);
                let phid = params["constraints"]["phids"][0].as_str().unwrap_or_default().to_owned();
                let projects = if phid == TASK { json!([WEB]) } else { json!([]) };
                ok(json!({"data": [{"id": 123, "type": "TASK", "phid": phid, "fields": {},
                    "attachments": {"projects": {"projectPHIDs": projects}}}], "cursor": {}}))
            }
            "/api/project.search" => {
                assert_eq!(params["constraints"]["phids"], json!([WEB]));
                ok(json!({"data": [{"id": 4, "type": "PROJ", "phid": WEB,
                    "fields": {"name": "Web Team", "slug": "web-team"}}], "cursor": {}}))
            }
            _ => Reply::json(&json!({"result": null, "error_code": "ERR-CONDUIT-CALL", "error_info": "no such method"})),
        }
    })
    .await
    .expect("server")
}

fn door(conduit: &TestServer, ttl: u64) -> OpenDoor {
    let config = format!(
        r#"
insecure_no_signature = true
accept_feed_hooks = true
conduit_url = "{}"
conduit_token = "{TOKEN}"
cache_ttl_seconds = {ttl}
[[groups]]
group = "web"
projects = ["Web *"]
[[groups]]
group = "ops"
keywords = ["outage"]
"#,
        conduit.url()
    );
    gate_core::erase(PhabricatorSource)
        .open_door("acme", toml::from_str(&config).expect("toml"), "test")
        .expect("door")
}

async fn herald(door: &OpenDoor, phid: &str) -> Received {
    let body = json!({"object": {"type": "TASK", "phid": phid}, "triggers": [],
                      "action": {"test": false, "silent": false, "secure": false, "epoch": 1}, "transactions": []})
        .to_string();
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("header"));
    let request = Request {
        headers: &headers,
        body: body.as_bytes(),
        query: None,
        peer: None,
    };
    gate_core::erase(PhabricatorSource)
        .receive(&request, door)
        .await
        .expect("accepted")
}

fn paths(server: &TestServer) -> Vec<String> {
    let mut paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn herald_object_is_named_linked_and_grouped_by_its_projects() {
    let conduit = fake_conduit(Arc::default()).await;
    let door = door(&conduit, 300);
    let received = herald(&door, TASK).await;
    let n = &received.notifications[0];
    assert_eq!(n.text, "TASK T123 updated: Fix the login page");
    assert_eq!(n.link, "https://phab.acme.test/T123");
    assert_eq!(n.group, "web");
    assert_eq!(n.routing_key(), "acme.web.phabricator.task");
    assert_eq!(
        paths(&conduit),
        [
            "/api/maniphest.search",
            "/api/phid.query",
            "/api/project.search"
        ]
    );

    // Projects are cached: only the name is asked again.
    let again = herald(&door, TASK).await;
    assert_eq!(again.notifications[0].group, "web");
    assert_eq!(paths(&conduit).len(), 4);
}

#[tokio::test]
async fn feed_stories_get_links_and_groups_too() {
    let conduit = fake_conduit(Arc::default()).await;
    let door = door(&conduit, 300);
    let body = format!("storyID=5&storyType=PhabricatorApplicationTransactionFeedStory&storyData%5BobjectPHID%5D={TASK}&storyAuthorPHID=PHID-USER-x&storyText=octocat+closed+T123.&epoch=1");
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().expect("header"),
    );
    let request = Request {
        headers: &headers,
        body: body.as_bytes(),
        query: None,
        peer: None,
    };
    let received = gate_core::erase(PhabricatorSource)
        .receive(&request, &door)
        .await
        .expect("accepted");
    let n = &received.notifications[0];
    assert_eq!(n.text, "octocat closed T123.");
    assert_eq!(n.link, "https://phab.acme.test/T123");
    assert_eq!(n.group, "web");
}

#[tokio::test]
async fn conduit_down_uses_the_last_known_projects_then_the_default_group() {
    let down = Arc::new(AtomicBool::new(false));
    let conduit = fake_conduit(Arc::clone(&down)).await;
    // TTL 0: every request asks Conduit, so the fallback is exercised.
    let door = door(&conduit, 0);
    assert_eq!(herald(&door, TASK).await.notifications[0].group, "web");

    down.store(true, Ordering::SeqCst);
    let known = herald(&door, TASK).await;
    let n = &known.notifications[0];
    assert_eq!(n.group, "web", "last known projects");
    assert_eq!(
        n.text,
        format!("Task {TASK} updated"),
        "name falls back to what the hook says"
    );
    assert_eq!(n.link, format!("{}/", conduit.url()), "the instance");

    let unknown = herald(&door, OTHER_TASK).await;
    assert_eq!(unknown.notifications[0].group, "default");
}

#[tokio::test]
async fn unreachable_conduit_still_accepts_the_hook() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let config = format!(
        "insecure_no_signature = true\nconduit_url = \"http://127.0.0.1:{port}\"\nconduit_token = \"{TOKEN}\""
    );
    let door = gate_core::erase(PhabricatorSource)
        .open_door("acme", toml::from_str(&config).expect("toml"), "test")
        .expect("door");
    let received = herald(&door, TASK).await;
    assert_eq!(received.notifications[0].group, "default");
    assert_eq!(
        received.notifications[0].text,
        format!("Task {TASK} updated")
    );
    assert_eq!(
        received.notifications[0].link,
        format!("http://127.0.0.1:{port}/")
    );
}
