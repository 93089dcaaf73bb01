//! `cargo run -p gate-example-embed-axum [-- gate.toml]`: the host
//! application on 127.0.0.1:3000 with the gateway under `/webhooks`. Without
//! a file it uses gate-server's default configuration (unsigned `demo`
//! doors, notifications to ./notifications.jsonl), e.g.
//!
//! ```text
//! curl localhost:3000/hello
//! curl -X POST localhost:3000/webhooks/gate/GitHub/demo \
//!      -H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: 1' \
//!      -H 'Content-Type: application/json' -d '{"zen": "Keep it simple."}'
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use gate_server::{Config, GatewayTower};

const LISTEN: &str = "127.0.0.1:3000";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let path = std::env::args_os().nth(1).map(PathBuf::from);
    let config = Config::load(path.as_deref(), std::env::vars())?;
    // The gateway's own `[server] listen` is unused: the application owns
    // the socket.
    let gateway = GatewayTower::from_config(config, gate_server::registry()?)
        .map_err(|errors| anyhow::anyhow!("invalid configuration:\n{errors}"))?;
    let app = gate_example_embed_axum::app(gateway.clone());
    let listener = tokio::net::TcpListener::bind(LISTEN)
        .await
        .with_context(|| format!("cannot listen on {LISTEN}"))?;
    tracing::info!(
        listen = LISTEN,
        "application listening; gateway under /webhooks"
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(gate_server::server::shutdown_signal())
    .await?;
    // Flush the sinks once no request is in flight.
    gateway.gateway().close().await;
    Ok(())
}
