//! A notification's `rawContent`: the received JSON text, kept as is, and
//! only ever made through the strict check ([`crate::json::check_strict`]).
//! serde_json's `RawValue` alone lets through JSON that its own full parser
//! refuses (a lone surrogate escape, `1e999`, deep nesting: found by
//! fuzzing, docs/fuzzing.md); such a message would be published and then
//! refused by every consumer. The field's type makes the check impossible to
//! forget: there is no unchecked way to build one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// JSON text that serde_json's full parser reads back, kept byte for byte
/// (surrounding whitespace aside) so that consumers get the sender's exact
/// payload and nothing re-serialises it.
#[derive(Clone)]
pub struct RawContent(Box<RawValue>);

impl RawContent {
    /// Check `text` (valid and strictly parseable JSON) and keep a copy.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        Self::from_string(text.to_owned())
    }

    /// [`parse`](Self::parse) without the copy, for text already owned.
    pub fn from_string(text: String) -> Result<Self, serde_json::Error> {
        crate::json::check_strict(&text)?;
        RawValue::from_string(text).map(Self)
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl fmt::Debug for RawContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl PartialEq for RawContent {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for RawContent {}

impl Serialize for RawContent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Read back (the spool, a consumer) through the same check: a stored or
/// forwarded notification is no way around it.
impl<'de> Deserialize<'de> for RawContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        crate::json::check_strict(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Self(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_raw_value_lets_through_is_refused() {
        for text in [
            r#"{"a":"\ud800x"}"#.to_owned(),
            "[1e999]".to_owned(),
            format!("{}{}", "[".repeat(200), "]".repeat(200)),
            "{".to_owned(),
        ] {
            assert!(RawContent::parse(&text).is_err(), "{text}");
        }
        let kept = RawContent::parse(r#"{ "keep" : "spacing" }"#).expect("valid");
        assert_eq!(kept.get(), r#"{ "keep" : "spacing" }"#);
    }

    #[test]
    fn deserialising_checks_too() {
        let bad = r#"{"raw":{"a":"\ud800"}}"#;
        #[derive(Debug, Deserialize)]
        struct Holder {
            #[allow(dead_code)]
            raw: RawContent,
        }
        assert!(serde_json::from_str::<Holder>(bad).is_err());
        let good: Holder = serde_json::from_str(r#"{"raw": {"a": [1, 2]}}"#).expect("valid");
        assert_eq!(good.raw.get(), r#"{"a": [1, 2]}"#);
        assert_eq!(
            serde_json::to_string(&good.raw).expect("serialise"),
            r#"{"a": [1, 2]}"#
        );
    }
}
