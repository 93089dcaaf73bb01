//! `gate-server deliveries list|show|replay`: the recent deliveries of a
//! running gateway, read from its `GET /deliveries` with the admin token.
//! `replay` posts a kept request again to its door, signed with the door's
//! credentials from the configuration (the kept headers have them redacted),
//! under a new delivery id so that it is not answered "duplicate".

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use gate_conduit::http::Client;
use http::{header, Method};
use serde_json::Value;

use gate_core::Place;

use super::credentials;
use crate::config::load_with_secrets;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Headers a replay never copies: transport framing, the old request id, and
/// the credentials (recomputed) whose kept values are redacted.
const NOT_COPIED: [&str; 6] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "x-request-id",
    "user-agent",
];

/// Headers that carry a sender's delivery id; a replay gets a new one.
const DELIVERY_HEADERS: [&str; 3] = ["x-github-delivery", "x-gate-delivery", "idempotency-key"];

#[derive(Debug, clap::Args)]
pub struct DeliveriesArgs {
    #[command(subcommand)]
    pub command: DeliveriesCommand,
    /// The running gateway.
    #[arg(
        long,
        env = "GATE_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// `[deliveries] admin_token` of that gateway.
    #[arg(long, env = "GATE_ADMIN_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeliveriesCommand {
    /// One line per recent delivery, newest first.
    List {
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        door: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print the JSON answer instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// The whole record of one delivery (JSON).
    Show { id: String },
    /// Post a kept delivery again, signed from the configuration (needs
    /// `[deliveries] bodies = true` on the gateway).
    Replay {
        id: String,
        /// The gateway's configuration, for the door's credentials.
        #[arg(long, short, env = "GATE_CONFIG")]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Remote(String),
}

pub async fn run(args: DeliveriesArgs) -> ExitCode {
    match dispatch(&args).await {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Remote(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(args: &DeliveriesArgs) -> Result<ExitCode, Failure> {
    let token = args.token.as_deref().ok_or_else(|| {
        Failure::Usage("the admin token is needed: --token or GATE_ADMIN_TOKEN".into())
    })?;
    let client = Client::new().map_err(|e| Failure::Usage(e.to_string()))?;
    let base = args.url.trim_end_matches('/');
    let read = |path: String| fetch(&client, token, format!("{base}{path}"));
    match &args.command {
        DeliveriesCommand::List {
            source,
            door,
            limit,
            json,
        } => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("limit", &limit.to_string());
            if let Some(source) = source {
                query.append_pair("source", source);
            }
            if let Some(door) = door {
                query.append_pair("door", door);
            }
            let listed = read(format!("/deliveries?{}", query.finish())).await?;
            if *json {
                super::stdout::line(listed);
            } else {
                for d in listed["deliveries"].as_array().into_iter().flatten() {
                    super::stdout::line(format_args!(
                        "{}  {}/{}  {}  {}  {}  {:.1} ms",
                        d["id"].as_str().unwrap_or("?"),
                        d["source"].as_str().unwrap_or("?"),
                        d["door"].as_str().unwrap_or("?"),
                        d["event"].as_str().unwrap_or("-"),
                        d["delivery"].as_str().unwrap_or("-"),
                        d["status"],
                        d["duration_ms"].as_f64().unwrap_or(0.0),
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DeliveriesCommand::Show { id } => {
            let record = read(format!("/deliveries/{}", encode(id))).await?;
            super::stdout::line(serde_json::to_string_pretty(&record).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        DeliveriesCommand::Replay { id, config } => {
            let record = read(format!("/deliveries/{}", encode(id))).await?;
            replay(&client, base, &record, config.as_deref()).await
        }
    }
}

async fn replay(
    client: &Client,
    base: &str,
    record: &Value,
    config: Option<&std::path::Path>,
) -> Result<ExitCode, Failure> {
    let text = |key: &str| record[key].as_str().unwrap_or_default().to_owned();
    let (kind, door) = (text("source"), text("door"));
    let Some(body) = record["body"].as_str() else {
        return Err(Failure::Usage(
            "the gateway kept no body for this delivery (set [deliveries] bodies = true)".into(),
        ));
    };
    if record["body_truncated"].as_bool() == Some(true) {
        return Err(Failure::Usage(
            "the kept body was cut ([deliveries] max_body_bytes); it cannot be replayed".into(),
        ));
    }
    let config = load_with_secrets(config, std::env::vars())
        .await
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let (kind, table) = config
        .sources
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&kind))
        .and_then(|(name, section)| Some((name.clone(), section.doors.get(&door)?.clone())))
        .ok_or_else(|| {
            Failure::Usage(format!("no door {door:?} of {kind} in the configuration"))
        })?;
    let registry = crate::registry().map_err(|e| Failure::Usage(e.to_string()))?;
    let credentials = credentials::for_door(&registry, &kind, &door, table, body.as_bytes())
        .map_err(Failure::Usage)?;

    let replay_id = format!(
        "replay-{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let kept: Vec<&str> = record["query"]
        .as_str()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.ends_with("=[redacted]"))
        .collect();
    let kept = (!kept.is_empty()).then(|| kept.join("&"));
    let mut uri = format!("{base}/gate/{}/{}", encode(&kind), encode(&door));
    if let Some(query) = credentials::with_query(kept.as_deref(), &credentials) {
        uri = format!("{uri}?{query}");
    }
    let mut request = http::Request::builder().method(Method::POST).uri(&uri);
    for pair in record["headers"].as_array().into_iter().flatten() {
        let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) else {
            continue;
        };
        if NOT_COPIED.contains(&name) || value == "[redacted]" {
            continue;
        }
        if DELIVERY_HEADERS.contains(&name) {
            request = request.header(name, format!("{value}.{replay_id}"));
        } else {
            request = request.header(name, value);
        }
    }
    for credential in credentials.iter().filter(|c| c.place == Place::Header) {
        request = request.header(&credential.name, &credential.value);
    }
    let request = request
        .header(header::USER_AGENT, "gate-server deliveries replay")
        .body(Bytes::from(body.to_owned()))
        .map_err(|e| Failure::Usage(format!("cannot build the request: {e}")))?;
    let answer = client
        .send(request, TIMEOUT)
        .await
        .map_err(|e| Failure::Remote(format!("{uri}: {e}")))?;
    super::stdout::line(String::from_utf8_lossy(&answer.body).trim_end());
    Ok(if answer.status.is_success() {
        ExitCode::SUCCESS
    } else {
        eprintln!("the gateway answered {}", answer.status);
        ExitCode::FAILURE
    })
}

async fn fetch(client: &Client, token: &str, url: String) -> Result<Value, Failure> {
    let request = http::Request::builder()
        .uri(&url)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Bytes::new())
        .map_err(|e| Failure::Usage(format!("{url}: {e}")))?;
    let answer = client
        .send(request, TIMEOUT)
        .await
        .map_err(|e| Failure::Remote(format!("{url}: {e}")))?;
    let value: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if !answer.status.is_success() {
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map_or_else(|| answer.status.to_string(), str::to_owned);
        return Err(Failure::Remote(format!(
            "{url}: {} {message}",
            answer.status.as_u16()
        )));
    }
    Ok(value)
}

/// One URL path segment.
fn encode(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
