//! `[github_recovery]` in the server: the doors' hooks, checked with the
//! rest of the configuration, and the optional periodic mode of `serve`
//! that asks GitHub to redeliver what failed (see crate gate-github-hooks).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gate_core::ConfigError;
use gate_github_hooks::{recover, GitHubApi, Hook, RecoveryConfig, Report};

use crate::shared::SharedGateway;

/// The section, every door's hook opened.
#[derive(Debug, Default)]
pub struct Recovery {
    pub config: RecoveryConfig,
    pub hooks: BTreeMap<String, Hook>,
}

impl Recovery {
    /// Check the section against the configured GitHub doors; every problem
    /// is pushed to `errors`.
    pub fn open<'a>(
        config: RecoveryConfig,
        github_doors: impl IntoIterator<Item = &'a str>,
        errors: &mut Vec<ConfigError>,
    ) -> Self {
        let doors: Vec<&str> = github_doors.into_iter().collect();
        if let Err(e) = check_api_url(&config.api_url) {
            errors.push(ConfigError::new("github_recovery.api_url", e));
        }
        if config.interval_seconds > 0 && config.lookback_seconds < config.interval_seconds {
            errors.push(ConfigError::new(
                "github_recovery.lookback_seconds",
                "must be at least interval_seconds, or deliveries between passes are never looked at",
            ));
        }
        let mut hooks = BTreeMap::new();
        for (door, hook) in &config.doors {
            let location = format!("github_recovery.doors.{door}");
            if !doors.contains(&door.as_str()) {
                errors.push(ConfigError::new(
                    &location,
                    format!("no GitHub door named {door:?} (sources.GitHub.doors)"),
                ));
                continue;
            }
            match Hook::open(hook) {
                Ok(hook) => {
                    hooks.insert(door.clone(), hook);
                }
                Err(message) => errors.push(ConfigError::new(&location, message)),
            }
        }
        Self { config, hooks }
    }

    /// From a whole configuration, without building sinks (the CLI).
    pub fn from_config(config: &crate::Config) -> Result<Self, Vec<ConfigError>> {
        let doors = github_door_names(config);
        let mut errors = Vec::new();
        let recovery = Self::open(
            config.github_recovery.clone(),
            doors.iter().map(String::as_str),
            &mut errors,
        );
        if errors.is_empty() {
            Ok(recovery)
        } else {
            Err(errors)
        }
    }

    /// The periodic mode's interval, when on.
    pub fn interval(&self) -> Option<Duration> {
        (self.config.interval_seconds > 0 && !self.hooks.is_empty())
            .then(|| Duration::from_secs(self.config.interval_seconds))
    }

    pub fn api(&self) -> Result<GitHubApi, gate_github_hooks::RecoveryError> {
        GitHubApi::new(&self.config.api_url)
    }

    /// One door's pass over the last `lookback`.
    pub async fn door_pass(
        &self,
        door: &str,
        lookback: Duration,
        dry_run: bool,
        max_attempts: Option<usize>,
    ) -> Result<Report, String> {
        let hook = self.hooks.get(door).ok_or_else(|| {
            let known: Vec<&str> = self.hooks.keys().map(String::as_str).collect();
            format!(
                "no [github_recovery.doors.{door}] (configured: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })?;
        let api = self.api().map_err(|e| e.to_string())?;
        let since =
            unix_now().saturating_sub(i64::try_from(lookback.as_secs()).unwrap_or(i64::MAX));
        recover(
            &api,
            hook,
            since,
            max_attempts.unwrap_or(self.config.max_attempts),
            dry_run,
        )
        .await
        .map_err(|e| e.to_string())
    }
}

/// The doors declared under `[sources.GitHub]` (any case of the kind).
pub(crate) fn github_door_names(config: &crate::Config) -> Vec<String> {
    config
        .sources
        .iter()
        .filter(|(kind, _)| kind.eq_ignore_ascii_case("GitHub"))
        .flat_map(|(_, section)| section.doors.keys().cloned())
        .collect()
}

fn check_api_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
    if matches!(uri.scheme_str(), Some("http" | "https")) && uri.authority().is_some() {
        Ok(())
    } else {
        Err(format!("{url:?} must be an http(s) URL"))
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// While off, how often the loop looks whether a reload turned it on.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// The periodic mode: a pass over every configured door every
/// `interval_seconds`, the first right after start (what failed while this
/// gateway was down). Settings are read from the current gateway at every
/// turn, so a reload applies them.
pub async fn periodic(shared: SharedGateway) {
    let mut last_pass: Option<Instant> = None;
    loop {
        let recovery = Arc::clone(shared.current().github_recovery());
        let Some(interval) = recovery.interval() else {
            tokio::time::sleep(IDLE_CHECK).await;
            continue;
        };
        if let Some(wait) = last_pass.and_then(|at| interval.checked_sub(at.elapsed())) {
            tokio::time::sleep(wait.min(IDLE_CHECK)).await;
            continue;
        }
        last_pass = Some(Instant::now());
        let gateway = shared.current();
        if let Some(store) = gateway.state().dedup.shared_store() {
            // Gateways sharing Redis take turns: one pass per interval in
            // all. Redis unreachable: each does its own (more requests to
            // GitHub, nothing missed).
            let turn = interval.mul_f64(0.9).max(Duration::from_millis(500));
            if let Ok(false) = store.lease("github-recovery", turn).await {
                tracing::debug!("github recovery: another gateway has this turn");
                continue;
            }
        }
        let lookback = Duration::from_secs(recovery.config.lookback_seconds);
        // The state outlives reloads; the gateway is not kept for the pass.
        let state = Arc::clone(gateway.state());
        drop(gateway);
        let metrics = &state.metrics;
        for door in recovery.hooks.keys() {
            match recovery.door_pass(door, lookback, false, None).await {
                Ok(report) => {
                    metrics.github_recovery(door, "redelivered", report.redelivered.len());
                    metrics.github_recovery(door, "refused", report.refused.len());
                    metrics.github_recovery(door, "given_up", report.given_up.len());
                    log_report(door, &report);
                }
                Err(error) => {
                    metrics.github_recovery(door, "pass_failed", 1);
                    tracing::warn!(door, %error, "github recovery pass failed");
                }
            }
        }
    }
}

fn log_report(door: &str, report: &Report) {
    for (id, error) in &report.refused {
        tracing::warn!(door, delivery = id, %error, "github refused a redelivery");
    }
    for given_up in &report.given_up {
        tracing::warn!(
            door,
            delivery = given_up.id,
            guid = %given_up.guid,
            "github delivery failed too often, not asking again"
        );
    }
    tracing::info!(
        door,
        listed = report.listed,
        failed_events = report.candidates.len(),
        redelivered = report.redelivered.len(),
        refused = report.refused.len(),
        given_up = report.given_up.len(),
        "github recovery pass"
    );
}
