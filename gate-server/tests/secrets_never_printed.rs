//! No secret value is ever printed: distinctive secrets in every place a
//! configuration holds one, and every output of every command and endpoint
//! searched for them, at trace level too. The HTTP sink's URL carries
//! `user:password@`: the password must reach the receiver as an
//! `Authorization` header, and never a log line.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const GITHUB_SECRET: &str = "ghsecretQ7xUNIQUEa1";
const MISPLACED_SECRET: &str = "misplacedQ7xUNIQUEb2";
const DOCKER_TOKEN: &str = "dockertokenQ7xUNIQUEc3";
const JENKINS_TOKEN: &str = "jenkinstokenQ7xUNIQUEd4";
const NATIVE_SECRET: &str = "nativesecretQ7xUNIQUEe5";
const NATIVE_TOKEN: &str = "nativetokenQ7xUNIQUEf6";
const HOOK_KEY: &str = "hookkeyQ7xUNIQUEg7";
const FEED_TOKEN: &str = "feedtokenQ7xUNIQUEh8";
const CONDUIT_TOKEN: &str = "api-conduitQ7xUNIQUEi9";
const SINK_PASSWORD: &str = "sinkpassQ7xUNIQUEj10";
const SINK_SECRET: &str = "sinksecretQ7xUNIQUEk11";
const SINK_HEADER: &str = "sinkheaderQ7xUNIQUEl12";
const AMQP_PASSWORD: &str = "amqppassQ7xUNIQUEm13";

const ALL: [&str; 13] = [
    GITHUB_SECRET,
    MISPLACED_SECRET,
    DOCKER_TOKEN,
    JENKINS_TOKEN,
    NATIVE_SECRET,
    NATIVE_TOKEN,
    HOOK_KEY,
    FEED_TOKEN,
    CONDUIT_TOKEN,
    SINK_PASSWORD,
    SINK_SECRET,
    SINK_HEADER,
    AMQP_PASSWORD,
];

fn assert_clean(what: &str, text: &str) {
    for secret in ALL {
        assert!(
            !text.contains(secret),
            "{what} shows the secret {secret}:\n{text}"
        );
    }
}

fn config(dir: &Path, listen: SocketAddr, receiver: SocketAddr) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
default_sinks = ["file", "hook"]

[spool]
path = "{spool}"

[sinks.file]
kind = "file"
path = "{out}"

[sinks.hook]
kind = "http"
url = "http://gate:{SINK_PASSWORD}@{receiver}/hook"
secret = "{SINK_SECRET}"
headers = {{ "X-Api-Key" = "{SINK_HEADER}" }}
retries = 0

[sinks.rabbit]
kind = "amqp"
url = "amqp://guest:{AMQP_PASSWORD}@127.0.0.1:5672/%2f"
exchange = "secrets-test"

[sources.GitHub.doors.acme]
secrets = ["{GITHUB_SECRET}"]

[sources.DockerHub.doors.hub]
token = "{DOCKER_TOKEN}"

[sources.Jenkins.doors.ci]
token = "{JENKINS_TOKEN}"
sinks = ["rabbit"]

[sources.Notification.doors.native]
secrets = ["{NATIVE_SECRET}"]
tokens = ["{NATIVE_TOKEN}"]

[sources.Phabricator.doors.phab]
hook_key = "{HOOK_KEY}"
accept_feed_hooks = true
token = "{FEED_TOKEN}"
conduit_url = "http://127.0.0.1:1"
conduit_token = "{CONDUIT_TOKEN}"
conduit_timeout_ms = 300
"#,
        spool = dir.join("spool.redb").display(),
        out = dir.join("out.jsonl").display(),
    )
}

/// The same file with a secret written where a list is expected.
fn misplaced(valid: &str) -> String {
    valid.replace(
        &format!("secrets = [\"{GITHUB_SECRET}\"]"),
        &format!("secrets = \"{MISPLACED_SECRET}\""),
    )
}

fn gate_server(args: &[&str], config: &Path, envs: &[(&str, &str)]) -> (String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "trace")
        .envs(envs.iter().copied())
        .output()
        .expect("run gate-server");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Answers 200 to everything and keeps each request's head.
async fn receiver() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&heads);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let kept = Arc::clone(&kept);
            tokio::spawn(async move {
                let mut received = Vec::new();
                let mut buffer = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    received.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&received).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            kept.lock().expect("lock").push(head.to_owned());
                            let _ = stream
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                                .await;
                            received.clear();
                        }
                    }
                }
            });
        }
    });
    (addr, heads)
}

/// A GET over a new connection: the whole answer, head included.
async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    answer
}

fn start(config: &Path, log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log"))
        .spawn()
        .expect("spawn")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_endpoint_or_log_line_shows_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (receiver_addr, heads) = receiver().await;
    let listen = common::process::free_addr();
    let text = config(dir.path(), listen, receiver_addr);
    let valid = dir.path().join("gate.toml");
    std::fs::write(&valid, &text).expect("write");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, misplaced(&text)).expect("write");

    // The mistyped secret: config check, serve and an environment override.
    let (stdout, stderr) = gate_server(&["config", "check"], &broken, &[]);
    assert!(
        stderr.contains("invalid type: string, expected a sequence"),
        "{stderr}"
    );
    assert_clean(
        "config check (misplaced secret)",
        &format!("{stdout}{stderr}"),
    );
    let (stdout, stderr) = gate_server(&["serve"], &broken, &[]);
    assert!(stderr.contains("sources.GitHub.doors.acme"), "{stderr}");
    assert_clean("serve (misplaced secret)", &format!("{stdout}{stderr}"));
    let (stdout, stderr) = gate_server(
        &["config", "check"],
        &valid,
        &[(
            "GATE__SOURCES__GITHUB__DOORS__ACME__SECRETS",
            MISPLACED_SECRET,
        )],
    );
    assert!(stderr.contains("expected a sequence"), "{stderr}");
    assert_clean("config check (override)", &format!("{stdout}{stderr}"));

    for args in [&["config", "check"][..], &["config", "show"][..]] {
        let (stdout, stderr) = gate_server(args, &valid, &[]);
        assert!(!stdout.is_empty(), "{args:?}: {stderr}");
        assert_clean(&format!("{args:?}"), &format!("{stdout}{stderr}"));
    }
    let payload = dir.path().join("push.json");
    std::fs::write(&payload, common::payload("github/push-forced.json")).expect("payload");
    let payload = payload.display().to_string();
    for extra in [&[][..], &["--unsigned"][..], &["--send"][..]] {
        let mut args = vec!["simulate", "GitHub", "acme", &payload, "--event", "push"];
        args.extend_from_slice(extra);
        let (stdout, stderr) = gate_server(&args, &valid, &[]);
        assert!(!stdout.is_empty(), "{args:?}: {stderr}");
        assert_clean(&format!("{args:?}"), &format!("{stdout}{stderr}"));
    }

    // The server at trace level, every endpoint, every door, right and wrong.
    let log = dir.path().join("serve.log");
    let mut child = start(&valid, &log);
    let started = Instant::now();
    while std::net::TcpStream::connect(listen).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut answers = String::new();
    for path in ["/status", "/ready", "/config", "/metrics", "/nothing"] {
        answers.push_str(&get(listen, path).await);
    }
    let body = common::payload("github/push-forced.json");
    let signed = common::github_headers(
        "push",
        "s-1",
        &common::github_signature(GITHUB_SECRET, &body),
    );
    let answer = common::post_to(listen, "/gate/GitHub/acme", &signed, body.clone()).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answers.push_str(&answer.text());
    let wrong = common::github_headers("push", "s-2", &common::github_signature("wrong", &body));
    answers.push_str(
        &common::post_to(listen, "/gate/GitHub/acme", &wrong, body)
            .await
            .text(),
    );
    let json = |extra: &[(&str, &str)]| {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        headers.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        headers
    };
    let hub = common::payload("dockerhub/push-minimal.json");
    for path in [
        format!("/gate/DockerHub/hub?token={DOCKER_TOKEN}"),
        "/gate/DockerHub/hub?token=wrong-token-0123456789".to_owned(),
    ] {
        answers.push_str(
            &common::post_to(listen, &path, &json(&[]), hub.clone())
                .await
                .text(),
        );
    }
    let jenkins =
        br#"{"name":"job","build":{"number":1,"phase":"COMPLETED","status":"FAILURE"}}"#.to_vec();
    let bearer = format!("Bearer {JENKINS_TOKEN}");
    answers.push_str(
        &common::post_to(
            listen,
            "/gate/Jenkins/ci",
            &json(&[("authorization", &bearer)]),
            jenkins,
        )
        .await
        .text(),
    );
    let native = br#"{"service":"s","group":"g","type":"t","text":"x"}"#.to_vec();
    let native_bearer = format!("Bearer {NATIVE_TOKEN}");
    answers.push_str(
        &common::post_to(
            listen,
            "/gate/Notification/native",
            &json(&[("authorization", &native_bearer)]),
            native,
        )
        .await
        .text(),
    );
    let herald = common::payload("phabricator/herald_task.json");
    let herald_signature = {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, HOOK_KEY.as_bytes());
        hex::encode(ring::hmac::sign(&key, &herald).as_ref())
    };
    answers.push_str(
        &common::post_to(
            listen,
            "/gate/Phabricator/phab",
            &json(&[("x-phabricator-webhook-signature", &herald_signature)]),
            herald,
        )
        .await
        .text(),
    );
    assert_clean("HTTP answers", &answers);

    // The HTTP sink got the password as a header, not in its URL.
    let received = heads.lock().expect("lock").clone();
    assert!(!received.is_empty(), "the HTTP sink delivered nothing");
    let basic = received
        .iter()
        .find_map(|head| {
            head.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization: basic "))
        })
        .expect("an Authorization header");
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.split_whitespace().nth(2).expect("credentials"))
        .expect("base64");
    assert_eq!(decoded, format!("gate:{SINK_PASSWORD}").as_bytes());
    assert!(
        received
            .iter()
            .all(|head| head.starts_with("POST /hook HTTP/1.1")),
        "{received:?}"
    );

    // A reload refused for the misplaced secret.
    std::fs::write(&valid, misplaced(&text)).expect("rewrite");
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("new configuration refused")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no refused reload in the log"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(log.contains("TRACE"), "not at trace level");
    assert_clean("serve log at trace level", &log);
}
