//! Docker Hub webhooks source.
//!
//! Docker Hub posts a JSON document when an image is pushed. It cannot sign
//! it, so each door carries an unguessable token (and optionally an IP
//! allow-list). The `callback_url` it sends is never called.

mod config;
mod network;
mod payload;
mod text;
mod token;

use gate_core::{Credential, Door, Notification, RawContent, Received, Rejection, Request, Source};

pub use config::{DockerHubDoor, DoorConfig, DoorError};
pub use network::{AllowList, ClientError};
pub use token::{MIN_TOKEN_CHARS, TOKEN_HEADER};

/// The `DockerHub` source.
#[derive(Debug, Default)]
pub struct DockerHub;

#[gate_core::async_trait]
impl Source for DockerHub {
    const KIND: &'static str = "DockerHub";
    const DEFAULT_GROUP: &'static str = "docker";
    type DoorConfig = DoorConfig;
    type Door = DockerHubDoor;

    fn open_door(
        &self,
        _name: &str,
        config: DoorConfig,
    ) -> Result<DockerHubDoor, gate_core::PluginError> {
        config.open().map_err(gate_core::PluginError::from_error)
    }

    /// The door's token in `X-Gate-Token`.
    fn sign(&self, door: &DockerHubDoor, _body: &[u8]) -> Vec<Credential> {
        door.token
            .iter()
            .map(gate_core::token::credential)
            .collect()
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, DockerHubDoor>,
    ) -> Result<Received, Rejection> {
        // Who and what before parsing anything: strangers learn nothing.
        check_head(request, door.settings)?;
        let body = request.json_text()?;
        let push = payload::parse(body)
            .map_err(|e| Rejection::Malformed(format!("invalid Docker Hub push payload: {e}")))?;
        let text = text::push_text(&push);
        let repositories = [push.repository.repo_name.as_ref()];
        let group = door.group(&repositories, &text);
        let link = push.repository.repo_url.as_deref().unwrap_or("").to_owned();
        let raw_content = RawContent::parse(body)
            .map_err(|e| Rejection::Malformed(format!("invalid JSON: {e}")))?;
        Ok(Received {
            delivery: push.identity(),
            event: "push".into(),
            notifications: vec![Notification {
                service: Self::KIND.into(),
                project: door.name.to_owned(),
                group,
                raw_content,
                kind: "push".into(),
                text,
                link,
            }],
        })
    }

    fn precheck(
        &self,
        request: &Request<'_>,
        door: &Door<'_, DockerHubDoor>,
    ) -> Result<(), Rejection> {
        check_head(request, door.settings)?;
        request.check_json_type()
    }

    /// A door without a token (`insecure_no_token`, while senders' URLs are
    /// migrated) takes anyone's requests: loopback only unless the door
    /// also sets `insecure_allow_remote`.
    fn accepts_anonymous(&self, door: &DockerHubDoor) -> bool {
        door.token.is_none()
    }
}

/// The client's address and the token: both known before the body.
fn check_head(request: &Request<'_>, door: &DockerHubDoor) -> Result<(), Rejection> {
    if let Some(allow) = &door.allow {
        let forwarded = request
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.to_str().unwrap_or("\u{fffd}"));
        allow
            .admit(request.peer, forwarded)
            .map_err(|e| Rejection::Forbidden(e.to_string()))?;
    }
    match &door.token {
        Some(token) => token::check(request, token),
        // `insecure_no_token`: warned about at start and by config check.
        None => Ok(()),
    }
}

gate_core::register_source!(DockerHub);
