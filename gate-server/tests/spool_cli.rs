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
            raw_content: serde_json::value::RawValue::from_string("{\"n\":1}".into())
                .expect("json"),
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
