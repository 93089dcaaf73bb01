use gate_core::Secret;
use serde::{Deserialize, Serialize};

/// `[sinks.<name>] kind = "nats"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// `nats://[user:password@]host:4222`; a secret, since it may hold
    /// credentials.
    pub url: Secret,
    /// Subjects are `<subject_prefix>.<routing key>`.
    #[serde(default = "default_prefix")]
    pub subject_prefix: String,
    /// Connecting plus the stream's acknowledgement must take less.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_prefix() -> String {
    "notifications".into()
}

fn default_timeout_ms() -> u64 {
    5000
}

impl NatsConfig {
    pub fn check(&self) -> Result<(), String> {
        // A pending URL (a `vault:` reference `config check` does not read)
        // has no form to check yet.
        if !self.url.is_pending() {
            let url = std::str::from_utf8(self.url.expose()).map_err(|_| "url is not UTF-8")?;
            if !(url.starts_with("nats://") || url.starts_with("tls://")) {
                return Err("url must start with nats:// or tls://".into());
            }
        }
        let valid_token = |t: &str| !t.is_empty() && !t.contains(['*', '>', ' ']);
        if !self.subject_prefix.split('.').all(valid_token) {
            return Err(format!(
                "subject_prefix {:?} must be dot-separated tokens without '*', '>' or spaces",
                self.subject_prefix
            ));
        }
        if self.timeout_ms == 0 {
            return Err("timeout_ms must be greater than 0".into());
        }
        Ok(())
    }
}
