use std::time::Duration;

use crate::http::HttpError;

/// Why a Conduit call failed. Never carries the API token: it travels only
/// in the request body, which no variant quotes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConduitError {
    /// Conduit answered (HTTP 200) with an `error_code`.
    #[error("conduit error {code}: {info}")]
    Api { code: String, info: String },
    #[error("conduit answered http {0}")]
    Status(u16),
    #[error("conduit did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("cannot reach conduit: {0}")]
    Unreachable(String),
    #[error("conduit answer is not valid json: {0}")]
    BadJson(String),
    /// The URL as shown: without `user:password@`.
    #[error("invalid conduit url {0:?}")]
    InvalidUrl(String),
}

impl ConduitError {
    /// A short machine-readable name, for action reports.
    pub fn kind(&self) -> &'static str {
        match self {
            ConduitError::Api { .. } => "conduit_error",
            ConduitError::Status(_) => "http_status",
            ConduitError::Timeout(_) => "timeout",
            ConduitError::Unreachable(_) => "unreachable",
            ConduitError::BadJson(_) => "bad_json",
            ConduitError::InvalidUrl(_) => "invalid_url",
        }
    }
}

impl From<HttpError> for ConduitError {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Timeout(after) => ConduitError::Timeout(after),
            other => ConduitError::Unreachable(other.to_string()),
        }
    }
}
