//! The shared outgoing HTTP(S) client: hyper's pooled client over rustls
//! (ring provider), HTTP/1.1, with a deadline on every exchange.

use std::error::Error as _;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Answers larger than this are refused: the gate reads answers only for
/// status and small JSON documents, never for bulk data.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Why an exchange failed. Messages never contain request bodies or headers,
/// so they are safe to report (tokens travel only there).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("transport error: {0}")]
    Transport(String),
    #[error("cannot read the answer: {0}")]
    Body(String),
    #[error("cannot set up tls: {0}")]
    Tls(String),
}

impl HttpError {
    /// Whether trying again later may succeed (the peer was not reached or
    /// did not answer in time); any answer at all is not retryable here.
    pub fn is_transient(&self) -> bool {
        matches!(self, HttpError::Connect(_) | HttpError::Timeout(_))
    }
}

/// A complete answer, body read.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Cheap to clone: clones share the connection pool.
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `http://` and `https://` URLs. TLS trusts the system's
    /// roots (internal CAs of self-hosted Phabricator), or Mozilla's bundled
    /// roots when the system has none.
    pub fn new() -> Result<Self, HttpError> {
        let provider = || std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_provider_and_native_roots(provider()) {
            Ok(builder) => builder,
            Err(native) => {
                tracing::debug!(error = %native, "no usable system roots, using bundled roots");
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_provider_and_webpki_roots(provider())
                    .map_err(|e| HttpError::Tls(e.to_string()))?
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Self { inner })
    }

    /// One client per process, so that doors and sinks share the connection
    /// pool and the trust roots are loaded once.
    pub fn shared() -> Result<Self, HttpError> {
        static SHARED: std::sync::OnceLock<Result<Client, HttpError>> = std::sync::OnceLock::new();
        SHARED.get_or_init(Client::new).clone()
    }

    /// Send `request` and read the whole answer, all within `timeout`.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> Result<Response, HttpError> {
        let request = request.map(Full::new);
        let exchange = async {
            let response = self.inner.request(request).await.map_err(classify)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| HttpError::Body(e.to_string()))?
                .to_bytes();
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout(timeout))?
    }
}

/// Split hyper's errors into "never reached the peer" and the rest, with the
/// causes spelled out (hyper's own message is only "client error (Connect)").
fn classify(error: hyper_util::client::legacy::Error) -> HttpError {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    if error.is_connect() {
        HttpError::Connect(message)
    } else {
        HttpError::Transport(message)
    }
}
