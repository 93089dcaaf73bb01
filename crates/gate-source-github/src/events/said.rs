//! What a payload-path renderer says: the text, the link and the title
//! (the `{title}` of templates), and the helpers they share.

use super::payload::Payload;
use super::unknown_action;

#[derive(Debug, Default)]
pub(crate) struct Said {
    pub text: String,
    pub link: String,
    pub title: String,
}

impl Said {
    pub fn new(text: String, link: impl Into<String>) -> Self {
        Self {
            text,
            link: link.into(),
            title: String::new(),
        }
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }
}

/// A renderer over a payload; `None` when the payload lacks what the text
/// needs (the generic text is used then).
pub(crate) type Renderer = fn(&Payload) -> Option<Said>;

/// `": detail"`, or nothing for an empty detail.
pub fn detail(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// `" (detail)"`, or nothing for an empty detail.
pub fn aside(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

/// The verb for `action` from `verbs`, else the unknown-action sentence
/// about `what` (with the sender and the action named).
pub fn sentence(p: &Payload, verbs: &[(&str, &str)], what: &str) -> String {
    let action = p.action();
    match verbs.iter().find(|(a, _)| *a == action) {
        Some((_, verb)) => format!("{} {verb} {what}", p.sender()),
        None => unknown_action(p.sender(), action, what),
    }
}

/// The first of `urls` that is not empty.
pub fn first_url<'a>(urls: impl IntoIterator<Item = &'a str>) -> String {
    urls.into_iter()
        .find(|url| !url.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// A path segment with everything but unreserved characters escaped, for
/// links built from names (labels, workflows).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_escape_spaces_and_slashes() {
        assert_eq!(path_segment(":bug: Bug fix/x"), "%3Abug%3A%20Bug%20fix%2Fx");
        assert_eq!(path_segment("good-first_issue.1~"), "good-first_issue.1~");
    }
}
