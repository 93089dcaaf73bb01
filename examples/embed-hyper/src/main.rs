//! `cargo run -p gate-example-embed-hyper [-- gate.toml]`: a hyper server on
//! 127.0.0.1:3001 answering `/hello` itself and every gateway URL
//! (`/gate/<Source>/<door>`, `/status`...) through gate-server.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use gate_server::{Config, Gateway};

const LISTEN: &str = "127.0.0.1:3001";

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
    let gateway = Gateway::build(config, gate_server::registry()?)
        .map_err(|errors| anyhow::anyhow!("invalid configuration:\n{errors}"))?;
    let listener = tokio::net::TcpListener::bind(LISTEN)
        .await
        .with_context(|| format!("cannot listen on {LISTEN}"))?;
    tracing::info!(listen = LISTEN, "hyper application listening");
    gate_example_embed_hyper::serve(
        listener,
        Arc::new(gateway),
        gate_server::server::shutdown_signal(),
    )
    .await;
    Ok(())
}
