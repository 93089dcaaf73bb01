//! The fields of a Jenkins Notification plugin message that the source
//! reads; everything else (log, artifacts, parameters) stays in `rawContent`.

use std::borrow::Cow;

use serde::Deserialize;

/// One job event, sent at each build phase (QUEUED, STARTED, COMPLETED,
/// FINALIZED) as configured in the job.
#[derive(Debug, Deserialize)]
pub struct JobEvent<'a> {
    /// The job name; folder jobs may be `folder/job`.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub build: Build<'a>,
}

#[derive(Debug, Deserialize)]
pub struct Build<'a> {
    #[serde(borrow)]
    pub phase: Cow<'a, str>,
    /// Absent (or null) until the build has a result.
    #[serde(borrow, default)]
    pub status: Option<Cow<'a, str>>,
    #[serde(default)]
    pub number: Option<u64>,
    /// Absent when Jenkins' own URL is not configured.
    #[serde(borrow, default)]
    pub full_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub scm: Option<Scm<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Scm<'a> {
    #[serde(borrow, default)]
    pub branch: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub commit: Option<Cow<'a, str>>,
}

impl JobEvent<'_> {
    /// `<job>#<number>:<phase>`: each phase of a build is its own event,
    /// sent once. Without a build number there is no identity.
    pub fn identity(&self) -> Option<String> {
        let number = self.build.number?;
        Some(format!(
            "{}#{number}:{}",
            self.name,
            self.build.phase.to_ascii_uppercase()
        ))
    }
}

impl Build<'_> {
    /// The result, if any; an empty string counts as none.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// `<phase>.<status>` lower-cased, or the phase alone before a result.
    pub fn event_type(&self) -> String {
        match self.status() {
            Some(status) => format!("{}.{}", self.phase, status).to_lowercase(),
            None => self.phase.to_lowercase(),
        }
    }

    /// The result of a finished (completed or finalized) build.
    pub fn final_result(&self) -> Option<&str> {
        let finished = ["COMPLETED", "FINALIZED"]
            .iter()
            .any(|phase| self.phase.eq_ignore_ascii_case(phase));
        self.status().filter(|_| finished)
    }

    /// A finished build that did not succeed (failure, unstable, aborted,
    /// not built): what an `only_failures` job still reports.
    pub fn is_unsuccessful_result(&self) -> bool {
        self.final_result()
            .is_some_and(|s| !s.eq_ignore_ascii_case("SUCCESS"))
    }
}

/// Why a body is not a valid payload.
pub use gate_core::json::ObjectError as PayloadError;

pub fn parse(body: &str) -> Result<JobEvent<'_>, PayloadError> {
    gate_core::json::from_object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(phase: &str, status: Option<&str>) -> Build<'static> {
        Build {
            phase: phase.to_owned().into(),
            status: status.map(|s| s.to_owned().into()),
            number: None,
            full_url: None,
            scm: None,
        }
    }

    #[test]
    fn type_is_phase_and_status_lower_cased() {
        assert_eq!(
            build("COMPLETED", Some("FAILURE")).event_type(),
            "completed.failure"
        );
        assert_eq!(build("STARTED", None).event_type(), "started");
        assert_eq!(build("STARTED", Some("")).event_type(), "started");
    }

    #[test]
    fn unsuccessful_results_are_finished_non_success_builds() {
        assert!(build("COMPLETED", Some("FAILURE")).is_unsuccessful_result());
        assert!(build("FINALIZED", Some("ABORTED")).is_unsuccessful_result());
        assert!(build("completed", Some("unstable")).is_unsuccessful_result());
        assert!(!build("COMPLETED", Some("SUCCESS")).is_unsuccessful_result());
        assert!(!build("STARTED", None).is_unsuccessful_result());
        assert!(!build("COMPLETED", None).is_unsuccessful_result());
    }

    #[test]
    fn identity_is_job_number_and_phase() {
        let completed = parse(
            r#"{"name":"folder/web","build":{"phase":"completed","status":"SUCCESS","number":42}}"#,
        )
        .expect("valid");
        assert_eq!(
            completed.identity().as_deref(),
            Some("folder/web#42:COMPLETED")
        );
        let finalized = parse(r#"{"name":"folder/web","build":{"phase":"FINALIZED","number":42}}"#)
            .expect("valid");
        assert_eq!(
            finalized.identity().as_deref(),
            Some("folder/web#42:FINALIZED")
        );
        let unnumbered = parse(r#"{"name":"w","build":{"phase":"QUEUED"}}"#).expect("valid");
        assert_eq!(unnumbered.identity(), None, "no number, no identity");
    }

    #[test]
    fn missing_phase_is_an_error_naming_it() {
        let err = parse(r#"{"name":"w","build":{"number":1}}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `phase`"), "{err}");
    }
}
