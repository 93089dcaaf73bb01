//! `gate-server`: the command line of Notifications Center.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gate_server::state::GateState;
use gate_server::{reload, server, Config, Gateway, SharedGateway};

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
    /// Run a door's source on a payload file and print the notifications
    /// (exit 1 when refused, 2 on usage or configuration errors).
    Simulate(gate_server::cli::simulate::SimulateArgs),
    /// Print the notifications passing through the exchange.
    Tail(gate_server::cli::tail::TailArgs),
    /// List, replay or drop the events waiting in the spool (of a stopped
    /// gate-server; exit 1 when an entry is missing or still fails).
    Spool(gate_server::cli::spool::SpoolArgs),
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
    // The operator tools print their own one-line errors; the AMQP client's
    // log of the same failure would only repeat it.
    let default_filter = match cli.command {
        Command::Tail(_) | Command::Simulate(_) => "warn,lapin=off",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
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
    let command = match cli.command {
        // These choose their own exit codes.
        Command::Simulate(args) => return runtime.block_on(gate_server::cli::simulate::run(args)),
        Command::Tail(args) => return runtime.block_on(gate_server::cli::tail::run(args)),
        Command::Spool(args) => return runtime.block_on(gate_server::cli::spool::run(args)),
        command => command,
    };
    match runtime.block_on(run(command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        // Dispatched by `main`, which lets them set their own exit codes.
        Command::Simulate(_) | Command::Tail(_) | Command::Spool(_) => {
            anyhow::bail!("not handled here")
        }
        Command::Serve { config } => serve(config).await,
        Command::Config {
            action: ConfigAction::Check { config },
        } => {
            let gateway = build(&config).await?;
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
            let gateway = build(&config).await?;
            println!("{}", serde_json::to_string_pretty(&gateway.describe())?);
            Ok(())
        }
    }
}

async fn build(arg: &ConfigArg) -> anyhow::Result<Gateway> {
    build_from(load(arg).await?)
}

async fn load(arg: &ConfigArg) -> anyhow::Result<Config> {
    // Collected first: `std::env::Vars` cannot cross an await in a spawned task.
    let env: Vec<(String, String)> = std::env::vars().collect();
    Ok(gate_server::config::load_with_secrets(arg.config.as_deref(), env).await?)
}

fn build_from(config: Config) -> anyhow::Result<Gateway> {
    let registry = gate_server::registry()?;
    let gateway = Gateway::build(config, registry).map_err(|errors| {
        anyhow::anyhow!(
            "invalid configuration ({} problem(s)):\n{errors}",
            errors.0.len()
        )
    })?;
    Ok(gateway)
}

async fn serve(arg: ConfigArg) -> anyhow::Result<()> {
    let config = load(&arg).await?;
    // The spool outlives reloads: opened once, handed to every new gateway.
    let state = GateState::open(&config).context("cannot open the spool")?;
    let gateway = Arc::new(build_from(config)?.with_state(Arc::new(state)));
    let listen = gateway.server().listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(
        %listen,
        config = %arg.config.as_ref().map_or("<default>".into(), |p| p.display().to_string()),
        spool_depth = gateway.state().spool.as_ref().map_or(0, |s| s.depth()),
        "gate-server listening"
    );
    let shared = SharedGateway::new(gateway);
    #[cfg(unix)]
    tokio::spawn(reload::on_sighup(shared.clone(), move || {
        let arg = ConfigArg {
            config: arg.config.clone(),
        };
        async move { build(&arg).await.map_err(|e| format!("{e:#}")) }
    }));
    server::serve(shared, listener, server::shutdown_signal()).await;
    Ok(())
}
