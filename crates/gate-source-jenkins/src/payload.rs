//! The fields of a Jenkins Notification plugin message that the source
//! reads; everything else (log, artifacts, parameters) stays in `rawContent`.

use std::borrow::Cow;

use serde::Deserialize;

/// One job event, sent at each build phase (QUEUED, STARTED, COMPLETED,
/// FINALIZED) as configured in the job.
#[derive(Debug, Deserialize)]
pub struct JobEvent<'a> {
    /// The job's own name only (`main`, `PR-12`): the plugin sends
    /// `job.getName()`, without the folders the job is in.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// The job's path on the Jenkins (`job/platform/job/gateway/job/main/`),
    /// where the folders are.
    #[serde(borrow, default)]
    pub url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub build: Build<'a>,
}

impl JobEvent<'_> {
    /// The job's full name, as Jenkins writes it (`platform/gateway/main`):
    /// the `job/<name>` segments of the job URL (else of the build URLs),
    /// percent-decoded once, so that a multibranch branch `feature/x` stays
    /// one segment (`feature%2Fx`), as in Jenkins. Without any URL, `name`.
    pub fn full_name(&self) -> Cow<'_, str> {
        [
            self.url.as_deref(),
            self.build.url.as_deref(),
            self.build.full_url.as_deref(),
        ]
        .into_iter()
        .flatten()
        .find_map(full_name_of)
        .map_or(Cow::Borrowed(self.name.as_ref()), Cow::Owned)
    }
}

/// `platform/gateway/main` from `…/job/platform/job/gateway/job/main/42/`;
/// `None` when the URL names no job.
fn full_name_of(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let mut names = Vec::new();
    let mut segments = path.split('/');
    while let Some(segment) = segments.next() {
        if segment == "job" {
            match segments.next() {
                Some(name) if !name.is_empty() => names.push(
                    percent_encoding::percent_decode_str(name)
                        .decode_utf8_lossy()
                        .into_owned(),
                ),
                _ => return None,
            }
        }
    }
    (!names.is_empty()).then(|| names.join("/"))
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
    /// The build's path on the Jenkins (`job/w/job/main/42/`).
    #[serde(borrow, default)]
    pub url: Option<Cow<'a, str>>,
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
    /// sent once. The job by its full name: every multibranch project has a
    /// `main` with a build #1. Without a build number there is no identity.
    pub fn identity(&self) -> Option<String> {
        let number = self.build.number?;
        Some(format!(
            "{}#{number}:{}",
            self.full_name(),
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
            url: None,
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

    fn full_name(json: &str) -> String {
        parse(json).expect("valid").full_name().into_owned()
    }

    #[test]
    fn full_names_come_from_the_job_url() {
        let folder = r#"{"name":"gateway-pr","url":"job/platform/job/gateway-pr/","build":{"phase":"STARTED"}}"#;
        assert_eq!(full_name(folder), "platform/gateway-pr");
        let branch = r#"{"name":"feature%2Fspin","url":"job/platform/job/gateway/job/feature%252Fspin/","build":{"phase":"STARTED"}}"#;
        assert_eq!(full_name(branch), "platform/gateway/feature%2Fspin");
        let spaces = r#"{"name":"Nightly Build","url":"job/Ops%20Tools/job/Nightly%20Build/","build":{"phase":"STARTED"}}"#;
        assert_eq!(full_name(spaces), "Ops Tools/Nightly Build");
        // No job URL: the build's, then the absolute one, then the name.
        let build_url =
            r#"{"name":"main","build":{"phase":"STARTED","url":"job/web/job/main/7/"}}"#;
        assert_eq!(full_name(build_url), "web/main");
        let full_url = r#"{"name":"main","build":{"phase":"STARTED","full_url":"https://ci.example/jenkins/job/web/job/main/7/"}}"#;
        assert_eq!(full_name(full_url), "web/main");
        let bare = r#"{"name":"widgets-main","build":{"phase":"STARTED"}}"#;
        assert_eq!(full_name(bare), "widgets-main");
        let odd = r#"{"name":"w","url":"job/","build":{"phase":"STARTED"}}"#;
        assert_eq!(full_name(odd), "w");
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
        let branch = parse(
            r#"{"name":"main","url":"job/web/job/main/","build":{"phase":"STARTED","number":1}}"#,
        )
        .expect("valid");
        assert_eq!(branch.identity().as_deref(), Some("web/main#1:STARTED"));
        let unnumbered = parse(r#"{"name":"w","build":{"phase":"QUEUED"}}"#).expect("valid");
        assert_eq!(unnumbered.identity(), None, "no number, no identity");
    }

    #[test]
    fn missing_phase_is_an_error_naming_it() {
        let err = parse(r#"{"name":"w","build":{"number":1}}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `phase`"), "{err}");
    }
}
