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

use crate::compat::ConfigSchema;
use crate::gateway::Gateway;
use crate::handler::{self, GateRequest};
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
        let door = door.filter(|d| !d.is_empty());
        if method == Method::GET || method == Method::HEAD {
            // Monitors of the original service expect 200 here; the door is
            // not looked up, so the page tells nothing about which exist.
            return respond::html(StatusCode::OK, &gate_page(source));
        }
        let Some(door) = door.filter(|_| method == Method::POST) else {
            return respond::method_not_allowed(
                if door.is_some() {
                    "GET, HEAD, POST"
                } else {
                    "GET, HEAD"
                },
                &format!(
                    "{path} accepts webhooks: POST the provider's payload to /gate/{source}/<door>"
                ),
            );
        };
        let request = GateRequest {
            source,
            door,
            headers: &parts.headers,
            query: parts.uri.query(),
            peer,
        };
        return handler::handle(gateway, request, body).await;
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
        "/" | "/status" | "/ready" | "/config" | "/metrics"
            if method != Method::GET && method != Method::HEAD =>
        {
            respond::method_not_allowed("GET, HEAD", &format!("{path} only answers GET"))
        }
        "/" => respond::html(StatusCode::OK, HOME_PAGE),
        // Exactly `ALIVE`, no newline: monitors compare the whole body.
        "/status" => respond::exact_text(StatusCode::OK, "ALIVE"),
        "/ready" => ready(gateway).await,
        "/metrics" => respond::metrics(gateway.state().metrics.render(gateway)),
        "/config" if gateway.server().expose_config => {
            match ConfigSchema::from_query(parts.uri.query()) {
                Ok(schema) => match schema.unwrap_or(gateway.compat().config_report) {
                    ConfigSchema::Full => respond::json(StatusCode::OK, &gateway.describe()),
                    ConfigSchema::Original => {
                        respond::json(StatusCode::OK, &gateway.describe_original())
                    }
                },
                Err(message) => respond::error(StatusCode::BAD_REQUEST, "bad_query", &message),
            }
        }
        _ => not_found(path),
    }
}

const HOME_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Notifications center</title></head>\n<body>\n<h1>Notifications center</h1>\n<p>Webhook gateway: POST webhooks to <code>/gate/&lt;Source&gt;/&lt;door&gt;</code>. Health: <a href=\"/status\">/status</a>, <a href=\"/ready\">/ready</a>.</p>\n</body>\n</html>\n";

/// The page of `GET /gate/<Source>[/<door>]`. `source` is a configured
/// source name, never text from the request alone.
fn gate_page(source: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{source} gate</title></head>\n<body>\n<h1>{source} gate</h1>\n<p>This gate only accepts POST requests: the provider posts its webhooks to <code>/gate/{source}/&lt;door&gt;</code>.</p>\n</body>\n</html>\n"
    )
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
    // Failing open keeps accepting events: still ready, with the reason, so
    // a shared Redis outage does not take every gateway out of service.
    let dedup =
        gateway.state().dedup.unavailable().map(|reason| {
            format!("{reason}: delivering without shared deduplication (at least once)")
        });
    // Warnings (e.g. messages no queue wanted, kept aside) do not make the
    // gateway unready: it still delivers; they tell the operator to look.
    let warnings: serde_json::Map<String, serde_json::Value> = sinks
        .iter()
        .map(|sink| (sink.name.clone(), sink.sink.warnings()))
        .filter(|(_, warnings)| !warnings.is_empty())
        .map(|(name, warnings)| (name, json!(warnings)))
        .collect();
    // In maintenance every gate answers 503: a load balancer must route
    // elsewhere, so the gateway is not ready either.
    let maintenance = gateway.server().maintenance;
    if problems.is_empty() && spool.is_none() && !maintenance {
        let mut body = json!({ "ready": true });
        if !warnings.is_empty() {
            body["warnings"] = json!(warnings);
        }
        if let Some(reason) = dedup {
            body["dedup"] = json!(reason);
        }
        respond::json(StatusCode::OK, &body)
    } else {
        respond::json(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({
                "ready": false,
                "maintenance": maintenance,
                "sinks": problems,
                "spool": spool,
                "warnings": warnings,
                "dedup": dedup,
            }),
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
