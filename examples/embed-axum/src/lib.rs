//! An existing axum application that mounts the gateway under `/webhooks`.
//!
//! The gateway is a running [`gate_server::Gate`] (spool, redelivery,
//! deduplication, reload, as `gate-server serve` runs it) served as a tower
//! service ([`gate_server::GatewayTower`], from `Gate::tower_service`): no
//! socket of its own, so it shares the application's listener, runtime and
//! middleware. `nest_service` strips the `/webhooks` prefix
//! before the gateway sees the request, so a provider posts to
//! `/webhooks/gate/GitHub/<door>` and the gateway routes `/gate/GitHub/<door>`
//! (its `/status`, `/ready` and `/config` move to `/webhooks/...` likewise).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::routing::get;
use axum::Router;
use gate_server::{GatewayTower, PeerIp};

/// Where the gateway is mounted.
pub const WEBHOOKS_PREFIX: &str = "/webhooks";

/// The application: its own routes plus the gateway.
pub fn app(gateway: GatewayTower) -> Router {
    Router::new()
        .route("/hello", get(hello))
        .nest_service(WEBHOOKS_PREFIX, gateway)
        .layer(axum::middleware::map_request(with_peer))
}

/// One of the application's own routes.
async fn hello() -> &'static str {
    "hello from the host application\n"
}

/// Hand the TCP peer to the gateway, for sources with IP allow-lists
/// (Docker Hub). axum knows it when served with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
async fn with_peer(mut request: Request) -> Request {
    if let Some(ConnectInfo(addr)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        request.extensions_mut().insert(PeerIp(addr.ip()));
    }
    request
}
