//! One signed GitHub delivery, sent as a load balancer and GitHub would:
//! when a gateway does not answer or fails, the same delivery (same
//! `X-GitHub-Delivery`) goes to the next gateway; when the id is in
//! progress elsewhere, again after `Retry-After`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};

use crate::common::{github_headers, github_signature, payload};

pub const SECRET: &str = "cluster-secret";

/// A delivery not accepted within this is given up (and fails the test).
const GIVE_UP: Duration = Duration::from_secs(30);
/// A gateway answering later than this counts as not answering.
const NO_ANSWER_AFTER: Duration = Duration::from_secs(12);

/// How a gateway answered one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// 200, every action `delivered`: published and confirmed.
    Delivered,
    /// 202, spooled: kept on the gateway's disk, published later.
    Spooled,
    /// 200, every action `duplicate`: the id was already taken, nothing
    /// published.
    Duplicate,
    /// 503 `in_progress`: another gateway holds the id's claim.
    InProgress,
    /// Any other answer (a 503 with a failed action...).
    Refused(u16),
    /// No connection, a reset, or no answer within [`NO_ANSWER_AFTER`].
    NoAnswer,
}

impl Reply {
    pub fn accepted(self) -> bool {
        matches!(self, Self::Delivered | Self::Spooled | Self::Duplicate)
    }
}

/// One request: which gateway, how it answered, when (since the load began).
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub gateway: usize,
    pub answer: Reply,
    pub at: Duration,
}

/// Send delivery `id` to the gateways in `order` (cycling) until one accepts
/// it or [`GIVE_UP`] passes; every attempt, in order.
pub async fn send(addrs: &[SocketAddr], order: &[usize], id: &str, t0: Instant) -> Vec<Attempt> {
    let giving_up = Instant::now() + GIVE_UP;
    let mut attempts = Vec::new();
    for &gateway in order.iter().cycle() {
        let at = t0.elapsed();
        let answer = post(addrs[gateway], id).await;
        attempts.push(Attempt {
            gateway,
            answer,
            at,
        });
        if answer.accepted() || Instant::now() > giving_up {
            break;
        }
        let pause = match answer {
            Reply::InProgress => Duration::from_secs(1), // its Retry-After
            Reply::Refused(_) => Duration::from_millis(200),
            _ => Duration::ZERO, // a load balancer's retry on connection errors
        };
        tokio::time::sleep(pause).await;
    }
    attempts
}

/// One signed push to one gateway.
async fn post(addr: SocketAddr, id: &str) -> Reply {
    let body = payload("github/push-one-commit.json");
    let headers = github_headers("push", id, &github_signature(SECRET, &body));
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(connection);
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("/gate/GitHub/acme")
            .header("host", addr.to_string());
        for (name, value) in &headers {
            builder = builder.header(name, value);
        }
        let request = builder.body(Full::new(Bytes::from(body))).ok()?;
        let response = sender.send_request(request).await.ok()?;
        let status = response.status();
        let text = response.into_body().collect().await.ok()?.to_bytes();
        Some(classify(status, &text))
    };
    tokio::time::timeout(NO_ANSWER_AFTER, exchange)
        .await
        .ok()
        .flatten()
        .unwrap_or(Reply::NoAnswer)
}

/// The answer as the gateway reports it: the status and the actions report
/// (`{"actions": [{"status": ...}]}`) or the error (`{"error": {"type": ...}}`).
fn classify(status: StatusCode, body: &[u8]) -> Reply {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let statuses: Vec<&str> = json["actions"]
        .as_array()
        .map(|actions| {
            actions
                .iter()
                .filter_map(|a| a["status"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let all = |wanted: &str| !statuses.is_empty() && statuses.iter().all(|s| *s == wanted);
    match status {
        StatusCode::OK if all("duplicate") => Reply::Duplicate,
        StatusCode::OK if all("delivered") => Reply::Delivered,
        StatusCode::ACCEPTED if all("spooled") => Reply::Spooled,
        StatusCode::SERVICE_UNAVAILABLE if json["error"]["type"] == "in_progress" => {
            Reply::InProgress
        }
        other => Reply::Refused(other.as_u16()),
    }
}
