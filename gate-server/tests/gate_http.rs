//! The HTTP surface, called directly (no socket): statuses, reports, and that
//! refused requests deliver nothing. Uses the file sink, so no broker needed.

mod common;

use common::{call, github_signature, payload, request, sha1_signature};
use http::StatusCode;

struct Fixture {
    gateway: std::sync::Arc<gate_server::Gateway>,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out.jsonl");
        let toml_text = format!(
            r#"
            [server]
            max_body_bytes = 65536
            {extra}

            [sinks.local]
            kind = "file"
            path = {out:?}
            log = false

            [sources.GitHub]
            sinks = ["local"]

            [sources.GitHub.doors.acme]
            secrets = ["old-secret", "new-secret"]
            default_group = "ci"
            admin_group = "admin"
            [[sources.GitHub.doors.acme.groups]]
            group = "web"
            repositories = ["widgets"]

            [sources.GitHub.doors.legacy]
            secrets = ["legacy-secret"]
            allow_sha1 = true
            "#,
            out = out.display().to_string()
        );
        Self {
            gateway: common::gateway(&toml_text),
            out,
            _dir: dir,
        }
    }

    fn delivered(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("json line"))
            .collect()
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> common::Answer {
        call(&self.gateway, request("POST", path, headers, body)).await
    }
}

fn push_headers(signature: &str) -> Vec<(&str, &str)> {
    vec![
        ("content-type", "application/json"),
        ("x-github-event", "push"),
        ("x-github-delivery", "delivery-1"),
        ("x-hub-signature-256", signature),
    ]
}

#[tokio::test]
async fn signed_push_is_delivered_and_reported() {
    let fixture = Fixture::new("");
    let body = payload("github/push-one-commit.json");
    let signature = github_signature("new-secret", &body);
    let answer = fixture
        .post("/gate/GitHub/acme", &push_headers(&signature), body)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["gate"], "GitHub");
    assert_eq!(report["door"], "acme");
    assert_eq!(report["delivery"], "GitHub/acme/delivery-1");
    assert!(report["created"]
        .as_u64()
        .is_some_and(|t| t > 1_700_000_000));
    assert_eq!(
        report["actions"],
        serde_json::json!([{
            "action": "file",
            "target": fixture.out.display().to_string(),
            "routingKey": "acme.web.github.push",
            "status": "delivered",
            "error": null
        }])
    );
    let lines = fixture.delivered();
    assert_eq!(lines.len(), 1);
    let notification = &lines[0]["notification"];
    assert_eq!(notification["service"], "GitHub");
    assert_eq!(notification["project"], "acme");
    assert_eq!(notification["group"], "web");
    assert_eq!(notification["type"], "push");
    assert_eq!(
        notification["rawContent"]["repository"]["full_name"],
        "acme/widgets"
    );
}

#[tokio::test]
async fn form_encoded_delivery_gives_the_same_notification() {
    let fixture = Fixture::new("");
    let json = payload("github/push-one-commit.json");
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", std::str::from_utf8(&json).expect("utf-8"))
        .finish();
    let signature = github_signature("old-secret", form.as_bytes());
    let mut headers = push_headers(&signature);
    headers[0] = ("content-type", "application/x-www-form-urlencoded");
    let answer = fixture
        .post("/gate/GitHub/acme", &headers, form.into_bytes())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());

    let signature = github_signature("old-secret", &json);
    let mut headers = push_headers(&signature);
    headers[2] = ("x-github-delivery", "delivery-2"); // the same id would be a duplicate
    let answer = fixture.post("/gate/GitHub/acme", &headers, json).await;
    assert_eq!(answer.status, StatusCode::OK);
    let lines = fixture.delivered();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["notification"], lines[1]["notification"]);
}

#[tokio::test]
async fn refused_requests_get_their_status_and_deliver_nothing() {
    let fixture = Fixture::new("");
    let body = payload("github/push-one-commit.json");
    let good = github_signature("new-secret", &body);
    let wrong = github_signature("not-the-secret", &body);

    type Case<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Vec<u8>,
        StatusCode,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "/gate/GitHub/acme",
            push_headers(&wrong),
            body.clone(),
            StatusCode::FORBIDDEN,
            "bad_signature",
        ),
        (
            "/gate/GitHub/acme",
            push_headers(&good)[..3].to_vec(),
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "missing_signature",
        ),
        (
            "/gate/GitHub/nobody",
            push_headers(&good),
            body.clone(),
            StatusCode::NOT_FOUND,
            "unknown_door",
        ),
        (
            "/gate/GitHub/acme",
            vec![
                push_headers(&good)[0],
                push_headers(&good)[2],
                push_headers(&good)[3],
            ],
            body.clone(),
            StatusCode::BAD_REQUEST,
            "missing_header",
        ),
        (
            "/gate/GitHub/acme",
            {
                let mut h = push_headers(&good);
                h[0] = ("content-type", "text/plain");
                h
            },
            body.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (path, headers, body, status, kind) in cases {
        let answer = fixture.post(path, &headers, body).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text());
        assert_eq!(answer.json()["error"]["type"], kind, "{}", answer.text());
    }

    let malformed = b"{\"ref\": \"refs/heads/main\", ".to_vec();
    let signature = github_signature("new-secret", &malformed);
    let answer = fixture
        .post("/gate/GitHub/acme", &push_headers(&signature), malformed)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    assert_eq!(answer.json()["error"]["type"], "malformed");

    assert!(
        fixture.delivered().is_empty(),
        "a refused request delivered something"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_before_reading() {
    let fixture = Fixture::new("");
    let big = vec![b' '; 65537];
    let signature = github_signature("new-secret", &big);
    let mut headers = push_headers(&signature);
    headers.push(("content-length", "65537"));
    let answer = fixture
        .post("/gate/GitHub/acme", &headers, big.clone())
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.json()["error"]["message"],
        "body of 65537 bytes is over the limit of 65536 bytes"
    );

    // No declared length (chunked): the read itself is capped.
    let answer = fixture
        .post("/gate/GitHub/acme", &push_headers(&signature), big)
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.json()["error"]["message"],
        "body is over the limit of 65536 bytes"
    );

    let mut headers = push_headers(&signature);
    headers.push(("content-length", "lots"));
    let answer = fixture
        .post("/gate/GitHub/acme", &headers, b"{}".to_vec())
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(fixture.delivered().is_empty());
}

#[tokio::test]
async fn sha1_only_where_the_door_allows_it() {
    let fixture = Fixture::new("");
    let body = payload("github/ping.json");
    let sha1 = sha1_signature("legacy-secret", &body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-github-delivery", "d-ping"),
        ("x-hub-signature", sha1.as_str()),
    ];
    let answer = fixture
        .post("/gate/GitHub/legacy", &headers, body.clone())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let sha1 = sha1_signature("new-secret", &body);
    let headers = [
        headers[0],
        headers[1],
        headers[2],
        ("x-hub-signature", sha1.as_str()),
    ];
    let answer = fixture.post("/gate/GitHub/acme", &headers, body).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text());
}

#[tokio::test]
async fn ping_goes_to_the_administrative_group() {
    let fixture = Fixture::new("");
    let body = payload("github/ping.json");
    let signature = github_signature("old-secret", &body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-github-delivery", "d-ping"),
        ("x-hub-signature-256", signature.as_str()),
    ];
    let answer = fixture.post("/gate/GitHub/acme", &headers, body).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json()["actions"][0]["routingKey"],
        "acme.admin.github.ping"
    );
}

#[tokio::test]
async fn gates_take_webhooks_by_post_and_explain_it_on_get() {
    let fixture = Fixture::new("");
    // Monitors of the original service expect 200 pages here, for any door.
    for path in ["/gate/GitHub/acme", "/gate/GitHub", "/gate/GitHub/unknown"] {
        let answer = call(&fixture.gateway, request("GET", path, &[], "")).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(
            answer.text().contains("only accepts POST"),
            "{}",
            answer.text()
        );
        assert!(!answer.text().contains("unknown"), "the door is not echoed");
    }
    for (method, path, allow) in [
        ("PUT", "/gate/GitHub/acme", "GET, HEAD, POST"),
        ("DELETE", "/gate/GitHub", "GET, HEAD"),
        ("POST", "/gate/GitHub", "GET, HEAD"),
    ] {
        let answer = call(&fixture.gateway, request(method, path, &[], "")).await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(answer.headers["allow"], allow);
        assert!(answer.text().contains("POST"), "{}", answer.text());
    }
    let answer = call(
        &fixture.gateway,
        request("POST", "/gate/GitHub/acme/extra", &[], ""),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = call(
        &fixture.gateway,
        request("POST", "/gate/Gitlab/acme", &[], ""),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = call(
        &fixture.gateway,
        request("POST", "/gate/github/acme", &[], ""),
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::NOT_FOUND,
        "source names are case-sensitive"
    );
}

#[tokio::test]
async fn status_ready_config_and_unknown_paths() {
    let fixture = Fixture::new("");
    let answer = call(&fixture.gateway, request("GET", "/status", &[], "")).await;
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (StatusCode::OK, "ALIVE")
    );
    let answer = call(&fixture.gateway, request("GET", "/ready", &[], "")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["ready"], true);
    let answer = call(&fixture.gateway, request("GET", "/nowhere", &[], "")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = call(&fixture.gateway, request("POST", "/status", &[], "")).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);

    let answer = call(&fixture.gateway, request("GET", "/config", &[], "")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let config = answer.json();
    let door = &config["sources"]["GitHub"]["doors"]["acme"];
    assert_eq!(door["secrets"], serde_json::json!(["set", "set"]));
    assert_eq!(door["sinks"], serde_json::json!(["local"]));
    assert_eq!(door["default_group"], "ci");
    assert_eq!(config["sinks"]["local"]["kind"], "file");
    assert!(config["features"]["sources"]
        .as_array()
        .is_some_and(|s| s.contains(&"GitHub".into())));
    for secret in ["old-secret", "new-secret", "legacy-secret"] {
        assert!(!answer.text().contains(secret), "/config shows a secret");
    }

    let hidden = Fixture::new("expose_config = false");
    let answer = call(&hidden.gateway, request("GET", "/config", &[], "")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn doors_over_their_rate_limit_get_429_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let gateway = common::gateway(&format!(
        r#"
        [server]
        default_sinks = ["local"]
        [sinks.local]
        kind = "file"
        path = {out:?}
        log = false
        [sources.GitHub.doors.acme]
        secrets = ["s"]
        rate_limit = {{ per_second = 0.5, burst = 2 }}
        "#
    ));
    let body = payload("github/ping.json");
    let signature = github_signature("s", &body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-github-delivery", "d"),
        ("x-hub-signature-256", signature.as_str()),
    ];
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let answer = call(
            &gateway,
            request("POST", "/gate/GitHub/acme", &headers, body.clone()),
        )
        .await;
        statuses.push(answer.status);
        last = Some(answer);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let refused = last.expect("three answers");
    assert_eq!(refused.headers["retry-after"], "2");
    assert_eq!(refused.json()["error"]["type"], "rate_limited");
}

#[tokio::test]
async fn invalid_rate_limits_are_configuration_errors() {
    let registry = gate_server::registry().expect("registry");
    let config = gate_server::Config::parse(
        "t",
        "[server]\ndefault_sinks = [\"l\"]\n[sinks.l]\nkind = \"file\"\nlog = true\n[sources.GitHub.doors.a]\nsecrets = [\"s\"]\nrate_limit = { per_second = -1 }\n",
        [],
    )
    .expect("parses");
    let errors = gate_server::Gateway::build(config, registry).unwrap_err();
    assert_eq!(
        errors.to_string(),
        "sources.GitHub.doors.a: rate_limit.per_second must be a positive number"
    );
}
