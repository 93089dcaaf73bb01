//! `gate-server tail`: print the notifications passing through the exchange,
//! one line each, from a private queue that disappears with the command.

use std::borrow::Cow;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties, ErrorKind, ExchangeKind};
use serde::Deserialize;

use super::recent::RecentIds;
use super::time::syslog_utc;

pub const DEFAULT_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// The broker cannot be reached (or did not answer in time).
pub const EXIT_UNREACHABLE: u8 = 3;
/// The broker refused the login (ACCESS_REFUSED) or the vhost.
pub const EXIT_ACCESS_REFUSED: u8 = 4;
/// Any other broker error: an exchange of another type, a lost connection.
pub const EXIT_BROKER: u8 = 5;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// A binding key (`acme.#`, `*.*.github.push`); repeat for several. Default `#`.
    #[arg(long = "bind", value_name = "KEY")]
    pub bind: Vec<String>,
    /// The topic exchange the AMQP sink publishes to.
    #[arg(long, default_value = "notifications")]
    pub exchange: String,
    /// Broker URL; default amqp://guest:guest@127.0.0.1:5672/%2f.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub url: Option<String>,
    /// Print each message body as received (one JSON document a line).
    #[arg(long)]
    pub json: bool,
    /// Also print a message whose `message_id` was shown already (by
    /// default, the copy published again after a lost confirm is skipped).
    #[arg(long)]
    pub show_duplicates: bool,
}

/// How many message ids are remembered to recognise a copy.
const RECENT_IDS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
enum TailError {
    #[error("cannot reach the broker at {0}: {1}")]
    Unreachable(String, String),
    #[error("the broker at {0} refused the login: {1} (check user, password and vhost)")]
    AccessRefused(String, String),
    #[error("{0}")]
    Broker(String),
}

impl TailError {
    fn code(&self) -> u8 {
        match self {
            TailError::Unreachable(..) => EXIT_UNREACHABLE,
            TailError::AccessRefused(..) => EXIT_ACCESS_REFUSED,
            TailError::Broker(_) => EXIT_BROKER,
        }
    }
}

/// Run until ctrl-c (exit 0) or a broker error (its exit code).
pub async fn run(args: TailArgs) -> ExitCode {
    let url = args.url.clone().unwrap_or_else(|| DEFAULT_URL.to_owned());
    let shown = redact(&url);
    let result = tokio::select! {
        result = tail(&args, &url, &shown) => result,
        () = stop_signal() => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.code())
        }
    }
}

async fn tail(args: &TailArgs, url: &str, shown: &str) -> Result<(), TailError> {
    let properties =
        ConnectionProperties::default().with_connection_name("gate-server tail".into());
    let connection = tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, properties))
        .await
        .map_err(|_| {
            TailError::Unreachable(
                shown.to_owned(),
                format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            )
        })?
        .map_err(|e| classify_connect(shown, &e))?;
    let channel = exchange_channel(&connection, &args.exchange).await?;
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| TailError::Broker(format!("cannot declare a queue: {e}")))?;
    let keys = if args.bind.is_empty() {
        vec!["#".to_owned()]
    } else {
        args.bind.clone()
    };
    for key in &keys {
        channel
            .queue_bind(
                queue.name().clone(),
                args.exchange.as_str().into(),
                key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| TailError::Broker(format!("cannot bind {key:?}: {e}")))?;
    }
    let mut consumer = channel
        .basic_consume(
            queue.name().clone(),
            "gate-server-tail".into(),
            BasicConsumeOptions {
                no_ack: true,
                exclusive: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| TailError::Broker(format!("cannot consume: {e}")))?;
    eprintln!(
        "tail: {shown} exchange {:?} keys {} (ctrl-c to stop)",
        args.exchange,
        keys.join(", ")
    );
    let mut recent = RecentIds::new(RECENT_IDS);
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery.map_err(|e| TailError::Broker(format!("connection lost: {e}")))?;
        let copy = delivery
            .properties
            .message_id()
            .as_ref()
            .is_some_and(|id| !recent.first_time(id.as_str()));
        if copy && !args.show_duplicates {
            continue;
        }
        if args.json {
            super::stdout::line(String::from_utf8_lossy(&delivery.data).trim_end());
        } else {
            let timestamp = *delivery.properties.timestamp();
            super::stdout::line(line(
                timestamp,
                delivery.routing_key.as_str(),
                &delivery.data,
            ));
        }
    }
    Err(TailError::Broker("the broker closed the consumer".into()))
}

/// The exchange declared passively (it usually exists, whatever its
/// settings); when missing, declared like the AMQP sink does (durable
/// topic) so that tail can start before the gate.
async fn exchange_channel(connection: &Connection, exchange: &str) -> Result<Channel, TailError> {
    let open = || async {
        connection
            .create_channel()
            .await
            .map_err(|e| TailError::Broker(format!("cannot open a channel: {e}")))
    };
    let channel = open().await?;
    let passive = channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                passive: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await;
    match passive {
        Ok(()) => Ok(channel),
        Err(e) if amqp_code(&e) == Some(404) => {
            // A failed passive declaration closes the channel.
            let channel = open().await?;
            channel
                .exchange_declare(
                    exchange.into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..ExchangeDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
                .map_err(|e| {
                    TailError::Broker(format!("cannot declare exchange {exchange:?}: {e}"))
                })?;
            Ok(channel)
        }
        Err(e) => Err(TailError::Broker(format!(
            "cannot use exchange {exchange:?}: {e}"
        ))),
    }
}

fn amqp_code(error: &lapin::Error) -> Option<u16> {
    match error.kind() {
        ErrorKind::ProtocolError(e) => Some(e.get_id()),
        _ => None,
    }
}

/// ACCESS_REFUSED (403) is a login or vhost problem; an I/O error means the
/// broker was not reached; anything else is reported as it is.
fn classify_connect(shown: &str, error: &lapin::Error) -> TailError {
    match (amqp_code(error), error.kind()) {
        (Some(403), _) | (_, ErrorKind::AuthProviderError(_)) => {
            TailError::AccessRefused(shown.to_owned(), error.to_string())
        }
        (Some(530), _) => TailError::AccessRefused(shown.to_owned(), error.to_string()),
        (_, ErrorKind::IOError(_)) => TailError::Unreachable(shown.to_owned(), error.to_string()),
        _ => TailError::Broker(format!("cannot connect to {shown}: {error}")),
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split(':').next().unwrap_or_default();
    let slash = if rest.contains('/') { "/" } else { "" };
    format!("{scheme}://{user}@{host}{slash}{path}")
}

/// The fields of a notification that a line shows.
#[derive(Deserialize)]
struct Shown<'a> {
    #[serde(borrow)]
    project: Cow<'a, str>,
    #[serde(borrow)]
    group: Cow<'a, str>,
    #[serde(borrow)]
    text: Cow<'a, str>,
    #[serde(borrow, default)]
    link: Cow<'a, str>,
}

/// `[Mon DD HH:MM:SS] <project/group> text — link`; the message timestamp
/// or now, in UTC. A body that is not a notification is shown with its
/// routing key instead.
fn line(timestamp: Option<u64>, routing_key: &str, body: &[u8]) -> String {
    let seconds = timestamp.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let when = syslog_utc(seconds);
    match serde_json::from_slice::<Shown<'_>>(body) {
        Ok(n) if n.link.is_empty() => format!("[{when}] <{}/{}> {}", n.project, n.group, n.text),
        Ok(n) => format!(
            "[{when}] <{}/{}> {} — {}",
            n.project, n.group, n.text, n.link
        ),
        Err(_) => format!(
            "[{when}] ({routing_key}, not a notification) {}",
            String::from_utf8_lossy(body).trim_end()
        ),
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_project_group_text_and_link_when_present() {
        let body = br#"{"service":"GitHub","project":"acme","group":"ci","type":"push","text":"octocat pushed 2 commits","link":"https://github.com/acme/widgets/compare/a...b","rawContent":{}}"#;
        assert_eq!(
            line(Some(951_827_696), "acme.ci.github.push", body),
            "[Feb 29 12:34:56] <acme/ci> octocat pushed 2 commits — https://github.com/acme/widgets/compare/a...b"
        );
        let no_link = br#"{"project":"acme","group":"ci","text":"ping","link":""}"#;
        assert_eq!(
            line(Some(0), "k", no_link),
            "[Jan 01 00:00:00] <acme/ci> ping"
        );
        assert_eq!(
            line(Some(0), "a.b", b"plain"),
            "[Jan 01 00:00:00] (a.b, not a notification) plain"
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://h:5672"), "amqp://h:5672");
        assert_eq!(redact("amqps://u:p@h"), "amqps://u@h");
    }
}
