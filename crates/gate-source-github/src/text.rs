//! Small text helpers shared by the event renderers.

/// Longest snippet of user-written text (commit message, issue title or
/// comment) put in a notification: one chat line, not a document.
pub const MAX_SNIPPET: usize = 80;

/// Longest notification text, in characters: one IRC line (512 bytes with
/// the command and channel) still holds it for most scripts.
pub const MAX_TEXT: usize = 300;

/// The first non-blank line of `text`, trimmed and cut to [`MAX_SNIPPET`]
/// characters (an ellipsis marks the cut), for titles, names and messages.
pub fn snippet(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    cut(line, MAX_SNIPPET)
}

/// [`snippet`] for what people write to each other (comments, reviews): a
/// reply never shows the words it quotes, so lines starting with `>` and
/// the "On …, X wrote:" line introducing them are skipped.
pub fn reply_snippet(text: &str) -> String {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .peekable();
    while let Some(line) = lines.next() {
        let introduces_quote =
            line.ends_with("wrote:") && lines.peek().is_some_and(|next| next.starts_with('>'));
        if !line.starts_with('>') && !introduces_quote {
            return cut(line, MAX_SNIPPET);
        }
    }
    String::new()
}

/// A notification text as sent: one line (control characters, newlines
/// included, become spaces; runs of blanks one space) of at most
/// [`MAX_TEXT`] characters. Bidirectional overrides and isolates become
/// spaces too: a title must not reorder the rest of the line in a client.
pub fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_control() || c.is_whitespace() || is_bidi_control(c))
        .filter(|w| !w.is_empty())
    {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    cut(&line, MAX_TEXT)
}

/// `text` cut to at most `max` characters, on a character boundary.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => {
            // Leave room for the ellipsis so the result stays within `max`.
            let keep = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(end, |(i, _)| i);
            format!("{}…", text[..keep].trim_end())
        }
    }
}

/// Marks that change the display order of what follows (U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The abbreviated commit id GitHub shows (7 characters).
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// `s` when `n` is not one: "1 commit", "3 commits".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A git reference as pushes and create/delete events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitRef<'a> {
    Branch(&'a str),
    Tag(&'a str),
    /// Anything else (`refs/notes/...`), shown in full.
    Other(&'a str),
}

impl<'a> GitRef<'a> {
    /// From a full ref (`refs/heads/main`) or a short name with its type, as
    /// `create`/`delete` send (`ref_type` = `branch` or `tag`).
    pub fn parse(full: &'a str) -> Self {
        if let Some(branch) = full.strip_prefix("refs/heads/") {
            GitRef::Branch(branch)
        } else if let Some(tag) = full.strip_prefix("refs/tags/") {
            GitRef::Tag(tag)
        } else {
            GitRef::Other(full)
        }
    }

    pub fn from_type(ref_type: &str, name: &'a str) -> Self {
        match ref_type {
            "branch" => GitRef::Branch(name),
            "tag" => GitRef::Tag(name),
            _ => GitRef::Other(name),
        }
    }

    /// The short name: `main`, `v1.2.0`.
    pub fn name(self) -> &'a str {
        match self {
            GitRef::Branch(name) | GitRef::Tag(name) | GitRef::Other(name) => name,
        }
    }

    /// How texts name it: "branch main", "tag v1.2.0", "ref refs/notes/x".
    pub fn described(self) -> String {
        match self {
            GitRef::Branch(name) => format!("branch {name}"),
            GitRef::Tag(name) => format!("tag {name}"),
            GitRef::Other(name) => format!("ref {name}"),
        }
    }

    pub fn branch(self) -> &'a str {
        match self {
            GitRef::Branch(name) => name,
            _ => "",
        }
    }

    pub fn tag(self) -> &'a str {
        match self {
            GitRef::Tag(name) => name,
            _ => "",
        }
    }
}

/// How an action name reads in a sentence: `review_requested` → "review requested".
pub fn words(action: &str) -> String {
    action.replace('_', " ")
}

/// A check or workflow conclusion as a verb phrase: "succeeded", "failed".
pub fn conclusion(conclusion: &str) -> String {
    match conclusion {
        "success" => "succeeded".into(),
        "failure" => "failed".into(),
        "cancelled" => "was cancelled".into(),
        "timed_out" => "timed out".into(),
        "action_required" => "needs action".into(),
        "neutral" => "finished (neutral)".into(),
        "skipped" => "was skipped".into(),
        "stale" => "went stale".into(),
        "startup_failure" => "failed to start".into(),
        other => format!("finished ({})", words(other)),
    }
}

/// The web root (`https://github.com`, or a GitHub Enterprise host) from
/// any html URL of the same instance, for links the payload does not carry.
pub fn web_root(html_url: &str) -> Option<&str> {
    let after_scheme = html_url.find("://")? + 3;
    let end = html_url[after_scheme..]
        .find('/')
        .map_or(html_url.len(), |i| after_scheme + i);
    Some(&html_url[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_keeps_first_line_and_cuts() {
        assert_eq!(
            snippet("\n  Fix the widget  \r\n\r\nLong body"),
            "Fix the widget"
        );
        let long = "é".repeat(100);
        let cut = snippet(&long);
        assert_eq!(cut.chars().count(), MAX_SNIPPET);
        assert!(cut.ends_with('…'));
        assert_eq!(snippet(""), "");
        assert_eq!(snippet(&"a".repeat(MAX_SNIPPET)), "a".repeat(MAX_SNIPPET));
    }

    #[test]
    fn replies_skip_what_they_quote() {
        assert_eq!(
            reply_snippet("> you said this\n> and that\n\nI disagree"),
            "I disagree"
        );
        assert_eq!(
            reply_snippet("On Mon, 1 Dec 2026, hubot wrote:\n> quoted\nMy answer"),
            "My answer"
        );
        assert_eq!(reply_snippet("> only a quote"), "");
        assert_eq!(reply_snippet("Nobody wrote:\nplain"), "Nobody wrote:");
        // Titles are not replies: "> 100 ms" is what the title says.
        assert_eq!(
            snippet("> 100 ms to spin a widget"),
            "> 100 ms to spin a widget"
        );
    }

    #[test]
    fn one_line_flattens_and_caps() {
        assert_eq!(one_line("a\nb\r\n\tc  d\u{7}e"), "a b c d e");
        assert_eq!(one_line("fix \u{202E}txt.exe"), "fix txt.exe");
        assert_eq!(one_line("family 👨\u{200D}👩"), "family 👨\u{200D}👩");
        let long = "é ".repeat(400);
        let line = one_line(&long);
        assert!(line.chars().count() <= MAX_TEXT && line.chars().count() > MAX_TEXT - 3);
        assert!(line.ends_with('…'));
        assert!(!line.contains('\n'));
    }

    #[test]
    fn refs_and_words() {
        assert_eq!(
            GitRef::parse("refs/heads/feature/x"),
            GitRef::Branch("feature/x")
        );
        assert_eq!(GitRef::parse("refs/tags/v1").described(), "tag v1");
        assert_eq!(
            GitRef::parse("refs/notes/x").described(),
            "ref refs/notes/x"
        );
        assert_eq!(short_sha("0123456789"), "0123456");
        assert_eq!(short_sha("abc"), "abc");
        assert_eq!(plural(1, "commit"), "1 commit");
        assert_eq!(plural(3, "commit"), "3 commits");
        assert_eq!(words("review_requested"), "review requested");
        assert_eq!(conclusion("weird_one"), "finished (weird one)");
    }

    #[test]
    fn web_root_of_html_urls() {
        assert_eq!(
            web_root("https://github.com/octocat"),
            Some("https://github.com")
        );
        assert_eq!(
            web_root("https://ghe.acme.test"),
            Some("https://ghe.acme.test")
        );
        assert_eq!(web_root("octocat"), None);
    }
}
