use std::time::Duration;

use async_nats::jetstream;
use async_trait::async_trait;
use gate_core::{Action, Envelope, Sink};
use tokio::sync::Mutex;

use crate::config::NatsConfig;

const KIND: &str = "nats";

/// One connection, opened on first use and again after it failed.
#[derive(Debug)]
pub struct NatsSink {
    config: NatsConfig,
    context: Mutex<Option<jetstream::Context>>,
}

impl NatsSink {
    pub fn new(config: NatsConfig) -> Self {
        Self {
            config,
            context: Mutex::new(None),
        }
    }

    fn subject(&self, envelope: &Envelope) -> String {
        format!(
            "{}.{}",
            self.config.subject_prefix,
            envelope.notification.routing_key()
        )
    }

    async fn context(&self) -> Result<jetstream::Context, String> {
        let mut slot = self.context.lock().await;
        if let Some(context) = slot.as_ref() {
            return Ok(context.clone());
        }
        let url = String::from_utf8_lossy(self.config.url.expose()).into_owned();
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_millis(self.config.timeout_ms))
            // Fail the delivery now (it is spooled) instead of retrying inside.
            .retry_on_initial_connect()
            .max_reconnects(Some(0))
            .connect(url)
            .await
            // The client's errors name the server address, never the URL's
            // credentials.
            .map_err(|e| format!("cannot connect: {}", e.kind()))?;
        let context = jetstream::new(client);
        *slot = Some(context.clone());
        Ok(context)
    }

    async fn publish(&self, envelope: &Envelope) -> Result<(), (&'static str, String)> {
        let context = self.context().await.map_err(|e| ("connect", e))?;
        let payload =
            serde_json::to_vec(&envelope.notification).map_err(|e| ("serialise", e.to_string()))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", envelope.delivery.as_str());
        let ack = context
            .publish_with_headers(self.subject(envelope), headers, payload.into())
            .await
            .map_err(|e| ("publish", e.to_string()))?;
        ack.await.map_err(|e| ("no_ack", e.to_string()))?;
        Ok(())
    }
}

#[async_trait]
impl Sink for NatsSink {
    async fn deliver(&self, envelope: &Envelope) -> Action {
        let subject = self.subject(envelope);
        let timeout = Duration::from_millis(self.config.timeout_ms);
        match tokio::time::timeout(timeout, self.publish(envelope)).await {
            Ok(Ok(())) => {
                Action::delivered(KIND, subject, Some(envelope.notification.routing_key()))
            }
            Ok(Err((kind, message))) => {
                // The next delivery reconnects.
                self.context.lock().await.take();
                Action::failed(
                    KIND,
                    subject,
                    Some(envelope.notification.routing_key()),
                    kind,
                    message,
                )
            }
            Err(_) => {
                self.context.lock().await.take();
                Action::failed(
                    KIND,
                    subject,
                    Some(envelope.notification.routing_key()),
                    "timeout",
                    format!("no acknowledgement within {} ms", self.config.timeout_ms),
                )
            }
        }
    }

    async fn ready(&self) -> Result<(), String> {
        self.context().await.map(|_| ())
    }
}
