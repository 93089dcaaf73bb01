//! `config import` on configurations shaped like the original service's
//! (tests/data/original/<case>): the TOML written and the decisions printed
//! are pinned (GATE_BLESS=1 rewrites them), the result passes `config
//! check`, and the command behaves as an operator expects.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gate_server::cli::import::{convert, import, parse_env, Options, Original};

/// Relative to the package (the tests' working directory), so that the
/// paths the imported file names are the same on every machine.
fn case_dir(case: &str) -> PathBuf {
    PathBuf::from("tests/data/original").join(case)
}

fn case_env(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("original.env")).expect("original.env");
    parse_env(&text).expect("env file")
}

/// Compare with the expected file, or rewrite it under GATE_BLESS.
fn golden(path: &Path, got: &str) {
    if std::env::var_os("GATE_BLESS").is_some() {
        std::fs::write(path, got).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (GATE_BLESS=1 writes it)", path.display()));
    assert_eq!(
        got,
        want,
        "{} differs (GATE_BLESS=1 rewrites it)",
        path.display()
    );
}

async fn imported(case: &str) -> gate_server::cli::import::Imported {
    let dir = case_dir(case);
    import(&dir.join("app"), case_env(&dir), &Options::default())
        .unwrap_or_else(|e| panic!("{case}: {e}"))
}

#[tokio::test]
async fn production_shaped_configuration_imports_as_pinned() {
    let dir = case_dir("nasqueron");
    let result = imported("nasqueron").await;
    golden(&dir.join("expected.toml"), &result.toml);
    golden(
        &dir.join("expected-decisions.txt"),
        &(result.decisions.join("\n") + "\n"),
    );
    // The secrets went into the file, never into the decisions.
    let decisions = result.decisions.join("\n");
    for secret in [
        "test-only-github-secret",
        "api-testonlyconduittoken",
        "test-only broker",
    ] {
        assert!(
            result.toml.contains(secret) || secret.contains(' '),
            "{secret}"
        );
        assert!(!decisions.contains(secret), "a decision shows {secret}");
    }
    // The broker password is percent-encoded into the URL.
    assert!(
        result
            .toml
            .contains("amqp://notifications:test-only%20broker%2fpassword@mq:5672/dev"),
        "{}",
        result.toml
    );
}

#[tokio::test]
async fn odd_configuration_imports_with_every_decision_said() {
    let dir = case_dir("odd");
    let result = imported("odd").await;
    golden(&dir.join("expected.toml"), &result.toml);
    golden(
        &dir.join("expected-decisions.txt"),
        &(result.decisions.join("\n") + "\n"),
    );
    let decisions = result.decisions.join("\n");
    for expected in [
        "credentials.json GitHub/acme: listed again",
        "credentials.json GitHub/broken: not imported: no `secret` key",
        "credentials.json GitHub/has space: not imported",
        "credentials.json GitHub/refd: not imported",
        "credentials.json Mailgun/acme: not imported",
        "glob characters escaped",
        "`words` dropped",
        "sidecar.json: door sidecar has no credentials",
        "ghost.json: not imported",
        "no custom-jenkins/default.json",
        "BROKER_DRIVER=blackhole",
    ] {
        assert!(
            decisions.contains(expected),
            "missing {expected:?} in:\n{decisions}"
        );
    }
    assert!(
        !decisions.contains("test-only"),
        "a decision shows a secret"
    );
}

#[tokio::test]
async fn imported_groups_route_as_the_original_did() {
    let result = imported("odd").await;
    let config = gate_server::Config::parse("imported", &result.toml, []).expect("parses");
    let door = &config.sources["GitHub"].doors["acme"];
    let rules = door["groups"].as_array().expect("groups");
    let legacy: Vec<&str> = rules[0]["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(
        legacy,
        [
            "[[]legacy[]]",
            "what[?]",
            "[{]a,b[}]",
            "back[\\]slash",
            "plain-*"
        ]
    );
    let jenkins = &config.sources["Jenkins"].doors["acme"];
    assert_eq!(
        jenkins["only_failures"].as_array().map(Vec::len),
        Some(2),
        "{jenkins:?}"
    );
    assert_eq!(jenkins["default_group"].as_str(), Some("acme"));
}

#[tokio::test]
async fn unreadable_original_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("credentials.json"), "{\"services\": [").expect("write");
    let error = import(dir.path(), BTreeMap::new(), &Options::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("credentials.json: invalid JSON"),
        "{message}"
    );
    std::fs::write(dir.path().join("credentials.json"), "{\"services\": []}").expect("write");
    std::fs::create_dir(dir.path().join("JenkinsPayloadAnalyzer")).expect("mkdir");
    std::fs::write(
        dir.path().join("JenkinsPayloadAnalyzer/default.json"),
        "null x",
    )
    .expect("write");
    let message = import(dir.path(), BTreeMap::new(), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("default.json: invalid JSON"), "{message}");
}

#[tokio::test]
async fn an_empty_folder_imports_the_open_doors_and_the_defaults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let result = import(dir.path(), BTreeMap::new(), &Options::default()).expect("imports");
    let config = gate_server::Config::parse("imported", &result.toml, []).expect("parses");
    assert!(config.sources["DockerHub"].doors.contains_key("*"));
    assert!(config.sources["Notification"].doors.contains_key("*"));
    assert!(!config.sources.contains_key("GitHub"));
    assert!(result
        .decisions
        .iter()
        .any(|d| d.contains("BROKER_HOST=localhost")));
}

fn gate_server(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .env_remove("GATE_CONFIG")
        .env_remove("BROKER_HOST")
        .env_remove("BROKER_PASSWORD")
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_command_writes_a_private_file_that_config_check_accepts() {
    let case = case_dir("nasqueron");
    let out = tempfile::tempdir().expect("tempdir");
    let output = out.path().join("gate.toml");
    let (app, env_file, path) = (
        case.join("app").display().to_string(),
        case.join("original.env").display().to_string(),
        output.display().to_string(),
    );
    let args = [
        "config",
        "import",
        &app,
        "--env-file",
        &env_file,
        "--output",
        &path,
    ];
    let (code, stdout, stderr) = gate_server(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("decisions to review"), "{stdout}");
    assert!(
        stdout.contains("DockerHub: the original accepted any door"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("test-only"),
        "a secret was printed: {stdout}"
    );
    // The command names the original's files by absolute path.
    let here = format!("{}/", env!("CARGO_MANIFEST_DIR"));
    let written = std::fs::read_to_string(&output)
        .expect("written")
        .replace(&here, "");
    assert_eq!(
        written,
        std::fs::read_to_string(case.join("expected.toml")).expect("golden")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&output)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    // An existing file is not replaced without --force.
    std::fs::write(&output, "keep me").expect("write");
    let (code, _, stderr) = gate_server(&args);
    assert_eq!(code, 1);
    assert!(stderr.contains("exists"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&output).expect("read"), "keep me");
    let mut forced = args.to_vec();
    forced.push("--force");
    let (code, _, stderr) = gate_server(&forced);
    assert_eq!(code, 0, "{stderr}");

    // `config check` passes and warns about every unauthenticated door.
    let (code, stdout, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    for door in [
        "sources.DockerHub.doors.*: insecure_no_token",
        "sources.Jenkins.doors.*: insecure_no_token",
        "sources.Notification.doors.*: insecure_no_auth",
        "sources.Phabricator.doors.Nasqueron: insecure_no_signature",
    ] {
        assert!(
            stderr.contains(&format!("warning: {door}")),
            "{door}: {stderr}"
        );
    }
    assert!(stdout.contains("configuration OK"), "{stdout}");
    let (code, stdout, stderr) = gate_server(&["config", "show", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(shown["compat"]["config_report"], "original");
    assert_eq!(shown["compat"]["spooled_status"], 200);
    assert_eq!(shown["origins"]["compat.spooled_status"], "file");
    assert!(
        !stdout.contains("test-only"),
        "config show printed a secret"
    );

    // A missing folder is an error, nothing is written.
    let missing = out.path().join("nothing.toml").display().to_string();
    let (code, _, stderr) = gate_server(&[
        "config",
        "import",
        "/nonexistent/storage/app",
        "--output",
        &missing,
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert!(!out.path().join("nothing.toml").exists());
}

/// With the `dockerhub` sink linked, the original's Docker Hub files become
/// that sink, on every GitHub door (the original triggered builds on pushes
/// to any door).
#[test]
fn docker_hub_trigger_files_become_the_dockerhub_sink_when_linked() {
    let dir = case_dir("nasqueron");
    let original = Original::read(&dir.join("app"), case_env(&dir)).expect("reads");
    let options = Options {
        dockerhub_sink: true,
        ..Options::default()
    };
    let result = convert(&original, &options);
    let config: toml::Table = toml::from_str(&result.toml).expect("TOML");
    let sink = &config["sinks"]["dockerhub"];
    assert_eq!(sink["kind"].as_str(), Some("dockerhub"));
    assert_eq!(
        sink["tokens_file"].as_str(),
        Some("tests/data/original/nasqueron/app/DockerHubTokens.json")
    );
    assert_eq!(
        sink["triggers_file"].as_str(),
        Some("tests/data/original/nasqueron/app/DockerHubTriggers.json")
    );
    let doors = config["sources"]["GitHub"]["doors"]
        .as_table()
        .expect("doors");
    assert_eq!(doors.len(), 5);
    for (name, door) in doors {
        let sinks: Vec<&str> = door["sinks"]
            .as_array()
            .expect("sinks")
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert!(
            sinks.starts_with(&["rabbit", "dockerhub"]),
            "{name}: {sinks:?}"
        );
    }
    assert!(result
        .decisions
        .iter()
        .any(|d| d.contains("its builds are now triggered")));
    let config_doors = config["sources"]["Phabricator"]["doors"]["Nasqueron"].as_table();
    assert!(
        config_doors.and_then(|d| d.get("sinks")).is_none(),
        "Phabricator doors keep the defaults"
    );
}
