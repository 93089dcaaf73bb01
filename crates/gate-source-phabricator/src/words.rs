//! What a Herald webhook says by itself, for doors without Conduit (or
//! when Conduit fails): the object's type in words, its PHID, the rule that
//! fired and how many transactions the change had. Herald's body names no
//! actor and no monogram (PHIDs are random), so those need Conduit.

use crate::herald::HeraldHook;

/// The object type of a PHID type code, in words.
pub fn object_type(code: &str) -> String {
    let known = match code {
        "TASK" => "task",
        "DREV" => "revision",
        "DIFF" => "diff",
        "CMIT" => "commit",
        "REPO" => "repository",
        "PSTE" => "paste",
        "WIKI" => "wiki page",
        "PROJ" => "project",
        "USER" => "user",
        "MOCK" => "mock",
        "FILE" => "file",
        "POLL" => "poll",
        "QUES" => "question",
        "ANSW" => "answer",
        "CEVT" => "calendar event",
        "BLOG" => "blog",
        "POST" => "blog post",
        "CDWN" => "countdown",
        "BDGE" => "badge",
        "PKGE" => "package",
        "OPKG" => "owners package",
        "HRUL" => "Herald rule",
        "BUID" => "build",
        "HMBS" => "buildable",
        "CONP" => "conpherence room",
        "FORM" => "form",
        "SPCE" => "space",
        "DSHB" => "dashboard",
        "DSHP" => "dashboard panel",
        "PVAR" => "Phlux variable",
        "LEGD" => "legalpad document",
        "ALMH" => "Almanac host",
        "ALMS" => "Almanac service",
        "ALMD" => "Almanac device",
        _ => return format!("object of type {code}"),
    };
    known.to_owned()
}

/// `Task PHID-TASK-… updated (2 transactions, Herald rule PHID-HRUL-…, silent)`;
/// `test` among the details for the webhook page's test button.
pub fn herald_text(kind: &str, phid: &str, hook: &HeraldHook<'_>) -> String {
    let mut words = object_type(kind);
    if let Some(first) = words.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let mut details = Vec::new();
    match hook.transactions.len() {
        0 => {}
        1 => details.push("1 transaction".to_owned()),
        n => details.push(format!("{n} transactions")),
    }
    let triggers: Vec<&str> = hook.trigger_phids().collect();
    match triggers.as_slice() {
        [] => {}
        [one] if one.starts_with("PHID-HWBH-") => details.push("firehose".to_owned()),
        [one] => details.push(format!("Herald rule {one}")),
        [first, rest @ ..] => details.push(format!("Herald rules {first} +{} more", rest.len())),
    }
    if hook.action.silent {
        details.push("silent".to_owned());
    }
    if hook.action.secure {
        details.push("secure".to_owned());
    }
    if hook.action.test {
        details.push("test".to_owned());
    }
    if details.is_empty() {
        format!("{words} {phid} updated")
    } else {
        format!("{words} {phid} updated ({})", details.join(", "))
    }
}

/// The monogram letter of the object types that have one (`T123`).
fn monogram_prefix(code: &str) -> Option<char> {
    Some(match code {
        "TASK" => 'T',
        "DREV" => 'D',
        "PSTE" => 'P',
        "MOCK" => 'M',
        "QUES" => 'Q',
        "CEVT" => 'E',
        "POLL" => 'V',
        "FILE" => 'F',
        "POST" => 'J',
        "CDWN" => 'C',
        "LEGD" => 'L',
        _ => return None,
    })
}

/// The object's monogram when a story's text names it (`D45` in
/// "hubot requested changes to D45: …"): the first word that is the type's
/// letter followed by digits.
pub fn monogram_in(code: &str, text: &str) -> Option<String> {
    let prefix = monogram_prefix(code)?;
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|word| {
            let mut chars = word.chars();
            chars.next() == Some(prefix) && word.len() > 1 && chars.all(|c| c.is_ascii_digit())
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monograms_come_from_the_story_text() {
        assert_eq!(
            monogram_in("DREV", "hubot requested changes to D45: Roll back D46."),
            Some("D45".into())
        );
        assert_eq!(
            monogram_in("TASK", "octocat closed T7 (was T6)."),
            Some("T7".into())
        );
        assert_eq!(monogram_in("TASK", "octocat edited Task Tx: T"), None);
        assert_eq!(monogram_in("CMIT", "rWDG1234abc: fix"), None);
    }

    fn hook(json: &str) -> HeraldHook<'_> {
        crate::herald::parse(json).expect("hook")
    }

    #[test]
    fn says_what_the_body_holds() {
        let body = r#"{"object":{"type":"TASK","phid":"PHID-TASK-1"},"triggers":[{"phid":"PHID-HRUL-9"}],
            "action":{"test":false,"silent":true,"secure":false,"epoch":1},"transactions":[{"phid":"a"},{"phid":"b"}]}"#;
        assert_eq!(
            herald_text("TASK", "PHID-TASK-1", &hook(body)),
            "Task PHID-TASK-1 updated (2 transactions, Herald rule PHID-HRUL-9, silent)"
        );
        let firehose = r#"{"object":{"type":"DREV","phid":"PHID-DREV-1"},"triggers":[{"phid":"PHID-HWBH-2"}],"action":{"test":true},"transactions":[{"phid":"a"}]}"#;
        assert_eq!(
            herald_text("DREV", "PHID-DREV-1", &hook(firehose)),
            "Revision PHID-DREV-1 updated (1 transaction, firehose, test)"
        );
        let bare = r#"{"object":{"type":"ZZZZ","phid":"PHID-ZZZZ-1"},"triggers":[{"phid":"PHID-HRUL-1"},{"phid":"PHID-HRUL-2"}],"action":{"secure":true}}"#;
        assert_eq!(
            herald_text("ZZZZ", "PHID-ZZZZ-1", &hook(bare)),
            "Object of type ZZZZ PHID-ZZZZ-1 updated (Herald rules PHID-HRUL-1 +1 more, secure)"
        );
    }
}
