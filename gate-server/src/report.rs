//! The actions report: the body of every answer to a gate request. It is
//! the host's (plugins return one `Action` per delivery; the gateway
//! assembles the report), so it lives here, not in gate-core.

use gate_core::Action;
use serde::{Deserialize, Serialize};

/// The body of every answer to `POST /gate/<Source>/<door>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionsReport {
    /// The source kind of the URL.
    pub gate: String,
    /// The door name of the URL.
    pub door: String,
    /// The event id (`<Source>/<door>/<id>`).
    pub delivery: String,
    /// Unix seconds when the report was made.
    pub created: u64,
    /// One line per notification and sink.
    pub actions: Vec<Action>,
}
