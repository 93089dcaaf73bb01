//! One item of GitHub's "list deliveries for a hook" answer.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// This delivery (each redelivery gets its own).
    pub id: u64,
    /// The event: shared by the first delivery and every redelivery.
    pub guid: String,
    pub delivered_at: String,
    #[serde(default)]
    pub redelivery: bool,
    /// GitHub's description of the outcome (`OK`, `failed to connect`...).
    #[serde(default)]
    pub status: String,
    /// The receiver's HTTP status; 0 or absent when none was received.
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub action: Option<String>,
}

impl Delivery {
    pub fn succeeded(&self) -> bool {
        matches!(self.status_code, Some(200..=299))
    }

    /// `delivered_at` in Unix seconds; `None` when GitHub sent something
    /// that is not RFC 3339.
    pub fn delivered_unix(&self) -> Option<i64> {
        OffsetDateTime::parse(&self.delivered_at, &Rfc3339)
            .ok()
            .map(OffsetDateTime::unix_timestamp)
    }

    /// `push` or `issues.opened`.
    pub fn event_name(&self) -> String {
        match &self.action {
            Some(action) if !action.is_empty() => format!("{}.{action}", self.event),
            _ => self.event.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_github_documented_item() {
        let item: Delivery = serde_json::from_str(
            r#"{"id":12345678,"guid":"0b989ba4-242f-11e5-81e1-c7b6966d2516",
            "delivered_at":"2019-06-03T00:57:16Z","redelivery":false,"duration":0.27,
            "status":"OK","status_code":200,"event":"issues","action":"opened",
            "installation_id":123,"repository_id":456,"throttled_at":null}"#,
        )
        .expect("item");
        assert!(item.succeeded());
        assert_eq!(item.delivered_unix(), Some(1_559_523_436));
        assert_eq!(item.event_name(), "issues.opened");
        let failed: Delivery = serde_json::from_str(
            r#"{"id":1,"guid":"g","delivered_at":"x","status":"failed to connect","status_code":0,"event":"push","action":null}"#,
        )
        .expect("item");
        assert!(!failed.succeeded());
        assert_eq!(failed.delivered_unix(), None);
        assert_eq!(failed.event_name(), "push");
    }
}
