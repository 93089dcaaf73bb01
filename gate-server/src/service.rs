//! Routing of every HTTP request. `route` is a plain async function of a
//! request, so tests and embedders call it directly; `GatewayService` adapts
//! it to hyper.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::future::join_all;
use http::{Method, StatusCode};
use serde_json::json;

use crate::gate::{self, GateRequest};
use crate::gateway::Gateway;
use crate::respond::{self, Body};
use crate::shared::SharedGateway;
use crate::state::on_spool;

/// Answer one request. Never fails: every error is a response.
pub async fn route<B>(
    gateway: &Gateway,
    request: http::Request<B>,
    peer: Option<IpAddr>,
) -> http::Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let method = &parts.method;
    if let Some(rest) = path.strip_prefix("/gate/") {
        let mut segments = rest.split('/');
        let source = segments.next().unwrap_or_default();
        let door = segments.next();
        if segments.next().is_some() || gateway.source(source).is_none() {
            return not_found(path);
        }
        if method != Method::POST {
            return respond::method_not_allowed(
                "POST",
                &format!(
                    "{path} accepts webhooks: POST the provider's payload to /gate/{source}/<door>"
                ),
            );
        }
        let Some(door) = door.filter(|d| !d.is_empty()) else {
            return not_found(path);
        };
        let request = GateRequest {
            source,
            door,
            headers: &parts.headers,
            query: parts.uri.query(),
            peer,
        };
        return gate::handle(gateway, request, body).await;
    }
    if let Some(rest) = path.strip_prefix("/deliveries") {
        if rest.is_empty() || rest.starts_with('/') {
            return crate::deliveries::endpoints::route(
                gateway,
                method,
                &parts.headers,
                parts.uri.query(),
                rest,
            );
        }
    }
    match path {
        "/status" | "/ready" | "/config" | "/metrics"
            if method != Method::GET && method != Method::HEAD =>
        {
            respond::method_not_allowed("GET, HEAD", &format!("{path} only answers GET"))
        }
        "/status" => respond::text(StatusCode::OK, "ALIVE"),
        "/ready" => ready(gateway).await,
        "/metrics" => respond::metrics(gateway.state().metrics.render(gateway)),
        "/config" if gateway.server().expose_config => {
            respond::json(StatusCode::OK, &gateway.describe())
        }
        _ => not_found(path),
    }
}

fn not_found(path: &str) -> http::Response<Body> {
    respond::error(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("nothing at {path}"),
    )
}

/// 200 when every sink can deliver now and the spool is writable, else 503
/// with the reason of each problem; sinks' warnings are listed either way.
async fn ready(gateway: &Gateway) -> http::Response<Body> {
    let sinks: Vec<_> = gateway.sinks().collect();
    let checks = join_all(sinks.iter().map(|s| s.sink.ready())).await;
    let problems: serde_json::Map<String, serde_json::Value> = sinks
        .iter()
        .zip(checks)
        .filter_map(|(sink, check)| check.err().map(|reason| (sink.name.clone(), json!(reason))))
        .collect();
    let spool = match &gateway.state().spool {
        Some(spool) => on_spool(spool, |spool| spool.check_writable()).await.err(),
        None => None,
    };
    // Warnings (e.g. messages no queue wanted, kept aside) do not make the
    // gateway unready: it still delivers; they tell the operator to look.
    let warnings: serde_json::Map<String, serde_json::Value> = sinks
        .iter()
        .map(|sink| (sink.name.clone(), sink.sink.warnings()))
        .filter(|(_, warnings)| !warnings.is_empty())
        .map(|(name, warnings)| (name, json!(warnings)))
        .collect();
    if problems.is_empty() && spool.is_none() {
        let mut body = json!({ "ready": true });
        if !warnings.is_empty() {
            body["warnings"] = json!(warnings);
        }
        respond::json(StatusCode::OK, &body)
    } else {
        respond::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({ "ready": false, "sinks": problems, "spool": spool, "warnings": warnings }),
        )
    }
}

/// The gateway as a hyper service for one connection.
/// Each request uses the gateway current when it starts, so a reload never
/// changes a request midway.
#[derive(Debug, Clone)]
pub struct GatewayService {
    gateway: SharedGateway,
    peer: Option<IpAddr>,
}

impl GatewayService {
    pub fn new(gateway: impl Into<SharedGateway>, peer: Option<IpAddr>) -> Self {
        Self {
            gateway: gateway.into(),
            peer,
        }
    }
}

impl<B> hyper::service::Service<http::Request<B>> for GatewayService
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: http::Request<B>) -> Self::Future {
        let gateway = self.gateway.current();
        let peer = self.peer;
        Box::pin(async move { Ok(route(&gateway, request, peer).await) })
    }
}
