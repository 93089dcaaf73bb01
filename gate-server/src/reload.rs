//! Configuration reload (`Gate::reload`, on SIGHUP for `serve`): the new
//! configuration is validated whole; only then is the new gateway swapped
//! in, keeping the spool and the delivery-id memory. A bad one changes
//! nothing.
//!
//! Every setting read per request (doors, sinks, limits, deadlines,
//! maintenance), the retry timings and the `[dedup]` limits apply at once.
//! The listening socket, the connection limit and header timeout of the
//! accept loop, and the spool file are set up once: a change to them is
//! logged by name, and the running value is kept until a restart.

use std::fmt::Display;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gateway::Gateway;
use crate::server::DRAIN_TIMEOUT;
use crate::shared::SharedGateway;

/// Swap `gateway` in, keeping the running state and the settings that
/// need a restart; the previous gateway closes once unused. Returns (and
/// logs) the settings whose new value waits for a restart.
pub(crate) fn swap_in(shared: &SharedGateway, mut gateway: Gateway) -> Vec<Change> {
    let running = shared.current();
    let changes = needs_restart(&running, &gateway);
    for change in &changes {
        tracing::warn!(
            setting = change.setting,
            running = %change.running,
            configured = %change.configured,
            "{} changed: it needs a restart; the running value is kept",
            change.setting
        );
    }
    gateway.keep_running_settings(&running);
    let state = Arc::clone(running.state());
    let dedup = gateway.dedup_settings();
    state
        .dedup
        .set_limits(Duration::from_secs(dedup.window_seconds), dedup.max_entries);
    drop(running);
    let old = shared.replace(Arc::new(gateway.with_state(state)));
    tokio::spawn(close_when_idle(old));
    tracing::info!("configuration reloaded");
    changes
}

/// A setting whose new value waits for a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub setting: &'static str,
    pub running: String,
    pub configured: String,
}

/// The settings that differ between the running gateway and a new
/// configuration and cannot change without a restart.
pub fn needs_restart(running: &Gateway, configured: &Gateway) -> Vec<Change> {
    let (old, new) = (running.server(), configured.server());
    let (old_spool, new_spool) = (running.spool_settings(), configured.spool_settings());
    let mut changes = Vec::new();
    let mut compare = |setting: &'static str, running: &dyn Display, configured: &dyn Display| {
        let (running, configured) = (running.to_string(), configured.to_string());
        if running != configured {
            changes.push(Change {
                setting,
                running,
                configured,
            });
        }
    };
    compare("server.listen", &old.listen, &new.listen);
    compare(
        "server.max_connections",
        &old.max_connections,
        &new.max_connections,
    );
    compare(
        "server.header_read_timeout_ms",
        &old.header_read_timeout_ms,
        &new.header_read_timeout_ms,
    );
    let (old_dedup, new_dedup) = (running.dedup_settings(), configured.dedup_settings());
    compare("dedup.store", &old_dedup.store, &new_dedup.store);
    // A URL may hold a password: only whether it changed is shown.
    let url_state = |url: &Option<gate_core::Secret>| url.as_ref().map_or("unset", |_| "set");
    let new_url = if old_dedup.redis_url == new_dedup.redis_url {
        url_state(&new_dedup.redis_url)
    } else {
        "another value"
    };
    compare(
        "dedup.redis_url",
        &url_state(&old_dedup.redis_url),
        &new_url,
    );
    compare(
        "dedup.key_prefix",
        &old_dedup.key_prefix,
        &new_dedup.key_prefix,
    );
    compare(
        "dedup.claim_ttl_ms",
        &old_dedup.claim_ttl_ms,
        &new_dedup.claim_ttl_ms,
    );
    compare(
        "dedup.redis_timeout_ms",
        &old_dedup.redis_timeout_ms,
        &new_dedup.redis_timeout_ms,
    );
    compare("spool.enabled", &old_spool.enabled, &new_spool.enabled);
    compare(
        "spool.path",
        &old_spool.path.display(),
        &new_spool.path.display(),
    );
    compare(
        "spool.max_entries",
        &old_spool.max_entries,
        &new_spool.max_entries,
    );
    changes
}

/// Requests and deliveries that started on the old gateway hold it; close
/// its sinks once they are done (or after the drain timeout).
async fn close_when_idle(old: Arc<Gateway>) {
    let started = Instant::now();
    while old.in_use() && started.elapsed() < DRAIN_TIMEOUT {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    old.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn gateway(settings: &str) -> Gateway {
        let text = format!(
            "{settings}\n[sinks.log]\nkind = \"file\"\n[sources.Notification.doors.ops]\nsinks = [\"log\"]\ninsecure_no_auth = true\n"
        );
        let config = Config::parse("t", &text, []).expect("config");
        Gateway::build(config, crate::registry().expect("plugins")).expect("gateway")
    }

    #[tokio::test]
    async fn retry_timings_apply_and_restart_settings_keep_their_running_value() {
        let shared = SharedGateway::new(Arc::new(gateway(
            "[server]\nmax_connections = 64\n[spool]\npath = \"a.redb\"\nretry_initial_ms = 500\nretry_max_ms = 4000",
        )));
        let next = "[server]\nmax_connections = 8\n[spool]\npath = \"b.redb\"\nretry_initial_ms = 50\nretry_max_ms = 400";
        assert_eq!(
            needs_restart(&shared.current(), &gateway(next))
                .iter()
                .map(|c| c.setting)
                .collect::<Vec<_>>(),
            ["server.max_connections", "spool.path"]
        );
        let changes = swap_in(&shared, gateway(next));
        assert_eq!(changes.len(), 2, "{changes:?}");
        let current = shared.current();
        assert_eq!(
            current.retry_timings(),
            (Duration::from_millis(50), Duration::from_millis(400)),
            "applied live"
        );
        assert_eq!(current.server().max_connections, 64, "kept until a restart");
        assert_eq!(
            current.spool_settings().path,
            std::path::Path::new("a.redb")
        );
    }
}
