//! Text templates a door can set per event: literal text with named
//! placeholders (`{sender} pushed to {repository}`), `{{` and `}}` for
//! literal braces. Only names from the event's fixed set are accepted, so a
//! template can show payload facts but never evaluate anything.

use crate::facts::Facts;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{name}}} (allowed: {allowed})")]
    UnknownPlaceholder { name: String, allowed: String },
    #[error("unclosed '{{' at byte {0} (write '{{{{' for a literal brace)")]
    Unclosed(usize),
    #[error("unmatched '}}' at byte {0} (write '}}}}' for a literal brace)")]
    Unmatched(usize),
    #[error("template is empty")]
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder(&'static str),
}

/// A parsed, validated template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parse `text`, accepting only the placeholders in `allowed`.
    pub fn parse(text: &str, allowed: &[&'static str]) -> Result<Self, TemplateError> {
        if text.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.next_if(|&(_, n)| n == '{').is_some() => literal.push('{'),
                '}' if chars.next_if(|&(_, n)| n == '}').is_some() => literal.push('}'),
                '}' => return Err(TemplateError::Unmatched(at)),
                '{' => {
                    let rest = &text[at + 1..];
                    let close = rest.find('}').ok_or(TemplateError::Unclosed(at))?;
                    let name = &rest[..close];
                    if name.contains('{') {
                        return Err(TemplateError::Unclosed(at));
                    }
                    let known = allowed.iter().find(|a| **a == name).ok_or_else(|| {
                        TemplateError::UnknownPlaceholder {
                            name: name.to_owned(),
                            allowed: allowed.join(", "),
                        }
                    })?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder(known));
                    // Skip the name and its closing brace.
                    while chars.next_if(|&(i, _)| i <= at + 1 + close).is_some() {}
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Self { parts })
    }

    /// The text with each placeholder replaced by its fact ("" when the
    /// event has no value for it).
    pub fn render(&self, facts: &Facts) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Placeholder(name) => out.push_str(facts.get(name)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[&str] = &["sender", "repository", "count"];

    fn facts() -> Facts {
        let mut facts = Facts::default();
        facts.set("sender", "octocat");
        facts.set("repository", "acme/widgets");
        facts
    }

    #[test]
    fn renders_placeholders_and_escaped_braces() {
        let t =
            Template::parse("{{{sender}}} → {repository}: {count} é}}", ALLOWED).expect("valid");
        assert_eq!(t.render(&facts()), "{octocat} → acme/widgets:  é}");
    }

    #[test]
    fn values_are_not_reinterpreted() {
        let t = Template::parse("{sender}", ALLOWED).expect("valid");
        let mut f = Facts::default();
        f.set("sender", "{repository}");
        assert_eq!(t.render(&f), "{repository}");
    }

    #[test]
    fn refuses_unknown_names_and_unbalanced_braces() {
        assert_eq!(
            Template::parse("{sender} {password}", ALLOWED),
            Err(TemplateError::UnknownPlaceholder {
                name: "password".into(),
                allowed: "sender, repository, count".into()
            })
        );
        assert_eq!(
            Template::parse("a {sender", ALLOWED),
            Err(TemplateError::Unclosed(2))
        );
        assert_eq!(
            Template::parse("{a{sender}", ALLOWED),
            Err(TemplateError::Unclosed(0))
        );
        assert_eq!(
            Template::parse("a } b", ALLOWED),
            Err(TemplateError::Unmatched(2))
        );
        assert!(matches!(
            Template::parse("{}", ALLOWED),
            Err(TemplateError::UnknownPlaceholder { .. })
        ));
        assert_eq!(Template::parse("  ", ALLOWED), Err(TemplateError::Empty));
        assert_eq!(
            TemplateError::Unclosed(3).to_string(),
            "unclosed '{' at byte 3 (write '{{' for a literal brace)"
        );
    }
}
