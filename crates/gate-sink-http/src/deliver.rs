//! One delivery: build the request once, send it, retry transient failures
//! with exponential backoff.

use std::time::Duration;

use bytes::Bytes;
use gate_conduit::http::{Client, HttpError};
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{Action, Envelope, Secret, Sink};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, USER_AGENT};

use crate::{BodyKind, HttpSinkConfig, TargetUrl};

const KIND: &str = "http";
/// Longest wait between two attempts, whatever the base and the count.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Headers the sink sets itself; a configured header may not replace them.
const RESERVED: [&str; 4] = [
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
];

/// A configured HTTP forward.
#[derive(Debug)]
pub struct HttpSink {
    url: TargetUrl,
    body: BodyKind,
    secret: Option<Secret>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    client: Client,
}

/// The outcome of one attempt, as the retry loop sees it.
enum Attempt {
    Done,
    Retry(String, &'static str),
    Fail(String, &'static str),
}

impl HttpSink {
    pub fn new(config: HttpSinkConfig) -> Result<Self, String> {
        if config.timeout_ms == 0 {
            return Err("timeout_ms must be greater than 0".into());
        }
        let headers = config
            .headers
            .iter()
            .map(|(name, value)| {
                let header = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("headers: invalid header name {name:?}"))?;
                if RESERVED.contains(&header.as_str()) || header.as_str().starts_with("x-gate-") {
                    return Err(format!("headers: {name:?} is set by the sink itself"));
                }
                let mut value = HeaderValue::from_bytes(value.expose())
                    .map_err(|_| format!("headers: invalid value for {name:?}"))?;
                value.set_sensitive(true);
                Ok((header, value))
            })
            .collect::<Result<_, String>>()?;
        let client = Client::shared().map_err(|e| e.to_string())?;
        Ok(Self {
            url: config.url,
            body: config.body,
            secret: config.secret,
            headers,
            timeout: Duration::from_millis(config.timeout_ms),
            retries: config.retries,
            backoff: Duration::from_millis(config.retry_backoff_ms),
            client,
        })
    }

    fn body_of(&self, envelope: &Envelope) -> Result<Bytes, String> {
        match self.body {
            BodyKind::Raw => Ok(Bytes::copy_from_slice(
                envelope.notification.raw_content.get().as_bytes(),
            )),
            BodyKind::Notification => serde_json::to_vec(&envelope.notification)
                .map(Bytes::from)
                .map_err(|e| format!("cannot serialise the notification: {e}")),
        }
    }

    fn request(&self, envelope: &Envelope, body: &Bytes) -> Result<http::Request<Bytes>, String> {
        let mut builder = http::Request::post(self.url.uri().clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("notifications-center/", env!("CARGO_PKG_VERSION")),
            )
            .header("x-gate-delivery", header_text(&envelope.delivery))
            .header("x-gate-source", header_text(&envelope.source))
            .header("x-gate-event", header_text(&envelope.event));
        if let Some(secret) = &self.secret {
            let signature = sign_hmac_hex(HmacAlgorithm::Sha256, secret.expose(), body);
            builder = builder.header("x-gate-signature", format!("sha256={signature}"));
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(body.clone())
            .map_err(|e| format!("cannot build the request: {e}"))
    }

    async fn attempt(&self, request: http::Request<Bytes>) -> Attempt {
        match self.client.send(request, self.timeout).await {
            Ok(response) if response.status.is_success() => Attempt::Done,
            Ok(response) => {
                let status = response.status;
                let message = format!("http {status}");
                if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
                    Attempt::Retry(message, "http_status")
                } else {
                    Attempt::Fail(message, "http_status")
                }
            }
            Err(error) => {
                let kind = error_kind(&error);
                if error.is_transient() {
                    Attempt::Retry(error.to_string(), kind)
                } else {
                    Attempt::Fail(error.to_string(), kind)
                }
            }
        }
    }

    /// Wait before retry number `retry` (1-based).
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

#[gate_core::async_trait]
impl Sink for HttpSink {
    fn target(&self) -> Option<String> {
        Some(self.url.shown().to_owned())
    }

    async fn deliver(&self, envelope: &Envelope) -> Action {
        let target = self.url.shown();
        let routing_key = Some(envelope.notification.routing_key());
        let failed = |kind: &str, message: String| {
            Action::failed(KIND, target, routing_key.clone(), kind, message)
        };
        let body = match self.body_of(envelope) {
            Ok(body) => body,
            Err(message) => return failed("invalid_request", message),
        };
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            // Rebuilt per attempt: a request is consumed by sending it.
            let request = match self.request(envelope, &body) {
                Ok(request) => request,
                Err(message) => return failed("invalid_request", message),
            };
            match self.attempt(request).await {
                Attempt::Done => return Action::delivered(KIND, target, routing_key),
                Attempt::Fail(message, kind) => return failed(kind, message),
                Attempt::Retry(message, kind) => {
                    if attempts > self.retries {
                        let tries = if attempts == 1 { "attempt" } else { "attempts" };
                        return failed(kind, format!("{message} after {attempts} {tries}"));
                    }
                    tracing::debug!(target = %target, attempt = attempts, error = %message, "retrying");
                    tokio::time::sleep(self.backoff(attempts)).await;
                }
            }
        }
    }
}

fn error_kind(error: &HttpError) -> &'static str {
    match error {
        HttpError::Timeout(_) => "timeout",
        HttpError::Connect(_) => "connect",
        _ => "transport",
    }
}

/// Values come from senders (delivery ids) and may hold bytes a header
/// cannot; such a value is replaced rather than failing the delivery.
fn header_text(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(backoff_ms: u64) -> HttpSink {
        let config: HttpSinkConfig = toml::from_str(&format!(
            "url = \"http://127.0.0.1:1/\"\nretry_backoff_ms = {backoff_ms}"
        ))
        .expect("config");
        HttpSink::new(config).expect("sink")
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = sink(200);
        let waits: Vec<u128> = (1..=4).map(|n| s.backoff(n).as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1600]);
        assert_eq!(s.backoff(40), MAX_BACKOFF);
        assert_eq!(sink(u64::MAX).backoff(1), MAX_BACKOFF);
    }
}
