//! The `gate-server` binary's configuration commands, run as a user would.

use std::process::Command;

fn gate_server(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .env_remove("GATE_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

#[test]
fn check_accepts_a_valid_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let path = write(
        &dir,
        "gate.toml",
        &format!(
            "[sinks.local]\nkind = \"file\"\npath = {out:?}\n\n[sources.GitHub]\nsinks = [\"local\"]\n[sources.GitHub.doors.acme]\nsecrets = [\"s\"]\n"
        ),
    );
    let (code, stdout, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("configuration OK: 1 door(s), 1 sink(s)"),
        "{stdout}"
    );
}

#[test]
fn check_accepts_the_embedded_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["config", "check"])
        .env_remove("GATE_CONFIG")
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn check_refuses_a_missing_file() {
    let (code, _, stderr) = gate_server(&["config", "check", "--config", "/nonexistent/gate.toml"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot read /nonexistent/gate.toml"),
        "{stderr}"
    );
}

#[test]
fn check_reports_every_problem_of_a_broken_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let syntax = write(&dir, "syntax.toml", "[sources.GitHub\n");
    let (code, _, stderr) = gate_server(&["config", "check", "--config", &syntax]);
    assert_eq!(code, 1);
    assert!(stderr.contains("syntax.toml: invalid TOML"), "{stderr}");

    let broken = write(
        &dir,
        "broken.toml",
        r#"
        [sinks.rabbit]
        kind = "kafka"

        [sources.GitLab.doors.x]

        [sources.GitHub.doors.nosecret]
        sinks = ["rabbit"]

        [sources.GitHub.doors."bad/name"]
        "#,
    );
    let (code, _, stderr) = gate_server(&["config", "check", "--config", &broken]);
    assert_eq!(code, 1);
    for expected in [
        "sinks.rabbit: unknown sink kind \"kafka\"",
        "sources.GitLab: unknown source",
        "sources.GitHub.doors.bad/name: door name",
        "sources.GitHub.doors.nosecret: no webhook secret",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    // A declared sink whose settings failed is reported once, not again as
    // "unknown" by every door that names it.
    assert!(!stderr.contains("unknown sink \"rabbit\""), "{stderr}");
}

#[test]
fn show_redacts_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let path = write(
        &dir,
        "gate.toml",
        &format!(
            "[server]\ndefault_sinks = [\"local\"]\n[sinks.local]\nkind = \"file\"\npath = {out:?}\n[sources.GitHub.doors.acme]\nsecrets = [\"super-secret-value\"]\n"
        ),
    );
    let (code, stdout, stderr) = gate_server(&["config", "show", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        shown["sources"]["GitHub"]["doors"]["acme"]["secrets"][0],
        "set"
    );
    assert!(!stdout.contains("super-secret-value"));
}

#[test]
fn check_catches_a_group_missing_from_known_groups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "groups.toml",
        r#"
        [server]
        default_sinks = ["log"]
        known_groups = ["ci", "web", "admin"]
        [sinks.log]
        kind = "file"
        log = true
        [sources.GitHub.doors.acme]
        secrets = ["s"]
        default_group = "ci"
        admin_group = "admin"
        [[sources.GitHub.doors.acme.groups]]
        group = "wbe"
        repositories = ["*-site"]
        "#,
    );
    let (code, _, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("sources.GitHub.doors.acme: unknown group \"wbe\" (server.known_groups: ci, web, admin)"),
        "{stderr}"
    );
    let fixed = std::fs::read_to_string(&path)
        .expect("read")
        .replace("\"wbe\"", "\"web\"");
    std::fs::write(&path, fixed).expect("write");
    let (code, _, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
}

/// `config check` validates; it starts nothing. The broker address is a
/// listening socket that must see no connection, and neither the file
/// sink's output nor the spool may be created.
#[test]
fn check_opens_no_connection_and_creates_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    broker.set_nonblocking(true).expect("nonblocking");
    let out = dir.path().join("out/notifications.jsonl");
    let spool = dir.path().join("spool/gate.redb");
    let path = write(
        &dir,
        "gate.toml",
        &format!(
            r#"
            [server]
            default_sinks = ["rabbit", "local"]
            [spool]
            path = {spool:?}
            [sinks.rabbit]
            kind = "amqp"
            url = "amqp://guest:guest@{broker}/%2f"
            [sinks.local]
            kind = "file"
            path = {out:?}
            [sources.GitHub.doors.acme]
            secrets = ["s"]
            "#,
            broker = broker.local_addr().expect("addr"),
            spool = spool.display().to_string(),
            out = out.display().to_string(),
        ),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["config", "check", "--config", &path])
        .env_remove("GATE_CONFIG")
        .env("RUST_LOG", "debug")
        .output()
        .expect("run gate-server");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("configuration OK: 1 door(s), 2 sink(s)"),
        "{stdout}"
    );
    assert!(
        matches!(broker.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "config check connected to the broker"
    );
    assert!(
        !stderr.to_lowercase().contains("connect") && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "the file sink's folder was created"
    );
    assert!(!dir.path().join("spool").exists(), "the spool was created");

    // `config show` describes the same sinks without starting them either.
    let (code, stdout, stderr) = gate_server(&["config", "show", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(shown["sinks"]["rabbit"]["kind"], "amqp", "{shown}");
    assert_eq!(shown["sinks"]["rabbit"]["url"], "set", "{shown}");
    assert!(
        matches!(broker.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "config show connected to the broker"
    );
    assert!(
        !dir.path().join("out").exists(),
        "config show created the file"
    );

    // A closed port: the answer is the same, from the file alone.
    drop(broker);
    let (code, stdout, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("configuration OK"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The spool path is checked with everything else, and every problem is
/// listed at once.
#[test]
fn check_lists_an_unwritable_spool_with_the_other_problems() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_a_folder = dir.path().join("plain-file");
    std::fs::write(&not_a_folder, "").expect("write");
    let path = write(
        &dir,
        "gate.toml",
        &format!(
            r#"
            [spool]
            path = {spool:?}
            [sinks.local]
            kind = "file"
            log = false
            [sinks.rabbit]
            kind = "amqp"
            url = "amqp://127.0.0.1:1/%2f"
            exchange = " "
            [sources.GitHub.doors.acme]
            sinks = ["local"]
            secrets = ["s"]
            "#,
            spool = not_a_folder.join("gate.redb").display().to_string(),
        ),
    );
    let (code, _, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        "sinks.local: a file sink needs a path or log = true",
        "sinks.rabbit: exchange must not be empty",
        "spool.path: cannot create",
        "(3 problem(s))",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}

/// `vault:` references, in the TOML file and in a Docker Hub trigger file,
/// are checked without contacting the vault: its address is a listening
/// socket that must see no connection (nor may the broker's), and nothing
/// is created. Without a vault to read them, every problem is listed.
#[test]
fn check_reads_no_vault_and_lists_unusable_references() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    vault.set_nonblocking(true).expect("nonblocking");
    let broker = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    broker.set_nonblocking(true).expect("nonblocking");
    let triggers = dir.path().join("DockerHubTriggers.json");
    let write_triggers = |source: &str| {
        std::fs::write(
            &triggers,
            format!(
                r#"{{"acme/widgets": {{"source": "{source}", "trigger": "vault:secret/gate/hub#trigger"}}}}"#
            ),
        )
        .expect("write triggers");
    };
    write_triggers("vault:secret/gate/hub#source");
    let out = dir.path().join("out/notifications.jsonl");
    let spool = dir.path().join("spool/gate.redb");
    let body = format!(
        r#"
        [server]
        default_sinks = ["rabbit", "rabbit2", "local", "hub"]
        [spool]
        path = {spool:?}
        [dedup]
        store = "redis"
        redis_url = "vault:secret/gate/redis#url"
        [sinks.rabbit]
        kind = "amqp"
        url = "amqp://guest:guest@{broker}/%2f"
        [sinks.rabbit2]
        kind = "amqp"
        url = "vault:secret/gate/rabbit#url"
        [sinks.local]
        kind = "file"
        path = {out:?}
        [sinks.hub]
        kind = "dockerhub"
        triggers_file = {triggers:?}
        [sources.GitHub.doors.acme]
        secrets = ["vault:secret/gate/github#webhook"]
        [sources.Notification.doors.ops]
        tokens = ["vault:secret/gate/native#token"]
        "#,
        broker = broker.local_addr().expect("addr"),
        spool = spool.display().to_string(),
        out = out.display().to_string(),
        triggers = triggers.display().to_string(),
    );
    let vault_section = format!(
        "[vault]\naddress = \"http://{}\"\ntoken = \"a-token\"\n",
        vault.local_addr().expect("addr")
    );
    let with_vault = write(&dir, "gate.toml", &format!("{vault_section}{body}"));
    let without_vault = write(&dir, "no-vault.toml", &body);
    let check = |path: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
            .args(["config", "check", "--config", path])
            .env_remove("GATE_CONFIG")
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .env("RUST_LOG", "debug")
            .output()
            .expect("run gate-server");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let no_connection = |listener: &std::net::TcpListener| matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);

    let (code, stdout, stderr) = check(&with_vault);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("configuration OK: 2 door(s), 4 sink(s)"),
        "{stdout}"
    );
    assert!(no_connection(&vault), "config check connected to the vault");
    assert!(
        no_connection(&broker),
        "config check connected to the broker"
    );
    assert!(
        !dir.path().join("out").exists(),
        "the file sink's folder was created"
    );
    assert!(!dir.path().join("spool").exists(), "the spool was created");

    // No vault to read them, and a malformed reference in the trigger file:
    // both reported at once (the file's entry stops at its bad id, so the
    // door secret, the native token and the two URLs are the 4 references
    // left to read).
    write_triggers("vault:secret/gate/hub");
    let (code, _, stderr) = check(&without_vault);
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        format!(
            "sinks.hub: triggers_file {}: \"acme/widgets\".source: invalid reference \"vault:secret/gate/hub\": missing #KEY (expected vault:MOUNT/PATH#KEY)",
            triggers.display()
        ),
        "vault: 4 reference(s) to read (first vault:secret/gate/github#webhook): no vault configured (set [vault] address or VAULT_ADDR)".to_owned(),
        "(2 problem(s))".to_owned(),
    ] {
        assert!(stderr.contains(&expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(no_connection(&vault) && no_connection(&broker));
    assert!(!dir.path().join("out").exists() && !dir.path().join("spool").exists());
}
