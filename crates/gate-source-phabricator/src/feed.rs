//! Legacy `feed.http-hooks` stories: a form with storyID, storyType,
//! storyData[...], storyAuthorPHID, storyText and epoch.

use gate_core::Rejection;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::form;

/// A decoded story.
#[derive(Debug)]
pub struct FeedStory {
    /// Every form field as a JSON object (storyData nested), values as sent.
    pub raw: Box<RawValue>,
    pub text: String,
    pub object_phid: Option<String>,
    /// `story:<storyID>`, the story's own id on its instance.
    pub identity: Option<String>,
}

pub fn parse(body: &[u8]) -> Result<FeedStory, Rejection> {
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
        raw: to_raw(fields)?,
        text,
        object_phid,
    })
}

fn to_raw(fields: Map<String, Value>) -> Result<Box<RawValue>, Rejection> {
    serde_json::value::to_raw_value(&Value::Object(fields))
        .map_err(|e| Rejection::Malformed(format!("cannot represent the story as json: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_story_id() {
        let story = parse(b"storyID=48211&storyText=a+b").expect("valid");
        assert_eq!(story.identity.as_deref(), Some("story:48211"));
        let anonymous = parse(b"storyText=a+b").expect("valid");
        assert_eq!(anonymous.identity, None);
    }
}
