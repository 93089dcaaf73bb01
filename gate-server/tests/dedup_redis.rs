//! `[dedup] store = "redis"` against real Redis servers: the shared one on
//! 127.0.0.1:6379 (unique key prefixes per test), a closed port, and a
//! private redis-server this test starts and kills.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{free_addr, GateProcess};
use common::{call, gateway, github_signature, payload, request, unique};
use gate_conduit::test_server::{Reply, TestServer};
use gate_server::Gateway;

const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

fn config(out: &std::path::Path, redis_url: &str, prefix: &str, extra: &str) -> String {
    format!(
        "[dedup]\nstore = \"redis\"\nredis_url = \"{redis_url}\"\nkey_prefix = \"{prefix}\"\n{extra}\n\
         [sinks.local]\nkind = \"file\"\npath = {out:?}\nfsync = false\nlog = false\n\
         [sources.GitHub]\nsinks = [\"local\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s3cret\"]\n"
    )
}

async fn push(gateway: &Gateway, delivery: &str) -> common::Answer {
    let body = payload("github/push-one-commit.json");
    let signature = github_signature("s3cret", &body);
    call(
        gateway,
        request(
            "POST",
            "/gate/GitHub/acme",
            &[
                ("content-type", "application/json"),
                ("x-github-event", "push"),
                ("x-github-delivery", delivery),
                ("x-hub-signature-256", &signature),
            ],
            body,
        ),
    )
    .await
}

fn statuses(answer: &common::Answer) -> Vec<String> {
    answer.json()["actions"]
        .as_array()
        .map(|actions| {
            actions
                .iter()
                .map(|a| a["status"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn lines(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

async fn redis(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must run on 127.0.0.1:6379 (scripts/ensure-services.sh starts it)")
}

#[tokio::test]
async fn a_redelivery_reaching_another_gateway_is_answered_duplicate() {
    let dir = tempfile::tempdir().expect("dir");
    let prefix = format!("{}:", unique("gate-test-dedup"));
    let (out_a, out_b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let a = gateway(&config(
        &out_a,
        SHARED_REDIS,
        &prefix,
        "window_seconds = 600",
    ));
    let b = gateway(&config(
        &out_b,
        SHARED_REDIS,
        &prefix,
        "window_seconds = 600",
    ));

    let first = push(&a, "guid-1").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(statuses(&first), ["delivered"]);
    // GitHub redelivers the same event; the load balancer picks gateway B.
    let again = push(&b, "guid-1").await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(statuses(&again), ["duplicate"]);
    assert_eq!((lines(&out_a), lines(&out_b)), (1, 0));
    // Another event is B's to deliver.
    assert_eq!(statuses(&push(&b, "guid-2").await), ["delivered"]);
    assert_eq!(lines(&out_b), 1);

    // The id is kept for the window, under the prefix, as the event id.
    let mut connection = redis(SHARED_REDIS).await;
    let key = format!("{prefix}GitHub/acme/guid-1");
    let value: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("get");
    assert_eq!(value.as_deref(), Some("seen"), "{key}");
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut connection)
        .await
        .expect("pttl");
    assert!((590_000..=600_000).contains(&ttl_ms), "{ttl_ms}");
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .arg(format!("{prefix}GitHub/acme/guid-2"))
        .query_async(&mut connection)
        .await
        .expect("clean up");
}

/// Gateway A (a process) takes the event, its sink hangs, and it is killed
/// with SIGKILL mid-delivery: its claim stays in Redis. Gateway B answers
/// the redelivery "in progress, retry" until the claim expires by itself,
/// then delivers it.
#[tokio::test(flavor = "multi_thread")]
async fn the_claim_of_a_gateway_killed_mid_delivery_expires_on_its_own() {
    let dir = tempfile::tempdir().expect("dir");
    let prefix = format!("{}:", unique("gate-test-claim"));
    let hanging = TestServer::start(|_| Reply::status(200).after(Duration::from_secs(60)))
        .await
        .expect("server");
    let config_a = dir.path().join("a.toml");
    std::fs::write(
        &config_a,
        format!(
            "[server]\ndelivery_deadline_ms = 2000\n[spool]\npath = {:?}\n\
             [dedup]\nstore = \"redis\"\nredis_url = \"{SHARED_REDIS}\"\nkey_prefix = \"{prefix}\"\nclaim_ttl_ms = 2500\n\
             [sinks.slow]\nkind = \"http\"\nurl = \"{}/hook\"\ntimeout_ms = 60000\n\
             [sources.GitHub]\nsinks = [\"slow\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s3cret\"]\n",
            dir.path().join("a.redb"),
            hanging.url()
        ),
    )
    .expect("config");
    let addr: SocketAddr = free_addr();
    let log = dir.path().join("a.log");
    let a = {
        let (config_a, log) = (config_a.clone(), log.clone());
        tokio::task::spawn_blocking(move || GateProcess::start(&config_a, addr, &log))
            .await
            .expect("start a")
    };
    let body = payload("github/push-one-commit.json");
    let signature = github_signature("s3cret", &body);
    let sent = tokio::spawn(async move {
        common::post_to(
            addr,
            "/gate/GitHub/acme",
            &common::github_headers("push", "guid-killed", &signature),
            body,
        )
        .await
    });
    let started = Instant::now();
    while hanging.requests().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "gateway A never reached its sink: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let claimed_at = Instant::now();
    // The sender gives up first (the delivery goes on detached), then A dies.
    sent.abort();
    tokio::task::spawn_blocking(move || a.kill9())
        .await
        .expect("kill");

    let out_b = dir.path().join("b.jsonl");
    let b = gateway(&config(
        &out_b,
        SHARED_REDIS,
        &prefix,
        "claim_ttl_ms = 2500\n[server]\ndelivery_deadline_ms = 2000",
    ));
    let busy = push(&b, "guid-killed").await;
    assert_eq!(busy.status, 503, "{}", busy.text());
    assert_eq!(
        busy.json()["error"]["type"],
        "in_progress",
        "{}",
        busy.text()
    );
    assert_eq!(busy.headers["retry-after"], "1");
    // Retrying as the sender is told to: the claim lapses, B delivers.
    let delivered = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let answer = push(&b, "guid-killed").await;
        if answer.status == 200 {
            break answer;
        }
        assert!(
            claimed_at.elapsed() < Duration::from_secs(6),
            "still refused: {}",
            answer.text()
        );
    };
    assert!(claimed_at.elapsed() >= Duration::from_millis(2_000));
    assert_eq!(statuses(&delivered), ["delivered"]);
    assert_eq!(lines(&out_b), 1);
}

#[tokio::test]
async fn an_unreachable_redis_fails_open_with_a_metric_and_a_ready_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let closed = free_addr();
    let out = dir.path().join("out.jsonl");
    let gate = gateway(&config(
        &out,
        &format!("redis://{closed}"),
        "gate-test:",
        "redis_timeout_ms = 300",
    ));
    let started = Instant::now();
    for _ in 0..2 {
        let answer = push(&gate, "guid-open").await;
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(statuses(&answer), ["delivered"]);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "never stalls");
    // At least once: both published.
    assert_eq!(lines(&out), 2);
    let ready = call(&gate, request("GET", "/ready", &[], "")).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    let reason = ready.json()["dedup"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.starts_with("redis:")
            && reason.ends_with("delivering without shared deduplication (at least once)"),
        "{reason}"
    );
    let metrics = call(&gate, request("GET", "/metrics", &[], ""))
        .await
        .text();
    assert!(
        metrics.lines().any(|l| l == "gate_dedup_fail_open_total 2"),
        "{metrics}"
    );
}

/// A private redis-server on its own port, killed and started again.
struct PrivateRedis {
    port: u16,
    child: Child,
}

impl PrivateRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/ensure-services.sh)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { port, child }
    }

    /// `STOP` freezes the server (connections stay open, nothing is
    /// answered), `CONT` resumes it.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal}");
    }

    fn kill(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_redis_that_dies_and_returns_resumes_shared_deduplication() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_addr().port();
    let redis_server = PrivateRedis::start(port);
    let out = dir.path().join("out.jsonl");
    let gate = gateway(&config(
        &out,
        &format!("redis://127.0.0.1:{}", redis_server.port),
        "gate-test:",
        "redis_timeout_ms = 300",
    ));
    assert_eq!(statuses(&push(&gate, "guid-a").await), ["delivered"]);
    assert_eq!(statuses(&push(&gate, "guid-a").await), ["duplicate"]);

    let port = redis_server.kill();
    let down = push(&gate, "guid-b").await;
    assert_eq!(down.status, 200, "{}", down.text());
    assert_eq!(statuses(&down), ["delivered"]);
    let ready = call(&gate, request("GET", "/ready", &[], "")).await.json();
    assert!(ready["dedup"].is_string(), "{ready}");
    assert_eq!(fail_open(&gate).await, 1);

    let _back = PrivateRedis::start(port);
    // Past the pause after a failure, the store is asked again.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let started = Instant::now();
    let resumed = loop {
        let answer = push(&gate, "guid-c").await;
        if answer.status == 200 && statuses(&answer) == ["delivered"] {
            let again = push(&gate, "guid-c").await;
            if statuses(&again) == ["duplicate"] {
                break again;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never resumed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(resumed.status, 200);
    let ready = call(&gate, request("GET", "/ready", &[], "")).await.json();
    assert!(ready.get("dedup").is_none(), "{ready}");
}

async fn fail_open(gateway: &Gateway) -> u64 {
    let metrics = call(gateway, request("GET", "/metrics", &[], ""))
        .await
        .text();
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("gate_dedup_fail_open_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no fail-open counter: {metrics}"))
}

/// A Redis that stops answering (frozen with SIGSTOP: connections stay open,
/// nothing comes back), including between a delivery's claim and its
/// record: every event is still delivered (at least once), each call costs
/// at most `redis_timeout_ms` and then none for the pause after a failure,
/// each fail-open delivery is counted, `/ready` says why; once Redis
/// answers again, deduplication resumes.
#[tokio::test(flavor = "multi_thread")]
async fn a_redis_that_stops_answering_fails_open_after_its_timeout() {
    let dir = tempfile::tempdir().expect("dir");
    let redis_server = PrivateRedis::start(free_addr().port());
    // Each delivery takes 600 ms at the sink: long enough to freeze Redis
    // while one is in progress.
    let sink = TestServer::start(|_| Reply::status(200).after(Duration::from_millis(600)))
        .await
        .expect("server");
    let gate = gateway(&format!(
        "[spool]\npath = {:?}\n\
         [dedup]\nstore = \"redis\"\nredis_url = \"redis://127.0.0.1:{}\"\nkey_prefix = \"gate-test:\"\nredis_timeout_ms = 300\n\
         [sinks.slow]\nkind = \"http\"\nurl = \"{}/hook\"\ntimeout_ms = 5000\n\
         [sources.GitHub]\nsinks = [\"slow\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s3cret\"]\n",
        dir.path().join("spool.redb"),
        redis_server.port,
        sink.url()
    ));
    assert_eq!(statuses(&push(&gate, "guid-a").await), ["delivered"]);
    assert_eq!(statuses(&push(&gate, "guid-a").await), ["duplicate"]);

    // guid-b is claimed, then Redis freezes while its sink works: the record
    // cannot be written, the event is delivered all the same.
    let in_progress = {
        let gate = std::sync::Arc::clone(&gate);
        tokio::spawn(async move { push(&gate, "guid-b").await })
    };
    let started = Instant::now();
    while sink.requests().len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "guid-b never reached the sink"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    redis_server.signal("STOP");
    let b = in_progress.await.expect("guid-b");
    assert_eq!(b.status, 200, "{}", b.text());
    assert_eq!(statuses(&b), ["delivered"]);
    assert_eq!(fail_open(&gate).await, 1, "the record that failed");

    // Within the pause after a failure, Redis is not asked: no wait, and
    // guid-a is delivered again (at least once).
    let asked = Instant::now();
    let again = push(&gate, "guid-a").await;
    assert_eq!(statuses(&again), ["delivered"], "{}", again.text());
    assert!(
        asked.elapsed() < Duration::from_millis(600 + 300),
        "paid a Redis timeout: {:?}",
        asked.elapsed()
    );
    // Past the pause, Redis is asked again and costs one timeout.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let asked = Instant::now();
    let c = push(&gate, "guid-c").await;
    assert_eq!(statuses(&c), ["delivered"], "{}", c.text());
    let took = asked.elapsed();
    assert!(
        took >= Duration::from_millis(300 + 600) && took < Duration::from_millis(300 + 600 + 1500),
        "one Redis timeout and the sink: {took:?}"
    );
    assert_eq!(fail_open(&gate).await, 3);
    assert_eq!(sink.requests().len(), 4, "a, b, a again, c: each delivered");
    let ready = call(&gate, request("GET", "/ready", &[], "")).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    let reason = ready.json()["dedup"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.starts_with("redis:")
            && reason.ends_with("delivering without shared deduplication (at least once)"),
        "{reason}"
    );

    // Redis answers again: deduplication resumes, /ready loses its reason.
    redis_server.signal("CONT");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let started = Instant::now();
    loop {
        let answer = push(&gate, "guid-d").await;
        if answer.status == 200 && statuses(&push(&gate, "guid-d").await) == ["duplicate"] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never resumed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ready = call(&gate, request("GET", "/ready", &[], "")).await.json();
    assert!(ready.get("dedup").is_none(), "{ready}");
}

#[test]
fn bad_redis_settings_are_configuration_errors_that_hide_the_url() {
    let registry = gate_server::registry().expect("plugins");
    let check = |dedup: &str| {
        let text = format!(
            "{dedup}\n[sinks.local]\nkind = \"file\"\npath = \"/dev/null\"\n\
             [sources.GitHub]\nsinks = [\"local\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s\"]\n"
        );
        let config = gate_server::Config::parse("t.toml", &text, []).expect("parses");
        match Gateway::check(config, &registry) {
            Ok(_) => String::new(),
            Err(errors) => errors.to_string(),
        }
    };
    let missing = check("[dedup]\nstore = \"redis\"");
    assert!(
        missing.contains("dedup: store = \"redis\" needs redis_url"),
        "{missing}"
    );
    let bad = check("[dedup]\nstore = \"redis\"\nredis_url = \"nonsense://user:hunter2@host\"");
    assert!(bad.contains("dedup: invalid redis URL"), "{bad}");
    assert!(!bad.contains("hunter2"), "{bad}");
    let short = check(
        "[dedup]\nstore = \"redis\"\nredis_url = \"redis://127.0.0.1:1\"\nclaim_ttl_ms = 5000",
    );
    assert!(
        short.contains(
            "dedup.claim_ttl_ms: must be longer than server.delivery_deadline_ms (8000 ms)"
        ),
        "{short}"
    );
    assert_eq!(check("[dedup]\nstore = \"memory\""), "");
}

/// The store is built once: a reload that changes it says it needs a
/// restart, without showing the URL (it may hold a password).
#[tokio::test]
async fn a_reload_names_store_changes_as_needing_a_restart_without_the_url() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("out.jsonl");
    let running = gateway(&config(&out, "redis://:pw-one@127.0.0.1:6379", "p:", ""));
    let configured = gateway(&config(&out, "redis://:pw-two@127.0.0.1:6379", "q:", ""));
    let changes = gate_server::reload::needs_restart(&running, &configured);
    let shown: Vec<(String, String, String)> = changes
        .iter()
        .map(|c| {
            (
                c.setting.to_owned(),
                c.running.clone(),
                c.configured.clone(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "dedup.redis_url".into(),
                "set".into(),
                "another value".into()
            ),
            ("dedup.key_prefix".into(), "p:".into(), "q:".into()),
        ]
    );
    assert!(!format!("{changes:?}").contains("pw-"));
}
