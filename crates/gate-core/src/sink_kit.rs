//! The sink test kit (feature `testing`): the same checks of delivery,
//! failure and redelivery for every sink, built-in or third-party. A sink's
//! test describes how to reach a working and a failing destination and how
//! to read back what arrived ([`SinkUnderTest`]); [`check_sink`] does the
//! rest, through the sink's own [`SinkFactory`] as the gateway would.
//!
//! What it checks, each against the real destination:
//! - `validate` accepts the working settings, and `build` then starts a sink
//!   whose `deliver` answers `delivered` within [`DEADLINE`]; the
//!   notification arrives exactly once, with its delivery id;
//! - against the failing destination, `deliver` answers `failed` with an
//!   error type and message within [`DEADLINE`] (never a panic, never a
//!   hang, never `delivered`), and no secret of the settings is in it;
//! - redelivery, what the spool does with a failed event: the same envelope
//!   delivered again once the destination works arrives once more, and
//!   `ready()` answers in time.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Action, ActionStatus, Envelope, Notification, RawContent, SinkFactory};

/// The longest a sink may take to answer one delivery, success or failure:
/// the gateway's own default delivery deadline.
pub const DEADLINE: Duration = Duration::from_secs(8);

/// How a sink's test reaches its destinations.
#[async_trait]
pub trait SinkUnderTest: Send + Sync {
    /// The sink's factory.
    type Factory: SinkFactory;

    /// Settings (the sink's own serde type, as `[sinks.<name>]` would give
    /// it) of a sink whose destination accepts deliveries.
    fn working(&self) -> <Self::Factory as SinkFactory>::Config;

    /// Settings of a sink whose destination refuses or cannot be reached.
    fn failing(&self) -> <Self::Factory as SinkFactory>::Config;

    /// Secret values of those settings: none may appear in an action.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }

    /// The delivery ids of what reached the working destination so far, in
    /// arrival order, one per message (a copy appears twice).
    async fn received(&self) -> Vec<String>;
}

/// Run every check on sink `F`; panics with what went wrong (a test helper).
pub async fn check_sink<F: SinkFactory>(destination: &impl SinkUnderTest<Factory = F>) {
    let working = build::<F>(destination.working());
    let first = envelope("kit-first");
    let action = deliver(&*working, &first).await;
    assert_eq!(
        action.status,
        ActionStatus::Delivered,
        "{}: a working destination must confirm: {action:?}",
        F::KIND
    );
    assert_eq!(
        eventually(destination, |ids| ids.contains(&first.delivery)).await,
        1,
        "{}: the delivered notification must arrive exactly once",
        F::KIND
    );
    tokio::time::timeout(DEADLINE, working.ready())
        .await
        .unwrap_or_else(|_| panic!("{}: ready() hangs", F::KIND))
        .unwrap_or_else(|why| panic!("{}: ready() on a working sink: {why}", F::KIND));

    let failing = build::<F>(destination.failing());
    let second = envelope("kit-second");
    let action = deliver(&*failing, &second).await;
    assert_eq!(
        action.status,
        ActionStatus::Failed,
        "{}: an unreachable destination must fail, not claim success: {action:?}",
        F::KIND
    );
    let error = action
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("{}: a failed action says why", F::KIND));
    assert!(
        !error.kind.is_empty() && !error.message.is_empty(),
        "{error:?}"
    );
    let shown = serde_json::to_string(&action).unwrap_or_default();
    for secret in destination.secrets() {
        assert!(
            !shown.contains(&secret),
            "{}: a secret is in the action: {shown}",
            F::KIND
        );
    }

    // The spool hands the same envelope to a sink of the same settings once
    // the destination is back.
    let action = deliver(&*working, &second).await;
    assert_eq!(action.status, ActionStatus::Delivered, "{action:?}");
    assert_eq!(
        eventually(destination, |ids| ids.contains(&second.delivery)).await,
        1,
        "{}: a redelivered notification arrives once",
        F::KIND
    );
    working.close().await;
    failing.close().await;
}

/// A notification as a source makes them, with a unique delivery id.
pub fn envelope(label: &str) -> Envelope {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let delivery = format!("Notification/kit/{label}-{}-{nanos}", std::process::id());
    let raw = format!("{{\"kit\":{label:?}}}");
    Envelope {
        delivery,
        source: "Notification".into(),
        door: "kit".into(),
        event: "kit".into(),
        received_at: 0,
        notification: Notification {
            service: "Kit".into(),
            project: "kit".into(),
            group: "tests".into(),
            raw_content: RawContent::from_string(raw).unwrap_or_else(|e| panic!("raw json: {e}")),
            kind: "check".into(),
            text: format!("sink kit {label}"),
            link: String::new(),
        },
    }
}

fn build<F: SinkFactory>(config: F::Config) -> std::sync::Arc<dyn crate::Sink> {
    F::validate("kit", &config).unwrap_or_else(|e| panic!("{}: validate refused: {e}", F::KIND));
    F::build("kit", config).unwrap_or_else(|e| panic!("{}: build failed: {e}", F::KIND))
}

async fn deliver(sink: &dyn crate::Sink, envelope: &Envelope) -> Action {
    tokio::time::timeout(DEADLINE, sink.deliver(envelope))
        .await
        .unwrap_or_else(|_| panic!("deliver did not answer within {DEADLINE:?}"))
}

/// How many times the matching id arrived, once it did (or after 5 s).
async fn eventually(
    destination: &impl SinkUnderTest,
    arrived: impl Fn(&[String]) -> bool,
) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ids = destination.received().await;
        if arrived(&ids) || tokio::time::Instant::now() > deadline {
            // A copy would come right behind the first: give it a moment.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let ids = destination.received().await;
            let wanted: Vec<&String> = ids
                .iter()
                .filter(|id| arrived(std::slice::from_ref(id)))
                .collect();
            return wanted.len();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
