use std::any::Any;
use std::fmt;

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    ConfigError, Credential, GroupMapping, MappingConfig, Notification, PluginError, Rejection,
    Request,
};

/// One configured door as a source sees it while handling a request.
#[derive(Debug)]
#[non_exhaustive]
pub struct Door<'a, D> {
    /// The door name of the URL (the notification's project, usually).
    pub name: &'a str,
    /// The door's compiled group rules.
    pub mapping: &'a GroupMapping,
    /// The door as the source prepared it ([`Source::Door`]).
    pub settings: &'a D,
}

impl<D> Door<'_, D> {
    /// The group of an ordinary (not administrative) event, from the door's
    /// mapping: `repositories` are what the rules' globs match (repository,
    /// project or job names), `text` what their keywords match.
    pub fn group(&self, repositories: &[&str], text: &str) -> String {
        self.mapping
            .group_for(&crate::Subject {
                repositories,
                text,
                administrative: false,
            })
            .to_owned()
    }
}

/// What a source made of an accepted request.
#[derive(Debug)]
pub struct Received {
    /// The event's identity: the sender's delivery id when it sends one
    /// (e.g. `X-GitHub-Delivery`), else the payload's own identity fields
    /// (e.g. a Jenkins job, build number and phase). The gate scopes it by
    /// source and door, and answers a repeat within its window "duplicate".
    /// An `Idempotency-Key` header, when sent, comes first. `None` and no
    /// such header: the gate uses a fresh id, and the event is published
    /// every time.
    pub delivery: Option<String>,
    /// The event name, e.g. `push`; used in logs, headers and metrics.
    pub event: String,
    /// Zero (filtered out), one or more notifications.
    pub notifications: Vec<Notification>,
}

/// A provider of webhooks (GitHub, Docker Hub...). A source is a function of
/// the request and the door's settings: it checks that the request is genuine
/// and turns it into notifications, or rejects it. It is async only so that a
/// source can enrich an event from its provider's API (Phabricator resolves
/// projects through Conduit); most sources never await.
/// Implement it with `#[gate_core::async_trait]`, then call
/// [`register_source!`](crate::register_source).
#[async_trait]
pub trait Source: Default + Send + Sync + 'static {
    /// The name in URLs (`/gate/<KIND>/<door>`) and in the configuration;
    /// case-sensitive.
    const KIND: &'static str;
    /// The group when a door's rules say nothing.
    const DEFAULT_GROUP: &'static str = "default";
    /// The door settings as written in the configuration, beside the common
    /// keys (`sinks`, `default_group`, `admin_group`, `groups`). Serialised
    /// for `/config`, so secrets must be [`Secret`](crate::Secret)s.
    type DoorConfig: DeserializeOwned + Serialize;
    /// The door as prepared for requests (often the same as `DoorConfig`).
    type Door: Send + Sync + 'static;
    /// The header naming the event, when the sender sends one (e.g.
    /// `X-GitHub-Event`): `gate-server simulate --event` sets it.
    const EVENT_HEADER: Option<&'static str> = None;
    /// The header carrying the sender's delivery id, when there is one
    /// (e.g. `X-GitHub-Delivery`): `simulate` sends a fresh id in it.
    const DELIVERY_HEADER: Option<&'static str> = None;

    /// Validate a door's settings; the error names what is wrong (one
    /// line) and keeps its cause.
    fn open_door(&self, name: &str, config: Self::DoorConfig) -> Result<Self::Door, PluginError>;

    /// Check that the request is genuine, then turn it into zero or more
    /// notifications, or refuse it with a [`Rejection`].
    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, Self::Door>,
    ) -> Result<Received, Rejection>;

    /// Refuse, before its body is read, a request that cannot be authentic:
    /// a signing door and no signature header, a wrong token in the URL or a
    /// header. `request.body` is empty here: only the headers, the query and
    /// the peer are known, so nothing that depends on the body may be
    /// checked. Whatever passes is checked again in full by
    /// [`receive`](Source::receive). The default refuses nothing.
    fn precheck(
        &self,
        request: &Request<'_>,
        door: &Door<'_, Self::Door>,
    ) -> Result<(), Rejection> {
        let _ = (request, door);
        Ok(())
    }

    /// Whether the door accepts requests that carry no credential at all
    /// (an `insecure_*` switch). The gateway serves such doors to loopback
    /// peers only, unless the door sets `insecure_allow_remote = true`.
    /// The default says no.
    fn accepts_anonymous(&self, door: &Self::Door) -> bool {
        let _ = door;
        false
    }

    /// How a genuine sender authenticates `body` to this door: the
    /// signature headers (computed with the door's first secret) or the
    /// token that make [`receive`](Source::receive) accept it. This is how
    /// `gate-server simulate` and `deliveries replay` sign a request to any
    /// source without knowing it. The default adds nothing: a door that
    /// needs no credential.
    fn sign(&self, door: &Self::Door, body: &[u8]) -> Vec<Credential> {
        let _ = (door, body);
        Vec::new()
    }
}

/// A door ready for requests, whatever its source.
#[non_exhaustive]
pub struct OpenDoor {
    /// The door's name in the configuration.
    pub name: String,
    /// The door's compiled group rules.
    pub mapping: GroupMapping,
    /// The door settings as JSON with every secret shown as `"set"`.
    pub described: serde_json::Value,
    state: Box<dyn Any + Send + Sync>,
}

impl fmt::Debug for OpenDoor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenDoor")
            .field("name", &self.name)
            .field("described", &self.described)
            .finish_non_exhaustive()
    }
}

/// A [`Source`] with its types erased, as the registry holds it.
#[async_trait]
pub trait DynSource: Send + Sync {
    /// [`Source::KIND`].
    fn kind(&self) -> &'static str;
    /// Build a door from its configuration table (common keys included,
    /// `sinks` excluded). `location` prefixes error messages.
    fn open_door(
        &self,
        name: &str,
        table: toml::Table,
        location: &str,
    ) -> Result<OpenDoor, ConfigError>;
    /// [`Source::receive`] on an opened door.
    async fn receive(&self, request: &Request<'_>, door: &OpenDoor) -> Result<Received, Rejection>;
    /// [`Source::precheck`]: the request's head only, before its body is read.
    fn precheck(&self, request: &Request<'_>, door: &OpenDoor) -> Result<(), Rejection> {
        let _ = (request, door);
        Ok(())
    }
    /// [`Source::accepts_anonymous`].
    fn accepts_anonymous(&self, door: &OpenDoor) -> bool {
        let _ = door;
        false
    }
    /// [`Source::EVENT_HEADER`].
    fn event_header(&self) -> Option<&'static str> {
        None
    }
    /// [`Source::DELIVERY_HEADER`].
    fn delivery_header(&self) -> Option<&'static str> {
        None
    }
    /// [`Source::sign`].
    fn sign(&self, door: &OpenDoor, body: &[u8]) -> Vec<Credential> {
        let _ = (door, body);
        Vec::new()
    }

    /// [`receive`](DynSource::receive) for a request that reached `door`
    /// under another name: the wildcard door (`*`) serves every door name
    /// not configured, and the source must see the name of the URL (it is
    /// the notification's project).
    async fn receive_as(
        &self,
        request: &Request<'_>,
        door: &OpenDoor,
        name: &str,
    ) -> Result<Received, Rejection> {
        let _ = name;
        self.receive(request, door).await
    }
}

pub(crate) struct Erased<S>(pub(crate) S);

const MAPPING_KEYS: [&str; 3] = ["default_group", "admin_group", "groups"];

#[async_trait]
impl<S: Source> DynSource for Erased<S> {
    fn kind(&self) -> &'static str {
        S::KIND
    }

    fn open_door(
        &self,
        name: &str,
        mut table: toml::Table,
        location: &str,
    ) -> Result<OpenDoor, ConfigError> {
        let mut mapping_table = toml::Table::new();
        for key in MAPPING_KEYS {
            if let Some(value) = table.remove(key) {
                mapping_table.insert(key.to_owned(), value);
            }
        }
        let mapping_config: MappingConfig = toml::Value::Table(mapping_table)
            .try_into()
            .map_err(|e| ConfigError::new(location, clean_toml_error(&e)))?;
        let mapping = GroupMapping::compile(&mapping_config, S::DEFAULT_GROUP, location)?;
        let config: S::DoorConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e| ConfigError::new(location, clean_toml_error(&e)))?;
        let mut described = serde_json::to_value(&config)
            .map_err(|e| ConfigError::new(location, format!("cannot describe door: {e}")))?;
        if let (Some(object), Ok(serde_json::Value::Object(rules))) = (
            described.as_object_mut(),
            serde_json::to_value(&mapping_config),
        ) {
            object.extend(rules);
        }
        let door = self
            .0
            .open_door(name, config)
            .map_err(|error| ConfigError::new(location, chain(&error)))?;
        Ok(OpenDoor {
            name: name.to_owned(),
            mapping,
            described,
            state: Box::new(door),
        })
    }

    async fn receive(&self, request: &Request<'_>, door: &OpenDoor) -> Result<Received, Rejection> {
        self.receive_as(request, door, &door.name).await
    }

    async fn receive_as(
        &self,
        request: &Request<'_>,
        door: &OpenDoor,
        name: &str,
    ) -> Result<Received, Rejection> {
        let settings = settings_of::<S>(door)?;
        self.0
            .receive(
                request,
                &Door {
                    name,
                    mapping: &door.mapping,
                    settings,
                },
            )
            .await
    }

    fn precheck(&self, request: &Request<'_>, door: &OpenDoor) -> Result<(), Rejection> {
        let settings = settings_of::<S>(door)?;
        let door = Door {
            name: &door.name,
            mapping: &door.mapping,
            settings,
        };
        self.0.precheck(request, &door)
    }

    fn accepts_anonymous(&self, door: &OpenDoor) -> bool {
        settings_of::<S>(door).is_ok_and(|settings| self.0.accepts_anonymous(settings))
    }

    fn event_header(&self) -> Option<&'static str> {
        S::EVENT_HEADER
    }

    fn delivery_header(&self) -> Option<&'static str> {
        S::DELIVERY_HEADER
    }

    fn sign(&self, door: &OpenDoor, body: &[u8]) -> Vec<Credential> {
        settings_of::<S>(door).map_or_else(|_| Vec::new(), |settings| self.0.sign(settings, body))
    }
}

fn settings_of<S: Source>(door: &OpenDoor) -> Result<&S::Door, Rejection> {
    door.state.downcast_ref::<S::Door>().ok_or_else(|| {
        Rejection::Forbidden(format!("door {} is not a {} door", door.name, S::KIND))
    })
}

/// A plugin's error with its causes, one line (`config check` prints it).
pub(crate) fn chain(error: &PluginError) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}

/// toml's messages are multi-line with a source excerpt; keep the first line
/// so that errors stay one line in logs and in `config check`.
/// Values are dropped from the message: they may be secrets.
pub(crate) fn clean_toml_error(error: &toml::de::Error) -> String {
    crate::without_values(error.message().lines().next().unwrap_or("invalid value"))
}
