//! One trigger call: the request for either API, and its outcome in words
//! that never contain an id or a token.

use std::time::Duration;

use bytes::Bytes;
use gate_conduit::http::{Client, HttpError};
use http::header::{CONTENT_TYPE, USER_AGENT};
use serde_json::json;

use crate::map::{Api, Trigger};
use crate::push::GitRef;

/// The two API roots, validated.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub base_url: String,
    pub legacy_base_url: String,
}

/// Why a call failed: an action error type and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub kind: &'static str,
    pub message: String,
}

/// Send the trigger of `trigger` for a push of `reference`.
pub async fn call(
    client: &Client,
    endpoints: &Endpoints,
    trigger: &Trigger,
    reference: &GitRef,
    timeout: Duration,
) -> Result<(), CallError> {
    let request = request(endpoints, trigger, reference).map_err(|message| CallError {
        kind: "invalid_request",
        message,
    })?;
    match client.send(request, timeout).await {
        Ok(response) if response.status.is_success() => Ok(()),
        Ok(response) => {
            let status = response.status;
            let hint = match status.as_u16() {
                // Docker Hub's answer to an unknown or revoked trigger.
                400 | 401 | 403 | 404 | 410 => " (wrong or revoked trigger?)",
                _ => "",
            };
            Err(CallError {
                kind: "http_status",
                message: format!("docker hub answered http {status}{hint}"),
            })
        }
        Err(error) => Err(CallError {
            kind: match error {
                HttpError::Timeout(_) => "timeout",
                HttpError::Connect(_) => "connect",
                _ => "transport",
            },
            message: scrub(error.to_string(), trigger),
        }),
    }
}

fn request(
    endpoints: &Endpoints,
    trigger: &Trigger,
    reference: &GitRef,
) -> Result<http::Request<Bytes>, String> {
    let ref_body = || {
        reference
            .source()
            .map(|(kind, name)| json!({"source_type": kind, "source_name": name}))
    };
    let (url, body) = match &trigger.api {
        Api::Build {
            source,
            trigger: id,
        } => (
            format!(
                "{}/api/build/v1/source/{}/trigger/{}/call/",
                endpoints.base_url,
                text(source.expose()),
                text(id.expose())
            ),
            // Without a body Docker Hub runs every build rule of the image,
            // as the original's legacy call did.
            trigger.send_ref.then(ref_body).flatten(),
        ),
        Api::Legacy { token } => (
            format!(
                "{}/u/{}/trigger/{}/",
                endpoints.legacy_base_url,
                trigger.image,
                text(token.expose())
            ),
            Some(
                trigger
                    .send_ref
                    .then(ref_body)
                    .flatten()
                    .unwrap_or_else(|| json!({"build": true})),
            ),
        ),
    };
    // The URL holds the credentials: errors must not quote it.
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("cannot build the trigger url of {}", trigger.image))?;
    let builder = http::Request::post(uri).header(
        USER_AGENT,
        concat!("notifications-center/", env!("CARGO_PKG_VERSION")),
    );
    let request = match body {
        Some(body) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(Bytes::from(body.to_string())),
        None => builder.body(Bytes::new()),
    };
    request.map_err(|_| format!("cannot build the trigger request of {}", trigger.image))
}

/// Ids and tokens were checked to be ASCII when loaded.
fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Transport errors come from hyper and the OS; none is known to quote the
/// URL, but a credential must never reach a report, so remove any anyway.
fn scrub(mut message: String, trigger: &Trigger) -> String {
    for secret in trigger.secrets() {
        let value = text(secret.expose());
        if !value.is_empty() {
            message = message.replace(value, "***");
        }
    }
    message
}
