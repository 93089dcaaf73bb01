//! GitHub webhooks source: checks the signature, then turns each delivery
//! into one notification with a readable text and the best link.

mod body;
mod config;
mod events;
mod facts;
mod signature;
mod template;
mod text;

use gate_core::{
    Credential, Door, Notification, RawContent, Received, Rejection, Request, Source, Subject,
};

pub use config::{DoorConfig, DoorError, GitHubDoor};
pub use template::TemplateError;

const EVENT_HEADER: &str = "X-GitHub-Event";
const DELIVERY_HEADER: &str = "X-GitHub-Delivery";

/// The `GitHub` source (`/gate/GitHub/<door>`).
#[derive(Debug, Default)]
pub struct GitHub;

#[gate_core::async_trait]
impl Source for GitHub {
    const KIND: &'static str = "GitHub";
    const DEFAULT_GROUP: &'static str = "default";
    type DoorConfig = DoorConfig;
    type Door = GitHubDoor;
    const EVENT_HEADER: Option<&'static str> = Some(EVENT_HEADER);
    const DELIVERY_HEADER: Option<&'static str> = Some(DELIVERY_HEADER);

    fn open_door(
        &self,
        _name: &str,
        config: DoorConfig,
    ) -> Result<GitHubDoor, gate_core::PluginError> {
        GitHubDoor::open(config).map_err(gate_core::PluginError::from_error)
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, GitHubDoor>,
    ) -> Result<Received, Rejection> {
        let event = required_header(request, EVENT_HEADER)?;
        let delivery = required_header(request, DELIVERY_HEADER)?;
        let format = body::Format::of(request)?;
        signature::check(request, door.settings)?;
        let payload = format.payload(request.body)?;
        let raw = RawContent::from_string(payload)
            .map_err(|e| Rejection::Malformed(format!("payload is not valid JSON: {e}")))?;
        // serde would also fill the event structs from a JSON array, by
        // position; `RawValue` has no leading blanks, so one byte tells.
        if !raw.get().starts_with('{') {
            return Err(Rejection::Malformed(format!(
                "unexpected {event} payload: not a JSON object"
            )));
        }
        let rendered = events::render(event, raw.get())
            .map_err(|e| Rejection::Malformed(format!("unexpected {event} payload: {e}")))?;
        let text = match door.settings.template_for(event) {
            // Templates are capped and flattened like built-in texts.
            Some(template) => text::one_line(&template.render(&rendered.facts)),
            None => rendered.text,
        };
        let repositories: Vec<&str> = rendered.repository.as_deref().into_iter().collect();
        let group = door
            .mapping
            .group_for(&Subject {
                repositories: &repositories,
                text: &text,
                administrative: events::is_administrative(event),
            })
            .to_owned();
        Ok(Received {
            delivery: Some(delivery.to_owned()),
            event: event.to_owned(),
            notifications: vec![Notification {
                service: Self::KIND.to_owned(),
                project: door.name.to_owned(),
                group,
                raw_content: raw,
                kind: event.to_owned(),
                text,
                link: rendered.link,
            }],
        })
    }

    fn precheck(
        &self,
        request: &Request<'_>,
        door: &Door<'_, GitHubDoor>,
    ) -> Result<(), Rejection> {
        Self::check_head(request, door.settings)
    }

    fn accepts_anonymous(&self, door: &GitHubDoor) -> bool {
        door.insecure_no_signature
    }

    /// Both headers GitHub sends, keyed with the door's first secret.
    fn sign(&self, door: &GitHubDoor, body: &[u8]) -> Vec<Credential> {
        signature::sign(door, body)
    }
}

impl GitHub {
    /// Everything `receive` checks before reading the body.
    fn check_head(request: &Request<'_>, door: &GitHubDoor) -> Result<(), Rejection> {
        required_header(request, EVENT_HEADER)?;
        required_header(request, DELIVERY_HEADER)?;
        body::Format::of(request)?;
        signature::precheck(request, door)
    }
}

/// A header that must be present and not blank.
fn required_header<'a>(request: &Request<'a>, name: &'static str) -> Result<&'a str, Rejection> {
    request
        .header(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(Rejection::MissingHeader(name))
}

gate_core::register_source!(GitHub);
