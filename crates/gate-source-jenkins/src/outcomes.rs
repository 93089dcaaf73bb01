//! The last result of each job at a door, so that the first success after a
//! failure or unstable build says so ("back to normal") and passes an `only_failures` filter:
//! whoever heard about the failure must hear about the fix. Kept in memory:
//! a restart or a reload forgets it, and the next success is then plain.

use std::collections::HashMap;
use std::sync::Mutex;

/// Jobs remembered per door; past it, one entry is forgotten per new job.
const MAX_JOBS: usize = 10_000;

#[derive(Debug, Default)]
pub struct LastOutcomes {
    /// Job name → its last finished result, upper-cased.
    jobs: Mutex<HashMap<String, String>>,
}

impl LastOutcomes {
    /// Record a finished build's result. Returns the previous unsuccessful
    /// result when this one is a success after it (the job is fixed).
    pub fn record(&self, job: &str, result: &str) -> Option<String> {
        let result = result.to_ascii_uppercase();
        // A cancelled or skipped build says nothing about the job's health.
        if matches!(result.as_str(), "ABORTED" | "NOT_BUILT") {
            return None;
        }
        let succeeded = result == "SUCCESS";
        // A poisoned lock only means another request panicked mid-update;
        // the map itself is still usable.
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if !jobs.contains_key(job) && jobs.len() >= MAX_JOBS {
            if let Some(forgotten) = jobs.keys().next().cloned() {
                jobs.remove(&forgotten);
            }
        }
        let previous = jobs.insert(job.to_owned(), result)?;
        (succeeded && previous != "SUCCESS").then_some(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_success_after_a_failure_is_a_fix() {
        let outcomes = LastOutcomes::default();
        assert_eq!(outcomes.record("web", "SUCCESS"), None, "nothing known yet");
        assert_eq!(outcomes.record("web", "FAILURE"), None);
        assert_eq!(outcomes.record("web", "FAILURE"), None);
        assert_eq!(outcomes.record("other", "SUCCESS"), None, "jobs are apart");
        assert_eq!(outcomes.record("web", "success"), Some("FAILURE".into()));
        assert_eq!(outcomes.record("web", "SUCCESS"), None, "already fixed");
        assert_eq!(outcomes.record("web", "UNSTABLE"), None);
        assert_eq!(outcomes.record("web", "SUCCESS"), Some("UNSTABLE".into()));
    }

    #[test]
    fn aborted_and_not_built_change_nothing() {
        let outcomes = LastOutcomes::default();
        assert_eq!(outcomes.record("web", "FAILURE"), None);
        assert_eq!(outcomes.record("web", "ABORTED"), None);
        assert_eq!(outcomes.record("web", "NOT_BUILT"), None);
        assert_eq!(outcomes.record("web", "SUCCESS"), Some("FAILURE".into()));
        assert_eq!(outcomes.record("web", "ABORTED"), None);
        assert_eq!(outcomes.record("web", "SUCCESS"), None);
    }

    #[test]
    fn memory_is_bounded() {
        let outcomes = LastOutcomes::default();
        for job in 0..MAX_JOBS + 10 {
            outcomes.record(&job.to_string(), "FAILURE");
        }
        assert_eq!(outcomes.jobs.lock().expect("lock").len(), MAX_JOBS);
    }
}
