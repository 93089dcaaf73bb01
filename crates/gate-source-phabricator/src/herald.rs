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
