//! Recent deliveries: what the gateway keeps of each door's requests, who can
//! read it (`GET /deliveries` with the admin token), the `deliveries` command
//! against a running gateway (list, show, replay), and the page rendered by a
//! real headless Chromium.

mod common;

use std::process::Command;

use common::{call, github_headers, github_signature, payload, request, Running};
use gate_server::Gateway;

const SECRET: &str = "deliveries-test-secret-71c2";
const ADMIN: &str = "admin-token-for-the-history-0f9e";

fn config(out: &str, bodies: bool) -> String {
    format!(
        r#"
[sinks.local]
kind = "file"
path = {out:?}
log = false

[sources.GitHub.doors.acme]
sinks = ["local"]
secrets = ["{SECRET}"]

[deliveries]
admin_token = "{ADMIN}"
bodies = {bodies}
per_door = 3
"#
    )
}

fn push(delivery: &str, secret: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let body = payload("github/push-three-commits.json");
    let headers = github_headers("push", delivery, &github_signature(secret, &body));
    (headers, body)
}

async fn post(
    gateway: &Gateway,
    delivery: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> common::Answer {
    let (headers, body) = push(delivery, secret);
    let mut headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.extend_from_slice(extra);
    call(
        gateway,
        request("POST", "/gate/GitHub/acme", &headers, body),
    )
    .await
}

async fn get(gateway: &Gateway, path: &str, token: Option<&str>) -> common::Answer {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    call(gateway, request("GET", path, &headers, Vec::new())).await
}

#[tokio::test]
async fn history_is_off_without_an_admin_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let text = config(&out, false).replace(&format!("admin_token = \"{ADMIN}\"\n"), "");
    let gateway = common::gateway(&text);
    post(&gateway, "d-off", SECRET, &[]).await;
    for path in ["/deliveries", "/deliveries/ui"] {
        assert_eq!(get(&gateway, path, Some(ADMIN)).await.status, 404, "{path}");
    }
}

#[tokio::test]
async fn requests_are_kept_per_door_with_credentials_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let gateway = common::gateway(&config(&out, true));

    let accepted = post(&gateway, "d-1", SECRET, &[("x-request-id", "lb-42")]).await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.headers["x-request-id"], "lb-42");
    let refused = post(&gateway, "d-2", "a-wrong-secret", &[]).await;
    assert_eq!(refused.status, 403);
    let generated = refused.headers["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(generated.len(), 16, "{generated}");

    assert_eq!(get(&gateway, "/deliveries", None).await.status, 401);
    assert_eq!(
        get(&gateway, "/deliveries", Some("wrong")).await.status,
        401
    );
    let listed = get(&gateway, "/deliveries", Some(ADMIN)).await;
    assert_eq!(listed.status, 200);
    let listed = listed.json();
    let rows = listed["deliveries"].as_array().expect("list");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], generated.as_str(), "newest first");
    assert_eq!(rows[0]["status"], 403);
    assert_eq!(rows[1]["id"], "lb-42");
    assert_eq!(rows[1]["delivery"], "GitHub/acme/d-1");
    assert_eq!(rows[1]["event"], "push");

    let one = get(&gateway, "/deliveries/lb-42", Some(ADMIN)).await.json();
    assert_eq!(one["answer"]["actions"][0]["status"], "delivered");
    let signature = one["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|pair| pair[0] == "x-hub-signature-256")
        .expect("signature header kept by name");
    assert_eq!(signature[1], "[redacted]");
    assert!(one["body"]
        .as_str()
        .expect("bodies = true")
        .contains("\"commits\""));
    let text = serde_json::to_string(&listed).expect("json") + &one.to_string();
    assert!(!text.contains("sha256="), "a signature leaked: {text}");

    // Bounded: per_door = 3 keeps the last three.
    for n in 3..7 {
        post(&gateway, &format!("d-{n}"), SECRET, &[]).await;
    }
    let listed = get(&gateway, "/deliveries?door=acme", Some(ADMIN))
        .await
        .json();
    let deliveries: Vec<&str> = listed["deliveries"]
        .as_array()
        .expect("list")
        .iter()
        .map(|row| row["delivery"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        deliveries,
        ["GitHub/acme/d-6", "GitHub/acme/d-5", "GitHub/acme/d-4"]
    );
    assert_eq!(
        get(&gateway, "/deliveries/lb-42", Some(ADMIN)).await.status,
        404
    );
}

#[tokio::test]
async fn bodies_are_kept_only_when_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let gateway = common::gateway(&config(&out, false));
    post(&gateway, "d-nobody", SECRET, &[("x-request-id", "r-1")]).await;
    let one = get(&gateway, "/deliveries/r-1", Some(ADMIN)).await.json();
    assert!(one.get("body").is_none(), "{one}");
}

fn gate_server_cli(
    addr: std::net::SocketAddr,
    args: &[&str],
    config: &str,
) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .arg("deliveries")
        .args(args)
        .args(["--url", &format!("http://{addr}")])
        .env("GATE_ADMIN_TOKEN", ADMIN)
        .env("GATE_CONFIG", config)
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn running_with_history(dir: &tempfile::TempDir) -> (Running, String, String) {
    let out = dir.path().join("out.jsonl").display().to_string();
    let text = config(&out, true);
    let path = dir.path().join("gate.toml");
    std::fs::write(&path, &text).expect("write config");
    let running = Running::start(common::gateway(&text)).await;
    (running, out, path.display().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_lists_shows_and_replays_under_a_new_delivery_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, out, config_path) = running_with_history(&dir).await;
    let (headers, body) = push("cli-1", SECRET);
    let mut headers = headers;
    headers.push(("x-request-id".into(), "req-cli-1".into()));
    let answer = running.post("/gate/GitHub/acme", &headers, body).await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    let addr = running.addr;
    let cfg = config_path.clone();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || gate_server_cli(addr, &["list"], &cfg))
            .await
            .expect("cli");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("req-cli-1  GitHub/acme  push  GitHub/acme/cli-1  200"),
        "{stdout}"
    );

    let cfg = config_path.clone();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || gate_server_cli(addr, &["show", "req-cli-1"], &cfg))
            .await
            .expect("cli");
    assert_eq!(code, 0, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(shown["answer"]["delivery"], "GitHub/acme/cli-1");

    let cfg = config_path.clone();
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || gate_server_cli(addr, &["replay", "req-cli-1"], &cfg))
            .await
            .expect("cli");
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    let replayed: serde_json::Value = serde_json::from_str(&stdout).expect("the gateway's report");
    let new_id = replayed["delivery"].as_str().expect("delivery id");
    assert!(new_id.starts_with("GitHub/acme/cli-1.replay-"), "{new_id}");
    assert_eq!(replayed["actions"][0]["status"], "delivered", "{replayed}");
    let written = std::fs::read_to_string(&out).expect("file sink");
    assert_eq!(
        written.lines().count(),
        2,
        "the push and its replay: {written}"
    );

    let cfg = config_path;
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .args(["deliveries", "list", "--url", &format!("http://{addr}")])
            .env("GATE_ADMIN_TOKEN", "not-the-token")
            .env("GATE_CONFIG", cfg)
            .output()
            .expect("run");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .expect("cli");
    assert_eq!(code, 1);
    assert!(stderr.contains("401"), "{stderr}");
    running.stop().await;
}

/// Debian's chromium, installed by scripts/ensure-services.sh.
fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        std::path::Path::new(path).exists(),
        "{path} is missing: run scripts/ensure-services.sh (installs Debian's chromium)"
    );
    path
}

/// The page at `url` after its scripts ran, as Chromium renders it.
fn rendered(url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_lists_deliveries_and_shows_one_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (running, _, _) = running_with_history(&dir).await;
    let (mut headers, body) = push("page-1", SECRET);
    headers.push(("x-request-id".into(), "req-page-1".into()));
    assert_eq!(
        running
            .post("/gate/GitHub/acme", &headers, body)
            .await
            .status,
        200
    );
    // A stranger's header value must show as text, never run as markup.
    let (mut headers, body) = push("page-2", "wrong-secret");
    headers.push(("x-request-id".into(), "req-page-2".into()));
    headers.push(("x-note".into(), "<img src=x onerror=alert(1)>".into()));
    assert_eq!(
        running
            .post("/gate/GitHub/acme", &headers, body)
            .await
            .status,
        403
    );

    let base = format!("http://{}/deliveries/ui", running.addr);
    let list = tokio::task::spawn_blocking({
        let url = format!("{base}#token={ADMIN}");
        move || rendered(&url)
    })
    .await
    .expect("chromium");
    let rows: Vec<&str> = list.split("<tr data-id=").skip(1).collect();
    assert_eq!(rows.len(), 2, "two rows rendered: {list}");
    assert!(rows[0].starts_with("\"req-page-2\""), "{}", rows[0]);
    assert!(
        rows[0].contains("<td class=\"warn\">403</td>"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("<td>GitHub/acme/page-1</td>")
            && rows[1].contains("<td class=\"ok\">200</td>"),
        "{}",
        rows[1]
    );

    let detail = tokio::task::spawn_blocking({
        let url = format!("{base}#token={ADMIN}&id=req-page-2");
        move || rendered(&url)
    })
    .await
    .expect("chromium");
    assert!(detail.contains("GitHub/acme · 403"), "{detail}");
    assert!(
        detail.contains("x-hub-signature-256: [redacted]"),
        "{detail}"
    );
    assert!(
        detail.contains("x-note: &lt;img src=x onerror=alert(1)&gt;"),
        "{detail}"
    );
    assert!(detail.contains("signature does not match"), "{detail}");

    let refused = tokio::task::spawn_blocking({
        let url = format!("{base}#token=wrong-token");
        move || rendered(&url)
    })
    .await
    .expect("chromium");
    assert!(
        !refused.contains("<tr data-id="),
        "no rows without the token"
    );
    assert!(
        refused.contains("Authorization: Bearer"),
        "the error is shown: {refused}"
    );
    running.stop().await;
}
