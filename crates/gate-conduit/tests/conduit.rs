//! The Conduit client against a local fake Conduit server.

use std::time::Duration;

use gate_conduit::http::Client;
use gate_conduit::test_server::{Recorded, Reply, TestServer};
use gate_conduit::{Conduit, ConduitError};
use gate_core::Secret;
use serde_json::{json, Value};

const TOKEN: &str = "api-faketoken0123456789abcdef";

fn conduit(server: &TestServer, timeout: Duration) -> Conduit {
    let token = Secret::resolve(TOKEN).expect("token");
    let client = Client::new().expect("client");
    // A trailing slash in the configured URL must not double the slash.
    Conduit::new(&format!("{}/", server.url()), token, client, timeout).expect("conduit")
}

fn params_of(request: &Recorded) -> Value {
    serde_json::from_str(&request.form_field("params").expect("params field")).expect("params json")
}

#[tokio::test]
async fn sends_the_conduit_form_and_parses_the_result() {
    let server = TestServer::start(|_| {
        Reply::json(
            &json!({"result": {"T1": {"name": "T1"}}, "error_code": null, "error_info": null}),
        )
    })
    .await
    .expect("server");
    let client = conduit(&server, Duration::from_secs(2));
    let result: Value = client
        .call("phid.lookup", json!({"names": ["T1"]}))
        .await
        .expect("result");
    assert_eq!(result, json!({"T1": {"name": "T1"}}));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, http::Method::POST);
    assert_eq!(request.uri.path(), "/api/phid.lookup");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.form_field("output").as_deref(), Some("json"));
    assert_eq!(
        params_of(request),
        json!({"names": ["T1"], "__conduit__": {"token": TOKEN}})
    );
}

#[tokio::test]
async fn error_code_becomes_a_typed_error_without_the_token() {
    let server = TestServer::start(|_| {
        Reply::json(&json!({
            "result": null,
            "error_code": "ERR-INVALID-AUTH",
            "error_info": "API token \"api-...\" has the wrong length."
        }))
    })
    .await
    .expect("server");
    let err = conduit(&server, Duration::from_secs(2))
        .call::<Value>("conduit.ping", Value::Null)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConduitError::Api {
            code: "ERR-INVALID-AUTH".into(),
            info: "API token \"api-...\" has the wrong length.".into()
        }
    );
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(err.kind(), "conduit_error");
    // No params: only the token is sent.
    assert_eq!(
        params_of(&server.requests()[0]),
        json!({"__conduit__": {"token": TOKEN}})
    );
}

#[tokio::test]
async fn http_errors_bad_json_and_timeouts_are_distinct() {
    let server = TestServer::start(|request| match request.uri.path() {
        "/api/broken" => Reply::status(500).with_body("oops"),
        "/api/garbled" => Reply::status(200).with_body("<html>not json</html>"),
        _ => Reply::json(&json!({"result": 1})).after(Duration::from_millis(800)),
    })
    .await
    .expect("server");
    let client = conduit(&server, Duration::from_millis(200));
    let err = client.call::<Value>("broken", json!({})).await.unwrap_err();
    assert_eq!(err, ConduitError::Status(500));
    let err = client
        .call::<Value>("garbled", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, ConduitError::BadJson(_)), "{err:?}");
    let started = std::time::Instant::now();
    let err = client.call::<Value>("slow", json!({})).await.unwrap_err();
    assert_eq!(err, ConduitError::Timeout(Duration::from_millis(200)));
    assert!(started.elapsed() < Duration::from_millis(700));
    assert_eq!(err.to_string(), "conduit did not answer within 200 ms");
}

#[tokio::test]
async fn unreachable_conduit_and_bad_urls() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let token = Secret::resolve(TOKEN).expect("token");
    let client = Client::new().expect("client");
    let down = Conduit::new(
        &format!("http://127.0.0.1:{port}"),
        token.clone(),
        client.clone(),
        Duration::from_secs(2),
    )
    .expect("conduit");
    let err = down
        .call::<Value>("conduit.ping", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, ConduitError::Unreachable(_)), "{err:?}");
    assert!(!err.to_string().contains(TOKEN));

    for bad in ["phabricator.example.com", "ftp://x", ""] {
        let err =
            Conduit::new(bad, token.clone(), client.clone(), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, ConduitError::InvalidUrl(_)), "{bad}: {err:?}");
    }
    assert!(!format!("{down:?}").contains(TOKEN));
}
