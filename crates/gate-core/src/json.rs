//! A strict check of received JSON before it is kept as `rawContent`.
//! serde_json's `RawValue` (and `IgnoredAny`) skip over string escapes
//! without pairing UTF-16 surrogates, so a body with a lone `"\ud800"` is
//! accepted as raw JSON, published, and then refused by every consumer that
//! parses it with serde_json (found by fuzzing, see docs/fuzzing.md).

/// Fail when `text` holds a string escape that no JSON parser can turn into
/// text (a lone surrogate). Cheap: only bodies with a `\uD...` escape, which
/// webhooks rarely carry, are parsed in full.
pub fn check_escapes(text: &str) -> Result<(), serde_json::Error> {
    let suspect = text
        .as_bytes()
        .windows(3)
        .any(|w| matches!(w, [b'\\', b'u', b'd' | b'D']));
    if suspect {
        serde_json::from_str::<serde_json::Value>(text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_are_refused_pairs_and_literals_are_not() {
        assert!(check_escapes(r#"{"a":"\ud800x"}"#).is_err());
        assert!(check_escapes(r#"{"a":"\uDC00"}"#).is_err());
        assert!(check_escapes(r#"{"a":"\ud83d\ude00"}"#).is_ok());
        // An escaped backslash followed by `ud800` is plain text.
        assert!(check_escapes(r#"{"a":"\\ud800"}"#).is_ok());
        assert!(check_escapes(r#"{"a":"\u00e9"}"#).is_ok());
        // The raw-value path that the sources use accepts what is refused here.
        assert!(serde_json::value::RawValue::from_string(r#"{"a":"\ud800x"}"#.into()).is_ok());
    }
}
