//! `gate-server serve` as library calls, so that a binary linking more
//! plugins (see examples/custom-server) is its `use` lines and a `main`:
//! the same loading, validation, spool, reload and shutdown as the stock one.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gate_spool::SpoolError;

use crate::config::LoadError;
use crate::gate::{Gate, StartError};
use crate::gateway::Checked;
use crate::{server, Config, ConfigErrors, Gateway, RegistryError};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("invalid configuration ({count} problem(s)):\n{0}", count = .0.0.len())]
    Invalid(ConfigErrors),
    // The causes below are `source()`s, printed by [`describe`].
    #[error("cannot open the spool")]
    Spool(#[from] SpoolError),
    #[error("cannot listen on {listen}")]
    Listen {
        listen: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
}

impl From<StartError> for LaunchError {
    fn from(error: StartError) -> Self {
        match error {
            StartError::Registry(e) => Self::Registry(e),
            StartError::Secrets(e) => Self::Load(LoadError::Secrets(e)),
            StartError::Invalid(e) => Self::Invalid(e),
            StartError::Spool(e) => Self::Spool(e),
        }
    }
}

/// The error and its causes on one line, as `error: cause: cause`.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let line = inner.to_string();
        // Transparent wrappers repeat their inner message.
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}

/// Read the file (the embedded default when `None`), apply the `GATE__`
/// environment overrides and resolve every secret, `vault:` included.
pub async fn load(path: Option<&Path>) -> Result<Config, LaunchError> {
    // Collected first: `std::env::Vars` cannot cross an await.
    let env: Vec<(String, String)> = std::env::vars().collect();
    Ok(crate::config::load_with_secrets(path, env).await?)
}

/// Check a configuration against every plugin linked into this binary.
pub fn build(config: Config) -> Result<Gateway, LaunchError> {
    Gateway::build(config, crate::registry()?).map_err(LaunchError::Invalid)
}

/// Every check of [`build`] without starting anything (no connection, no
/// file created): what `config show` describes.
pub fn validate(config: Config) -> Result<Checked, LaunchError> {
    let registry = crate::registry()?;
    Gateway::validate(config, &registry).map_err(LaunchError::Invalid)
}

/// `config check`: every check of [`build`], and that the spool file can be
/// written, without starting anything (no connection, no file created).
pub fn check(config: Config) -> Result<Checked, LaunchError> {
    let registry = crate::registry()?;
    Gateway::check(config, &registry).map_err(LaunchError::Invalid)
}

/// Serve until SIGTERM or ctrl-c; SIGHUP reloads `path`. Spooled events of
/// an earlier run are redelivered. The [`Gate`] the embedders use, plus a
/// listener and the signals.
pub async fn serve(path: Option<PathBuf>) -> Result<(), LaunchError> {
    let config = load(path.as_deref()).await?;
    let gate = Gate::builder(config)
        .registry(crate::registry()?)
        .start()
        .await?;
    let listen = gate.current().server().listen;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(source) => {
            gate.shutdown().await;
            return Err(LaunchError::Listen { listen, source });
        }
    };
    {
        let gateway = gate.current();
        tracing::info!(
            %listen,
            config = %path.as_ref().map_or("<default>".into(), |p| p.display().to_string()),
            sources = ?gateway.registry().source_kinds(),
            spool_depth = gateway.state().spool.as_ref().map_or(0, |s| s.depth()),
            "gate-server listening"
        );
    }
    tokio::select! {
        () = server::serve(&gate, listener, server::shutdown_signal()) => {}
        () = reload_on_sighup(&gate, path.as_deref()) => {}
    }
    gate.shutdown().await;
    Ok(())
}

/// Reload `path` into `gate` on every SIGHUP; never returns. A file that
/// cannot be loaded or does not validate changes nothing but a log line.
async fn reload_on_sighup(gate: &Gate, path: Option<&Path>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) => {
                while hangups.recv().await.is_some() {
                    tracing::info!("SIGHUP received: reloading the configuration");
                    let reloaded = match load(path).await {
                        Ok(config) => gate.reload(config).await.map_err(|e| describe(&e)),
                        Err(error) => Err(describe(&error)),
                    };
                    if let Err(reason) = reloaded {
                        tracing::error!(%reason, "new configuration refused; still serving the previous one");
                    }
                }
            }
            Err(_) => tracing::warn!("cannot listen for SIGHUP; reload is unavailable"),
        }
    }
    std::future::pending::<()>().await;
}

/// A whole `main`: logs to stderr (`RUST_LOG`, default `info`), a runtime,
/// [`serve`], and the exit code (1 with a one-line error on failure).
pub fn main(path: Option<PathBuf>) -> ExitCode {
    init_logs_as("info", configured_log_format(path.as_deref()));
    let result = tokio::runtime::Runtime::new()
        .map_err(LaunchError::Runtime)
        .and_then(|runtime| runtime.block_on(serve(path)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` or else `default_filter`, in the
/// format named by `GATE_LOG_FORMAT` (`text`, the default, or `json`). Text
/// has colours only on a terminal, so files and the journal get plain lines.
/// A second call (a subscriber is already set) changes nothing.
pub fn init_logs(default_filter: &str) {
    init_logs_as(default_filter, LogFormat::from_env());
}

/// How log lines are written.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// `GATE_LOG_FORMAT`, else text; an unknown value is reported on stderr
    /// and falls back to text rather than losing the logs.
    pub fn from_env() -> Self {
        match std::env::var("GATE_LOG_FORMAT").ok().as_deref() {
            None | Some("") | Some("text") => Self::Text,
            Some("json") => Self::Json,
            Some(other) => {
                eprintln!(
                    "warning: GATE_LOG_FORMAT={other:?} is neither text nor json; using text"
                );
                Self::Text
            }
        }
    }
}

/// The log format for a run on the configuration at `path` (the embedded
/// default when `None`): `GATE_LOG_FORMAT`, else the file's (and its
/// environment overrides') `server.log_format`, else text. A file that does
/// not parse gives text: the command reports the file's problem itself.
pub fn configured_log_format(path: Option<&Path>) -> LogFormat {
    if std::env::var_os("GATE_LOG_FORMAT").is_some() {
        return LogFormat::from_env();
    }
    Config::read(path)
        .and_then(|(name, text)| Config::parse_table(&name, &text, std::env::vars()))
        .ok()
        .and_then(|table| {
            let format = table.get("server")?.get("log_format")?.clone();
            format.try_into::<LogFormat>().ok()
        })
        .unwrap_or_default()
}

/// [`init_logs`] with an explicit format.
pub fn init_logs_as(default_filter: &str, format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
