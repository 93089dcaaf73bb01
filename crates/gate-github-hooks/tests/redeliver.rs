//! Recovery passes against a local server that answers like GitHub's
//! documented endpoints for hook deliveries: cursor pagination through the
//! `Link` header, rate-limit answers, failed and successful deliveries,
//! redelivery requests, and installation tokens for GitHub Apps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gate_conduit::test_server::{Recorded, Reply, TestServer};
use gate_github_hooks::{recover, GitHubApi, Hook, HookConfig, RecoveryError};
use serde_json::{json, Value};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn unix_now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// RFC 3339 UTC for a Unix time (the test's own small calendar).
fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let rest = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

fn delivery(id: u64, guid: &str, minutes_ago: i64, code: u16, redelivery: bool) -> Value {
    json!({
        "id": id,
        "guid": guid,
        "delivered_at": rfc3339(unix_now() - minutes_ago * 60),
        "redelivery": redelivery,
        "duration": 0.5,
        "status": if (200..300).contains(&code) { "OK".to_owned() } else if code == 0 { "failed to connect".to_owned() } else { format!("Invalid HTTP Response: {code}") },
        "status_code": code,
        "event": "push",
        "action": null,
        "installation_id": null,
        "repository_id": 42
    })
}

/// The hook's history, newest first, as GitHub lists it, in pages of three.
/// G1 failed (no answer), G2 failed then succeeded on redelivery, G3 got a
/// 502, G4 succeeded, G5 failed twice; G0 failed long before the window.
fn history() -> Vec<Vec<Value>> {
    vec![
        vec![
            delivery(107, "G5", 5, 500, true),
            delivery(106, "G2", 10, 200, true),
            delivery(105, "G5", 15, 504, false),
        ],
        vec![
            delivery(104, "G4", 20, 200, false),
            delivery(103, "G3", 30, 502, false),
            delivery(102, "G2", 40, 503, false),
        ],
        vec![
            delivery(101, "G1", 50, 0, false),
            delivery(100, "G0", 180, 0, false),
        ],
        vec![delivery(99, "G-1", 300, 0, false)],
    ]
}

#[derive(Default)]
struct Seen {
    /// (unix ms, method, path and query)
    calls: Vec<(u128, String, String)>,
    limited_once: bool,
    secondary_once: bool,
    /// The reset announced by the rate-limited answer, Unix seconds.
    reset: u64,
}

/// A fake GitHub for the organisation hook `acme`/77: pages by `cursor`,
/// the first request for page 2 hits the primary rate limit (reset a second
/// ahead), the first redelivery hits a secondary limit (Retry-After: 1).
async fn fake_github(token: &'static str) -> (TestServer, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = Arc::clone(&seen);
    let pages = history();
    let base = Arc::new(Mutex::new(String::new()));
    let base_in = Arc::clone(&base);
    let server = TestServer::start(move |request: &Recorded| {
        let mut seen = state.lock().expect("lock");
        let target = request.uri.to_string();
        seen.calls
            .push((unix_now_ms(), request.method.to_string(), target.clone()));
        if request.header("authorization") != Some(&format!("Bearer {token}"))
            || request.header("x-github-api-version") != Some("2022-11-28")
            || request.header("user-agent").is_none()
        {
            return Reply::json(&json!({"message": "Bad credentials"})).with_status(401);
        }
        let path = request.uri.path();
        if request.method == http::Method::GET && path == "/orgs/acme/hooks/77/deliveries" {
            let query = request.uri.query().unwrap_or("");
            assert!(query.contains("per_page=100"), "{query}");
            let page: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("cursor=v1_"))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if page == 1 && !seen.limited_once {
                seen.limited_once = true;
                seen.reset = (unix_now() + 1) as u64;
                return Reply::json(&json!({"message": "API rate limit exceeded"}))
                    .with_status(403)
                    .with_header("x-ratelimit-limit", "5000")
                    .with_header("x-ratelimit-remaining", "0")
                    .with_header("x-ratelimit-reset", &seen.reset.to_string());
            }
            let mut reply = Reply::json(&Value::Array(pages[page].clone()))
                .with_header("x-ratelimit-remaining", "4000");
            if page + 1 < pages.len() {
                let base = base_in.lock().expect("lock").clone();
                reply = reply.with_header(
                    "link",
                    &format!(
                        "<{base}{path}?per_page=100&cursor=v1_{}>; rel=\"next\"",
                        page + 1
                    ),
                );
            }
            return reply;
        }
        if request.method == http::Method::POST
            && path.starts_with("/orgs/acme/hooks/77/deliveries/")
            && path.ends_with("/attempts")
        {
            if !seen.secondary_once {
                seen.secondary_once = true;
                return Reply::json(
                    &json!({"message": "You have exceeded a secondary rate limit"}),
                )
                .with_status(429)
                .with_header("retry-after", "1");
            }
            return Reply::json(&json!({})).with_status(202);
        }
        Reply::json(&json!({"message": "Not Found"})).with_status(404)
    })
    .await
    .expect("server");
    *base.lock().expect("lock") = server.url();
    (server, seen)
}

fn org_hook(token_spec: &str) -> Hook {
    let config: HookConfig = toml::from_str(&format!(
        "org = \"acme\"\nhook_id = 77\ntoken = \"{token_spec}\""
    ))
    .expect("config");
    Hook::open(&config).expect("hook")
}

fn redelivered_ids(seen: &Seen) -> Vec<String> {
    seen.calls
        .iter()
        .filter(|(_, method, _)| method == "POST")
        .map(|(_, _, target)| target.clone())
        .collect()
}

#[tokio::test]
async fn redelivers_exactly_the_failed_events_across_pages_and_rate_limits() {
    let (server, seen) = fake_github("ghp_test_token").await;
    let api = GitHubApi::new(&server.url()).expect("api");
    let since = unix_now() - 2 * 3_600;
    let started = Instant::now();
    let report = recover(&api, &org_hook("ghp_test_token"), since, 5, false)
        .await
        .expect("recovery");
    let seen = seen.lock().expect("lock");

    // G1, G3 and G5 (its latest delivery), oldest event first; G2 and G4
    // succeeded; G0 is older than the window.
    assert_eq!(report.redelivered, [101, 103, 107]);
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(report.listed, 7);
    // The first redelivery met the secondary limit and was asked again.
    assert_eq!(
        redelivered_ids(&seen),
        [
            "/orgs/acme/hooks/77/deliveries/101/attempts",
            "/orgs/acme/hooks/77/deliveries/101/attempts",
            "/orgs/acme/hooks/77/deliveries/103/attempts",
            "/orgs/acme/hooks/77/deliveries/107/attempts",
        ]
    );

    // Pages 0, 1 (rate limited, then again after the reset) and 2; page 3
    // lies wholly before the window and is never asked for.
    let listings: Vec<&(u128, String, String)> =
        seen.calls.iter().filter(|(_, m, _)| m == "GET").collect();
    let targets: Vec<&str> = listings.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/orgs/acme/hooks/77/deliveries?per_page=100",
            "/orgs/acme/hooks/77/deliveries?per_page=100&cursor=v1_1",
            "/orgs/acme/hooks/77/deliveries?per_page=100&cursor=v1_1",
            "/orgs/acme/hooks/77/deliveries?per_page=100&cursor=v1_2",
        ]
    );
    // The retry waited for the announced reset rather than failing.
    let retry_at_ms = listings[2].0;
    assert!(
        retry_at_ms >= u128::from(seen.reset) * 1_000,
        "retried at {retry_at_ms} ms, before the reset at {} s",
        seen.reset
    );
    // And the secondary limit's Retry-After: 1 was honoured too.
    let posts: Vec<u128> = seen
        .calls
        .iter()
        .filter(|(_, m, _)| m == "POST")
        .map(|(at, _, _)| *at)
        .collect();
    assert!(posts[1] - posts[0] >= 1_000, "{posts:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn dry_run_lists_without_asking_for_redelivery() {
    let (server, seen) = fake_github("t0k3n").await;
    let api = GitHubApi::new(&server.url()).expect("api");
    let report = recover(&api, &org_hook("t0k3n"), unix_now() - 2 * 3_600, 5, true)
        .await
        .expect("recovery");
    let ids: Vec<u64> = report.candidates.iter().map(|d| d.id).collect();
    assert_eq!(ids, [101, 103, 107]);
    assert!(report.redelivered.is_empty());
    assert!(redelivered_ids(&seen.lock().expect("lock")).is_empty());
}

#[tokio::test]
async fn events_that_keep_failing_are_given_up() {
    let (server, seen) = fake_github("t").await;
    let api = GitHubApi::new(&server.url()).expect("api");
    // G5 has two failed deliveries: with at most two attempts it is left alone.
    let report = recover(&api, &org_hook("t"), unix_now() - 2 * 3_600, 2, false)
        .await
        .expect("recovery");
    assert_eq!(report.redelivered, [101, 103]);
    assert_eq!(
        report.given_up.iter().map(|d| d.id).collect::<Vec<_>>(),
        [107]
    );
    assert_eq!(redelivered_ids(&seen.lock().expect("lock")).len(), 3);
}

#[tokio::test]
async fn bad_credentials_fail_with_githubs_message_and_no_token() {
    let (server, _) = fake_github("right-token").await;
    let api = GitHubApi::new(&server.url()).expect("api");
    let err = recover(&api, &org_hook("wrong-token"), unix_now() - 60, 5, false)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "github answered 401 to the deliveries list: Bad credentials"
    );
    assert!(!text.contains("wrong-token"));
}

#[tokio::test]
async fn a_long_rate_limit_fails_at_once_instead_of_hanging() {
    let server = TestServer::start(|_| {
        Reply::json(&json!({"message": "API rate limit exceeded"}))
            .with_status(403)
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &(unix_now() + 3_600).to_string())
    })
    .await
    .expect("server");
    let api = GitHubApi::new(&server.url())
        .expect("api")
        .with_max_wait(Duration::from_secs(5));
    let started = Instant::now();
    let err = recover(&api, &org_hook("t"), unix_now() - 60, 5, false)
        .await
        .unwrap_err();
    assert!(matches!(err, RecoveryError::RateLimited { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_next_page_on_another_origin_is_not_followed() {
    let elsewhere = TestServer::start(|_| Reply::json(&json!([])))
        .await
        .expect("server");
    let next = format!(
        "<{}/orgs/acme/hooks/77/deliveries?cursor=v1_1>; rel=\"next\"",
        elsewhere.url()
    );
    let server = TestServer::start(move |_| {
        Reply::json(&json!([delivery(5, "G", 1, 0, false)])).with_header("link", &next)
    })
    .await
    .expect("server");
    let api = GitHubApi::new(&server.url()).expect("api");
    let err = recover(&api, &org_hook("secret-token"), unix_now() - 600, 5, true)
        .await
        .unwrap_err();
    assert!(matches!(err, RecoveryError::ForeignPage(_)), "{err}");
    assert!(elsewhere.requests().is_empty(), "the token went elsewhere");
}

/// A GitHub App: the JWT must be RS256-signed by the app's key with the
/// app's id as issuer, exchanged for an installation token, which then
/// authenticates the listing and the redelivery.
#[tokio::test]
async fn a_github_app_gets_an_installation_token_with_a_signed_jwt() {
    use ring::signature::{RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    use rustls_pki_types::pem::PemObject;

    let dir = tempfile::tempdir().expect("dir");
    let key_path = dir.path().join("app.pem");
    let status = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key_path)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl must be installed (scripts/ensure-services.sh)");
    assert!(status.success());
    let pem = std::fs::read(&key_path).expect("key");
    assert!(
        pem.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"),
        "PKCS#1 as GitHub gives it"
    );
    let der = rustls_pki_types::PrivatePkcs1KeyDer::from_pem_slice(&pem).expect("pem");
    let public = RsaKeyPair::from_der(der.secret_pkcs1_der())
        .expect("key")
        .public()
        .as_ref()
        .to_vec();

    let server = TestServer::start(move |request: &Recorded| {
        let auth = request.header("authorization").unwrap_or("");
        if request.uri.path() == "/app/installations/4242/access_tokens" {
            let Some(jwt) = auth.strip_prefix("Bearer ") else {
                return Reply::status(401);
            };
            let parts: Vec<&str> = jwt.split('.').collect();
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let signature = b64.decode(parts[2]).unwrap_or_default();
            let signed = format!("{}.{}", parts[0], parts[1]);
            let verified = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public)
                .verify(signed.as_bytes(), &signature)
                .is_ok();
            let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap_or_default())
                .unwrap_or_default();
            let claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap_or_default())
                .unwrap_or_default();
            let now = unix_now();
            let iat = claims["iat"].as_i64().unwrap_or(0);
            let exp = claims["exp"].as_i64().unwrap_or(0);
            let valid = verified
                && header["alg"] == "RS256"
                && claims["iss"] == "123456"
                && iat <= now
                && exp > now
                && exp - iat <= 600;
            if !valid || request.method != http::Method::POST {
                return Reply::json(&json!({"message": "A JSON web token could not be decoded"}))
                    .with_status(401);
            }
            return Reply::json(
                &json!({"token": "ghs_installation", "expires_at": "2099-01-01T00:00:00Z"}),
            )
            .with_status(201);
        }
        if auth != "Bearer ghs_installation" {
            return Reply::json(&json!({"message": "Bad credentials"})).with_status(401);
        }
        match request.uri.path() {
            "/repos/acme/widgets/hooks/9/deliveries" => Reply::json(&json!([
                delivery(31, "A", 1, 0, false),
                delivery(30, "B", 2, 201, false)
            ])),
            "/repos/acme/widgets/hooks/9/deliveries/31/attempts" => {
                Reply::json(&json!({})).with_status(202)
            }
            _ => Reply::status(404),
        }
    })
    .await
    .expect("server");
    let config: HookConfig = toml::from_str(&format!(
        "repo = \"acme/widgets\"\nhook_id = 9\n[app]\nid = 123456\ninstallation_id = 4242\nprivate_key = \"file:{}\"",
        key_path.display()
    ))
    .expect("config");
    let hook = Hook::open(&config).expect("hook");
    let api = GitHubApi::new(&server.url()).expect("api");
    let report = recover(&api, &hook, unix_now() - 600, 5, false)
        .await
        .expect("recovery");
    assert_eq!(report.redelivered, [31]);
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/app/installations/4242/access_tokens",
            "/repos/acme/widgets/hooks/9/deliveries",
            "/repos/acme/widgets/hooks/9/deliveries/31/attempts",
        ]
    );
}
