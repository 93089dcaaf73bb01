use serde::{Deserialize, Serialize};

/// What happened to one notification in one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    /// Confirmed by the sink.
    Delivered,
    /// Written to the local durable spool, to be delivered later.
    Spooled,
    /// The sink decided the notification was not for it (not an error).
    Skipped,
    /// Not delivered and not kept.
    Failed,
    /// Already delivered earlier under the same delivery id.
    Duplicate,
}

/// Why an action failed, in words safe to show to the sender (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionError {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// One line of the actions report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The sink kind, e.g. `amqp`.
    pub action: String,
    /// Where it went: an exchange, a file, a URL.
    pub target: String,
    #[serde(rename = "routingKey")]
    pub routing_key: Option<String>,
    pub status: ActionStatus,
    pub error: Option<ActionError>,
}

impl Action {
    pub fn delivered(action: &str, target: impl Into<String>, routing_key: Option<String>) -> Self {
        Self {
            action: action.to_owned(),
            target: target.into(),
            routing_key,
            status: ActionStatus::Delivered,
            error: None,
        }
    }

    pub fn skipped(action: &str, target: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            action: action.to_owned(),
            target: target.into(),
            routing_key: None,
            status: ActionStatus::Skipped,
            error: Some(ActionError {
                kind: "skipped".into(),
                message: reason.into(),
            }),
        }
    }

    pub fn failed(
        action: &str,
        target: impl Into<String>,
        routing_key: Option<String>,
        kind: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            action: action.to_owned(),
            target: target.into(),
            routing_key,
            status: ActionStatus::Failed,
            error: Some(ActionError {
                kind: kind.to_owned(),
                message: message.into(),
            }),
        }
    }
}

/// The body of every answer to `POST /gate/<Source>/<door>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionsReport {
    pub gate: String,
    pub door: String,
    pub delivery: String,
    pub created: u64,
    pub actions: Vec<Action>,
}
