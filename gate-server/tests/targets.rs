//! An action names the same target whether the sink wrote it or the
//! gateway wrote it on the sink's behalf (a duplicate).

mod common;

use common::{call, github_headers, github_signature, payload, request};

#[tokio::test]
async fn a_duplicate_names_the_target_of_the_first_delivery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let gateway = common::gateway(&format!(
        "[sinks.local]\nkind = \"file\"\npath = {out:?}\nlog = false\n\n[sources.GitHub.doors.acme]\nsinks = [\"local\"]\nsecrets = [\"targets-secret\"]\n"
    ));
    let body = payload("github/push-three-commits.json");
    let headers = github_headers(
        "push",
        "same-id",
        &github_signature("targets-secret", &body),
    );
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let first = call(
        &gateway,
        request("POST", "/gate/GitHub/acme", &headers, body.clone()),
    )
    .await;
    let again = call(
        &gateway,
        request("POST", "/gate/GitHub/acme", &headers, body),
    )
    .await;
    let (first, again) = (first.json(), again.json());
    assert_eq!(first["actions"][0]["status"], "delivered", "{first}");
    assert_eq!(again["actions"][0]["status"], "duplicate", "{again}");
    assert_eq!(first["actions"][0]["target"], out.as_str());
    assert_eq!(again["actions"][0]["target"], first["actions"][0]["target"]);
}
