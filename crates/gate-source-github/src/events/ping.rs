//! `ping`: sent once when a webhook is created (or on "Redeliver").

use std::borrow::Cow;

use serde::Deserialize;

use super::{login, Rendered, Repo, User};
use crate::text::{snippet, web_root};

#[derive(Debug, Deserialize)]
struct Ping<'a> {
    #[serde(default)]
    hook_id: Option<u64>,
    #[serde(borrow, default)]
    hook: Option<Hook<'a>>,
    #[serde(borrow, default)]
    repository: Option<Repo<'a>>,
    #[serde(borrow, default)]
    organization: Option<Org<'a>>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
    /// GitHub's aphorism of the day, the whole text of the original's ping.
    #[serde(borrow, default)]
    zen: Option<Cow<'a, str>>,
}

/// Event names listed in a ping text; a hook with every event ticked would
/// otherwise fill the line.
const LISTED_EVENTS: usize = 5;

#[derive(Debug, Deserialize)]
struct Hook<'a> {
    #[serde(default)]
    id: Option<u64>,
    #[serde(borrow, default)]
    events: Vec<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Org<'a> {
    #[serde(borrow)]
    pub login: Cow<'a, str>,
}

pub fn render(json: &str) -> Result<Rendered, serde_json::Error> {
    let ping: Ping<'_> = gate_core::json::from_str(json)?;
    let sender = login(&ping.sender);
    let id = ping.hook_id.or(ping.hook.as_ref().and_then(|h| h.id));
    let hook = id.map_or_else(|| "webhook".to_owned(), |id| format!("webhook {id}"));
    let events = ping
        .hook
        .as_ref()
        .map(|h| match h.events.len() {
            n if n > LISTED_EVENTS => format!(
                "{} +{} more",
                h.events[..LISTED_EVENTS].join(", "),
                n - LISTED_EVENTS
            ),
            _ => h.events.join(", "),
        })
        .filter(|e| !e.is_empty())
        .map(|e| format!(" (events: {e})"))
        .unwrap_or_default();
    let zen = ping.zen.as_deref().map(snippet).unwrap_or_default();
    let settings = id
        .map(|id| format!("/settings/hooks/{id}"))
        .unwrap_or_default();
    let (target, link) = match (&ping.repository, &ping.organization) {
        (Some(repo), _) => (
            repo.full_name.to_string(),
            format!("{}{settings}", repo.url()),
        ),
        (None, Some(org)) => {
            // Organisation hooks: the payload has no html URL for the
            // organisation, so build it on the sender's GitHub host.
            let root = ping
                .sender
                .as_ref()
                .and_then(|u| u.html_url.as_deref())
                .and_then(web_root);
            let link = root
                .map(|root| format!("{root}/organizations/{}{settings}", org.login))
                .unwrap_or_default();
            (format!("organization {}", org.login), link)
        }
        (None, None) => ("GitHub".to_owned(), String::new()),
    };
    let text = format!(
        "{sender} pinged {hook} of {target}{events}{}",
        super::said::detail(&zen)
    );
    Ok(Rendered::new(sender, ping.repository.as_ref(), "").say(text, link))
}
