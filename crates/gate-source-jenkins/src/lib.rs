//! Jenkins Notification plugin source.
//!
//! The plugin posts a JSON document at each phase of a build (queued,
//! started, completed, finalized). It cannot sign, so each door carries a
//! token, and jobs can be limited to reporting failures.

mod config;
mod outcomes;
mod payload;
mod text;
mod token;

use gate_core::{Credential, Door, Notification, RawContent, Received, Rejection, Request, Source};

pub use config::{DoorConfig, DoorError, JenkinsDoor};
pub use token::MIN_TOKEN_CHARS;

/// The `Jenkins` source.
#[derive(Debug, Default)]
pub struct Jenkins;

#[gate_core::async_trait]
impl Source for Jenkins {
    const KIND: &'static str = "Jenkins";
    const DEFAULT_GROUP: &'static str = "ci";
    type DoorConfig = DoorConfig;
    type Door = JenkinsDoor;

    fn open_door(
        &self,
        _name: &str,
        config: DoorConfig,
    ) -> Result<JenkinsDoor, gate_core::PluginError> {
        config.open().map_err(gate_core::PluginError::from_error)
    }

    /// The door's token in `X-Gate-Token`.
    fn sign(&self, door: &JenkinsDoor, _body: &[u8]) -> Vec<Credential> {
        door.token
            .iter()
            .map(gate_core::token::credential)
            .collect()
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &Door<'_, JenkinsDoor>,
    ) -> Result<Received, Rejection> {
        if let Some(token) = &door.settings.token {
            token::check(request, token)?;
        }
        let body = request.json_text()?;
        let event = payload::parse(body).map_err(|e| {
            Rejection::Malformed(format!("invalid Jenkins notification payload: {e}"))
        })?;
        let kind = event.build.event_type();
        // Folders and multibranch projects: `main` alone would mix every
        // project's main branch in the rules, the filter and the memory.
        let job = event.full_name();
        let identity = event.identity();
        let fixed_after = event
            .build
            .final_result()
            // Keyed by door name too: a wildcard door serves many projects,
            // whose jobs may share names.
            .and_then(|result| {
                let remembered = format!("{}/{job}", door.name);
                door.settings.outcomes.record(&remembered, result)
            });
        if door.settings.only_failures_for(&job)
            && !event.build.is_unsuccessful_result()
            && fixed_after.is_none()
        {
            // Accepted but filtered: the gate answers 200 with no actions.
            return Ok(Received {
                delivery: identity,
                event: kind,
                notifications: Vec::new(),
            });
        }
        let text = text::build_text(&event, &job, fixed_after.as_deref());
        let repositories = [job.as_ref()];
        let group = door.group(&repositories, &text);
        let link = event.build.full_url.as_deref().unwrap_or("").to_owned();
        let raw_content = RawContent::parse(body)
            .map_err(|e| Rejection::Malformed(format!("invalid JSON: {e}")))?;
        Ok(Received {
            delivery: identity,
            event: kind.clone(),
            notifications: vec![Notification {
                service: Self::KIND.into(),
                project: door.name.to_owned(),
                group,
                raw_content,
                kind,
                text,
                link,
            }],
        })
    }

    fn precheck(
        &self,
        request: &Request<'_>,
        door: &Door<'_, JenkinsDoor>,
    ) -> Result<(), Rejection> {
        if let Some(token) = &door.settings.token {
            token::check(request, token)?;
        }
        request.check_json_type()
    }

    fn accepts_anonymous(&self, door: &JenkinsDoor) -> bool {
        door.token.is_none()
    }
}

gate_core::register_source!(Jenkins);
