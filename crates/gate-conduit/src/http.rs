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
        let request = without_userinfo(request)?.map(Full::new);
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

/// The request with any `user:password@` moved out of its URL into an
/// `Authorization: Basic` header (marked sensitive), before hyper sees it:
/// its connection pool logs URL authorities at trace level. An
/// `Authorization` the caller set is kept.
pub fn without_userinfo(
    mut request: http::Request<Bytes>,
) -> Result<http::Request<Bytes>, HttpError> {
    let Some((userinfo, host)) = request
        .uri()
        .authority()
        .and_then(|authority| authority.as_str().rsplit_once('@'))
        .map(|(userinfo, host)| (userinfo.to_owned(), host.to_owned()))
    else {
        return Ok(request);
    };
    // Messages below never quote the URL: it holds the credential.
    let mut parts = request.uri().clone().into_parts();
    parts.authority = Some(
        host.parse()
            .map_err(|_| HttpError::InvalidRequest("bad host in the url".into()))?,
    );
    *request.uri_mut() =
        http::Uri::from_parts(parts).map_err(|_| HttpError::InvalidRequest("bad url".into()))?;
    let (user, password) = userinfo.split_once(':').unwrap_or((&userinfo, ""));
    let decode = |text: &str| percent_encoding::percent_decode_str(text).collect::<Vec<u8>>();
    let mut credentials = decode(user);
    credentials.push(b':');
    credentials.extend(decode(password));
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = http::HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|_| HttpError::InvalidRequest("bad credentials in the url".into()))?;
    value.set_sensitive(true);
    request
        .headers_mut()
        .entry(http::header::AUTHORIZATION)
        .or_insert(value);
    Ok(request)
}

#[cfg(test)]
mod userinfo_tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_for_a_basic_header() {
        let request = http::Request::post("https://us%40r:p%3Ass@hooks.example.com:8443/x?y=1")
            .body(Bytes::new())
            .expect("request");
        let request = without_userinfo(request).expect("moved");
        assert_eq!(
            request.uri().to_string(),
            "https://hooks.example.com:8443/x?y=1"
        );
        let value = &request.headers()[http::header::AUTHORIZATION];
        assert!(value.is_sensitive());
        // base64("us@r:p:ss")
        assert_eq!(value.to_str().expect("ascii"), "Basic dXNAcjpwOnNz");

        let plain = http::Request::post("http://example.com/")
            .body(Bytes::new())
            .expect("request");
        let plain = without_userinfo(plain).expect("unchanged");
        assert!(plain.headers().get(http::header::AUTHORIZATION).is_none());
    }
}
