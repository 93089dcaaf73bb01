//! `POST /gate/<Source>/<door>`: authenticate and normalise with the source,
//! deliver to the door's sinks, answer with the actions report.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::future::join_all;
use gate_core::{Action, ActionStatus, BuiltSink, Envelope, Request, Sink};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

use http_body_util::BodyExt;
use tracing::Instrument;

use crate::body::{self, BodyError};
use crate::dedup::{Begin, Claim};
use crate::deliveries::{kept_body, redacted_headers, redacted_query, Delivery};
use crate::gateway::{DoorEntry, DoorMatch, Gateway, WILDCARD_DOOR};
use crate::identity::{envelopes, event_id, EventId};
use crate::report::ActionsReport;
use crate::request_id;
use crate::respond::{self, Body};
use crate::state::{on_spool, GateState};

/// The parts of an HTTP request a gate needs.
#[derive(Debug)]
pub struct GateRequest<'a> {
    pub source: &'a str,
    pub door: &'a str,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
    pub peer: Option<IpAddr>,
}

pub async fn handle<B>(gateway: &Gateway, request: GateRequest<'_>, body: B) -> http::Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = std::time::Instant::now();
    let received_at = unix_millis();
    let (source, door, headers, query, peer) = (
        request.source,
        request.door,
        request.headers,
        request.query,
        request.peer,
    );
    let request_id = request_id::of(headers);
    let span = tracing::info_span!("request", id = %request_id, peer = ?peer);
    let mut body_seen = None;
    let response = handle_gate(gateway, request, body, &mut body_seen)
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let door_match = gateway.door_for(source, door).map(|(_, how)| how);
    // Unknown doors share one label, and so do the names a wildcard door
    // serves: names chosen by strangers must not grow the metrics (nor,
    // below, evict the history of real doors).
    let known_door = door_match == Some(DoorMatch::Named);
    let door_label = match door_match {
        Some(DoorMatch::Named) => door,
        Some(DoorMatch::Wildcard) => WILDCARD_DOOR,
        None => "_unknown",
    };
    gateway
        .state()
        .metrics
        .request(source, door_label, status, elapsed.as_secs_f64());
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let (mut parts, answer) = response.into_parts();
    let answer = answer
        .collect()
        .await
        .map_or_else(|never| match never {}, |c| c.to_bytes());
    let answer_json: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
    span.in_scope(|| {
        tracing::info!(
            source,
            door,
            delivery = answer_json.get("delivery").and_then(|d| d.as_str()),
            status,
            duration_ms,
            "request done"
        )
    });
    request_id::answer_with(&mut parts.headers, &request_id);
    if known_door {
        let settings = gateway.deliveries();
        let (body, body_truncated) = match body_seen.filter(|_| settings.bodies) {
            Some(bytes) => {
                let (kept, cut) = kept_body(&bytes, settings.max_body_bytes);
                (Some(kept), cut)
            }
            None => (None, false),
        };
        gateway.state().deliveries.record(Delivery {
            id: request_id,
            received_at,
            source: source.to_owned(),
            door: door.to_owned(),
            peer,
            status,
            duration_ms,
            headers: redacted_headers(headers),
            query: redacted_query(query),
            answer: answer_json,
            body,
            body_truncated,
        });
    }
    http::Response::from_parts(parts, Body::new(answer))
}

/// `body_seen` gets the body once read (for the recent-deliveries history).
async fn handle_gate<B>(
    gateway: &Gateway,
    request: GateRequest<'_>,
    body: B,
    body_seen: &mut Option<Bytes>,
) -> http::Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let GateRequest {
        source: kind,
        door: door_name,
        ..
    } = request;
    let refuse = |status: StatusCode, error_type: &str, message: String| {
        tracing::info!(source = kind, door = door_name, status = status.as_u16(), %message, "request refused");
        respond::json(
            status,
            &json!({
                "gate": kind,
                "door": door_name,
                "error": { "type": error_type, "message": message },
            }),
        )
    };
    let (Some(source), Some((entry, _))) =
        (gateway.source(kind), gateway.door_for(kind, door_name))
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown_door",
            format!("no door {door_name:?} for source {kind}"),
        );
    };
    if !entry.admits_peer(request.peer) {
        return refuse(
            StatusCode::FORBIDDEN,
            "remote_not_allowed",
            format!(
                "door {door_name} accepts requests with no credential, so only from the local machine"
            ),
        );
    }
    let server = gateway.server();
    if server.maintenance {
        let mut response = refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "maintenance",
            "the gateway is in maintenance; retry later".into(),
        );
        retry_after(&mut response, server.maintenance_retry_after_s);
        return response;
    }
    if let Some(Err(wait)) = entry.rate_limit.as_ref().map(|limit| limit.try_acquire()) {
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("door {door_name} is over its rate limit"),
        );
        // Rounded up: retrying earlier would be refused again.
        retry_after(
            &mut response,
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
        );
        return response;
    }
    // What cannot be authentic is refused on its head: its body is never read.
    let head = Request {
        headers: request.headers,
        body: &[],
        query: request.query,
        peer: request.peer,
    };
    if let Err(rejection) = source.precheck(&head, &entry.door) {
        return refuse(rejection.status(), rejection.kind(), rejection.to_string());
    }
    let admitted = match body::admit(
        request.headers,
        entry.max_body_bytes,
        &gateway.state().body_budget,
        server.max_body_bytes_in_flight,
    ) {
        Ok(admitted) => admitted,
        Err(e) => return body_refusal(&refuse, e),
    };
    let read = admitted.read(body);
    let (bytes, _reservation) = match tokio::time::timeout(
        Duration::from_millis(server.body_read_timeout_ms),
        read,
    )
    .await
    {
        Ok(Ok(read)) => read,
        Ok(Err(e)) => return body_refusal(&refuse, e),
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the body did not arrive within {} ms",
                    server.body_read_timeout_ms
                ),
            )
        }
    };
    // The history keeps at most its own limit of a body, copied: holding
    // the whole buffer would outlive the budget's reservation.
    let history = gateway.deliveries();
    if history.bodies {
        let kept = bytes.len().min(history.max_body_bytes.saturating_add(4));
        *body_seen = Some(Bytes::copy_from_slice(&bytes[..kept]));
    }
    let source_request = Request {
        headers: request.headers,
        body: &bytes,
        query: request.query,
        peer: request.peer,
    };
    let received = match source
        .receive_as(&source_request, &entry.door, door_name)
        .await
    {
        Ok(received) => received,
        Err(rejection) => {
            return refuse(rejection.status(), rejection.kind(), rejection.to_string())
        }
    };
    let EventId {
        id: delivery,
        deduplicated,
    } = match event_id(
        kind,
        door_name,
        received.delivery.as_deref(),
        request.headers,
    ) {
        Ok(id) => id,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, "bad_idempotency_key", message),
    };
    // The notifications hold what they need of the body; its bytes go now,
    // the reservation stays until the answer.
    drop(bytes);
    let created = unix_now();
    let envelopes = envelopes(
        received.notifications,
        &delivery,
        kind,
        door_name,
        &received.event,
        created,
    );
    let state = gateway.state();
    let claim = if deduplicated {
        match state.dedup.begin(&delivery).await {
            Begin::Fresh(claim) => Some(claim),
            Begin::Seen => {
                state.metrics.duplicate();
                return answer(
                    kind,
                    door_name,
                    delivery,
                    created,
                    &received.event,
                    duplicate_actions(entry, &envelopes),
                    entry.spooled_status,
                );
            }
            Begin::InFlight => {
                let mut response = refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "in_progress",
                    format!("delivery {delivery} is being handled by another request; retry"),
                );
                retry_after(&mut response, 1);
                return response;
            }
        }
    } else {
        None
    };
    let actions = deliver_detached(gateway, entry, envelopes, claim).await;
    answer(
        kind,
        door_name,
        delivery,
        created,
        &received.event,
        actions,
        entry.spooled_status,
    )
}

/// The actions report, with its status and a log line.
fn answer(
    kind: &str,
    door_name: &str,
    delivery: String,
    created: u64,
    event: &str,
    actions: Vec<Action>,
    spooled_status: StatusCode,
) -> http::Response<Body> {
    let status = report_status(&actions, spooled_status);
    tracing::debug!(
        source = kind,
        door = door_name,
        delivery = %delivery,
        event,
        actions = actions.len(),
        status = status.as_u16(),
        "request handled"
    );
    respond::json(
        status,
        &ActionsReport {
            gate: kind.to_owned(),
            door: door_name.to_owned(),
            delivery,
            created,
            actions,
        },
    )
}

/// Every notification to every sink of the door, as a task of its own:
/// once the body is read and authenticated, the delivery runs to its end
/// (delivered or spooled) even when the sender hangs up and this request's
/// future is dropped. The claim on the event's id goes with it: recorded
/// when every action was kept, released otherwise (and on any panic).
async fn deliver_detached(
    gateway: &Gateway,
    entry: &DoorEntry,
    envelopes: Vec<Envelope>,
    claim: Option<Claim>,
) -> Vec<Action> {
    if envelopes.is_empty() {
        // Filtered out by the source: nothing to deliver, nothing to wait for.
        if let Some(claim) = claim {
            claim.accept().await;
        }
        return Vec::new();
    }
    let state = Arc::clone(gateway.state());
    let deadline = Duration::from_millis(gateway.server().delivery_deadline_ms);
    let sinks: Vec<Target> = entry.sinks.iter().map(Target::of).collect();
    let lease = gateway.delivery_lease();
    let count = envelopes.len();
    let task = state.running_deliveries.spawn({
        let state = Arc::clone(&state);
        async move {
            let actions = deliver(&state, deadline, &sinks, &envelopes).await;
            if !actions.iter().any(|a| a.status == ActionStatus::Failed) {
                if let Some(claim) = claim {
                    claim.accept().await;
                }
            }
            drop(lease);
            actions
        }
    });
    match task.await {
        Ok(actions) => actions,
        // Sinks never panic; should one, the sender is told to retry.
        Err(error) => entry
            .sinks
            .iter()
            .flat_map(|sink| {
                std::iter::repeat_with(|| {
                    Action::failed(
                        sink.kind,
                        sink.target(),
                        None,
                        "internal",
                        format!("the delivery task failed: {error}"),
                    )
                })
                .take(count)
            })
            .collect(),
    }
}

/// What a detached delivery needs of a sink (not its description).
struct Target {
    name: String,
    kind: &'static str,
    sink: Arc<dyn Sink>,
}

impl Target {
    fn of(sink: &BuiltSink) -> Self {
        Self {
            name: sink.name.clone(),
            kind: sink.kind,
            sink: Arc::clone(&sink.sink),
        }
    }

    /// As [`BuiltSink::target`]: the sink's own target, else its name.
    fn target(&self) -> String {
        self.sink.target().unwrap_or_else(|| self.name.clone())
    }
}

/// Every notification to every sink, all at once: a slow sink does not
/// hold back the others.
async fn deliver(
    state: &Arc<GateState>,
    deadline: Duration,
    sinks: &[Target],
    envelopes: &[Envelope],
) -> Vec<Action> {
    let deliveries = envelopes.iter().flat_map(|envelope| {
        sinks.iter().map(move |sink| async move {
            let action = deliver_or_spool(state, deadline, sink, envelope).await;
            state.metrics.action(&sink.name, &action);
            action
        })
    });
    join_all(deliveries).await
}

/// Deliver within the deadline; on failure keep the event in the spool (the
/// action says `spooled`, with the failure as the reason), or fail when
/// there is no spool or it cannot take the event.
async fn deliver_or_spool(
    state: &GateState,
    deadline: Duration,
    sink: &Target,
    envelope: &Envelope,
) -> Action {
    let deadline_ms = deadline.as_millis();
    let action = match tokio::time::timeout(deadline, sink.sink.deliver(envelope)).await {
        Ok(action) => action,
        Err(_) => Action::failed(
            sink.kind,
            sink.target(),
            Some(envelope.notification.routing_key()),
            "deadline",
            format!("the sink did not answer within {deadline_ms} ms"),
        ),
    };
    if action.status != ActionStatus::Failed {
        return action;
    }
    let Some(spool) = &state.spool else {
        return action;
    };
    let reason = action
        .error
        .as_ref()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    let sink_name = sink.name.clone();
    let kept = envelope.clone();
    match on_spool(spool, move |spool| spool.append(&sink_name, &kept, &reason)).await {
        Ok(id) => {
            tracing::warn!(sink = %sink.name, delivery = %envelope.delivery, spool_id = id, "sink failed; event spooled");
            state.spooled.notify_one();
            Action {
                status: ActionStatus::Spooled,
                ..action
            }
        }
        Err(why) => {
            state.metrics.spool_rejected();
            not_spooled(action, &sink.name, &why)
        }
    }
}

fn not_spooled(mut action: Action, sink: &str, why: &str) -> Action {
    tracing::error!(%sink, reason = %why, "sink failed and the event could not be spooled");
    if let Some(error) = action.error.as_mut() {
        error.message = format!("{}; not spooled: {why}", error.message);
    }
    action
}

/// The answer to a delivery id already handled: nothing is published again.
fn duplicate_actions(entry: &DoorEntry, envelopes: &[Envelope]) -> Vec<Action> {
    envelopes
        .iter()
        .flat_map(|envelope| {
            entry.sinks.iter().map(move |sink| Action {
                action: sink.kind.to_owned(),
                target: sink.target(),
                routing_key: Some(envelope.notification.routing_key()),
                status: ActionStatus::Duplicate,
                error: None,
            })
        })
        .collect()
}

/// The answer to a body that cannot be read: too large (413), the budget
/// of bytes in flight spent (503, retry shortly), or broken (400).
fn body_refusal(
    refuse: &impl Fn(StatusCode, &str, String) -> http::Response<Body>,
    error: BodyError,
) -> http::Response<Body> {
    match error {
        BodyError::DeclaredTooLarge { .. } | BodyError::TooLarge { .. } => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            error.to_string(),
        ),
        BodyError::OverBudget => {
            let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, "busy", error.to_string());
            retry_after(&mut response, OVER_BUDGET_RETRY_AFTER_S);
            response
        }
        BodyError::BadLength | BodyError::Read(_) => {
            refuse(StatusCode::BAD_REQUEST, "bad_body", error.to_string())
        }
    }
}

/// Bodies in flight are read within seconds; a retry soon finds room.
const OVER_BUDGET_RETRY_AFTER_S: u64 = 2;

fn retry_after(response: &mut http::Response<Body>, seconds: u64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// 503 when any action failed (the sender should retry: nothing was kept),
/// else the door's `spooled_status` (202, or 200 for senders that fail on
/// anything else) when any was spooled, else 200 (delivered, skipped on
/// purpose, or duplicate).
fn report_status(actions: &[Action], spooled_status: StatusCode) -> StatusCode {
    if actions.iter().any(|a| a.status == ActionStatus::Failed) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if actions.iter().any(|a| a.status == ActionStatus::Spooled) {
        spooled_status
    } else {
        StatusCode::OK
    }
}

fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
