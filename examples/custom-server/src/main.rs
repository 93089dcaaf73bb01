//! gate-server with one more source: the whole difference from the stock
//! binary is the `use` line below, which links the Gitea crate so that its
//! `register_source!` reaches the registry. Everything else (configuration,
//! validation, the HTTP surface, graceful shutdown) is the gate-server library.
//!
//! ```text
//! cargo run -p gate-example-custom-server -- examples/custom-server/gate.toml
//! ```

use gate_example_gitea_source as _;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use gate_server::state::GateState;
use gate_server::{server, Config, Gateway, SharedGateway};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("GATE_CONFIG"))
        .map(PathBuf::from);
    let result = tokio::runtime::Runtime::new()
        .context("cannot start the runtime")
        .and_then(|runtime| runtime.block_on(serve(config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serve like `gate-server serve`: secrets resolved (including `vault:`),
/// the spool opened once, SIGHUP reloads, graceful stop on SIGTERM/ctrl-c.
async fn serve(path: Option<PathBuf>) -> anyhow::Result<()> {
    tracing::info!(sources = ?gate_server::registry()?.source_kinds(), "plugins linked");
    let config = load(path.as_deref()).await?;
    // The spool outlives reloads: opened once, handed to every new gateway.
    let state = GateState::open(&config).context("cannot open the spool")?;
    let gateway = Arc::new(build(config)?.with_state(Arc::new(state)));
    let listen = gateway.server().listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "listening");
    let shared = SharedGateway::new(gateway);
    #[cfg(unix)]
    tokio::spawn(gate_server::reload::on_sighup(shared.clone(), move || {
        let path = path.clone();
        async move {
            let config = load(path.as_deref()).await.map_err(|e| format!("{e:#}"))?;
            build(config).map_err(|e| format!("{e:#}"))
        }
    }));
    server::serve(shared, listener, server::shutdown_signal()).await;
    Ok(())
}

async fn load(path: Option<&Path>) -> anyhow::Result<Config> {
    // Collected first: `std::env::Vars` cannot cross an await.
    let env: Vec<(String, String)> = std::env::vars().collect();
    Ok(gate_server::config::load_with_secrets(path, env).await?)
}

fn build(config: Config) -> anyhow::Result<Gateway> {
    Gateway::build(config, gate_server::registry()?)
        .map_err(|errors| anyhow::anyhow!("invalid configuration:\n{errors}"))
}

#[cfg(test)]
mod tests;
