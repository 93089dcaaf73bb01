//! `gate-server`: the command line of Notifications Center.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gate_server::{server, Config, Gateway};

#[derive(Debug, Parser)]
#[command(
    name = "gate-server",
    version,
    about = "Webhook gateway for CI: GitHub, Docker Hub, Phabricator, Jenkins -> RabbitMQ and HTTP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Validate the file and every plugin's settings; exit 1 when invalid.
    Check {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print the effective configuration as JSON, secrets redacted.
    Show {
        #[command(flatten)]
        config: ConfigArg,
    },
}

#[derive(Debug, clap::Args)]
struct ConfigArg {
    /// TOML configuration file; the embedded default (no broker needed) when absent.
    #[arg(long, short, env = "GATE_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => serve(config).await,
        Command::Config {
            action: ConfigAction::Check { config },
        } => {
            let gateway = build(&config)?;
            println!(
                "configuration OK: {} door(s), {} sink(s); sources linked: {}",
                gateway.door_count(),
                gateway.sinks().count(),
                gateway.registry().source_kinds().join(", ")
            );
            Ok(())
        }
        Command::Config {
            action: ConfigAction::Show { config },
        } => {
            let gateway = build(&config)?;
            println!("{}", serde_json::to_string_pretty(&gateway.describe())?);
            Ok(())
        }
    }
}

fn build(arg: &ConfigArg) -> anyhow::Result<Gateway> {
    let registry = gate_server::registry()?;
    let config = Config::load(arg.config.as_deref(), std::env::vars())?;
    let gateway = Gateway::build(config, registry).map_err(|errors| {
        anyhow::anyhow!(
            "invalid configuration ({} problem(s)):\n{errors}",
            errors.0.len()
        )
    })?;
    Ok(gateway)
}

async fn serve(arg: ConfigArg) -> anyhow::Result<()> {
    let gateway = Arc::new(build(&arg)?);
    let listen = gateway.server().listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(
        %listen,
        config = %arg.config.as_ref().map_or("<default>".into(), |p| p.display().to_string()),
        "gate-server listening"
    );
    server::serve(gateway, listener, server::shutdown_signal()).await;
    Ok(())
}
