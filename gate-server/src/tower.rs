//! The gateway as a `tower_service::Service`, for embedding in an existing
//! application (axum, tonic, any tower stack). It owns no socket and no
//! runtime: the host server accepts connections and drives the futures, so
//! they must run inside the host's Tokio runtime.

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use tokio_util::sync::CancellationToken;

use crate::gateway::Gateway;
use crate::respond;
use crate::service::route;
use crate::shared::SharedGateway;

/// The client address of a request, for sources with IP allow-lists. A host
/// that knows it (axum's `ConnectInfo`, a proxy header it trusts) inserts it
/// into the request extensions; the gateway never guesses it from headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIp(pub IpAddr);

/// A cheap-to-clone tower service answering every gateway URL (`/gate/...`,
/// `/status`, `/ready`, `/config`...) of a running [`crate::Gate`]
/// ([`crate::Gate::tower_service`]): it follows reloads, and once the gate
/// is shut down it answers 503 with `Retry-After` (the sender retries
/// later; nothing is taken that could not be delivered). Paths are matched
/// from the root, so a host mounting it under a prefix strips the prefix
/// first (axum's `nest_service` does).
#[derive(Debug, Clone)]
pub struct GatewayTower {
    shared: SharedGateway,
    stopped: CancellationToken,
}

impl GatewayTower {
    pub(crate) fn new(shared: SharedGateway, stopped: CancellationToken) -> Self {
        Self { shared, stopped }
    }

    /// The gateway serving now.
    pub fn current(&self) -> Arc<Gateway> {
        self.shared.current()
    }

    /// Answer one request, as a plain async function (for a hyper host
    /// that routes some paths to the gateway). `peer` is the client
    /// address, for sources with IP allow-lists. Never fails.
    pub async fn route<B>(&self, request: http::Request<B>, peer: Option<IpAddr>) -> Response
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if self.stopped.is_cancelled() {
            return stopped();
        }
        // The gateway current when the request starts serves all of it.
        let gateway = self.shared.current();
        route(&gateway, request, peer).await
    }
}

type Response = http::Response<Full<Bytes>>;

/// The answer of a gate that was shut down.
fn stopped() -> Response {
    let mut response = respond::error(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "stopped",
        "the gateway is shut down; retry later",
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("60"),
    );
    response
}

impl<B> tower_service::Service<http::Request<B>> for GatewayTower
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    /// Always ready: the gateway has no per-call capacity to wait for; a sink
    /// that cannot deliver shows in the answer (503), not as backpressure.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let this = self.clone();
        let peer = request.extensions().get::<PeerIp>().map(|p| p.0);
        Box::pin(async move { Ok(this.route(request, peer).await) })
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tower_service::Service;

    use super::*;

    type Request = http::Request<Full<Bytes>>;

    #[tokio::test]
    async fn is_always_ready_answers_like_route_and_503_once_shut_down() {
        let config = crate::Config::parse(
            "t",
            "[spool]\nenabled = false\n[sinks.log]\nkind = \"file\"\npath = \"/dev/null\"\nlog = false\n[sources.Notification.doors.ops]\nsinks = [\"log\"]\ninsecure_no_auth = true\n",
            [],
        )
        .expect("config");
        let gate = crate::Gate::builder(config).start().await.expect("gate");
        let mut service = gate.tower_service();
        std::future::poll_fn(|cx| Service::<Request>::poll_ready(&mut service, cx))
            .await
            .expect("infallible");
        let get = |path: &str| {
            http::Request::get(path)
                .body(Full::new(Bytes::new()))
                .expect("request")
        };
        let response = service.call(get("/status")).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::OK);
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(body.to_bytes(), "ALIVE");
        let response = service
            .call(get("/gate/Nobody/x"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
        gate.shutdown().await;
        let response = service.call(get("/status")).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "60");
    }
}
