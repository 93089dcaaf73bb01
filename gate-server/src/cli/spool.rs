//! `gate-server spool list|replay|drop`: look at and act on the events
//! waiting in the spool and the records set aside as unreadable (the
//! quarantine). The spool file is locked by a running gate-server, so these
//! commands are for a stopped one (or a copy of its file). They read the
//! backlog a page at a time, whatever its size.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use gate_core::ActionStatus;
use gate_spool::{QuarantinedEntry, Spool, SpoolEntry, SpoolError};
use serde_json::json;

use crate::config::{load_with_secrets, Config};
use crate::gateway::Gateway;

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
/// Records read from the spool at a time.
const PAGE: usize = 256;

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
    /// Print every waiting event as one JSON line, sink by sink, oldest
    /// first (`"state": "waiting"`, or `"unreadable"` for a damaged record
    /// not yet set aside), then the quarantine (`"state": "quarantined"`).
    List,
    /// Deliver waiting events now through the configured sinks; exit 1 if
    /// any still fails (it stays in the spool).
    Replay {
        /// Only this entry.
        id: Option<u64>,
    },
    /// Remove one entry (or quarantined record) without delivering it.
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
            for sink in spool.sinks().map_err(|e| e.to_string())? {
                let mut after = None;
                while let Some(page) = next_page(&spool, &sink, &mut after)? {
                    for (id, scanned) in page {
                        let line = match scanned {
                            Ok(entry) => describe(&entry),
                            Err(why) => json!({
                                "id": id, "sink": sink, "state": "unreadable", "reason": why.to_string(),
                            }),
                        };
                        println!("{line}");
                    }
                }
            }
            for kept in spool.quarantine_list().map_err(|e| e.to_string())? {
                println!("{}", describe_quarantined(&kept));
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
    Spool::open(&config.spool.path, config.spool.max_entries).map_err(|e| match e {
        SpoolError::Open { .. } => {
            format!("{e} (a running gate-server holds the spool: stop it first)")
        }
        other => other.to_string(),
    })
}

/// The next page of a sink's backlog after `after`, or `None` at its end.
fn next_page(
    spool: &Spool,
    sink: &str,
    after: &mut Option<u64>,
) -> Result<Option<Vec<gate_spool::Scanned>>, String> {
    let page = spool.scan(sink, *after, PAGE).map_err(|e| e.to_string())?;
    let Some((last, _)) = page.last() else {
        return Ok(None);
    };
    *after = Some(*last);
    Ok(Some(page))
}

fn describe(entry: &SpoolEntry) -> serde_json::Value {
    json!({
        "id": entry.id,
        "sink": entry.sink,
        "state": "waiting",
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

fn describe_quarantined(kept: &QuarantinedEntry) -> serde_json::Value {
    json!({
        "id": kept.id,
        "sink": kept.sink,
        "state": "quarantined",
        "reason": kept.reason,
        "quarantinedAt": kept.quarantined_at,
        "bytes": kept.bytes.len(),
    })
}

async fn replay(config: Config, spool: &Spool, only: Option<u64>) -> Result<u8, String> {
    let registry = crate::registry().map_err(|e| e.to_string())?;
    let gateway = Arc::new(Gateway::build(config, registry).map_err(|e| e.to_string())?);
    let mut failed = 0;
    let mut found = false;
    for sink_name in spool.sinks().map_err(|e| e.to_string())? {
        let mut after = None;
        while let Some(page) = next_page(spool, &sink_name, &mut after)? {
            let entries = page
                .into_iter()
                .filter_map(|(_, scanned)| scanned.ok())
                .filter(|e| only.is_none_or(|id| e.id == id));
            for entry in entries {
                found = true;
                if !replay_one(&gateway, spool, &entry).await? {
                    failed += 1;
                }
            }
        }
    }
    if let (Some(id), false) = (only, found) {
        eprintln!("no spool entry {id}");
        return Ok(EXIT_FAILED);
    }
    gateway.close().await;
    Ok(if failed > 0 { EXIT_FAILED } else { 0 })
}

/// Deliver one entry, print what happened; whether it was delivered.
async fn replay_one(gateway: &Gateway, spool: &Spool, entry: &SpoolEntry) -> Result<bool, String> {
    let Some(sink) = gateway.sink(&entry.sink) else {
        println!(
            "{}",
            json!({ "id": entry.id, "status": "failed", "error": format!("sink {} is not configured", entry.sink) })
        );
        return Ok(false);
    };
    let action = sink.sink.deliver(&entry.envelope).await;
    let delivered = action.status != ActionStatus::Failed;
    if delivered {
        spool
            .confirm(&entry.sink, &[entry.id])
            .map_err(|e| e.to_string())?;
    } else {
        let error = action
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        spool
            .record_failure(&entry.sink, entry.id, &error)
            .map_err(|e| e.to_string())?;
    }
    println!(
        "{}",
        json!({ "id": entry.id, "sink": entry.sink, "action": action })
    );
    Ok(delivered)
}
