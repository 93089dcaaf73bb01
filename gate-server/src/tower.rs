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
use gate_core::Registry;
use http_body_util::Full;

use crate::config::Config;
use crate::gateway::{ConfigErrors, Gateway};
use crate::service::route;

/// The client address of a request, for sources with IP allow-lists. A host
/// that knows it (axum's `ConnectInfo`, a proxy header it trusts) inserts it
/// into the request extensions; the gateway never guesses it from headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIp(pub IpAddr);

/// A cheap-to-clone tower service answering every gateway URL (`/gate/...`,
/// `/status`, `/ready`, `/config`). Paths are matched from the root, so a
/// host mounting it under a prefix strips the prefix first (axum's
/// `nest_service` does).
#[derive(Debug, Clone)]
pub struct GatewayTower {
    gateway: Arc<Gateway>,
}

impl GatewayTower {
    pub fn new(gateway: Arc<Gateway>) -> Self {
        Self { gateway }
    }

    /// Build the gateway from an already-parsed configuration. Call it
    /// inside the Tokio runtime: sinks may start background tasks.
    pub fn from_config(config: Config, registry: Arc<Registry>) -> Result<Self, ConfigErrors> {
        Gateway::build(config, registry).map(|gateway| Self::new(Arc::new(gateway)))
    }

    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }
}

impl<B> tower_service::Service<http::Request<B>> for GatewayTower
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    /// Always ready: the gateway has no per-call capacity to wait for; a sink
    /// that cannot deliver shows in the answer (503), not as backpressure.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let gateway = Arc::clone(&self.gateway);
        let peer = request.extensions().get::<PeerIp>().map(|p| p.0);
        Box::pin(async move { Ok(route(&gateway, request, peer).await) })
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tower_service::Service;

    use super::*;

    type Request = http::Request<Full<Bytes>>;

    #[tokio::test]
    async fn is_always_ready_and_answers_like_route() {
        let registry = crate::registry().expect("registry");
        let tower = GatewayTower::from_config(Config::default(), registry).expect("gateway");
        let mut service = tower.clone();
        std::future::poll_fn(|cx| Service::<Request>::poll_ready(&mut service, cx))
            .await
            .expect("infallible");
        let request = http::Request::get("/status")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = service.call(request).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::OK);
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(body.to_bytes(), "ALIVE");
        let request = http::Request::get("/gate/Nobody/x")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = service.call(request).await.expect("infallible");
        assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
    }
}
