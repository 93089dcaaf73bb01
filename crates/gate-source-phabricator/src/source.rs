use gate_core::{Credential, Door, Notification, RawContent, Received, Rejection, Request, Source};

use crate::resolve::ObjectInfo;
use crate::{auth, feed, herald, phid::phid_type, words, PhabricatorDoor, PhabricatorDoorConfig};

const SERVICE: &str = "Phabricator";
/// Type of feed stories that name no object (status posts, old story
/// kinds), as the original service typed them.
const NO_OBJECT_TYPE: &str = "VOID";

/// The `Phabricator` source.
#[derive(Debug, Default)]
pub struct PhabricatorSource;

/// What both kinds of hook boil down to before enrichment.
struct Story {
    raw: RawContent,
    kind: String,
    object_phid: Option<String>,
    /// Feed stories come with their text; Herald hooks get one built.
    text: Option<String>,
    /// What a Herald hook says by itself, when Conduit cannot say more.
    fallback: String,
    test: bool,
    /// The story id (feed) or object and transactions (Herald).
    identity: Option<String>,
}

#[gate_core::async_trait]
impl Source for PhabricatorSource {
    const KIND: &'static str = "Phabricator";
    const DEFAULT_GROUP: &'static str = "default";
    type DoorConfig = PhabricatorDoorConfig;
    type Door = PhabricatorDoor;

    fn open_door(
        &self,
        _name: &str,
        config: PhabricatorDoorConfig,
    ) -> Result<PhabricatorDoor, gate_core::PluginError> {
        Ok(PhabricatorDoor::open(config)?)
    }

    /// Herald hooks check the signature (keyed with `hook_key`), feed hooks
    /// the token; each kind of hook ignores the other header.
    fn sign(&self, door: &PhabricatorDoor, body: &[u8]) -> Vec<Credential> {
        auth::sign(&door.config, body)
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, PhabricatorDoor>,
    ) -> Result<Received, Rejection> {
        let settings = door.settings;
        let story = match hook_kind(request)? {
            HookKind::Herald => herald_story(request, &settings.config)?,
            HookKind::Feed => feed_story(request, &settings.config, door.name)?,
        };
        let (info, projects) = match (&settings.resolver, &story.object_phid) {
            (Some(resolver), Some(phid)) => {
                tokio::join!(resolver.object(phid), resolver.projects(phid, &story.kind))
            }
            _ => (None, Vec::new()),
        };
        let text = match story.text {
            Some(text) => text,
            None => herald_text(&story.kind, &story.fallback, info.as_ref(), story.test),
        };
        let repositories: Vec<&str> = projects.iter().map(String::as_str).collect();
        let group = door.group(&repositories, &text);
        let link = info
            .map(|i| i.uri)
            .filter(|uri| !uri.is_empty())
            .unwrap_or_else(|| fallback_link(settings, &story.kind, &text));
        let notification = Notification {
            service: SERVICE.into(),
            project: door.name.to_owned(),
            group,
            raw_content: story.raw,
            kind: story.kind.clone(),
            text,
            link,
        };
        Ok(Received {
            delivery: story.identity,
            event: story.kind,
            notifications: vec![notification],
        })
    }

    fn precheck(
        &self,
        request: &Request<'_>,
        door: &Door<'_, PhabricatorDoor>,
    ) -> Result<(), Rejection> {
        let config = &door.settings.config;
        match request.media_type().as_deref() {
            Some("application/json") => auth::herald_head(request, config).map(|_| ()),
            Some("application/x-www-form-urlencoded") => auth::check_feed(request, config),
            // Without a content type the body's first byte decides: refuse
            // only what neither kind of hook would accept.
            None | Some("") => match auth::herald_head(request, config) {
                Ok(_) => Ok(()),
                Err(herald) => auth::check_feed(request, config).map_err(|_| herald),
            },
            Some(other) => Err(Rejection::UnsupportedMediaType(other.to_owned())),
        }
    }

    fn accepts_anonymous(&self, door: &PhabricatorDoor) -> bool {
        auth::anonymous(&door.config)
    }
}

/// Without Conduit's URI: the object's page when the text names its
/// monogram (feed stories do), else the instance's home page.
fn fallback_link(door: &PhabricatorDoor, kind: &str, text: &str) -> String {
    let instance = door.instance_link();
    match words::monogram_in(kind, text) {
        Some(monogram) if !instance.is_empty() => format!("{instance}{monogram}"),
        _ => instance,
    }
}

enum HookKind {
    Herald,
    Feed,
}

/// Herald posts JSON, feed.http-hooks post forms; without a content type,
/// the first byte tells.
fn hook_kind(request: &Request<'_>) -> Result<HookKind, Rejection> {
    match request.media_type().as_deref() {
        Some("application/json") => Ok(HookKind::Herald),
        Some("application/x-www-form-urlencoded") => Ok(HookKind::Feed),
        None | Some("") => {
            let first = request.body.iter().find(|b| !b.is_ascii_whitespace());
            Ok(if first == Some(&b'{') {
                HookKind::Herald
            } else {
                HookKind::Feed
            })
        }
        Some(other) => Err(Rejection::UnsupportedMediaType(other.to_owned())),
    }
}

fn herald_story(request: &Request<'_>, config: &PhabricatorDoorConfig) -> Result<Story, Rejection> {
    auth::check_herald(request, config)?;
    let body = std::str::from_utf8(request.body)
        .map_err(|_| Rejection::Malformed("body is not utf-8".into()))?;
    // Strictly, before the typed parse: what the full parser refuses is
    // not read at all.
    let raw = RawContent::parse(body)
        .map_err(|e| Rejection::Malformed(format!("not a herald webhook: {e}")))?;
    let hook = herald::parse(body)?;
    let kind = hook
        .object
        .kind
        .as_deref()
        .filter(|k| !k.is_empty())
        .or_else(|| phid_type(&hook.object.phid))
        .ok_or_else(|| Rejection::Malformed("herald webhook object has no type".into()))?
        .to_owned();
    let fallback = words::herald_text(&kind, &hook.object.phid, &hook);
    Ok(Story {
        raw,
        kind,
        identity: hook.identity(),
        object_phid: Some(hook.object.phid.into_owned()),
        text: None,
        fallback,
        test: hook.action.test,
    })
}

fn feed_story(
    request: &Request<'_>,
    config: &PhabricatorDoorConfig,
    door: &str,
) -> Result<Story, Rejection> {
    auth::check_feed(request, config)?;
    let story = feed::parse(request.body, door)?;
    let kind = story
        .object_phid
        .as_deref()
        .and_then(phid_type)
        .unwrap_or(NO_OBJECT_TYPE)
        .to_owned();
    Ok(Story {
        raw: story.raw,
        kind,
        object_phid: story.object_phid,
        text: Some(story.text),
        fallback: String::new(),
        test: false,
        identity: story.identity,
    })
}

/// `TASK T123 updated: Fix the login page` (` (test)` for the test button),
/// or what the hook says by itself (`fallback`, which names a test too) when
/// Conduit could not say more.
fn herald_text(kind: &str, fallback: &str, info: Option<&ObjectInfo>, test: bool) -> String {
    let Some(info) = info.filter(|i| !i.name.is_empty()) else {
        return fallback.to_owned();
    };
    let title = info
        .full_name
        .strip_prefix(info.name.as_str())
        .map(|rest| rest.trim_start_matches(':').trim())
        .unwrap_or(info.full_name.as_str());
    let mut text = if title.is_empty() {
        format!("{kind} {} updated", info.name)
    } else {
        format!("{kind} {} updated: {title}", info.name)
    };
    if test {
        text.push_str(" (test)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, full_name: &str) -> ObjectInfo {
        ObjectInfo {
            name: name.into(),
            full_name: full_name.into(),
            uri: String::new(),
        }
    }

    #[test]
    fn herald_text_uses_what_conduit_knows() {
        let task = info("T123", "T123: Fix the login page");
        assert_eq!(
            herald_text("TASK", "-", Some(&task), false),
            "TASK T123 updated: Fix the login page"
        );
        let repo = info("rWDG", "rWDG Widgets");
        assert_eq!(
            herald_text("REPO", "-", Some(&repo), true),
            "REPO rWDG updated: Widgets (test)"
        );
        let other = info("X1", "Something else");
        assert_eq!(
            herald_text("XYZW", "-", Some(&other), false),
            "XYZW X1 updated: Something else"
        );
        assert_eq!(
            herald_text("TASK", "-", Some(&info("T1", "T1")), false),
            "TASK T1 updated"
        );
        assert_eq!(
            herald_text("TASK", "Task PHID-TASK-x updated (test)", None, true),
            "Task PHID-TASK-x updated (test)"
        );
    }
}
