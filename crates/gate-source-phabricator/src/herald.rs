//! Herald webhook bodies: `{object: {type, phid}, triggers: [...],
//! action: {test, silent, secure, epoch}, transactions: [...]}`.

use std::borrow::Cow;

use gate_core::Rejection;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct HeraldHook<'a> {
    #[serde(borrow)]
    pub object: HookObject<'a>,
    #[serde(default)]
    pub action: HookAction,
    /// `[{phid}]`: the Herald rules that called the hook (or the hook
    /// itself for a firehose). Read loosely: only the PHIDs are used.
    #[serde(default)]
    pub triggers: Vec<serde_json::Value>,
    /// The transactions that triggered the hook: with the object, what
    /// the event is.
    #[serde(borrow, default)]
    pub transactions: Vec<Transaction<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Transaction<'a> {
    #[serde(borrow)]
    pub phid: Cow<'a, str>,
}

impl HeraldHook<'_> {
    /// The PHIDs of the triggers, in the order sent.
    pub fn trigger_phids(&self) -> impl Iterator<Item = &str> {
        self.triggers
            .iter()
            .filter_map(|t| t.get("phid")?.as_str())
            .filter(|p| !p.is_empty())
    }

    /// `<object PHID>:<transaction PHIDs>`; none without transactions.
    pub fn identity(&self) -> Option<String> {
        if self.transactions.is_empty() {
            return None;
        }
        let transactions: Vec<&str> = self.transactions.iter().map(|t| t.phid.as_ref()).collect();
        Some(format!("{}:{}", self.object.phid, transactions.join(",")))
    }
}

#[derive(Debug, Deserialize)]
pub struct HookObject<'a> {
    #[serde(borrow, rename = "type", default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub phid: Cow<'a, str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HookAction {
    /// Sent by the webhook page's "test" button.
    #[serde(default)]
    pub test: bool,
    /// The change was made silently (no notifications sent by Phabricator).
    #[serde(default)]
    pub silent: bool,
    /// The hook was sent without details for policy reasons.
    #[serde(default)]
    pub secure: bool,
}

/// The whitespace JSON allows before a value.
const JSON_BLANKS: [char; 4] = [' ', '\t', '\n', '\r'];

pub fn parse(body: &str) -> Result<HeraldHook<'_>, Rejection> {
    // serde would also fill the hook struct from a JSON array, by position.
    if !body.trim_start_matches(JSON_BLANKS).starts_with('{') {
        return Err(Rejection::Malformed(
            "a herald webhook must be a JSON object".into(),
        ));
    }
    // Nested arrays in place of objects are refused too.
    gate_core::json::from_str(body)
        .map_err(|e| Rejection::Malformed(format!("not a herald webhook: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_object_and_its_transactions() {
        let hook = parse(
            r#"{"object":{"type":"TASK","phid":"PHID-TASK-1"},
                "transactions":[{"phid":"PHID-XACT-a"},{"phid":"PHID-XACT-b"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            hook.identity().as_deref(),
            Some("PHID-TASK-1:PHID-XACT-a,PHID-XACT-b")
        );
        let bare = parse(r#"{"object":{"type":"TASK","phid":"PHID-TASK-1"}}"#).expect("valid");
        assert_eq!(bare.identity(), None, "no transactions, no identity");
    }
}
