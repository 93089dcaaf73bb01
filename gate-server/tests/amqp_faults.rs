//! AMQP faults under load, on the real broker: the exchange deleted while
//! requests stream in (issue 11: events were answered `unroutable` and
//! dropped, spooled ones removed undelivered). Every accepted event must end
//! in the consumers' queue or in the catch-all queue, counted by message id.
//! Only names this test creates are deleted.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::amqp::count_ids;
use common::{github_headers, github_signature, payload, unique, Running, AMQP_URL};
use http::StatusCode;
use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::Channel;

const SECRET: &str = "amqp-fault-secret";

fn config(exchange: &str, spool: &std::path::Path) -> String {
    format!(
        r#"
        [server]
        delivery_deadline_ms = 4000

        [spool]
        path = {spool:?}
        retry_initial_ms = 100
        retry_max_ms = 500

        [sinks.rabbit]
        kind = "amqp"
        url = "{AMQP_URL}"
        exchange = "{exchange}"
        confirm_timeout_ms = 3000
        connect_timeout_ms = 1000
        reconnect_interval_ms = 100

        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        "#,
        spool = spool.display().to_string()
    )
}

/// A durable queue bound to everything on `exchange`, declared before the
/// load as a consumer would.
async fn consumer_queue(channel: &Channel, exchange: &str) -> String {
    common::amqp::declare_exchange(channel, exchange).await;
    let queue = format!("{exchange}.q");
    gate_testkit::load::declare_bound_queue(channel, &queue, FieldTable::default(), exchange, "#")
        .await;
    queue
}

struct Sent {
    id: String,
    status: StatusCode,
    /// The action's error type (`unroutable` when kept in the catch-all).
    error_type: Option<String>,
    error: String,
}

/// The fault created 2 s into the load.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The exchange is deleted (the gateway declares it again, with its
    /// alternate exchange, but the consumer's binding is gone).
    DeleteExchange,
    /// The consumer's queue is unbound from an exchange that was declared
    /// without an alternate exchange (by the original service, say): the
    /// broker returns every message and the gateway keeps them itself.
    UnbindWithoutAlternateExchange,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_deleted_under_load_loses_nothing() {
    under_load(Fault::DeleteExchange, "fault.deleted").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_under_load_lose_nothing() {
    under_load(Fault::UnbindWithoutAlternateExchange, "fault.returns").await;
}

async fn under_load(fault: Fault, name: &str) {
    let exchange = unique(name);
    let catch_all = format!("{exchange}.unroutable");
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    let queue = consumer_queue(&channel, &exchange).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = common::gateway_with_state(&config(&exchange, &dir.path().join("spool.redb")));
    let server = Arc::new(Running::start(Arc::clone(&gateway)).await);

    // Eight senders for 6 s; the exchange is deleted after 2 s.
    let started = Instant::now();
    let senders = (0..8).map(|worker| {
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut i = 0;
            while started.elapsed() < Duration::from_secs(6) {
                let id = format!("w{worker}-{i}");
                let body = payload("github/push-one-commit.json");
                let headers = github_headers("push", &id, &github_signature(SECRET, &body));
                let answer = server.post("/gate/GitHub/acme", &headers, body).await;
                let error_type = answer.json()["actions"][0]["error"]["type"]
                    .as_str()
                    .map(str::to_owned);
                let error = answer.first_action_error();
                sent.push(Sent {
                    id,
                    status: answer.status,
                    error_type,
                    error,
                });
                i += 1;
            }
            sent
        })
    });
    let senders: Vec<_> = senders.collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    match fault {
        Fault::DeleteExchange => channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
            .expect("delete the exchange under load"),
        Fault::UnbindWithoutAlternateExchange => channel
            .queue_unbind(
                queue.as_str().into(),
                exchange.as_str().into(),
                "#".into(),
                FieldTable::default(),
            )
            .await
            .expect("unbind under load"),
    }
    let mut sent = Vec::new();
    for sender in senders {
        sent.extend(sender.await.expect("sender"));
    }

    let not_accepted: Vec<_> = sent
        .iter()
        .filter(|s| s.status != StatusCode::OK && s.status != StatusCode::ACCEPTED)
        .map(|s| (&s.id, s.status))
        .collect();
    assert!(not_accepted.is_empty(), "refused: {not_accepted:?}");
    let spool = gateway.state().spool.clone().expect("spool");
    let drained = Instant::now();
    while spool.depth() > 0 {
        assert!(
            drained.elapsed() < Duration::from_secs(60),
            "the spool did not empty: {} left",
            spool.depth()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The catch-all's depth (a gauge) is read every 2 s.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let stat = |metrics: &str, name: &str| -> u64 {
        let prefix = format!("gate_sink_stat{{sink=\"rabbit\",stat=\"{name}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let metrics = server.get("/metrics").await.text();
    let (kept, depth) = (
        stat(&metrics, "unroutable_kept"),
        stat(&metrics, "catch_all_depth"),
    );
    let ready = server.get("/ready").await;

    let quiet = Duration::from_millis(1500);
    let in_queue = count_ids(&channel, &queue, quiet).await;
    let in_catch_all = count_ids(&channel, &catch_all, quiet).await;
    let copies = |id: &str| {
        in_queue.get(id).copied().unwrap_or(0) + in_catch_all.get(id).copied().unwrap_or(0)
    };
    let lost: Vec<_> = sent
        .iter()
        .filter(|s| copies(&s.id) == 0)
        .map(|s| (&s.id, s.status, &s.error))
        .collect();
    let spooled = sent
        .iter()
        .filter(|s| s.status == StatusCode::ACCEPTED)
        .count();
    let said_unroutable: Vec<_> = sent
        .iter()
        .filter(|s| s.error_type.as_deref() == Some("unroutable"))
        .collect();
    eprintln!(
        "{name} under load: sent {}, accepted {}, spooled {spooled}, answered unroutable {}, in queue {}, in catch-all {}, lost {}",
        sent.len(),
        sent.len() - not_accepted.len(),
        said_unroutable.len(),
        in_queue.len(),
        in_catch_all.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    // A copy is possible only where a confirm was lost in flight, that is for
    // an event the gateway spooled (202) and published again.
    let unexpected_copies: Vec<_> = sent
        .iter()
        .filter(|s| copies(&s.id) > 2 || (copies(&s.id) == 2 && s.status != StatusCode::ACCEPTED))
        .map(|s| (&s.id, s.status, copies(&s.id)))
        .collect();
    assert!(
        unexpected_copies.is_empty(),
        "published more than once: {unexpected_copies:?}"
    );
    // The fault happened: after the deletion the gateway declared the
    // exchange again (with its alternate exchange) without the consumer's
    // binding, so messages went to the catch-all; each is counted.
    let kept_messages: usize = in_catch_all.values().sum();
    assert!(kept_messages > 0, "nothing reached the catch-all");
    assert_eq!(depth, kept_messages as u64, "catch_all_depth");
    assert_eq!(kept, kept_messages as u64, "unroutable_kept");
    for s in &said_unroutable {
        assert!(
            in_catch_all.contains_key(&s.id),
            "{} not in the catch-all",
            s.id
        );
    }
    // Every event answered 200 that is in the catch-all said so, whether
    // the alternate exchange or the gateway put it there (a 202 was spooled
    // and its answer could not say where it would end).
    let kept_unsaid: Vec<_> = sent
        .iter()
        .filter(|s| {
            s.status == StatusCode::OK
                && in_catch_all.contains_key(&s.id)
                && s.error_type.as_deref() != Some("unroutable")
        })
        .map(|s| &s.id)
        .collect();
    assert!(
        kept_unsaid.is_empty(),
        "kept in the catch-all, answered delivered: {kept_unsaid:?}"
    );
    assert!(!said_unroutable.is_empty(), "no answer said unroutable");
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert!(
        ready.json()["warnings"]["rabbit"].is_array(),
        "/ready warns: {}",
        ready.text()
    );

    let _ = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    common::amqp::remove(&channel, &exchange).await;
    let _ = connection.close(200, "done".into()).await;
}
