//! `gate-server simulate <Source> <door> <payload-file>`: run the configured
//! door's real source and group mapping on a payload file and print what it
//! makes of it, without an HTTP request. The source signs the request itself
//! (`Source::sign`, with the door's own secrets; see `credentials.rs`), so a
//! signed door needs no hand-made signature, whatever the source. Nothing is
//! sent unless `--send` (to the door's sinks) or `--url` (the signed request
//! to a running gateway, whose answer is printed).

use std::time::Duration;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::future::join_all;
use gate_conduit::http::Client;
use gate_core::{
    Action, ActionStatus, BuiltSink, Credential, DynSource, Envelope, Place, Registry, Request,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};

use super::credentials;
use crate::config::{load_with_secrets, Config};
use crate::identity::{envelopes, event_id};

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
    /// The event name, for sources that read it from a header (GitHub's
    /// X-GitHub-Event, Gitea's X-Gitea-Event...): they need it.
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
    #[arg(long, conflicts_with = "url")]
    pub send: bool,
    /// Post the signed request to the running gateway at this base URL
    /// (e.g. `http://127.0.0.1:8080`) and print its answer: exit 0 when it
    /// accepts, 1 when it refuses (4xx), 3 otherwise.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// TOML configuration file; the embedded default when absent.
    #[arg(long, short, env = "GATE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Run the command; prints one JSON document on stdout.
pub async fn run(args: SimulateArgs) -> ExitCode {
    let (report, code) = outcome(&args).await;
    if let Some(report) = report {
        super::stdout::line(pretty(&report));
    }
    ExitCode::from(code)
}

/// The JSON document `run` prints (none after a usage error) and the exit
/// status; messages for the operator go to stderr.
pub async fn outcome(args: &SimulateArgs) -> (Option<Value>, u8) {
    match simulate(args).await {
        Ok(outcome) => (Some(outcome.report), outcome.code),
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            (None, EXIT_USAGE)
        }
        Err(Failure::Rejected { report, summary }) => {
            eprintln!("rejected: {summary}");
            (Some(report), EXIT_REJECTED)
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
    let table = door_table(&config, kind, door_name)?;
    let sink_names = door_sinks(&config, kind, &table)?;
    let location = format!("sources.{kind}.doors.{door_name}");

    let source = credentials::source(&registry, kind).map_err(usage)?;
    let door = source
        .open_door(door_name, credentials::source_table(table), &location)
        .map_err(|e| usage(e.to_string()))?;
    let mut credentials = if args.unsigned {
        Vec::new()
    } else {
        source.sign(&door, &body)
    };
    let headers = request_headers(args, source, &body, &mut credentials)?;
    let query = credentials::with_query(args.query.as_deref(), &credentials);
    if let Some(url) = &args.url {
        return post(url, (kind, door_name), headers, query, body, &credentials).await;
    }

    let request = Request {
        headers: &headers,
        body: &body,
        query: query.as_deref(),
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
        let envelopes = envelopes(
            received.notifications,
            &delivery,
            kind,
            door_name,
            &received.event,
            received_at,
        );
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
    section
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
        })
}

fn none_if_empty(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// The door's sinks as the gateway picks them: the door's own, else its
/// source's, else the server's defaults.
fn door_sinks(config: &Config, kind: &str, table: &toml::Table) -> Result<Vec<String>, Failure> {
    match table.get("sinks").cloned() {
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

/// Content type from the body (JSON or a form), the source's event and
/// delivery headers, the credentials it computed, then the operator's
/// `--header`s, which win.
fn request_headers(
    args: &SimulateArgs,
    source: &dyn DynSource,
    body: &[u8],
    credentials: &mut Vec<Credential>,
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
    if let Some(name) = source.event_header() {
        let event = args
            .event
            .as_deref()
            .or_else(|| header_given(args, name))
            .ok_or_else(|| {
                usage(format!(
                    "{} needs --event (sent as {name}; e.g. --event push)",
                    source.kind()
                ))
            })?;
        insert(&mut headers, name, event)?;
    }
    if let Some(name) = source.delivery_header() {
        let delivery = format!(
            "simulate-{:x}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        insert(&mut headers, name, &delivery)?;
    }
    for credential in credentials.iter().filter(|c| c.place == Place::Header) {
        insert(&mut headers, &credential.name, &credential.value)?;
    }
    for raw in &args.headers {
        let (name, value) = raw
            .split_once(':')
            .ok_or_else(|| usage(format!("--header {raw:?}: expected NAME:VALUE")))?;
        let name = name.trim();
        // An operator's header replaces the computed credential of that name.
        credentials.retain(|c| !(c.place == Place::Header && c.name.eq_ignore_ascii_case(name)));
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
fn shown(credentials: &[Credential]) -> Value {
    let map: serde_json::Map<String, Value> = credentials
        .iter()
        .map(|c| (c.name.clone(), Value::String(c.shown().to_owned())))
        .collect();
    Value::Object(map)
}

/// How long `--url` waits for the gateway's answer.
const POST_TIMEOUT: Duration = Duration::from_secs(30);

/// `--url`: the signed request to a running gateway; its answer decides the
/// exit status.
async fn post(
    base: &str,
    (kind, door): (&str, &str),
    headers: HeaderMap,
    query: Option<String>,
    body: Vec<u8>,
    credentials: &[Credential],
) -> Result<Outcome, Failure> {
    let segment = |s: &str| {
        form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut url = format!(
        "{}/gate/{}/{}",
        base.trim_end_matches('/'),
        segment(kind),
        segment(door)
    );
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url = format!("{url}?{query}");
    }
    let mut request = http::Request::builder()
        .method(http::Method::POST)
        .uri(&url);
    if let Some(map) = request.headers_mut() {
        *map = headers;
    }
    let request = request
        .header(http::header::USER_AGENT, "gate-server simulate")
        .body(Bytes::from(body))
        .map_err(|e| usage(format!("cannot build the request: {e}")))?;
    let client = Client::new().map_err(|e| usage(e.to_string()))?;
    let answer = client
        .send(request, POST_TIMEOUT)
        .await
        .map_err(|e| usage(format!("{url}: {e}")))?;
    let status = answer.status;
    let shown_url = url.split('?').next().unwrap_or_default().to_owned();
    let report = json!({
        "source": kind,
        "door": door,
        "url": shown_url,
        "status": status.as_u16(),
        "credentials": shown(credentials),
        "answer": serde_json::from_slice::<Value>(&answer.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer.body).into_owned())),
    });
    if status.is_client_error() {
        return Err(Failure::Rejected {
            summary: format!("{} from {shown_url}", status.as_u16()),
            report,
        });
    }
    let code = if status.is_success() {
        0
    } else {
        EXIT_DELIVERY_FAILED
    };
    Ok(Outcome { report, code })
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
