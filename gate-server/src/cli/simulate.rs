//! `gate-server simulate <Source> <door> <payload-file>`: run the configured
//! door's real source and group mapping on a payload file and print what it
//! makes of it, without an HTTP request. Credentials are computed from the
//! door's own settings (see `credentials.rs`), so a signed door needs no
//! hand-made signature. Nothing is sent unless `--send`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use gate_core::{Action, ActionStatus, BuiltSink, Envelope, Registry, Request};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use super::credentials;
use crate::config::{load_with_secrets, Config};
use crate::identity::{event_id, notification_id};

/// Exit status when the source refuses the request.
pub const EXIT_REJECTED: u8 = 1;
/// Usage and configuration errors (clap uses 2 for usage errors too).
pub const EXIT_USAGE: u8 = 2;
/// `--send` and at least one sink failed.
pub const EXIT_DELIVERY_FAILED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The source kind as in the URL: GitHub, DockerHub, Jenkins, Notification, Phabricator.
    pub source: String,
    /// The door name (last URL segment).
    pub door: String,
    /// The request body, sent as is (JSON, or a form for form-encoded hooks).
    pub payload: PathBuf,
    /// The event name; GitHub needs it (sent as X-GitHub-Event).
    #[arg(long)]
    pub event: Option<String>,
    /// An extra request header, `Name: value`; replaces a computed one.
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The query string, without `?` (e.g. `token=...` for token doors).
    #[arg(long)]
    pub query: Option<String>,
    /// Do not add the computed signature or token (to see a refusal).
    #[arg(long)]
    pub unsigned: bool,
    /// Deliver to the door's sinks and print the actions.
    #[arg(long)]
    pub send: bool,
    /// TOML configuration file; the embedded default when absent.
    #[arg(long, short, env = "GATE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Run the command; prints one JSON document on stdout.
pub async fn run(args: SimulateArgs) -> ExitCode {
    match simulate(&args).await {
        Ok(outcome) => {
            super::stdout::line(pretty(&outcome.report));
            ExitCode::from(outcome.code)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Rejected { report, summary }) => {
            super::stdout::line(pretty(&report));
            eprintln!("rejected: {summary}");
            ExitCode::from(EXIT_REJECTED)
        }
    }
}

struct Outcome {
    report: Value,
    code: u8,
}

enum Failure {
    Usage(String),
    Rejected { report: Value, summary: String },
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

async fn simulate(args: &SimulateArgs) -> Result<Outcome, Failure> {
    let body = std::fs::read(&args.payload)
        .map_err(|e| usage(format!("cannot read {}: {e}", args.payload.display())))?;
    let config = load_with_secrets(args.config.as_deref(), std::env::vars())
        .await
        .map_err(|e| usage(e.to_string()))?;
    let registry = crate::registry().map_err(|e| usage(e.to_string()))?;
    let kind = args.source.as_str();
    let door_name = args.door.as_str();
    let mut table = door_table(&config, kind, door_name)?;
    let sink_names = door_sinks(&config, kind, &mut table)?;
    let location = format!("sources.{kind}.doors.{door_name}");

    let mut credentials = if args.unsigned {
        Vec::new()
    } else {
        credentials::for_door(kind, &table, &body).map_err(|e| usage(format!("{location}: {e}")))?
    };
    let source = registry.source(kind).ok_or_else(|| {
        usage(format!(
            "source {kind} is not linked into this build (linked: {})",
            registry.source_kinds().join(", ")
        ))
    })?;
    let door = source
        .open_door(door_name, table, &location)
        .map_err(|e| usage(e.to_string()))?;
    let headers = request_headers(args, kind, &body, &mut credentials)?;

    let request = Request {
        headers: &headers,
        body: &body,
        query: args.query.as_deref(),
        peer: Some(std::net::IpAddr::from([127, 0, 0, 1])),
    };
    let received = match source.receive(&request, &door).await {
        Ok(received) => received,
        Err(rejection) => {
            let status = rejection.status();
            return Err(Failure::Rejected {
                summary: format!("{} {}", status.as_u16(), rejection),
                report: json!({
                    "source": kind,
                    "door": door_name,
                    "status": status.as_u16(),
                    "error": { "type": rejection.kind(), "message": rejection.to_string() },
                    "credentials": shown(&credentials),
                }),
            });
        }
    };
    // The id the gate would give it (a random one when it has none).
    let delivery = match event_id(kind, door_name, received.delivery.as_deref(), &headers) {
        Ok(id) => id.id,
        Err(message) => {
            return Err(Failure::Rejected {
                summary: format!("400 {message}"),
                report: json!({
                    "source": kind,
                    "door": door_name,
                    "status": 400,
                    "error": { "type": "bad_idempotency_key", "message": message },
                    "credentials": shown(&credentials),
                }),
            })
        }
    };
    let notifications: Vec<Value> = received
        .notifications
        .iter()
        .map(|n| {
            let mut value = serde_json::to_value(n).unwrap_or(Value::Null);
            if let Some(object) = value.as_object_mut() {
                object.insert("routingKey".into(), Value::String(n.routing_key()));
            }
            value
        })
        .collect();
    let mut report = json!({
        "source": kind,
        "door": door_name,
        "delivery": delivery,
        "event": received.event,
        "credentials": shown(&credentials),
        "notifications": notifications,
    });
    let mut code = 0;
    if args.send {
        let sinks = config
            .secrets
            .scope(|| build_sinks(&registry, &config, &sink_names))?;
        let received_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let count = received.notifications.len();
        let envelopes: Vec<Envelope> = received
            .notifications
            .into_iter()
            .enumerate()
            .map(|(index, notification)| Envelope {
                delivery: notification_id(&delivery, index, count),
                source: kind.to_owned(),
                door: door_name.to_owned(),
                event: received.event.clone(),
                received_at,
                notification,
            })
            .collect();
        let actions = deliver(&sinks, &envelopes).await;
        if actions.iter().any(|a| a.status == ActionStatus::Failed) {
            code = EXIT_DELIVERY_FAILED;
        }
        if let Some(object) = report.as_object_mut() {
            object.insert("actions".into(), json!(actions));
        }
    }
    Ok(Outcome { report, code })
}

/// The door's table as configured, or a usage error listing the doors.
fn door_table(config: &Config, kind: &str, door: &str) -> Result<toml::Table, Failure> {
    let Some(section) = config.sources.get(kind) else {
        let kinds: Vec<&str> = config.sources.keys().map(String::as_str).collect();
        return Err(usage(format!(
            "source {kind} is not configured (configured: {}; names are case-sensitive)",
            none_if_empty(&kinds)
        )));
    };
    let mut table = section
        .doors
        .get(door)
        .or_else(|| section.doors.get(crate::gateway::WILDCARD_DOOR))
        .cloned()
        .ok_or_else(|| {
            let doors: Vec<&str> = section.doors.keys().map(String::as_str).collect();
            usage(format!(
                "no door {door:?} for source {kind} (doors: {})",
                none_if_empty(&doors)
            ))
        })?;
    // The gateway's own door keys; the source must not see them.
    for key in ["rate_limit", "spooled_status"] {
        table.remove(key);
    }
    Ok(table)
}

fn none_if_empty(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The door's sinks as the gateway picks them: the door's own, else its
/// source's, else the server's defaults. `sinks` is removed from the table,
/// which the source must not see.
fn door_sinks(
    config: &Config,
    kind: &str,
    table: &mut toml::Table,
) -> Result<Vec<String>, Failure> {
    match table.remove("sinks") {
        Some(value) => value
            .try_into::<Vec<String>>()
            .map_err(|_| usage("sinks must be a list of sink names")),
        None => {
            let section = config.sources.get(kind).map(|s| s.sinks.clone());
            Ok(section
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| config.server.default_sinks.clone()))
        }
    }
}

/// Content type from the body (JSON or a form), the computed credentials,
/// GitHub's event and delivery headers, then the operator's `--header`s,
/// which win.
fn request_headers(
    args: &SimulateArgs,
    kind: &str,
    body: &[u8],
    credentials: &mut Vec<credentials::Credential>,
) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    let looks_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    let content_type = if looks_json {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    headers.insert("content-type", HeaderValue::from_static(content_type));
    if kind == "GitHub" {
        let event = args
            .event
            .as_deref()
            .or_else(|| header_given(args, "x-github-event"))
            .ok_or_else(|| usage("GitHub needs --event (e.g. --event push)"))?;
        insert(&mut headers, "x-github-event", event)?;
        let delivery = format!(
            "simulate-{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        insert(&mut headers, "x-github-delivery", &delivery)?;
    }
    for credential in credentials.iter() {
        insert(&mut headers, credential.header, &credential.value)?;
    }
    for raw in &args.headers {
        let (name, value) = raw
            .split_once(':')
            .ok_or_else(|| usage(format!("--header {raw:?}: expected NAME:VALUE")))?;
        let name = name.trim();
        // An operator's header replaces the computed credential of that name.
        credentials.retain(|c| !c.header.eq_ignore_ascii_case(name));
        insert(&mut headers, name, value.trim())?;
    }
    Ok(headers)
}

fn header_given<'a>(args: &'a SimulateArgs, name: &str) -> Option<&'a str> {
    args.headers.iter().find_map(|raw| {
        let (n, v) = raw.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), Failure> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| usage(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| usage(format!("invalid value for header {name}")))?;
    headers.insert(header, value);
    Ok(())
}

/// The computed credentials, tokens masked (they are the secret itself).
fn shown(credentials: &[credentials::Credential]) -> Value {
    let map: serde_json::Map<String, Value> = credentials
        .iter()
        .map(|c| {
            let value = if c.secret { "set" } else { c.value.as_str() };
            (c.header.to_owned(), Value::String(value.to_owned()))
        })
        .collect();
    Value::Object(map)
}

/// Only the door's sinks are built: a simulation must not connect to
/// brokers it does not deliver to.
fn build_sinks(
    registry: &Registry,
    config: &Config,
    names: &[String],
) -> Result<Vec<BuiltSink>, Failure> {
    if names.is_empty() {
        return Err(usage(
            "the door has no sinks: set sinks on the door, on its source, or server.default_sinks",
        ));
    }
    names
        .iter()
        .map(|name| {
            let location = format!("sinks.{name}");
            let mut table = config
                .sinks
                .get(name)
                .cloned()
                .ok_or_else(|| usage(format!("unknown sink {name:?} (not under [sinks])")))?;
            let kind = match table.remove("kind") {
                Some(toml::Value::String(kind)) => kind,
                _ => return Err(usage(format!("{location}: missing kind"))),
            };
            registry
                .build_sink(&kind, name, table, &location)
                .map_err(|e| usage(e.to_string()))
        })
        .collect()
}

/// Every notification to every sink, then close the sinks so that what
/// they buffer is flushed before the process exits.
async fn deliver(sinks: &[BuiltSink], envelopes: &[Envelope]) -> Vec<Action> {
    let deliveries = envelopes
        .iter()
        .flat_map(|envelope| sinks.iter().map(move |sink| sink.sink.deliver(envelope)));
    let actions = join_all(deliveries).await;
    join_all(sinks.iter().map(|sink| sink.sink.close())).await;
    actions
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
