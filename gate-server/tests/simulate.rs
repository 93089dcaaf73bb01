//! `gate-server simulate`, run as an operator would: the configured door's
//! real source on the repository's golden payloads, with the credentials
//! computed from the door's own secrets.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const CONFIG: &str = r#"
[server]
default_sinks = ["local"]

[sinks.local]
kind = "file"
path = "OUT"

[sources.GitHub.doors.acme]
secrets = ["gh-secret-value", "gh-older-secret"]

[sources.DockerHub.doors.acme]
token = "dockerhub-token-0123456789"

[sources.Jenkins.doors.acme]
token = "jenkins-token-0123456789"

[sources.Notification.doors.acme]
secrets = ["native-hmac-key"]

[sources.Phabricator.doors.acme]
hook_key = "phab-hook-key"
instance_url = "https://phabricator.acme.example"
"#;

struct Setup {
    dir: tempfile::TempDir,
    config: String,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out.jsonl");
        let config = dir.path().join("gate.toml");
        std::fs::write(&config, CONFIG.replace("OUT", &out.display().to_string()))
            .expect("write config");
        Self {
            config: config.display().to_string(),
            dir,
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out.jsonl")
    }

    fn simulate(&self, args: &[&str]) -> (i32, String, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .arg("simulate")
            .args(args)
            .args(["--config", &self.config])
            .env_remove("GATE_CONFIG")
            .env("RUST_LOG", "warn")
            .current_dir(self.dir.path())
            .output()
            .expect("run gate-server");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

fn payloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../payloads")
}

fn payload(case: &str) -> String {
    payloads().join(case).display().to_string()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The notifications of a golden file (a list, or `{notifications: [...]}`)
/// without rawContent, which simulate prints in full.
fn expected_notifications(case: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(payloads().join(case)).expect("expected file");
    let value = json(&text);
    let list = value
        .get("notifications")
        .cloned()
        .unwrap_or(value)
        .as_array()
        .cloned()
        .expect("a list of notifications");
    list.into_iter().map(without_raw).collect()
}

fn without_raw(mut notification: Value) -> Value {
    if let Some(object) = notification.as_object_mut() {
        object.remove("rawContent");
    }
    notification
}

#[test]
fn every_source_signs_itself_and_matches_the_golden_notifications() {
    let setup = Setup::new();
    let cases = [
        (
            "GitHub",
            "github/push-one-commit",
            Some("push"),
            "X-Hub-Signature-256",
        ),
        ("DockerHub", "dockerhub/push-tag", None, "X-Gate-Token"),
        ("Jenkins", "jenkins/completed-failure", None, "X-Gate-Token"),
        (
            "Notification",
            "native/deploy-finished",
            None,
            "X-Gate-Signature",
        ),
        (
            "Phabricator",
            "phabricator/herald_task",
            None,
            "X-Phabricator-Webhook-Signature",
        ),
    ];
    for (kind, case, event, credential) in cases {
        let body = payload(&format!("{case}.json"));
        let mut args = vec![kind, "acme", body.as_str()];
        if let Some(event) = event {
            args.extend(["--event", event]);
        }
        let (code, stdout, stderr) = setup.simulate(&args);
        assert_eq!(code, 0, "{kind}: {stderr}\n{stdout}");
        let report = json(&stdout);
        let notifications: Vec<Value> = report["notifications"]
            .as_array()
            .expect("notifications")
            .iter()
            .cloned()
            .map(without_raw)
            .collect();
        assert_eq!(
            notifications,
            expected_notifications(&format!("{case}.expected.json")),
            "{kind}"
        );
        assert_eq!(report["source"], kind);
        assert_eq!(report["door"], "acme");
        assert!(
            report["credentials"].get(credential).is_some(),
            "{kind}: {report}"
        );
        assert!(
            report.get("actions").is_none(),
            "nothing sent without --send"
        );
    }
    assert!(!setup.out().exists(), "no sink was written to");
}

#[test]
fn github_gets_its_event_and_a_generated_delivery() {
    let setup = Setup::new();
    let body = payload("github/push-one-commit.json");
    let (code, stdout, stderr) = setup.simulate(&["GitHub", "acme", &body, "--event", "push"]);
    assert_eq!(code, 0, "{stderr}");
    let report = json(&stdout);
    assert_eq!(report["event"], "push");
    assert!(
        report["delivery"]
            .as_str()
            .is_some_and(|d| d.starts_with("GitHub/acme/simulate-")),
        "{report}"
    );
    let notification = &report["notifications"][0];
    assert_eq!(notification["routingKey"], "acme.default.github.push");
    // rawContent is the payload as sent.
    let sent: Value = json(&std::fs::read_to_string(&body).expect("payload"));
    assert_eq!(notification["rawContent"], sent);
}

#[test]
fn tokens_are_never_printed() {
    let setup = Setup::new();
    let body = payload("dockerhub/push-tag.json");
    let (code, stdout, stderr) = setup.simulate(&["DockerHub", "acme", &body]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json(&stdout)["credentials"]["X-Gate-Token"], "set");
    assert!(!stdout.contains("dockerhub-token-0123456789"), "{stdout}");
    assert!(!stderr.contains("dockerhub-token-0123456789"), "{stderr}");
}

#[test]
fn a_refused_request_prints_the_rejection_and_exits_1() {
    let setup = Setup::new();
    let body = payload("github/push-one-commit.json");
    let (code, stdout, stderr) = setup.simulate(&[
        "GitHub",
        "acme",
        &body,
        "--event",
        "push",
        "--header",
        "X-Hub-Signature-256: sha256=0000",
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let report = json(&stdout);
    assert_eq!(report["status"], 403);
    assert_eq!(report["error"]["type"], "bad_signature");
    assert!(stderr.contains("rejected: 403"), "{stderr}");

    let (code, stdout, _) =
        setup.simulate(&["GitHub", "acme", &body, "--event", "push", "--unsigned"]);
    assert_eq!(code, 1);
    assert_eq!(json(&stdout)["status"], 401);
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let setup = Setup::new();
    let body = payload("github/push-one-commit.json");
    let (code, _, stderr) = setup.simulate(&["GitHub", "nope", &body, "--event", "push"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no door \"nope\" for source GitHub (doors: acme)"),
        "{stderr}"
    );
    let (code, _, stderr) = setup.simulate(&["GitHub", "acme", &body]);
    assert_eq!(code, 2);
    assert!(stderr.contains("GitHub needs --event"), "{stderr}");
    let (code, _, stderr) = setup.simulate(&["GitLab", "acme", &body]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("source GitLab is not configured"),
        "{stderr}"
    );
    let (code, _, stderr) =
        setup.simulate(&["GitHub", "acme", "/nonexistent.json", "--event", "push"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read /nonexistent.json"), "{stderr}");
}

#[test]
fn send_delivers_to_the_door_sinks_and_prints_the_actions() {
    let setup = Setup::new();
    let body = payload("native/deploy-finished.json");
    let (code, stdout, stderr) = setup.simulate(&["Notification", "acme", &body, "--send"]);
    assert_eq!(code, 0, "{stderr}");
    let report = json(&stdout);
    let actions = report["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 1, "{report}");
    assert_eq!(actions[0]["status"], "delivered");
    assert_eq!(
        actions[0]["routingKey"],
        "widgets.ops.deployer.deploy_finished"
    );
    let written = std::fs::read_to_string(setup.out()).expect("the file sink wrote");
    assert_eq!(written.lines().count(), 1);
    assert!(written.contains("octocat deployed widgets 1.2.0 to production"));
}
