//! `gate-server github redeliver` and the periodic mode of `serve`, run as
//! an operator would, against a local server answering like GitHub's REST
//! API for hook deliveries. In the periodic test the fake GitHub really
//! redelivers: it posts the stored, signed webhook to the gateway and
//! records the gateway's answer as a new delivery, as GitHub does.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::process::{free_addr, GateProcess};
use common::{github_signature, payload};
use gate_conduit::test_server::{Recorded, Reply, TestServer};
use serde_json::{json, Value};

const TOKEN: &str = "ghp_do_not_print_me";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 for `seconds_ago` (within today or yesterday is enough).
fn at(seconds_ago: u64) -> String {
    let t = now() - seconds_ago;
    let days = t / 86_400;
    let rest = t % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn item(id: u64, guid: &str, seconds_ago: u64, code: u16) -> Value {
    json!({"id": id, "guid": guid, "delivered_at": at(seconds_ago), "redelivery": false,
           "duration": 0.1, "status": if code == 200 { "OK" } else { "failed to connect" },
           "status_code": code, "event": "push", "action": null,
           "installation_id": null, "repository_id": 1})
}

/// GitHub's side: the hook's deliveries (newest first) and redelivery
/// requests seen. `gateway` set: a redelivery is really posted there.
struct FakeGitHub {
    deliveries: Vec<Value>,
    attempts: Vec<String>,
    gateway: Option<SocketAddr>,
    body: Vec<u8>,
}

async fn fake_github(state: Arc<Mutex<FakeGitHub>>) -> TestServer {
    TestServer::start(move |request: &Recorded| {
        if request.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return Reply::json(&json!({"message": "Bad credentials"})).with_status(401);
        }
        let mut github = state.lock().expect("lock");
        let path = request.uri.path().to_owned();
        if request.method == http::Method::GET && path == "/repos/acme/widgets/hooks/5/deliveries" {
            return Reply::json(&Value::Array(github.deliveries.clone()));
        }
        let Some(id) = path
            .strip_prefix("/repos/acme/widgets/hooks/5/deliveries/")
            .and_then(|rest| rest.strip_suffix("/attempts"))
        else {
            return Reply::status(404);
        };
        github.attempts.push(id.to_owned());
        let guid = github
            .deliveries
            .iter()
            .find(|d| d["id"].as_u64().map(|n| n.to_string()).as_deref() == Some(id))
            .map(|d| d["guid"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        if let Some(gateway) = github.gateway {
            let status = post_webhook(gateway, &guid, &github.body);
            let next_id = 1_000 + github.deliveries.len() as u64;
            let mut redelivery = item(next_id, &guid, 0, status);
            redelivery["redelivery"] = json!(true);
            github.deliveries.insert(0, redelivery);
        }
        Reply::json(&json!({})).with_status(202)
    })
    .await
    .expect("fake github")
}

/// POST the signed push to the gateway as GitHub would; its status code.
fn post_webhook(gateway: SocketAddr, guid: &str, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(gateway).expect("connect gateway");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /gate/GitHub/acme HTTP/1.1\r\nhost: {gateway}\r\ncontent-type: application/json\r\n\
         x-github-event: push\r\nx-github-delivery: {guid}\r\nx-hub-signature-256: {}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        github_signature("s3cret", body),
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write body");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn config(dir: &tempfile::TempDir, api: &str, extra: &str) -> std::path::PathBuf {
    let out = dir.path().join("out.jsonl");
    let spool = dir.path().join("spool.redb");
    let text = format!(
        "[spool]\npath = {spool:?}\n[sinks.local]\nkind = \"file\"\npath = {out:?}\n\
         [sources.GitHub]\nsinks = [\"local\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s3cret\"]\n\
         [github_recovery]\napi_url = \"{api}\"\n{extra}\n\
         [github_recovery.doors.acme]\nrepo = \"acme/widgets\"\nhook_id = 5\ntoken = \"env:GATE_TEST_GITHUB_TOKEN\"\n"
    );
    let path = dir.path().join("gate.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn gate_server(args: &[&str], config: &std::path::Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("GATE_TEST_GITHUB_TOKEN", TOKEN)
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_lists_then_redelivers_the_failed_deliveries() {
    let state = Arc::new(Mutex::new(FakeGitHub {
        deliveries: vec![
            item(13, "G-late", 60, 0),
            item(12, "G-fine", 120, 200),
            item(11, "G-down", 600, 0),
            item(10, "G-old", 7_200, 0),
        ],
        attempts: Vec::new(),
        gateway: None,
        body: Vec::new(),
    }));
    let github = fake_github(Arc::clone(&state)).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = config(&dir, &github.url(), "");
    let args = [
        "github",
        "redeliver",
        "--door",
        "acme",
        "--since",
        "1h",
        "--dry-run",
    ];
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || gate_server(&args, &config))
        .await
        .expect("run");
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("would redeliver 11 push guid=G-down at "),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("would redeliver 13 push guid=G-late at "),
        "{stdout}"
    );
    assert_eq!(
        lines[2],
        "door acme: 3 deliveries listed, 2 failed event(s), 0 redelivered, 0 refused, 0 given up"
    );
    assert!(state.lock().expect("lock").attempts.is_empty());

    let config = dir.path().join("gate.toml");
    let args = ["github", "redeliver", "--door", "acme", "--since", "1h"];
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || gate_server(&args, &config))
        .await
        .expect("run");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(state.lock().expect("lock").attempts, ["11", "13"]);
    assert!(
        stdout.contains("redelivered 11 push guid=G-down"),
        "{stdout}"
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reports_unknown_doors_and_api_refusals() {
    let state = Arc::new(Mutex::new(FakeGitHub {
        deliveries: vec![],
        attempts: Vec::new(),
        gateway: None,
        body: Vec::new(),
    }));
    let github = fake_github(Arc::clone(&state)).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = config(&dir, &github.url(), "");
    let unknown = config.clone();
    let (code, _, stderr) = tokio::task::spawn_blocking(move || {
        gate_server(
            &["github", "redeliver", "--door", "nope", "--since", "1h"],
            &unknown,
        )
    })
    .await
    .expect("run");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no [github_recovery.doors.nope] (configured: acme)"),
        "{stderr}"
    );

    // A bad token: GitHub's 401 message, exit 1, the token never shown.
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .args([
                "github",
                "redeliver",
                "--door",
                "acme",
                "--since",
                "1h",
                "--config",
            ])
            .arg(&config)
            .env("GATE_TEST_GITHUB_TOKEN", "ghp_wrong_one")
            .output()
            .expect("run")
    })
    .await
    .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("github answered 401 to the deliveries list: Bad credentials"),
        "{stderr}"
    );
    assert!(!stderr.contains("ghp_wrong_one"));
}

#[test]
fn config_check_refuses_a_hook_for_a_door_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("gate.toml");
    std::fs::write(
        &path,
        "[sinks.local]\nkind = \"file\"\npath = \"/dev/null\"\n\
         [sources.GitHub]\nsinks = [\"local\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s\"]\n\
         [github_recovery.doors.acme]\norg = \"acme\"\nhook_id = 1\n\
         [github_recovery.doors.other]\norg = \"acme\"\nhook_id = 2\ntoken = \"t\"\n",
    )
    .expect("write");
    let (code, _, stderr) = gate_server(&["config", "check"], &path);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("github_recovery.doors.acme: set exactly one of `token` or `[app]`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("github_recovery.doors.other: no GitHub door named \"other\""),
        "{stderr}"
    );
}

/// The periodic mode recovers, on its first pass after start, a push that
/// GitHub failed to deliver while the gateway was down, and does not ask
/// again once GitHub records the redelivery's success.
#[tokio::test(flavor = "multi_thread")]
async fn serve_periodically_recovers_what_was_missed_while_down() {
    let addr = free_addr();
    let body = payload("github/push-one-commit.json");
    let state = Arc::new(Mutex::new(FakeGitHub {
        deliveries: vec![item(41, "G-fine", 30, 200), item(40, "G-missed", 300, 0)],
        attempts: Vec::new(),
        gateway: Some(addr),
        body,
    }));
    let github = fake_github(Arc::clone(&state)).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = config(
        &dir,
        &github.url(),
        "interval_seconds = 1\nlookback_seconds = 3600",
    );
    let log = dir.path().join("gate.log");
    // The child inherits the token through the environment, as in production.
    let gate = {
        let config = config.clone();
        let log = log.clone();
        std::env::set_var("GATE_TEST_GITHUB_TOKEN", TOKEN);
        tokio::task::spawn_blocking(move || GateProcess::start(&config, addr, &log))
            .await
            .expect("start")
    };
    let out = dir.path().join("out.jsonl");
    let started = Instant::now();
    while std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .count()
        < 1
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no recovery: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Several more passes: the success is on record, nothing is asked again.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let written = std::fs::read_to_string(&out).expect("out");
    assert_eq!(written.lines().count(), 1, "{written}");
    let github_state = state.lock().expect("lock");
    assert_eq!(github_state.attempts, ["40"]);
    assert_eq!(github_state.deliveries[0]["status_code"], 200);
    drop(github_state);
    let metrics = http_get(addr, "/metrics");
    assert!(
        metrics.contains("gate_github_recovery_total{door=\"acme\",outcome=\"redelivered\"} 1"),
        "{metrics}"
    );
    drop(gate);
}

fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// Two gateways with the periodic mode on and a shared Redis take turns:
/// one pass per interval in all, not one per gateway.
#[tokio::test(flavor = "multi_thread")]
async fn gateways_sharing_redis_take_turns_at_the_periodic_pass() {
    let state = Arc::new(Mutex::new(FakeGitHub {
        // Never recorded as redelivered (gateway: None): each pass asks again.
        deliveries: vec![item(50, "G-stuck", 60, 0)],
        attempts: Vec::new(),
        gateway: None,
        body: Vec::new(),
    }));
    let github = fake_github(Arc::clone(&state)).await;
    let prefix = format!(
        "gate-test-turns:{}:{}:",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let extra = format!(
        "interval_seconds = 4\nlookback_seconds = 3600\nmax_attempts = 100\n\
         [dedup]\nstore = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\nkey_prefix = \"{prefix}\""
    );
    std::env::set_var("GATE_TEST_GITHUB_TOKEN", TOKEN);
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let mut gates = Vec::new();
    for dir in [&dir_a, &dir_b] {
        let config = config(dir, &github.url(), &extra);
        let log = dir.path().join("gate.log");
        gates.push(
            tokio::task::spawn_blocking(move || GateProcess::start(&config, free_addr(), &log))
                .await
                .expect("start"),
        );
    }
    // Both start within a fraction of the interval: their first passes
    // share one turn, and so do their second ones (at about 4 s).
    tokio::time::sleep(Duration::from_millis(6_000)).await;
    let attempts = state.lock().expect("lock").attempts.clone();
    drop(gates);
    let logs: String = [&dir_a, &dir_b]
        .iter()
        .map(|d| std::fs::read_to_string(d.path().join("gate.log")).unwrap_or_default())
        .collect();
    assert_eq!(attempts, ["50", "50"], "{logs}");
}
