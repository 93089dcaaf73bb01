//! A strict check of received JSON before it is kept as `rawContent`.
//! serde_json's `RawValue` (and `IgnoredAny`) skip over values without
//! building them, so they let through JSON that serde_json's own full parser
//! refuses: lone UTF-16 surrogate escapes (`"\ud800"`), numbers out of range
//! (`1e999`) and nesting past its recursion limit. Such a body would be
//! published, then refused by every consumer that parses the message with
//! serde_json (found by fuzzing, see docs/fuzzing.md). And [`from_str`]:
//! typed parsing where structs, at any depth, come only from JSON objects.

mod objects;

pub use objects::from_str;

/// Why a body could not be read as the expected JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The body is not a JSON object (an array, a string...).
    #[error("the payload must be a JSON object")]
    NotAnObject,
    /// serde_json's message.
    #[error("{0}")]
    Json(String),
}

/// Parse a payload that must be a JSON object. serde would also fill a
/// struct from a JSON array, by position: a top-level array gets its own
/// message, nested ones are refused by [`from_str`].
pub fn from_object<'a, T: serde::Deserialize<'a>>(body: &'a str) -> Result<T, ObjectError> {
    if !body.trim_start().starts_with('{') {
        return Err(ObjectError::NotAnObject);
    }
    from_str(body).map_err(|e| ObjectError::Json(e.to_string()))
}

/// Deeper than this, and serde_json's full parser (limit 128) may refuse.
const MAX_DEPTH: usize = 100;
/// A run of more digits may overflow an `f64` (about 1.8e308).
const MAX_DIGITS: usize = 300;

/// Fail when `text` holds what serde_json's full parser refuses although
/// `RawValue` accepts it. Cheap: one pass over the bytes, and only a body
/// with something suspect (a `\uD...` escape, an exponent, a very long
/// number, deep nesting), which webhooks rarely carry, is parsed in full.
pub fn check_strict(text: &str) -> Result<(), serde_json::Error> {
    if suspect(text.as_bytes()) {
        serde_json::from_str::<serde_json::Value>(text)?;
    }
    Ok(())
}

fn suspect(bytes: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => match string_end(bytes, i + 1) {
                Ok(end) => {
                    i = end;
                    continue;
                }
                Err(Suspect) => return true,
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let length = bytes[i..]
                    .iter()
                    .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .count();
                let number = &bytes[i..i + length];
                if length > MAX_DIGITS || number.iter().any(|b| matches!(b, b'e' | b'E')) {
                    return true;
                }
                i += length;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

struct Suspect;

/// Index just past the string starting at `start` (after its opening quote).
/// `memchr2` jumps to the next quote or backslash, which keeps this pass far
/// cheaper than the parse that follows. A `\uD...` escape (a surrogate half)
/// is suspect; an unterminated string is left for the parser to refuse.
fn string_end(bytes: &[u8], start: usize) -> Result<usize, Suspect> {
    let mut i = start;
    loop {
        // Past the end after a trailing backslash: unterminated, not suspect.
        let Some(offset) = bytes
            .get(i..)
            .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
        else {
            return Ok(bytes.len());
        };
        i += offset;
        if bytes[i] == b'"' {
            return Ok(i + 1);
        }
        if bytes.get(i + 1) == Some(&b'u') && matches!(bytes.get(i + 2), Some(b'd' | b'D')) {
            return Err(Suspect);
        }
        i += 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    #[test]
    fn lone_surrogates_are_refused_pairs_and_literals_are_not() {
        assert!(check_strict(r#"{"a":"\ud800x"}"#).is_err());
        assert!(check_strict(r#"{"a":"\uDC00"}"#).is_err());
        assert!(check_strict(r#"{"a":"\ud83d\ude00"}"#).is_ok());
        // An escaped backslash followed by `ud800` is plain text.
        assert!(check_strict(r#"{"a":"\\ud800"}"#).is_ok());
        assert!(check_strict(r#"{"a":"\u00e9"}"#).is_ok());
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        assert!(check_strict(r#"{"pushed_at":176401e999}"#).is_err());
        assert!(check_strict(&format!("[{}]", "9".repeat(400))).is_err());
        assert!(check_strict(r#"{"a":1.5e-3,"b":-2E+10,"c":1e308}"#).is_ok());
    }

    #[test]
    fn nesting_past_the_parser_limit_is_refused() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(check_strict(&deep).is_err());
        let fine = format!("{}{}", "[".repeat(50), "]".repeat(50));
        assert!(check_strict(&fine).is_ok());
    }

    #[test]
    fn raw_value_alone_lets_these_through() {
        for text in [
            r#"{"a":"\ud800x"}"#.to_owned(),
            "[1e999]".to_owned(),
            format!("{}{}", "[".repeat(200), "]".repeat(200)),
        ] {
            assert!(RawValue::from_string(text.clone()).is_ok(), "{text}");
            assert!(check_strict(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn objects_only() {
        #[derive(Debug, serde::Deserialize)]
        struct Pair {
            a: u8,
            b: u8,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Outer {
            pair: Pair,
        }
        let pair: Pair = from_object(" {\"a\": 1, \"b\": 2}").expect("object");
        assert_eq!((pair.a, pair.b), (1, 2));
        let outer: Outer = from_object(r#"{"pair": {"a": 1, "b": 2}}"#).expect("object");
        assert_eq!((outer.pair.a, outer.pair.b), (1, 2));
        assert!(
            matches!(from_object::<Outer>(r#"{"pair": [1, 2]}"#), Err(ObjectError::Json(m)) if m.starts_with("invalid type: sequence, expected struct Pair"))
        );
        assert_eq!(
            from_object::<Pair>("[1, 2]").unwrap_err(),
            ObjectError::NotAnObject
        );
        assert!(
            matches!(from_object::<Pair>("{\"a\": 1}"), Err(ObjectError::Json(m)) if m.contains("missing field `b`"))
        );
    }

    #[test]
    fn truncated_input_never_panics() {
        for text in ["\"abc\\", "{\"a\":\"\\", "-", "[\"", "\"\\u"] {
            assert!(!suspect(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn ordinary_payloads_are_not_parsed_twice() {
        let text = r#"{"sha":"c6d86dc7e0f7dd2a","n":[1,2.5,-3],"t":true,"f":false,"z":null,"s":"1e999 \" \\u00e9"}"#;
        assert!(!suspect(text.as_bytes()));
        assert!(suspect(b"[1E5]"));
    }
}
