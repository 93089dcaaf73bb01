//! `gate-server`: the command line of Notifications Center.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gate_server::launch;

#[derive(Debug, Parser)]
#[command(
    name = "gate-server",
    version,
    about = "Webhook gateway for CI: GitHub, Docker Hub, Phabricator, Jenkins -> RabbitMQ and HTTP"
)]
struct Cli {
    /// Log line format (also GATE_LOG_FORMAT): text (colours only on a
    /// terminal) or json (one object per line).
    /// (Else the configuration's `server.log_format`, else text.)
    #[arg(long, global = true, value_enum, env = "GATE_LOG_FORMAT")]
    log_format: Option<launch::LogFormat>,
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
    /// The recent deliveries of a running gateway: list, show, replay
    /// (needs `[deliveries] admin_token`).
    Deliveries(gate_server::cli::deliveries::DeliveriesArgs),
    /// GitHub's side of the deliveries: `github redeliver --door D --since
    /// 6h [--dry-run]` asks GitHub to deliver again what failed.
    Github(gate_server::cli::github::GithubArgs),
    /// Print a shell completion script (e.g. `gate-server completions bash >
    /// /etc/bash_completion.d/gate-server`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Validate the file and every plugin's settings without any network
    /// I/O (`vault:` references are checked, not read); exit 1 when invalid.
    Check {
        #[command(flatten)]
        config: ConfigArg,
        /// Also read every `vault:` reference from the vault (its only
        /// network I/O: no broker is contacted, no file created).
        #[arg(long)]
        online: bool,
    },
    /// Print the whole effective configuration as JSON (every section,
    /// defaults included, secrets redacted) with each value's origin.
    Show {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Write an equivalent TOML file from the original PHP service's
    /// configuration folder and environment; prints the decisions to review.
    Import(gate_server::cli::import::ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ConfigArg {
    /// TOML configuration file; the embedded default (no broker needed) when absent.
    #[arg(long, short, env = "GATE_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        use clap::CommandFactory;
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "gate-server", &mut script);
        gate_server::cli::stdout::bytes(&script);
        return ExitCode::SUCCESS;
    }
    // The operator tools print their own one-line errors; the AMQP client's
    // log of the same failure would only repeat it.
    let default_filter = match cli.command {
        Command::Tail(_) | Command::Simulate(_) | Command::Deliveries(_) | Command::Github(_) => {
            "warn,lapin=off"
        }
        // Its check builds the sinks; their connection attempts are noise.
        Command::Config {
            action: ConfigAction::Import(_),
        } => "error,lapin=off",
        _ => "info",
    };
    let log_format = cli.log_format.unwrap_or_else(|| match &cli.command {
        Command::Serve { config }
        | Command::Config {
            action: ConfigAction::Check { config, .. } | ConfigAction::Show { config },
        } => launch::configured_log_format(config.config.as_deref()),
        _ => launch::LogFormat::default(),
    });
    launch::init_logs_as(default_filter, log_format);
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
        Command::Deliveries(args) => {
            return runtime.block_on(gate_server::cli::deliveries::run(args))
        }
        Command::Github(args) => return runtime.block_on(gate_server::cli::github::run(args)),
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
        Command::Simulate(_)
        | Command::Tail(_)
        | Command::Spool(_)
        | Command::Deliveries(_)
        | Command::Github(_)
        | Command::Completions { .. } => {
            anyhow::bail!("not handled here")
        }
        Command::Serve { config } => Ok(launch::serve(config.config).await?),
        Command::Config {
            action: ConfigAction::Check { config, online },
        } => {
            let loaded = if online {
                launch::load(config.config.as_deref()).await?
            } else {
                launch::load_offline(config.config.as_deref())?
            };
            let checked = launch::check(loaded)?;
            for warning in &checked.warnings {
                eprintln!("warning: {warning}");
            }
            println!(
                "configuration OK: {} door(s), {} sink(s); sources linked: {}",
                checked.doors,
                checked.sinks,
                gate_server::registry()?.source_kinds().join(", ")
            );
            Ok(())
        }
        Command::Config {
            action: ConfigAction::Import(args),
        } => Ok(gate_server::cli::import::run(args).await?),
        Command::Config {
            action: ConfigAction::Show { config: arg },
        } => {
            // Offline and validated, not built: showing reads no vault,
            // connects nowhere, creates nothing.
            let config = launch::load_offline(arg.config.as_deref())?;
            let checked = launch::validate(config.clone())?;
            let (name, text) = gate_server::Config::read(arg.config.as_deref())?;
            let file: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{name}: invalid TOML: {}", e.message()))?;
            let env: Vec<(String, String)> = std::env::vars().collect();
            let shown = gate_server::cli::show::effective(&config, &checked.described, &file, &env);
            gate_server::cli::stdout::line(serde_json::to_string_pretty(&shown)?);
            Ok(())
        }
    }
}
