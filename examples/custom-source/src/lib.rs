//! Example third-party source for Notifications Center: Gitea push webhooks.
//!
//! It depends on `gate-core` only. A binary serves it by linking the crate
//! (`use gate_example_gitea_source as _;`): the `register_source!` line at the
//! end of this file adds it to the registry, so `/gate/Gitea/<door>` works
//! with no change to the server.

mod door;
mod push;
mod signature;

use gate_core::{
    Credential, Door, Notification, PluginError, RawContent, Received, Rejection, Request, Source,
};

pub use door::{DoorConfig, GiteaDoor};

const EVENT_HEADER: &str = "X-Gitea-Event";
const DELIVERY_HEADER: &str = "X-Gitea-Delivery";

/// The `Gitea` source (`/gate/Gitea/<door>`): push events become one
/// notification each; other events are accepted and filtered out.
#[derive(Debug, Default)]
pub struct Gitea;

#[gate_core::async_trait]
impl Source for Gitea {
    const KIND: &'static str = "Gitea";
    type DoorConfig = DoorConfig;
    type Door = GiteaDoor;
    const EVENT_HEADER: Option<&'static str> = Some(EVENT_HEADER);
    const DELIVERY_HEADER: Option<&'static str> = Some(DELIVERY_HEADER);

    fn open_door(&self, _name: &str, config: DoorConfig) -> Result<GiteaDoor, PluginError> {
        Ok(GiteaDoor::open(config)?)
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, GiteaDoor>,
    ) -> Result<Received, Rejection> {
        let event = request
            .header(EVENT_HEADER)
            .map(str::trim)
            .filter(|event| !event.is_empty())
            .ok_or(Rejection::MissingHeader(EVENT_HEADER))?;
        check_json(request)?;
        // Authenticate before parsing: an unsigned body is never looked at.
        signature::check(request, &door.settings.secrets)?;
        let delivery = request.header(DELIVERY_HEADER).map(str::to_owned);
        if event != "push" {
            // Gitea sends every event the hook is subscribed to; this source
            // only notifies pushes, and a filtered event is still a success
            // so that Gitea does not mark the hook as failing.
            return Ok(Received {
                delivery,
                event: event.to_owned(),
                notifications: Vec::new(),
            });
        }
        let body = std::str::from_utf8(request.body)
            .map_err(|_| Rejection::Malformed("body is not UTF-8".into()))?;
        // The strict parse: JSON that serde_json's own full parser would
        // refuse (a lone surrogate escape...) never becomes a notification.
        let raw = RawContent::parse(body)
            .map_err(|e| Rejection::Malformed(format!("body is not valid JSON: {e}")))?;
        let push = push::parse(raw.get())?;
        let text = push.text();
        let link = push.link().to_owned();
        let repositories = [push.repository.full_name.as_ref()];
        let group = door.group(&repositories, &text);
        Ok(Received {
            delivery,
            event: event.to_owned(),
            notifications: vec![Notification {
                service: Self::KIND.to_owned(),
                project: door.name.to_owned(),
                group,
                raw_content: raw,
                kind: event.to_owned(),
                text,
                link,
            }],
        })
    }

    /// What Gitea sends: `X-Gitea-Signature`, keyed with the first secret.
    fn sign(&self, door: &GiteaDoor, body: &[u8]) -> Vec<Credential> {
        signature::sign(&door.secrets, body)
    }

    /// What `receive` refuses without the body, checked before it is read:
    /// strangers cannot make the gateway read megabytes to refuse them.
    fn precheck(
        &self,
        request: &Request<'_>,
        _door: &Door<'_, GiteaDoor>,
    ) -> Result<(), Rejection> {
        request
            .header(EVENT_HEADER)
            .map(str::trim)
            .filter(|event| !event.is_empty())
            .ok_or(Rejection::MissingHeader(EVENT_HEADER))?;
        check_json(request)?;
        signature::precheck(request)
    }
}

/// Gitea can also post forms; this example reads JSON only, and says so.
fn check_json(request: &Request<'_>) -> Result<(), Rejection> {
    match request.media_type() {
        Some(media) if media == "application/json" => Ok(()),
        Some(media) => Err(Rejection::UnsupportedMediaType(format!(
            "{media} (set the Gitea webhook's content type to application/json)"
        ))),
        None => Err(Rejection::UnsupportedMediaType(
            "none (set the Gitea webhook's content type to application/json)".into(),
        )),
    }
}

gate_core::register_source!(Gitea);
