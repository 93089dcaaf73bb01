//! Legacy `feed.http-hooks` stories: a form with storyID, storyType,
//! storyData[...], storyAuthorPHID, storyText and epoch.

use gate_core::{RawContent, Rejection};
use serde_json::{Map, Value};

use crate::form;

/// A decoded story.
#[derive(Debug)]
pub struct FeedStory {
    /// The story object as the original service published it: `instanceName`
    /// (the door), then every form field with `story` dropped from its name
    /// (`storyID` → `id`, `storyData` → `data`, nested), values as sent.
    pub raw: RawContent,
    pub text: String,
    pub object_phid: Option<String>,
    /// `story:<storyID>`, the story's own id on its instance.
    pub identity: Option<String>,
}

pub fn parse(body: &[u8], instance_name: &str) -> Result<FeedStory, Rejection> {
    let fields = form::decode(body).map_err(Rejection::Malformed)?;
    let text = fields
        .get("storyText")
        .and_then(Value::as_str)
        .ok_or_else(|| Rejection::Malformed("not a feed story: no storyText field".into()))?
        .to_owned();
    let object_phid = fields
        .get("storyData")
        .and_then(|data| data.get("objectPHID"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let identity = fields
        .get("storyID")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| format!("story:{id}"));
    Ok(FeedStory {
        identity,
        raw: story_object(fields, instance_name)?,
        text,
        object_phid,
    })
}

/// The original's order for the fields every story has; others follow by name.
const STORY_ORDER: [&str; 7] = [
    "instanceName",
    "id",
    "type",
    "data",
    "authorPHID",
    "text",
    "epoch",
];

/// `storyID` → `id`; `storyXyz` → `xyz`; other names unchanged.
fn story_key(field: &str) -> String {
    if field == "storyID" {
        return "id".into();
    }
    match field.strip_prefix("story") {
        Some(rest) if !rest.is_empty() => {
            let mut chars = rest.chars();
            chars
                .next()
                .map(|first| first.to_lowercase().chain(chars).collect())
                .unwrap_or_default()
        }
        _ => field.to_owned(),
    }
}

fn story_object(fields: Map<String, Value>, instance_name: &str) -> Result<RawContent, Rejection> {
    let mut story: Vec<(String, Value)> = Vec::with_capacity(fields.len() + 1);
    for (field, value) in fields {
        let key = story_key(&field);
        // A renamed field wins over a plain one of the same name.
        let renamed = key != field;
        match story.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) if renamed => slot.1 = value,
            Some(_) => {}
            None => story.push((key, value)),
        }
    }
    story.retain(|(key, _)| key != "instanceName");
    story.push((
        "instanceName".into(),
        Value::String(instance_name.to_owned()),
    ));
    let rank = |key: &str| {
        STORY_ORDER
            .iter()
            .position(|k| *k == key)
            .unwrap_or(STORY_ORDER.len())
    };
    story.sort_by(|(a, _), (b, _)| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    let mut text = String::from("{");
    for (index, (key, value)) in story.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        let key = serde_json::to_string(key);
        let value = serde_json::to_string(value);
        match (key, value) {
            (Ok(key), Ok(value)) => {
                text.push_str(&key);
                text.push(':');
                text.push_str(&value);
            }
            (Err(e), _) | (_, Err(e)) => {
                return Err(Rejection::Malformed(format!(
                    "cannot represent the story as json: {e}"
                )))
            }
        }
    }
    text.push('}');
    RawContent::from_string(text)
        .map_err(|e| Rejection::Malformed(format!("cannot represent the story as json: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_lose_story_as_in_the_original() {
        assert_eq!(story_key("storyID"), "id");
        assert_eq!(story_key("storyId"), "id");
        assert_eq!(story_key("storyType"), "type");
        assert_eq!(story_key("storyAuthorPHID"), "authorPHID");
        assert_eq!(story_key("story"), "story");
        assert_eq!(story_key("epoch"), "epoch");
        assert_eq!(story_key(""), "");
    }

    #[test]
    fn the_story_object_starts_with_the_instance_and_keeps_the_original_order() {
        let body = b"storyText=x+closed+T1.&epoch=1&storyID=7&storyData%5BobjectPHID%5D=PHID-TASK-a&storyType=T&storyAuthorPHID=PHID-USER-b&extra=1";
        let story = parse(body, "Acme").expect("story");
        assert_eq!(
            story.raw.get(),
            r#"{"instanceName":"Acme","id":"7","type":"T","data":{"objectPHID":"PHID-TASK-a"},"authorPHID":"PHID-USER-b","text":"x closed T1.","epoch":"1","extra":"1"}"#
        );
        assert_eq!(story.object_phid.as_deref(), Some("PHID-TASK-a"));
    }

    #[test]
    fn identity_is_the_story_id() {
        let story = parse(b"storyID=48211&storyText=a+b", "acme").expect("valid");
        assert_eq!(story.identity.as_deref(), Some("story:48211"));
        let anonymous = parse(b"storyText=a+b", "acme").expect("valid");
        assert_eq!(anonymous.identity, None);
    }
}
