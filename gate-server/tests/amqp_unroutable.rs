//! Issue 11, "the action says so": under concurrent load, where some routing
//! keys have a queue bound and some do not, exactly the events no queue
//! wanted are answered `unroutable` (kept, the catch-all named), every other
//! one `delivered`; the catch-all holds exactly the unroutable ones and the
//! consumer's queue the rest, counted by message id on the real broker; the
//! metric counts them and `/ready` warns. Both ways the sink keeps them: the
//! exchange's alternate exchange (the default) and, for an exchange declared
//! elsewhere without one, the broker's returns.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::amqp::count_ids;
use common::{unique, Running, AMQP_URL};
use gate_testkit::load::{declare_bound_queue, declare_topic_exchange};
use http::StatusCode;
use lapin::options::QueueDeleteOptions;
use lapin::types::FieldTable;
use lapin::Channel;

const SENDERS: usize = 8;
const PER_SENDER: usize = 50;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Exchange {
    /// Declared with the catch-all as its alternate exchange (the default).
    WithAlternate,
    /// Declared before the gateway without one (by the original service):
    /// no queue wanted means returned to the gateway.
    WithoutAlternate,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_alternate_exchange_exactly_the_unroutable_events_say_so() {
    under_load(Exchange::WithAlternate, "unroutable.ae").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_returns_exactly_the_unroutable_events_say_so() {
    under_load(Exchange::WithoutAlternate, "unroutable.returns").await;
}

struct Answered {
    id: String,
    routed: bool,
    status: StatusCode,
    action: serde_json::Value,
}

async fn under_load(mode: Exchange, name: &str) {
    let exchange = unique(name);
    let catch_all = format!("{exchange}.unroutable");
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    let queue = consumer_queue(&channel, &exchange, mode).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        r#"
        [spool]
        path = {spool:?}

        [sinks.rabbit]
        kind = "amqp"
        url = "{AMQP_URL}"
        exchange = "{exchange}"

        [sources.Notification.doors.load]
        sinks = ["rabbit"]
        insecure_no_auth = true
        "#,
        spool = dir.path().join("spool.redb").display().to_string()
    );
    let gateway = common::gateway_with_state(&config);
    let server = Arc::new(Running::start(Arc::clone(&gateway)).await);

    // Every third event goes to project `unbound`: no queue is bound for it.
    let senders = (0..SENDERS).map(|sender| {
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let mut answered = Vec::new();
            for i in 0..PER_SENDER {
                let routed = (sender + i) % 3 != 0;
                let project = if routed { "bound" } else { "unbound" };
                let delivery = format!("s{sender}-{i}");
                let body = serde_json::json!({
                    "service": "Load", "group": "ci", "type": "push",
                    "project": project, "text": "load"
                });
                let headers = vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("x-gate-delivery".to_owned(), delivery.clone()),
                ];
                let answer = server
                    .post("/gate/Notification/load", &headers, body.to_string().into())
                    .await;
                answered.push(Answered {
                    id: format!("Notification/load/{delivery}"),
                    routed,
                    status: answer.status,
                    action: answer.json()["actions"][0].clone(),
                });
            }
            answered
        })
    });
    let mut answered = Vec::new();
    for sender in senders.collect::<Vec<_>>() {
        answered.extend(sender.await.expect("sender"));
    }

    let not_ok: Vec<_> = answered
        .iter()
        .filter(|a| a.status != StatusCode::OK || a.action["status"] != "delivered")
        .map(|a| (&a.id, a.status, &a.action))
        .collect();
    assert!(not_ok.is_empty(), "not delivered at once: {not_ok:?}");
    let unroutable: BTreeSet<&String> = answered
        .iter()
        .filter(|a| !a.routed)
        .map(|a| &a.id)
        .collect();
    let said_unroutable: BTreeSet<&String> = answered
        .iter()
        .filter(|a| a.action["error"]["type"] == "unroutable")
        .map(|a| &a.id)
        .collect();
    let wrong: Vec<_> = answered
        .iter()
        .filter(|a| a.routed == (a.action["error"]["type"] == "unroutable"))
        .map(|a| (&a.id, a.routed, &a.action))
        .collect();
    eprintln!(
        "{mode:?}: {} events, {} unroutable, {} answered unroutable, {} answered wrong",
        answered.len(),
        unroutable.len(),
        said_unroutable.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "wrong answers: {wrong:?}");
    assert_eq!(said_unroutable, unroutable);
    for a in answered.iter().filter(|a| !a.routed) {
        let message = a.action["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("catch-all queue {catch_all:?}")),
            "{message}"
        );
    }
    for a in answered.iter().filter(|a| a.routed) {
        assert!(a.action["error"].is_null(), "{}", a.action);
    }

    // The metric and /ready, before the queues are emptied.
    let metrics = server.get("/metrics").await.text();
    let prefix = "gate_sink_stat{sink=\"rabbit\",stat=\"unroutable_kept\"} ";
    let kept: Option<u64> = metrics
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|v| v.trim().parse().ok());
    assert_eq!(kept, Some(unroutable.len() as u64), "unroutable_kept");
    let ready = server.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    let warned = ready.json()["warnings"]["rabbit"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str())
        .any(|w| {
            w.starts_with(&format!("{} messages", unroutable.len())) && w.contains(&catch_all)
        });
    assert!(warned, "/ready warns: {}", ready.text());

    // Counted by message id: each event once, where its answer said.
    let quiet = std::time::Duration::from_millis(1500);
    let in_queue = count_ids(&channel, &queue, quiet).await;
    let in_catch_all = count_ids(&channel, &catch_all, quiet).await;
    let routed: BTreeSet<&String> = answered
        .iter()
        .filter(|a| a.routed)
        .map(|a| &a.id)
        .collect();
    assert_eq!(
        ids(&in_catch_all),
        unroutable,
        "the catch-all holds exactly them"
    );
    assert_eq!(ids(&in_queue), routed, "the queue holds the others");
    let copies: Vec<_> = in_queue
        .iter()
        .chain(&in_catch_all)
        .filter(|(_, n)| **n != 1)
        .collect();
    assert!(copies.is_empty(), "copies: {copies:?}");

    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await;
    }
    let _ = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    common::amqp::remove(&channel, &exchange).await;
    let _ = connection.close(200, "done".into()).await;
}

fn ids(counts: &BTreeMap<String, usize>) -> BTreeSet<&String> {
    counts.keys().collect()
}

/// The exchange as the mode has it and a durable queue bound to `bound.#`
/// only, declared before the load as a consumer would.
async fn consumer_queue(channel: &Channel, exchange: &str, mode: Exchange) -> String {
    let alternate = format!("{exchange}.unroutable");
    let alternate = (mode == Exchange::WithAlternate).then_some(alternate.as_str());
    declare_topic_exchange(channel, exchange, alternate).await;
    let queue = format!("{exchange}.q");
    declare_bound_queue(channel, &queue, FieldTable::default(), exchange, "bound.#").await;
    queue
}
