//! The file sink checked by gate-core's sink kit: real files, and
//! `/dev/full` (every write fails with ENOSPC) as the failing destination.

use async_trait::async_trait;
use gate_core::sink_kit::{check_sink, SinkUnderTest};
use gate_sink_file::{FileConfig, FileSinkFactory};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("notifications.jsonl")
    }
}

#[async_trait]
impl SinkUnderTest for Files {
    type Factory = FileSinkFactory;

    fn working(&self) -> FileConfig {
        let path = self.path().display().to_string();
        toml::from_str(&format!("path = {path:?}\nlog = false")).expect("file settings")
    }

    fn failing(&self) -> FileConfig {
        toml::from_str("path = \"/dev/full\"\nlog = false").expect("file settings")
    }

    async fn received(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.path()).unwrap_or_default();
        text.lines()
            .map(|line| {
                let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                record["delivery"].as_str().unwrap_or_default().to_owned()
            })
            .collect()
    }
}

#[tokio::test]
async fn the_file_sink_passes_the_sink_kit() {
    let files = Files {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    check_sink::<FileSinkFactory>(&files).await;
}
