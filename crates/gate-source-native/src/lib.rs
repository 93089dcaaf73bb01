//! Native JSON notification source.
//!
//! Any tool can post a notification in the gate's own format; it is checked
//! (authentication, required keys) and forwarded as is. The group comes from
//! the payload, not from the door's group rules: the sender already decided.

mod auth;
mod config;
mod delivery;
mod payload;

use gate_core::{Credential, Door, Notification, RawContent, Received, Rejection, Request, Source};

pub use auth::{Credentials, SIGNATURE_HEADER};
pub use config::{DoorConfig, DoorError, NativeDoor, MIN_TOKEN_CHARS};
pub use delivery::MAX_DELIVERY_CHARS;
pub use payload::PayloadError;

/// The `Notification` source.
#[derive(Debug, Default)]
pub struct Native;

#[gate_core::async_trait]
impl Source for Native {
    const KIND: &'static str = "Notification";
    const DEFAULT_GROUP: &'static str = "default";
    type DoorConfig = DoorConfig;
    type Door = NativeDoor;

    fn open_door(
        &self,
        _name: &str,
        config: DoorConfig,
    ) -> Result<NativeDoor, gate_core::PluginError> {
        config.open().map_err(gate_core::PluginError::from_error)
    }

    /// `X-Gate-Signature` with the door's first secret, else its first
    /// token as `Authorization: Bearer`.
    fn sign(&self, door: &NativeDoor, body: &[u8]) -> Vec<Credential> {
        door.credentials.sign(body)
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, NativeDoor>,
    ) -> Result<Received, Rejection> {
        door.settings.credentials.check(request)?;
        let body = request.json_text()?;
        let delivery = delivery::delivery_id(request)?;
        let malformed = |e: PayloadError| Rejection::Malformed(e.to_string());
        let posted = payload::parse(body).map_err(malformed)?;
        let service = payload::required(&posted.service, "service").map_err(malformed)?;
        let group = payload::required(&posted.group, "group").map_err(malformed)?;
        let kind = payload::required(&posted.kind, "type").map_err(malformed)?;
        let project = posted
            .project
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or(door.name);
        let raw_content = RawContent::parse(posted.raw_content.map_or(body, |raw| raw.get()))
            .map_err(|e| Rejection::Malformed(format!("invalid JSON: {e}")))?;
        let notification = Notification {
            service: service.to_owned(),
            project: project.to_owned(),
            group: group.to_owned(),
            raw_content,
            kind: kind.to_owned(),
            text: posted.text.as_deref().unwrap_or("").to_owned(),
            link: posted.link.as_deref().unwrap_or("").to_owned(),
        };
        Ok(Received {
            delivery,
            event: notification.kind.clone(),
            notifications: vec![notification],
        })
    }

    fn precheck(
        &self,
        request: &Request<'_>,
        door: &Door<'_, NativeDoor>,
    ) -> Result<(), Rejection> {
        door.settings.credentials.check_head(request)?;
        request.check_json_type()?;
        delivery::delivery_id(request).map(|_| ())
    }

    fn accepts_anonymous(&self, door: &NativeDoor) -> bool {
        door.credentials.anonymous()
    }
}

gate_core::register_source!(Native);
