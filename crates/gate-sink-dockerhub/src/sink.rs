use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use gate_conduit::http::Client;
use gate_core::{Action, Envelope, Sink};

use crate::call::{call, CallError, Endpoints};
use crate::load::{base_url, trigger_map};
use crate::map::{Trigger, TriggerMap};
use crate::partial::Partial;
use crate::push;
use crate::DockerHubSinkConfig;

const KIND: &str = "dockerhub";
/// Deliveries with some images still to build, remembered at once.
const PARTIAL_CAPACITY: usize = 4096;

/// A configured set of Docker Hub build triggers.
#[derive(Debug)]
pub struct DockerHubSink {
    map: TriggerMap,
    endpoints: Endpoints,
    timeout: Duration,
    client: Client,
    partial: Partial,
    triggered: AtomicU64,
    failed: AtomicU64,
    images: u64,
}

/// Every check of the settings, the maps read from their files included.
pub fn check(config: &DockerHubSinkConfig) -> Result<(), String> {
    checked(config).map(|_| ())
}

fn checked(config: &DockerHubSinkConfig) -> Result<(Endpoints, TriggerMap), String> {
    if config.timeout_ms == 0 {
        return Err("timeout_ms must be greater than 0".into());
    }
    let endpoints = Endpoints {
        base_url: base_url("base_url", &config.base_url)?,
        legacy_base_url: base_url("legacy_base_url", &config.legacy_base_url)?,
    };
    Ok((endpoints, trigger_map(config)?))
}

impl DockerHubSink {
    /// Reads the map files; no network access.
    pub fn new(config: DockerHubSinkConfig) -> Result<Self, String> {
        let (endpoints, map) = checked(&config)?;
        let images = map.entries().map(|(_, t)| t.len() as u64).sum();
        if images == 0 {
            tracing::warn!("docker hub sink: the trigger map is empty, every push will be skipped");
        }
        Ok(Self {
            map,
            endpoints,
            timeout: Duration::from_millis(config.timeout_ms),
            client: Client::shared().map_err(|e| e.to_string())?,
            partial: Partial::new(PARTIAL_CAPACITY),
            triggered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            images,
        })
    }

    async fn trigger(
        &self,
        (index, trigger): (usize, &Trigger),
        reference: &push::GitRef,
        delivery: &str,
    ) -> Result<(), CallError> {
        let outcome = call(
            &self.client,
            &self.endpoints,
            trigger,
            reference,
            self.timeout,
        )
        .await;
        match &outcome {
            Ok(()) => {
                self.triggered.fetch_add(1, Ordering::Relaxed);
                // At once, not after the others: the gateway's deadline may
                // drop this delivery before every call has answered.
                self.partial.record(delivery, index);
                tracing::info!(image = %trigger.image, %reference, "docker hub build triggered");
            }
            Err(error) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(image = %trigger.image, kind = error.kind, error = %error.message, "docker hub trigger failed");
            }
        }
        outcome
    }
}

#[gate_core::async_trait]
impl Sink for DockerHubSink {
    async fn deliver(&self, envelope: &Envelope) -> Action {
        if envelope.source != "GitHub" || envelope.event != "push" {
            return Action::skipped(KIND, "docker hub", "only github pushes trigger builds");
        }
        let push = match push::parse(envelope.notification.raw_content.get()) {
            Ok(push) => push,
            Err(reason) => return Action::skipped(KIND, "docker hub", reason),
        };
        let mapped = self.map.lookup(&push.repository);
        if mapped.is_empty() {
            return Action::skipped(
                KIND,
                push.repository.as_str(),
                format!("{} has no docker hub image", push.repository),
            );
        }
        let all_images = images(&mapped);
        if push.deleted {
            return Action::skipped(
                KIND,
                all_images,
                format!("{} was deleted: nothing to build", push.reference),
            );
        }
        // Positions in the repository's list identify triggers across
        // attempts (two may build the same image name through both APIs).
        let selected: Vec<(usize, &Trigger)> = mapped
            .into_iter()
            .enumerate()
            .filter(|(_, t)| t.filter.admits(&push.reference))
            .collect();
        if selected.is_empty() {
            return Action::skipped(
                KIND,
                all_images,
                format!(
                    "{} of {} matches no branch or tag filter",
                    push.reference, push.repository
                ),
            );
        }
        let target = images(&selected.iter().map(|(_, t)| *t).collect::<Vec<_>>());
        let routing_key = Some(envelope.notification.routing_key());
        let delivery = format!(
            "{}/{}/{}",
            envelope.source, envelope.door, envelope.delivery
        );
        let already = self.partial.sent(&delivery);
        let (reference, key) = (&push.reference, delivery.as_str());
        let calls = selected
            .iter()
            .filter(|(index, _)| !already.contains(index))
            .map(|&(index, t)| async move {
                let outcome = self.trigger((index, t), reference, key).await;
                (t.image.as_str(), outcome)
            });
        let failures: Vec<(&str, CallError)> = join_all(calls)
            .await
            .into_iter()
            .filter_map(|(image, outcome)| outcome.err().map(|e| (image, e)))
            .collect();
        let Some((_, first)) = failures.first() else {
            self.partial.forget(&delivery);
            return Action::delivered(KIND, target, routing_key);
        };
        let kind = first.kind;
        let message = failures
            .iter()
            .map(|(image, e)| format!("{image}: {}", e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Action::failed(KIND, target, routing_key, kind, message)
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("builds_triggered", self.triggered.load(Ordering::Relaxed)),
            ("trigger_failures", self.failed.load(Ordering::Relaxed)),
            ("images_mapped", self.images),
        ]
    }
}

/// `a/x, a/y`: the images an action is about (never an id).
fn images(triggers: &[&Trigger]) -> String {
    let mut names: Vec<&str> = Vec::with_capacity(triggers.len());
    for trigger in triggers {
        if !names.contains(&trigger.image.as_str()) {
            names.push(&trigger.image);
        }
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::map::Format;

    #[test]
    fn images_are_listed_once_in_map_order() {
        let mut map = TriggerMap::parse(
            &json!({"Acme/W": [{"source": "s", "trigger": "t"}, {"image": "acme/w-slim", "source": "s", "trigger": "t"}]}),
            Format::Triggers,
            "t",
        )
        .expect("map");
        map.merge(
            TriggerMap::parse(
                &json!({"acme/w": {"token": "x", "image": "Acme/W"}}),
                Format::Tokens,
                "k",
            )
            .expect("map"),
        );
        assert_eq!(images(&map.lookup("acme/w")), "Acme/W, acme/w-slim");
    }
}
