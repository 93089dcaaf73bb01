//! A small TOML writer: the import writes its file by hand so that the
//! sections come in a readable order, with comments.

use std::fmt::Write as _;

/// A key, bare when TOML allows it, else quoted (`"*"`, `"a.b"`).
pub fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_owned()
    } else {
        string(name)
    }
}

pub fn string(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

pub fn strings(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| string(v)).collect();
    format!("[{}]", items.join(", "))
}

/// One `[table]` (or `[[array]]` item) with its `key = value` lines.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: String,
    lines: Vec<String>,
}

impl Table {
    /// `[a.b."c"]`: `path` segments are quoted as needed.
    pub fn new(path: &[&str]) -> Self {
        Self::with_header(format!("[{}]", dotted(path)))
    }

    /// `[[a.b]]`.
    pub fn item(path: &[&str]) -> Self {
        Self::with_header(format!("[[{}]]", dotted(path)))
    }

    fn with_header(header: String) -> Self {
        Self {
            header,
            lines: Vec::new(),
        }
    }

    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.lines.push(format!("# {text}"));
        self
    }

    /// `name = <value>` where `value` is already TOML.
    pub fn raw(&mut self, name: &str, value: String) -> &mut Self {
        self.lines.push(format!("{} = {value}", key(name)));
        self
    }

    pub fn str(&mut self, name: &str, value: &str) -> &mut Self {
        self.raw(name, string(value))
    }

    pub fn list(&mut self, name: &str, values: &[String]) -> &mut Self {
        self.raw(name, strings(values))
    }

    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.raw(name, value.to_string())
    }

    pub fn write(&self, out: &mut String) {
        let _ = writeln!(out, "{}", self.header);
        for line in &self.lines {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
    }
}

fn dotted(path: &[&str]) -> String {
    path.iter().map(|s| key(s)).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_quoted_only_when_needed() {
        assert_eq!(key("Nasqueron"), "Nasqueron");
        assert_eq!(key("*"), "\"*\"");
        assert_eq!(key("a.b"), "\"a.b\"");
        let mut out = String::new();
        Table::new(&["sources", "Jenkins", "doors", "*"])
            .bool("insecure_no_token", true)
            .list("only_failures", &["a\"b".into()])
            .write(&mut out);
        assert_eq!(
            out,
            "[sources.Jenkins.doors.\"*\"]\ninsecure_no_token = true\nonly_failures = ['a\"b']\n\n"
        );
        let parsed: toml::Table = toml::from_str(&out).expect("valid TOML");
        assert_eq!(
            parsed["sources"]["Jenkins"]["doors"]["*"]["only_failures"][0].as_str(),
            Some("a\"b")
        );
    }
}
