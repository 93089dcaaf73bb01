use serde::{Deserialize, Serialize};

/// What happened to one notification in one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
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

impl ActionStatus {
    /// The status's word in reports (its serde name), without making a
    /// JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Delivered => "delivered",
            ActionStatus::Spooled => "spooled",
            ActionStatus::Skipped => "skipped",
            ActionStatus::Failed => "failed",
            ActionStatus::Duplicate => "duplicate",
        }
    }
}

/// Why an action failed, in words safe to show to the sender (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionError {
    /// A short machine-readable type, e.g. `timeout`, `unroutable`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened, in words.
    pub message: String,
}

/// One line of the actions report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// The sink kind, e.g. `amqp`.
    pub action: String,
    /// Where it went: an exchange, a file, a URL.
    pub target: String,
    /// The routing key used, when the sink routes by key.
    #[serde(rename = "routingKey")]
    pub routing_key: Option<String>,
    /// What happened.
    pub status: ActionStatus,
    /// Why, when it failed or was skipped.
    pub error: Option<ActionError>,
}

impl ActionError {
    /// An error of type `kind`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl Action {
    /// Confirmed by the destination.
    pub fn delivered(action: &str, target: impl Into<String>, routing_key: Option<String>) -> Self {
        Self {
            action: action.to_owned(),
            target: target.into(),
            routing_key,
            status: ActionStatus::Delivered,
            error: None,
        }
    }

    /// Not for this sink (not an error): `reason` says why.
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

    /// Neither delivered nor kept: `kind` is the error type, `message` the
    /// reason (shown to the sender, so never a secret).
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
