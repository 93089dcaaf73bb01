//! Response builders: every answer, error or not, goes through here so that
//! each one has a status, a content type and a body a person can read.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

pub type Body = Full<Bytes>;

pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            with_type(status, bytes, "application/json")
        }
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot encode the answer: {e}"),
        ),
    }
}

pub fn text(status: StatusCode, message: &str) -> Response<Body> {
    with_type(status, format!("{message}\n"), "text/plain; charset=utf-8")
}

/// `message` as the whole body, no newline added (for monitors that compare
/// it exactly).
pub fn exact_text(status: StatusCode, message: &'static str) -> Response<Body> {
    with_type(status, message, "text/plain; charset=utf-8")
}

/// A static HTML page (no request text is ever echoed into it).
pub fn html(status: StatusCode, page: &str) -> Response<Body> {
    with_type(status, page.to_owned(), "text/html; charset=utf-8")
}

/// `{"error": {"type": ..., "message": ...}}` plus optional context keys.
pub fn error(status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    json(
        status,
        &serde_json::json!({ "error": { "type": kind, "message": message } }),
    )
}

/// The OpenMetrics text exposition, which Prometheus scrapes.
pub fn metrics(text: String) -> Response<Body> {
    with_type(
        StatusCode::OK,
        text,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    )
}

pub fn method_not_allowed(allow: &'static str, message: &str) -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, message);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// A static page or script of the gateway's own, with a strict content
/// security policy: only the gateway's own scripts run, nothing inline.
pub fn asset(body: &'static str, content_type: &'static str) -> Response<Body> {
    let mut response = with_type(StatusCode::OK, body, content_type);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn with_type(
    status: StatusCode,
    body: impl Into<Bytes>,
    content_type: &'static str,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
