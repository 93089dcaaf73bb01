/// A configuration problem, always naming where it is (e.g.
/// `sources.GitHub.doors.acme`) so that `config check` can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
#[non_exhaustive]
pub struct ConfigError {
    /// Where, e.g. `sources.GitHub.doors.acme`.
    pub location: String,
    /// What is wrong, one line, quoting no value.
    pub message: String,
}

impl ConfigError {
    /// An error at `location`.
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
        }
    }
}

/// A deserialisation message without the value it complains about: serde
/// says `invalid type: string "s3cr3t", expected a sequence` when a secret
/// is written where a list is expected, and configuration errors are
/// printed (`config check`, `serve`, the log of a refused reload). The kind
/// of value stays (`invalid type: string, expected a sequence`).
pub fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    loop {
        let found = ["invalid type: ", "invalid value: ", "invalid length "]
            .iter()
            .filter_map(|marker| rest.find(marker).map(|at| (at, marker.len())))
            .min();
        let Some((at, marker)) = found else {
            out.push_str(rest);
            return out;
        };
        let start = at + marker;
        out.push_str(&rest[..start]);
        let described = &rest[start..];
        let end = described.find(", expected").unwrap_or(described.len());
        let kind = described[..end]
            .split(['`', '"'])
            .next()
            .unwrap_or_default()
            .trim_end();
        out.push_str(if kind.is_empty() { "value" } else { kind });
        rest = &described[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_dropped_kinds_are_kept() {
        assert_eq!(
            without_values("invalid type: string \"s3cr3t\", expected a sequence"),
            "invalid type: string, expected a sequence"
        );
        assert_eq!(
            without_values("invalid value: integer `123456`, expected u8 (at byte 4)"),
            "invalid value: integer, expected u8 (at byte 4)"
        );
        assert_eq!(
            without_values(
                "invalid type: string \"a, \\\"b\", expected x; invalid type: integer `1`"
            ),
            "invalid type: string, expected x; invalid type: integer"
        );
        assert_eq!(
            without_values("unknown field `servr`"),
            "unknown field `servr`"
        );
        assert_eq!(
            without_values("invalid type: sequence, expected a string"),
            "invalid type: sequence, expected a string"
        );
    }
}
