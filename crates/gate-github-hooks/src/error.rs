use std::time::Duration;

use gate_conduit::http::HttpError;

/// Why a recovery pass failed. Messages name endpoints and GitHub's own
/// explanation, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    #[error("invalid setting: {0}")]
    Config(String),
    #[error("github api: {0}")]
    Http(#[from] HttpError),
    #[error("github answered {status} to {what}: {message}")]
    Api {
        what: String,
        status: u16,
        message: String,
    },
    #[error("rate limited by github for {} s more (more than the {} s this run waits)", .wait.as_secs(), .limit.as_secs())]
    RateLimited { wait: Duration, limit: Duration },
    #[error("unreadable answer to {what}: {reason}")]
    Answer { what: String, reason: String },
    #[error("the next page is on another origin ({0}); credentials are not sent there")]
    ForeignPage(String),
    #[error("cannot sign the app's token: {0}")]
    Sign(String),
}
