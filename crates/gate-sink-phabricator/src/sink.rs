use std::time::Duration;

use gate_conduit::http::Client;
use gate_conduit::Conduit;
use gate_core::{Action, Envelope, Sink};

use crate::diffusion::{look_soon, mirrors, MirrorCache};
use crate::push::pushed_repository;
use crate::PhabricatorSinkConfig;

const KIND: &str = "phabricator";
/// Distinct GitHub repositories remembered at once.
const CACHE_CAPACITY: usize = 4096;

/// A configured Phabricator instance.
#[derive(Debug)]
pub struct PhabricatorSink {
    conduit: Conduit,
    cache: MirrorCache,
}

impl PhabricatorSink {
    pub fn new(config: PhabricatorSinkConfig) -> Result<Self, String> {
        if config.timeout_ms == 0 {
            return Err("timeout_ms must be greater than 0".into());
        }
        let client = Client::shared().map_err(|e| e.to_string())?;
        let conduit = Conduit::new(
            &config.conduit_url,
            config.token,
            client,
            Duration::from_millis(config.timeout_ms),
        )
        .map_err(|e| format!("conduit_url: {e}"))?;
        Ok(Self {
            conduit,
            cache: MirrorCache::new(
                Duration::from_secs(config.cache_ttl_seconds),
                CACHE_CAPACITY,
            ),
        })
    }
}

#[gate_core::async_trait]
impl Sink for PhabricatorSink {
    async fn deliver(&self, envelope: &Envelope) -> Action {
        let target = self.conduit.base();
        if envelope.source != "GitHub" || envelope.event != "push" {
            return Action::skipped(KIND, target, "only github pushes are forwarded");
        }
        let repository = match pushed_repository(envelope.notification.raw_content.get()) {
            Ok(repository) => repository,
            Err(reason) => return Action::skipped(KIND, target, reason),
        };
        let routing_key = Some(envelope.notification.routing_key());
        let failed = |e: gate_conduit::ConduitError| {
            Action::failed(KIND, target, routing_key.clone(), e.kind(), e.to_string())
        };
        let phids = match mirrors(&self.conduit, &self.cache, &repository.uris).await {
            Ok(phids) => phids,
            Err(e) => return failed(e),
        };
        if phids.is_empty() {
            return Action::skipped(
                KIND,
                target,
                format!("{} is not mirrored by phabricator", repository.name),
            );
        }
        match look_soon(&self.conduit, &phids).await {
            Ok(()) => Action::delivered(KIND, target, routing_key.clone()),
            Err(e) => failed(e),
        }
    }
}
