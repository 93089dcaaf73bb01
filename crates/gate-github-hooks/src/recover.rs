//! One recovery pass over one hook.

use crate::api::GitHubApi;
use crate::config::Hook;
use crate::delivery::Delivery;
use crate::error::RecoveryError;
use crate::select::plan;

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Deliveries listed since the start of the window.
    pub listed: usize,
    /// The deliveries chosen for redelivery (one per failed event).
    pub candidates: Vec<Delivery>,
    /// Events left alone after too many failed deliveries.
    pub given_up: Vec<Delivery>,
    /// Delivery ids GitHub accepted to redeliver.
    pub redelivered: Vec<u64>,
    /// Delivery ids whose redelivery request failed, and why.
    pub refused: Vec<(u64, String)>,
}

/// List the hook's deliveries since `since_unix`, pick the failed events,
/// and (unless `dry_run`) ask GitHub to redeliver each.
pub async fn recover(
    api: &GitHubApi,
    hook: &Hook,
    since_unix: i64,
    max_attempts: usize,
    dry_run: bool,
) -> Result<Report, RecoveryError> {
    let token = api.access(&hook.credentials).await?;
    let listed = api.deliveries_since(hook, &token, since_unix).await?;
    let plan = plan(&listed, max_attempts);
    let mut report = Report {
        listed: listed.len(),
        candidates: plan.redeliver,
        given_up: plan.given_up,
        ..Report::default()
    };
    if dry_run {
        return Ok(report);
    }
    let mut stopped: Option<String> = None;
    for delivery in &report.candidates {
        if let Some(reason) = &stopped {
            report.refused.push((delivery.id, reason.clone()));
            continue;
        }
        match api.redeliver(hook, &token, delivery.id).await {
            Ok(()) => report.redelivered.push(delivery.id),
            Err(e) => {
                // A long rate limit stops the pass: the rest would meet it too.
                if matches!(e, RecoveryError::RateLimited { .. }) {
                    stopped = Some(format!("not attempted: {e}"));
                }
                report.refused.push((delivery.id, e.to_string()));
            }
        }
    }
    Ok(report)
}
