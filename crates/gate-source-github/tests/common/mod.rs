//! Helpers shared by the integration tests: a door, signed requests.
#![allow(dead_code)]

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{DynSource, OpenDoor, Received, Rejection, Request};
use gate_source_github::GitHub;
use http::HeaderMap;

pub const SECRET: &str = "It's a Secret to Everybody";

pub fn source() -> Box<dyn DynSource> {
    gate_core::erase(GitHub)
}

pub fn open(source: &dyn DynSource, toml_text: &str) -> Result<OpenDoor, gate_core::ConfigError> {
    let table: toml::Table = toml::from_str(toml_text).expect("door toml");
    source.open_door("acme", table, "sources.GitHub.doors.acme")
}

pub fn door(source: &dyn DynSource) -> OpenDoor {
    open(source, &format!("secrets = [{SECRET:?}]")).expect("door opens")
}

/// Headers GitHub sends, signed with SHA-256 under `secret`.
pub fn headers(event: &str, content_type: &str, secret: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-github-event", event.parse().expect("header"));
    headers.insert(
        "x-github-delivery",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958"
            .parse()
            .expect("header"),
    );
    headers.insert("content-type", content_type.parse().expect("header"));
    headers.insert(
        "user-agent",
        "GitHub-Hookshot/044aadd".parse().expect("header"),
    );
    let signature = sign_hmac_hex(HmacAlgorithm::Sha256, secret.as_bytes(), body);
    headers.insert(
        "x-hub-signature-256",
        format!("sha256={signature}").parse().expect("header"),
    );
    headers
}

pub async fn send(
    source: &dyn DynSource,
    door: &OpenDoor,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, Rejection> {
    let request = Request {
        headers,
        body,
        query: None,
        peer: None,
    };
    source.receive(&request, door).await
}

pub fn payload(case: &str) -> String {
    let path = format!(
        "{}/../../payloads/github/{case}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).expect("payload file")
}

/// A delivery signed with the test secret to the default door, accepted.
pub async fn accepted(event: &str, content_type: &str, body: &[u8]) -> Received {
    let source = source();
    let door = door(source.as_ref());
    let headers = headers(event, content_type, SECRET, body);
    send(source.as_ref(), &door, &headers, body)
        .await
        .unwrap_or_else(|e| panic!("{event} refused: {e}"))
}

/// The rejection of a signed JSON delivery to the default door.
pub async fn refused(event: &str, body: &[u8]) -> Rejection {
    let source = source();
    let door = door(source.as_ref());
    let headers = headers(event, "application/json", SECRET, body);
    match send(source.as_ref(), &door, &headers, body).await {
        Ok(received) => panic!("{event} accepted: {received:?}"),
        Err(rejection) => rejection,
    }
}
