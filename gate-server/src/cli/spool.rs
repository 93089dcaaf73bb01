//! `gate-server spool list|replay|drop`: look at and act on the events
//! waiting in the spool. The spool file is locked by a running gate-server,
//! so these commands are for a stopped one (or a copy of its file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use gate_core::ActionStatus;
use gate_spool::{Spool, SpoolEntry};
use serde_json::json;

use crate::config::{load_with_secrets, Config};
use crate::gateway::Gateway;

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Args)]
pub struct SpoolArgs {
    #[command(subcommand)]
    pub action: SpoolAction,
    /// TOML configuration file (its `[spool] path`); the embedded default when absent.
    #[arg(long, short, env = "GATE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SpoolAction {
    /// Print every waiting event as one JSON line (oldest first).
    List,
    /// Deliver waiting events now through the configured sinks; exit 1 if
    /// any still fails (it stays in the spool).
    Replay {
        /// Only this entry.
        id: Option<u64>,
    },
    /// Remove one entry without delivering it.
    Drop { id: u64 },
}

pub async fn run(args: SpoolArgs) -> ExitCode {
    match execute(args).await {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

async fn execute(args: SpoolArgs) -> Result<u8, String> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let config = load_with_secrets(args.config.as_deref(), env)
        .await
        .map_err(|e| e.to_string())?;
    let spool = open(&config)?;
    match args.action {
        SpoolAction::List => {
            for entry in spool.list().map_err(|e| e.to_string())? {
                println!("{}", describe(&entry));
            }
            Ok(0)
        }
        SpoolAction::Drop { id } => {
            if spool.drop_entry(id).map_err(|e| e.to_string())? {
                println!("dropped entry {id}");
                Ok(0)
            } else {
                eprintln!("no spool entry {id}");
                Ok(EXIT_FAILED)
            }
        }
        SpoolAction::Replay { id } => replay(config, &spool, id).await,
    }
}

fn open(config: &Config) -> Result<Spool, String> {
    Spool::open(&config.spool.path, config.spool.max_entries)
        .map_err(|e| format!("{e} (a running gate-server holds the spool: stop it first)"))
}

fn describe(entry: &SpoolEntry) -> serde_json::Value {
    json!({
        "id": entry.id,
        "sink": entry.sink,
        "delivery": entry.envelope.delivery,
        "source": entry.envelope.source,
        "door": entry.envelope.door,
        "event": entry.envelope.event,
        "routingKey": entry.envelope.notification.routing_key(),
        "text": entry.envelope.notification.text,
        "spooledAt": entry.spooled_at,
        "attempts": entry.attempts,
        "lastError": entry.last_error,
    })
}

async fn replay(config: Config, spool: &Spool, only: Option<u64>) -> Result<u8, String> {
    let registry = crate::registry().map_err(|e| e.to_string())?;
    let gateway = Arc::new(Gateway::build(config, registry).map_err(|e| e.to_string())?);
    let entries: Vec<SpoolEntry> = spool
        .list()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|e| only.is_none_or(|id| e.id == id))
        .collect();
    if let (Some(id), true) = (only, entries.is_empty()) {
        eprintln!("no spool entry {id}");
        return Ok(EXIT_FAILED);
    }
    let mut failed = 0;
    for entry in entries {
        let Some(sink) = gateway.sink(&entry.sink) else {
            println!(
                "{}",
                json!({ "id": entry.id, "status": "failed", "error": format!("sink {} is not configured", entry.sink) })
            );
            failed += 1;
            continue;
        };
        let action = sink.sink.deliver(&entry.envelope).await;
        if action.status == ActionStatus::Failed {
            let error = action
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            spool
                .record_failure(&entry.sink, entry.id, &error)
                .map_err(|e| e.to_string())?;
            failed += 1;
        } else {
            spool
                .remove(&entry.sink, &[entry.id])
                .map_err(|e| e.to_string())?;
        }
        println!(
            "{}",
            json!({ "id": entry.id, "sink": entry.sink, "action": action })
        );
    }
    gateway.close().await;
    Ok(if failed > 0 { EXIT_FAILED } else { 0 })
}
