//! SIGHUP on a real gate-server process: every setting that can change live
//! does, and each one that needs a restart is named in the log while the
//! running value is kept.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::process::{free_addr, GateProcess};
use common::{payload, post_to};
use http::StatusCode;

struct Settings<'a> {
    dedup_window_s: u64,
    max_connections: usize,
    header_timeout_ms: u64,
    spool: &'a Path,
    spool_max_entries: u64,
    retry_initial_ms: u64,
}

fn config(out: &Path, settings: &Settings<'_>) -> String {
    format!(
        r#"
        [server]
        default_sinks = ["local"]
        max_connections = {max_connections}
        header_read_timeout_ms = {header_timeout_ms}

        [spool]
        path = {spool:?}
        max_entries = {spool_max_entries}
        retry_initial_ms = {retry_initial_ms}

        [dedup]
        window_seconds = {dedup_window_s}

        [sinks.local]
        kind = "file"
        path = {out:?}
        log = false

        [sources.Notification.doors.ops]
        insecure_no_auth = true
        "#,
        max_connections = settings.max_connections,
        header_timeout_ms = settings.header_timeout_ms,
        spool = settings.spool.display().to_string(),
        spool_max_entries = settings.spool_max_entries,
        retry_initial_ms = settings.retry_initial_ms,
        dedup_window_s = settings.dedup_window_s,
        out = out.display().to_string(),
    )
}

async fn notify(addr: std::net::SocketAddr, delivery: &str) -> String {
    let headers = [
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-gate-delivery".to_owned(), delivery.to_owned()),
    ];
    let answer = post_to(
        addr,
        "/gate/Notification/ops",
        &headers,
        payload("native/minimal.json"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer.json()["actions"][0]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sighup_applies_live_settings_and_names_those_needing_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl");
    let log = dir.path().join("gate.log");
    let first_spool = dir.path().join("spool.redb");
    let other_spool = dir.path().join("elsewhere/spool.redb");
    let before = Settings {
        dedup_window_s: 3600,
        max_connections: 64,
        header_timeout_ms: 5000,
        spool: &first_spool,
        spool_max_entries: 1000,
        retry_initial_ms: 500,
    };
    let path = dir.path().join("gate.toml");
    std::fs::write(&path, config(&out, &before)).expect("config");
    let addr = free_addr();
    let gate = GateProcess::start(&path, addr, &log);

    assert_eq!(notify(addr, "d1").await, "delivered");
    assert_eq!(notify(addr, "d1").await, "duplicate");

    let after = Settings {
        dedup_window_s: 0,
        max_connections: 32,
        header_timeout_ms: 2000,
        spool: &other_spool,
        spool_max_entries: 500,
        retry_initial_ms: 100,
    };
    std::fs::write(&path, config(&out, &after)).expect("new config");
    gate.signal("HUP");
    let started = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("configuration reloaded")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no reload in the log"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Live: deduplication is off now, so the same id is published again.
    assert_eq!(notify(addr, "d1").await, "delivered");
    let lines = std::fs::read_to_string(&out).expect("out");
    assert_eq!(lines.lines().count(), 2, "{lines}");

    let text = std::fs::read_to_string(&log).expect("log");
    for setting in [
        "server.max_connections",
        "server.header_read_timeout_ms",
        "spool.path",
        "spool.max_entries",
    ] {
        assert!(
            text.contains(&format!(
                "{setting} changed: it needs a restart; the running value is kept"
            )),
            "{setting} not named in:\n{text}"
        );
    }
    // Applied live (or unchanged): never reported.
    for live in ["dedup.", "retry_initial_ms", "server.listen"] {
        assert!(
            !text
                .lines()
                .any(|line| line.contains("needs a restart") && line.contains(live)),
            "{live} reported as needing a restart:\n{text}"
        );
    }
    assert!(
        !other_spool.exists(),
        "the spool was not moved without a restart"
    );
    gate.signal("TERM");
    assert!(gate.wait(Duration::from_secs(40)).success());
}
