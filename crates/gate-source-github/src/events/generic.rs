//! Any event without its own renderer: a text that still says who, what and
//! where, so that new GitHub events are delivered rather than refused.

use std::borrow::Cow;

use serde::Deserialize;

use super::ping::Org;
use super::{login, Rendered, Repo, User};
use crate::text::words;

#[derive(Debug, Deserialize)]
struct Common<'a> {
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    repository: Option<Repo<'a>>,
    #[serde(borrow, default)]
    organization: Option<Org<'a>>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

pub fn render(event: &str, json: &str) -> Result<Rendered, serde_json::Error> {
    let common: Common<'_> = gate_core::json::from_str(json)?;
    let sender = login(&common.sender);
    let action = common.action.as_deref().unwrap_or_default();
    let what = if action.is_empty() {
        event.to_owned()
    } else {
        format!("{event} ({})", words(action))
    };
    let place = match (&common.repository, &common.organization) {
        (Some(repo), _) => format!(" on {}", repo.full_name),
        (None, Some(org)) => format!(" on {}", org.login),
        (None, None) => String::new(),
    };
    let link = common
        .repository
        .as_ref()
        .map(Repo::url)
        .unwrap_or_default();
    let text = format!("{sender} triggered {what}{place}");
    Ok(Rendered::new(sender, common.repository.as_ref(), action).say(text, link.to_owned()))
}
