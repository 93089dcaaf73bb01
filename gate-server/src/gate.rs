//! `POST /gate/<Source>/<door>`: authenticate and normalise with the source,
//! deliver to the door's sinks, answer with the actions report.

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::future::join_all;
use gate_core::{signature::body_digest, Action, ActionStatus, ActionsReport, Envelope, Request};
use http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::body::{read_limited, BodyError};
use crate::gateway::{DoorEntry, Gateway};
use crate::respond::{self, Body};

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
    let (Some(source), Some(entry)) = (gateway.source(kind), gateway.door(kind, door_name)) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown_door",
            format!("no door {door_name:?} for source {kind}"),
        );
    };
    let limit = gateway.server().max_body_bytes;
    let bytes = match read_limited(request.headers, body, limit).await {
        Ok(bytes) => bytes,
        Err(e @ (BodyError::DeclaredTooLarge { .. } | BodyError::TooLarge { .. })) => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_body", e.to_string()),
    };
    let source_request = Request {
        headers: request.headers,
        body: &bytes,
        query: request.query,
        peer: request.peer,
    };
    let received = match source.receive(&source_request, &entry.door).await {
        Ok(received) => received,
        Err(rejection) => {
            return refuse(rejection.status(), rejection.kind(), rejection.to_string())
        }
    };
    let delivery = received.delivery.unwrap_or_else(|| body_digest(&bytes));
    let created = unix_now();
    let envelopes: Vec<Envelope> = received
        .notifications
        .into_iter()
        .map(|notification| Envelope {
            delivery: delivery.clone(),
            source: kind.to_owned(),
            door: door_name.to_owned(),
            event: received.event.clone(),
            received_at: created,
            notification,
        })
        .collect();
    let actions = deliver(entry, &envelopes).await;
    let status = report_status(&actions);
    tracing::info!(
        source = kind,
        door = door_name,
        delivery = %delivery,
        event = %received.event,
        notifications = envelopes.len(),
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

/// Every notification to every sink of the door, all at once: a slow sink
/// does not hold back the others.
async fn deliver(entry: &DoorEntry, envelopes: &[Envelope]) -> Vec<Action> {
    let deliveries = envelopes.iter().flat_map(|envelope| {
        entry
            .sinks
            .iter()
            .map(move |sink| sink.sink.deliver(envelope))
    });
    join_all(deliveries).await
}

/// 200 when every action delivered (or was skipped on purpose), 503 when any
/// failed: the sender should retry, nothing was kept.
fn report_status(actions: &[Action]) -> StatusCode {
    if actions.iter().any(|a| a.status == ActionStatus::Failed) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if actions.iter().any(|a| a.status == ActionStatus::Spooled) {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
