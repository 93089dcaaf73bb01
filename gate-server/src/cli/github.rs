//! `gate-server github redeliver`: ask GitHub to redeliver a door's
//! deliveries that failed (the gateway was down, or answered an error).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::cli::stdout;
use crate::github_recovery::Recovery;

#[derive(Debug, Args)]
pub struct GithubArgs {
    #[command(subcommand)]
    command: GithubCommand,
}

#[derive(Debug, Subcommand)]
enum GithubCommand {
    /// Find the door hook's deliveries without a 2xx answer in the last
    /// `--since` and ask GitHub to deliver them again (exit 1 when any
    /// request failed, 2 on configuration errors).
    Redeliver(RedeliverArgs),
}

#[derive(Debug, Args)]
struct RedeliverArgs {
    /// The GitHub door, configured under [github_recovery.doors.<door>].
    #[arg(long)]
    door: String,
    /// How far back to look: 90m, 6h, 3d (GitHub keeps three days).
    #[arg(long, value_parser = parse_since)]
    since: Duration,
    /// List what would be redelivered; ask GitHub for nothing.
    #[arg(long)]
    dry_run: bool,
    /// Leave alone events that failed this many times (default: the
    /// section's max_attempts).
    #[arg(long)]
    max_attempts: Option<usize>,
    /// TOML configuration file; the embedded default when absent.
    #[arg(long, short, env = "GATE_CONFIG")]
    config: Option<PathBuf>,
}

fn parse_since(text: &str) -> Result<Duration, String> {
    gate_github_hooks::parse_duration(text)
}

pub async fn run(args: GithubArgs) -> ExitCode {
    match args.command {
        GithubCommand::Redeliver(args) => redeliver(args).await,
    }
}

async fn redeliver(args: RedeliverArgs) -> ExitCode {
    let config = match crate::launch::load(args.config.as_deref()).await {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {}", crate::launch::describe(&e));
            return ExitCode::from(2);
        }
    };
    let recovery = match Recovery::from_config(&config) {
        Ok(recovery) => recovery,
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            return ExitCode::from(2);
        }
    };
    if !recovery.hooks.contains_key(&args.door) {
        let known: Vec<&str> = recovery.hooks.keys().map(String::as_str).collect();
        eprintln!(
            "error: no [github_recovery.doors.{}] (configured: {})",
            args.door,
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
        return ExitCode::from(2);
    }
    let report = match recovery
        .door_pass(&args.door, args.since, args.dry_run, args.max_attempts)
        .await
    {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: door {}: {e}", args.door);
            return ExitCode::FAILURE;
        }
    };
    let verb = if args.dry_run {
        "would redeliver"
    } else {
        "redelivered"
    };
    for delivery in &report.candidates {
        let refused = report.refused.iter().find(|(id, _)| *id == delivery.id);
        let what = match refused {
            Some((_, reason)) => format!("not redelivered ({reason}):"),
            None => verb.to_owned(),
        };
        stdout::line(format!(
            "{what} {} {} guid={} at {} status={} {:?}",
            delivery.id,
            delivery.event_name(),
            delivery.guid,
            delivery.delivered_at,
            delivery.status_code.unwrap_or(0),
            delivery.status
        ));
    }
    for delivery in &report.given_up {
        stdout::line(format!(
            "given up {} {} guid={}: failed too many times (--max-attempts)",
            delivery.id,
            delivery.event_name(),
            delivery.guid
        ));
    }
    stdout::line(format!(
        "door {}: {} deliveries listed, {} failed event(s), {} redelivered, {} refused, {} given up",
        args.door,
        report.listed,
        report.candidates.len(),
        report.redelivered.len(),
        report.refused.len(),
        report.given_up.len()
    ));
    if report.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
