//! The original's item patterns: `*` is any run of characters, everything
//! else literal. This gateway's globs also give meaning to `?`, `[...]`,
//! `{a,b}` and `\`, so those are escaped as one-character classes.

/// The glob matching what the original pattern matched, and whether
/// anything had to be escaped.
pub fn from_original(pattern: &str) -> (String, bool) {
    let mut glob = String::with_capacity(pattern.len());
    let mut escaped = false;
    for c in pattern.chars() {
        if matches!(c, '?' | '[' | ']' | '{' | '}' | '\\') {
            glob.push('[');
            glob.push(c);
            glob.push(']');
            escaped = true;
        } else {
            glob.push(c);
        }
    }
    (glob, escaped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use globset::Glob;

    fn matches(original: &str, name: &str) -> bool {
        let (glob, _) = from_original(original);
        Glob::new(&glob)
            .unwrap_or_else(|e| panic!("{original:?} -> {glob:?}: {e}"))
            .compile_matcher()
            .is_match(name)
    }

    #[test]
    fn original_examples_match_as_they_did() {
        assert!(matches("quux*", "quuxians"));
        assert!(matches("quux*", "quux"));
        assert!(!matches("foobar", "quux"));
        assert!(!matches("quux*", ""));
        assert!(matches("docker-*", "docker-php"));
        assert!(!matches("Docker-*", "docker-php"), "case-sensitive");
    }

    #[test]
    fn glob_characters_are_literal() {
        for literal in ["what?", "[legacy]", "{a,b}", "back\\slash", "a]b", "x[y"] {
            let (glob, escaped) = from_original(literal);
            assert!(escaped, "{literal}");
            assert!(matches(literal, literal), "{literal} -> {glob}");
        }
        assert!(!matches("what?", "whats"));
        assert!(!matches("{a,b}", "a"));
        assert!(!matches("[legacy]", "l"));
        assert_eq!(from_original("ops-*"), ("ops-*".to_owned(), false));
        assert!(matches("a,b!", "a,b!"));
    }
}
