//! Group commit under real concurrency, on a real file and on a full disk
//! (`/dev/full` answers every write with ENOSPC).

use std::sync::Arc;

use gate_core::RawContent;
use gate_core::{ActionStatus, Envelope, Sink, SinkFactory};
use gate_sink_file::{FileConfig, FileSinkFactory};

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
            raw_content: RawContent::from_string(format!("{{\"id\": {delivery:?}}}"))
                .expect("json"),
            kind: "push".into(),
            text: format!("event {delivery}"),
            link: "https://example.org".into(),
        },
    }
}

fn sink(path: &std::path::Path) -> Arc<dyn Sink> {
    FileSinkFactory::build(
        "local",
        FileConfig {
            path: Some(path.to_owned()),
            fsync: true,
            log: false,
        },
    )
    .expect("builds")
}

fn deliveries_in(path: &std::path::Path) -> Vec<String> {
    // Only whole lines: a line without its newline is a group the writer is
    // still writing (not answered yet), which a concurrent reader may see.
    std::fs::read_to_string(path)
        .expect("readable")
        .split_inclusive('\n')
        .filter_map(|line| line.strip_suffix('\n'))
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("whole json line");
            value["delivery"].as_str().expect("delivery").to_owned()
        })
        .collect()
}

fn stat(sink: &dyn Sink, name: &str) -> u64 {
    sink.stats()
        .into_iter()
        .find(|(stat, _)| *stat == name)
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no stat {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_concurrent_record_is_on_disk_when_answered_and_written_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.jsonl");
    let sink = sink(&path);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let (sink, path) = (Arc::clone(&sink), path.clone());
        tasks.spawn(async move {
            let id = format!("d{i}");
            let action = sink.deliver(&envelope(&id)).await;
            assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
            // Answered: its line must already be in the file, whole.
            assert!(
                deliveries_in(&path).contains(&id),
                "{id} answered before written"
            );
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    let mut written = deliveries_in(&path);
    written.sort();
    let mut expected: Vec<String> = (0..64).map(|i| format!("d{i}")).collect();
    expected.sort();
    assert_eq!(written, expected);
    assert_eq!(stat(sink.as_ref(), "records_written"), 64);
    let commits = stat(sink.as_ref(), "commits");
    assert!((1..=64).contains(&commits), "{commits} commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_fails_every_record_of_the_group() {
    let sink = sink(std::path::Path::new("/dev/full"));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let sink = Arc::clone(&sink);
        tasks.spawn(async move { sink.deliver(&envelope(&format!("d{i}"))).await });
    }
    while let Some(joined) = tasks.join_next().await {
        let action = joined.expect("task");
        assert_eq!(action.status, ActionStatus::Failed, "{action:?}");
        let error = action.error.expect("error");
        assert_eq!(error.kind, "io");
        assert!(error.message.contains("No space left"), "{}", error.message);
    }
    assert_eq!(stat(sink.as_ref(), "records_written"), 0);
    assert_eq!(stat(sink.as_ref(), "commits"), 0);
}

#[tokio::test]
async fn sequential_records_are_committed_one_by_one_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.jsonl");
    let sink = sink(&path);
    for i in 0..3 {
        let action = sink.deliver(&envelope(&format!("s{i}"))).await;
        assert_eq!(action.status, ActionStatus::Delivered);
    }
    assert_eq!(deliveries_in(&path), ["s0", "s1", "s2"]);
    assert_eq!(stat(sink.as_ref(), "commits"), 3);
}

/// Callers that send their next record as soon as the previous one is
/// answered (HTTP clients in a closed loop) stay in one group: the writer
/// waits for them briefly instead of committing the first one back alone
/// while the others queue behind it (which split each round in two).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_in_a_closed_loop_share_each_commit() {
    const CALLERS: u64 = 32;
    const ROUNDS: u64 = 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("out.jsonl");
    let sink = sink(&path);
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..CALLERS {
        let sink = Arc::clone(&sink);
        tasks.spawn(async move {
            for round in 0..ROUNDS {
                let action = sink.deliver(&envelope(&format!("c{caller}-{round}"))).await;
                assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
                // The client's turn (reading the answer, sending the next),
                // shorter than a commit; off the workers so that the 32
                // callers' turns overlap as remote clients' would.
                tokio::task::spawn_blocking(|| {
                    std::thread::sleep(std::time::Duration::from_micros(300));
                })
                .await
                .expect("turn");
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    let records = stat(sink.as_ref(), "records_written");
    let commits = stat(sink.as_ref(), "commits");
    assert_eq!(records, CALLERS * ROUNDS);
    assert_eq!(deliveries_in(&path).len() as u64, records);
    let group = records as f64 / commits as f64;
    assert!(
        group >= CALLERS as f64 * 0.75,
        "{group:.1} records per commit ({commits} commits) for {CALLERS} callers"
    );
}
