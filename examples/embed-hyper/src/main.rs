//! `cargo run -p gate-example-embed-hyper [-- gate.toml]`: a hyper server on
//! 127.0.0.1:3001 answering `/hello` itself and every gateway URL
//! (`/gate/<Source>/<door>`, `/status`...) through gate-server.

use std::path::PathBuf;

use anyhow::Context;
use gate_server::Gate;

const LISTEN: &str = "127.0.0.1:3001";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    gate_server::launch::init_logs("info");
    let path = std::env::args_os().nth(1).map(PathBuf::from);
    // As `gate-server serve` reads it, every secret resolved (`vault:` too).
    let config = gate_server::launch::load(path.as_deref()).await?;
    let gate = Gate::builder(config).start().await?;
    let listener = tokio::net::TcpListener::bind(LISTEN)
        .await
        .with_context(|| format!("cannot listen on {LISTEN}"))?;
    tracing::info!(listen = LISTEN, "hyper application listening");
    gate_example_embed_hyper::serve(
        listener,
        gate.tower_service(),
        gate_server::server::shutdown_signal(),
    )
    .await;
    // After the last request: deliveries end, sinks flush, spool released.
    gate.shutdown().await;
    Ok(())
}
