//! Local sink that needs no broker: appends each notification as one JSON
//! line to a file (fsynced, so a 200 means it is on disk) and/or logs it.
//! It is what the default configuration uses, so the gateway can be tried
//! anywhere. Concurrent records share one write and one fsync (`commit.rs`).

mod commit;

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::Arc;

use commit::Committer;

use gate_core::{Action, Envelope, PluginError, Sink, SinkFactory};
use serde::{Deserialize, Serialize};

mod writable;

pub use writable::check_creatable;

const KIND: &str = "file";
/// Keys, metadata and escapes around the body in one line (text and link
/// may need escaping, so this is a guess, not a bound).
const RECORD_OVERHEAD: usize = 512;

/// `[sinks.<name>]` with `kind = "file"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// JSON-lines file, created with its folder if missing; no file when
    /// absent (log only).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// fsync after each line, so that an accepted event survives a crash.
    #[serde(default = "yes")]
    pub fsync: bool,
    /// Also log each notification (routing key and text) at info level.
    #[serde(default = "yes")]
    pub log: bool,
}

fn yes() -> bool {
    true
}

/// One line of the file: the envelope's metadata beside the notification.
#[derive(Debug, Serialize)]
struct Line<'a> {
    delivery: &'a str,
    source: &'a str,
    door: &'a str,
    event: &'a str,
    received_at: u64,
    #[serde(rename = "routingKey")]
    routing_key: &'a str,
    notification: &'a gate_core::Notification,
}

/// Registered as sink kind `file`.
#[derive(Debug)]
pub struct FileSinkFactory;

impl SinkFactory for FileSinkFactory {
    const KIND: &'static str = KIND;
    type Config = FileConfig;

    /// The file is not created here: only checked to be creatable.
    fn validate(_name: &str, config: &FileConfig) -> Result<(), PluginError> {
        if config.path.is_none() && !config.log {
            return Err("a file sink needs a path or log = true".into());
        }
        match &config.path {
            Some(path) => {
                check_creatable(path).map_err(|e| PluginError::with_source(format!("path: {e}"), e))
            }
            None => Ok(()),
        }
    }

    /// Called after `validate`; opens (creates) the file.
    fn build(_name: &str, config: FileConfig) -> Result<Arc<dyn Sink>, PluginError> {
        let file = match &config.path {
            Some(path) => {
                let file = open(path).map_err(|e| {
                    PluginError::with_source(format!("cannot open {}: {e}", path.display()), e)
                })?;
                let writer = Committer::new(file, config.fsync).map_err(|e| {
                    PluginError::with_source(
                        format!("cannot start the writer of {}: {e}", path.display()),
                        e,
                    )
                })?;
                Some(writer)
            }
            None => None,
        };
        Ok(Arc::new(FileSink {
            target: config
                .path
                .as_ref()
                .map_or_else(|| "log".to_owned(), |p| p.display().to_string()),
            file,
            log: config.log,
        }))
    }
}

fn open(path: &PathBuf) -> std::io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// Appends notifications to a JSON-lines file.
#[derive(Debug)]
pub struct FileSink {
    target: String,
    file: Option<Committer>,
    log: bool,
}

#[gate_core::async_trait]
impl Sink for FileSink {
    fn target(&self) -> Option<String> {
        Some(self.target.clone())
    }

    async fn deliver(&self, envelope: &Envelope) -> Action {
        let routing_key = envelope.notification.routing_key();
        if self.log {
            tracing::info!(
                delivery = %envelope.delivery,
                routing_key = %routing_key,
                link = %envelope.notification.link,
                "{}",
                envelope.notification.text
            );
        }
        let Some(file) = &self.file else {
            return Action::delivered(KIND, &self.target, Some(routing_key));
        };
        let line = Line {
            delivery: &envelope.delivery,
            source: &envelope.source,
            door: &envelope.door,
            event: &envelope.event,
            received_at: envelope.received_at,
            routing_key: &routing_key,
            notification: &envelope.notification,
        };
        // Sized once: growing by doubling would copy a large body several
        // times and briefly hold up to twice its size.
        let n = &envelope.notification;
        let mut bytes = Vec::with_capacity(
            n.raw_content.get().len() + n.text.len() + n.link.len() + RECORD_OVERHEAD,
        );
        if let Err(e) = serde_json::to_writer(&mut bytes, &line) {
            return Action::failed(
                KIND,
                &self.target,
                Some(routing_key),
                "encode",
                e.to_string(),
            );
        }
        // rawContent keeps the sender's formatting, newlines included. In
        // valid JSON a raw newline can only be whitespace (inside strings it
        // is escaped), so blanking them keeps one record per line losslessly.
        for byte in &mut bytes {
            if matches!(*byte, b'\n' | b'\r') {
                *byte = b' ';
            }
        }
        bytes.push(b'\n');
        match file.append(bytes).await {
            Ok(()) => Action::delivered(KIND, &self.target, Some(routing_key)),
            Err(message) => Action::failed(KIND, &self.target, Some(routing_key), "io", message),
        }
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let Some(file) = &self.file else {
            return Vec::new();
        };
        let (records, commits) = file.counts();
        vec![("records_written", records), ("commits", commits)]
    }
}

gate_core::register_sink!(FileSinkFactory);

#[cfg(test)]
mod tests {
    use super::*;
    use gate_core::RawContent;

    fn envelope(delivery: &str) -> Envelope {
        Envelope {
            delivery: delivery.into(),
            source: "GitHub".into(),
            door: "acme".into(),
            event: "push".into(),
            received_at: 1_700_000_000,
            notification: gate_core::Notification {
                service: "GitHub".into(),
                project: "acme".into(),
                group: "ci".into(),
                raw_content: RawContent::from_string(
                    "{\n  \"a\": 1,\r\n  \"b\": \"x\\ny\"\n}".into(),
                )
                .expect("json"),
                kind: "push".into(),
                text: "octocat pushed".into(),
                link: "https://example.org".into(),
            },
        }
    }

    #[tokio::test]
    async fn appends_one_json_line_per_notification() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/out.jsonl");
        let config: FileConfig = toml::from_str(&format!(
            "path = {:?}\nlog = false",
            path.display().to_string()
        ))
        .expect("config");
        let sink = FileSinkFactory::build("local", config).expect("builds");
        for id in ["d1", "d2"] {
            let action = sink.deliver(&envelope(id)).await;
            assert_eq!(action.status, gate_core::ActionStatus::Delivered);
            assert_eq!(action.routing_key.as_deref(), Some("acme.ci.github.push"));
        }
        let text = std::fs::read_to_string(&path).expect("file written");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is json"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["delivery"], "d2");
        assert_eq!(lines[0]["notification"]["rawContent"]["a"], 1);
        assert_eq!(lines[0]["notification"]["rawContent"]["b"], "x\ny");
        assert_eq!(lines[0]["notification"]["text"], "octocat pushed");
    }

    #[test]
    fn needs_somewhere_to_write() {
        let config = FileConfig {
            path: None,
            fsync: true,
            log: false,
        };
        assert_eq!(
            FileSinkFactory::validate("x", &config)
                .unwrap_err()
                .to_string(),
            "a file sink needs a path or log = true"
        );
    }

    #[test]
    fn validation_creates_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new/out.jsonl");
        let config = FileConfig {
            path: Some(path.clone()),
            fsync: true,
            log: false,
        };
        FileSinkFactory::validate("x", &config).expect("creatable");
        assert!(!dir.path().join("new").exists(), "no folder, no file");
        FileSinkFactory::build("x", config).expect("builds");
        assert!(path.exists(), "building opens the file");

        let under_a_file = FileConfig {
            path: Some(path.join("x.jsonl")),
            fsync: true,
            log: false,
        };
        let refused = FileSinkFactory::validate("x", &under_a_file).unwrap_err();
        assert!(
            refused.to_string().starts_with("path: cannot create"),
            "{refused}"
        );
    }

    #[test]
    fn unwritable_path_is_a_config_error() {
        let config = FileConfig {
            path: Some("/proc/definitely/not/here.jsonl".into()),
            fsync: true,
            log: false,
        };
        assert!(FileSinkFactory::build("x", config)
            .unwrap_err()
            .to_string()
            .starts_with("cannot open /proc/definitely"));
    }
}
