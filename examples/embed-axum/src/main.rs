//! `cargo run -p gate-example-embed-axum [-- gate.toml]`: the host
//! application on 127.0.0.1:3000 with the gateway under `/webhooks`. Without
//! a file it uses gate-server's default configuration (unsigned `demo`
//! doors, notifications to ./notifications.jsonl, the spool in
//! ./spool/gate.redb), e.g.
//!
//! ```text
//! curl localhost:3000/hello
//! curl -X POST localhost:3000/webhooks/gate/GitHub/demo \
//!      -H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: 1' \
//!      -H 'Content-Type: application/json' -d '{"zen": "Keep it simple."}'
//! ```
//!
//! SIGHUP reloads the file; SIGTERM or ctrl-c stops the application, then
//! the gate (deliveries in progress end, the spool is released).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gate_server::Gate;

const LISTEN: &str = "127.0.0.1:3000";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gate_server::launch::init_logs("info");
    let path = std::env::args_os().nth(1).map(PathBuf::from);
    // As `gate-server serve` reads it: the file, `GATE__` overrides, and
    // every secret resolved (`env:`, `file:`, `vault:`).
    let config = gate_server::launch::load(path.as_deref()).await?;
    // The spool, redelivery, deduplication and GitHub recovery of `serve`.
    // The gateway's own `[server] listen` is unused: the application owns
    // the socket.
    let gate = Gate::builder(config).start().await?;
    let app = gate_example_embed_axum::app(gate.tower_service());
    let listener = tokio::net::TcpListener::bind(LISTEN)
        .await
        .with_context(|| format!("cannot listen on {LISTEN}"))?;
    tracing::info!(
        listen = LISTEN,
        "application listening; gateway under /webhooks"
    );
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(gate_server::server::shutdown_signal());
    let result = tokio::select! {
        served = served => served.context("serving"),
        () = reload_on_sighup(&gate, path.as_deref()) => Ok(()),
    };
    // After the last request: deliveries end, sinks flush, spool released.
    gate.shutdown().await;
    result
}

/// `gate.reload` on every SIGHUP; a bad file is logged and changes nothing.
async fn reload_on_sighup(gate: &Gate, path: Option<&Path>) {
    #[cfg(unix)]
    if let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    {
        while hangups.recv().await.is_some() {
            let reloaded = match gate_server::launch::load(path).await {
                Ok(config) => gate.reload(config).await.map_err(anyhow::Error::from),
                Err(error) => Err(error.into()),
            };
            if let Err(error) = reloaded {
                tracing::error!("reload refused: {error:#}");
            }
        }
    }
    std::future::pending::<()>().await;
}
