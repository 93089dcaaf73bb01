//! `gate-server spool list|replay|drop` on a spool file, as an operator
//! would run them on a stopped gateway.

use std::path::Path;
use std::process::Command;

use gate_core::{Envelope, Notification};
use gate_spool::Spool;

fn envelope(delivery: &str) -> Envelope {
    Envelope {
        delivery: delivery.into(),
        source: "GitHub".into(),
        door: "acme".into(),
        event: "push".into(),
        received_at: 1_700_000_000,
        notification: Notification {
            service: "GitHub".into(),
            project: "acme".into(),
            group: "ci".into(),
            raw_content: gate_core::RawContent::from_string("{\"n\":1}".into()).expect("json"),
            kind: "push".into(),
            text: format!("event {delivery}"),
            link: String::new(),
        },
    }
}

fn gate(config: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["spool"])
        .args(args)
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn list_drop_and_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool_path = dir.path().join("spool.redb");
    let out = dir.path().join("out.jsonl");
    let config = dir.path().join("gate.toml");
    std::fs::write(
        &config,
        format!(
            "[spool]\npath = {:?}\n[sinks.local]\nkind = \"file\"\npath = {:?}\nlog = false\n",
            spool_path.display().to_string(),
            out.display().to_string()
        ),
    )
    .expect("config");
    let ids: Vec<u64> = {
        let spool = Spool::open(&spool_path, 100).expect("spool");
        ["a", "b", "c"]
            .iter()
            .map(|d| {
                spool
                    .append("local", &envelope(d), "broker down")
                    .expect("append")
            })
            .collect()
    };
    {
        let spool = Spool::open(&spool_path, 100).expect("spool");
        spool
            .append("ghost", &envelope("g"), "removed sink")
            .expect("append");
    }

    let (code, stdout, stderr) = gate(&config, &["list"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    // Sink by sink, each oldest first.
    let listed: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["sink"].as_str().unwrap_or_default(),
                l["delivery"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("ghost", "g"),
            ("local", "a"),
            ("local", "b"),
            ("local", "c")
        ]
    );
    assert_eq!(lines[1]["state"], "waiting");
    assert_eq!(lines[1]["lastError"], "broker down");
    assert_eq!(lines[1]["routingKey"], "acme.ci.github.push");

    let (code, stdout, _) = gate(&config, &["drop", &ids[1].to_string()]);
    assert_eq!(
        (code, stdout.trim()),
        (0, format!("dropped entry {}", ids[1]).as_str())
    );
    let (code, _, stderr) = gate(&config, &["drop", &ids[1].to_string()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no spool entry"), "{stderr}");

    // The ghost sink is not configured: that entry fails and stays.
    let (code, stdout, stderr) = gate(&config, &["replay"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let delivered: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .expect("file sink wrote")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let deliveries: Vec<_> = delivered
        .iter()
        .map(|l| l["delivery"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(deliveries, ["a", "c"]);
    let (_, stdout, _) = gate(&config, &["list"]);
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.contains("\"sink\":\"ghost\""), "{stdout}");
}

#[test]
fn a_spool_held_by_a_running_gateway_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool_path = dir.path().join("spool.redb");
    let config = dir.path().join("gate.toml");
    std::fs::write(
        &config,
        format!("[spool]\npath = {:?}\n", spool_path.display().to_string()),
    )
    .expect("config");
    let _held = Spool::open(&spool_path, 10).expect("spool");
    let (code, _, stderr) = gate(&config, &["list"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("stop it first"), "{stderr}");
}

/// Flip the bytes of every occurrence of `marker` in the file.
fn damage(path: &Path, marker: &str) {
    let mut bytes = std::fs::read(path).expect("read spool");
    let marker = marker.as_bytes();
    let mut found = 0;
    for start in 0..bytes.len().saturating_sub(marker.len()) {
        if &bytes[start..start + marker.len()] == marker {
            bytes[start] ^= 0x55;
            found += 1;
        }
    }
    assert!(found > 0, "marker not in the spool file");
    std::fs::write(path, bytes).expect("write spool");
}

fn list(config: &Path) -> Vec<serde_json::Value> {
    let (code, stdout, stderr) = gate(config, &["list"]);
    assert_eq!(code, 0, "{stderr}");
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn list_shows_damaged_and_quarantined_records_and_drop_removes_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool_path = dir.path().join("spool.redb");
    let config = dir.path().join("gate.toml");
    std::fs::write(
        &config,
        format!("[spool]\npath = {:?}\n", spool_path.display().to_string()),
    )
    .expect("config");
    let marker = "QZXJ-cli-damaged-KWVQ";
    let damaged = {
        let spool = Spool::open(&spool_path, 100).expect("spool");
        spool.append("local", &envelope("a"), "down").expect("a");
        let id = spool.append("local", &envelope(marker), "down").expect("b");
        spool.append("local", &envelope("c"), "down").expect("c");
        id
    };
    damage(&spool_path, marker);

    let lines = list(&config);
    let states: Vec<&str> = lines.iter().filter_map(|l| l["state"].as_str()).collect();
    assert_eq!(states, ["waiting", "unreadable", "waiting"]);
    assert_eq!(lines[1]["id"], damaged);
    assert!(lines[1]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("checksum mismatch")));

    // What the redelivery loop does when it reaches the record.
    {
        let spool = Spool::open(&spool_path, 100).expect("spool");
        assert_eq!(spool.oldest("local", 10).expect("read").len(), 2);
        assert_eq!(spool.quarantined(), 1);
    }
    let lines = list(&config);
    let states: Vec<&str> = lines.iter().filter_map(|l| l["state"].as_str()).collect();
    assert_eq!(states, ["waiting", "waiting", "quarantined"]);
    assert_eq!(lines[2]["id"], damaged);
    assert_eq!(lines[2]["sink"], "local");
    assert!(lines[2]["bytes"].as_u64().is_some_and(|n| n > 0));

    let (code, stdout, _) = gate(&config, &["drop", &damaged.to_string()]);
    assert_eq!(
        (code, stdout.trim()),
        (0, format!("dropped entry {damaged}").as_str())
    );
    assert_eq!(list(&config).len(), 2);
}

#[test]
fn an_empty_or_foreign_spool_file_stops_serve_check_and_the_cli_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool_path = dir.path().join("spool.redb");
    let config = dir.path().join("gate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[spool]\npath = {:?}\n",
            spool_path.display().to_string()
        ),
    )
    .expect("config");
    for (content, reason) in [
        (&b""[..], "the file is empty (0 bytes)"),
        (&b"SQLite format 3\0 not ours"[..], "it is not a spool file"),
    ] {
        std::fs::write(&spool_path, content).expect("spool file");
        let (code, _, stderr) = gate(&config, &["list"]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
        assert!(!stderr.contains("stop it first"), "{stderr}");

        let check = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .args(["config", "check", "--config"])
            .arg(&config)
            .output()
            .expect("run gate-server config check");
        let stderr = String::from_utf8_lossy(&check.stderr);
        assert_eq!(check.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("spool.path"), "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");

        let (success, stderr) = serve_briefly(&config);
        assert!(!success, "serve started on a bad spool file");
        assert!(stderr.contains(reason), "{stderr}");
        assert_eq!(std::fs::read(&spool_path).expect("kept"), content);
    }
}

/// Run `gate-server serve`; one that is still running after 10 s is killed
/// and reported as started.
fn serve_briefly(config: &Path) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gate-server serve");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    (status.is_none_or(|s| s.success()), stderr)
}
