//! The NATS sink checked by gate-core's sink kit against the NATS server of
//! this machine (127.0.0.1:4222, JetStream on): a stream of this test's own
//! receives what the sink publishes.

use async_nats::jetstream;
use async_trait::async_trait;
use gate_core::sink_kit::{check_sink, SinkUnderTest};
use gate_example_nats_sink::{NatsConfig, NatsSinkFactory};

const NATS: &str = "nats://127.0.0.1:4222";

struct Stream {
    prefix: String,
    stream: jetstream::stream::Stream,
}

impl Stream {
    async fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let prefix = format!("kit{}x{nanos}", std::process::id());
        let client = async_nats::connect(NATS)
            .await
            .unwrap_or_else(|e| panic!("NATS must run at {NATS} (JetStream on): {e}"));
        let context = jetstream::new(client);
        let stream = context
            .create_stream(jetstream::stream::Config {
                name: prefix.to_uppercase(),
                subjects: vec![format!("{prefix}.>")],
                max_age: std::time::Duration::from_secs(600),
                ..Default::default()
            })
            .await
            .expect("create the test's stream");
        Self { prefix, stream }
    }
}

#[async_trait]
impl SinkUnderTest for Stream {
    type Factory = NatsSinkFactory;

    fn working(&self) -> NatsConfig {
        let prefix = &self.prefix;
        toml::from_str(&format!(
            "url = \"nats://127.0.0.1:4222\"\nsubject_prefix = {prefix:?}"
        ))
        .expect("nats settings")
    }

    fn failing(&self) -> NatsConfig {
        let prefix = &self.prefix;
        toml::from_str(&format!(
            "url = \"nats://127.0.0.1:1\"\ntimeout_ms = 1500\nsubject_prefix = {prefix:?}"
        ))
        .expect("nats settings")
    }

    async fn received(&self) -> Vec<String> {
        let mut stream = self.stream.clone();
        let last = stream
            .info()
            .await
            .expect("stream info")
            .state
            .last_sequence;
        let mut ids = Vec::new();
        for sequence in 1..=last {
            if let Ok(message) = stream.get_raw_message(sequence).await {
                if let Some(id) = message.headers.get("Nats-Msg-Id") {
                    ids.push(id.to_string());
                }
            }
        }
        ids
    }
}

#[tokio::test]
async fn the_nats_sink_passes_the_sink_kit() {
    let stream = Stream::new().await;
    check_sink::<NatsSinkFactory>(&stream).await;
    let context = jetstream::new(async_nats::connect(NATS).await.expect("connect"));
    let _ = context.delete_stream(stream.prefix.to_uppercase()).await;
}

#[test]
fn config_check_refuses_bad_settings_without_connecting() {
    use gate_core::SinkFactory;
    let parse = |text: &str| -> gate_example_nats_sink::NatsConfig {
        toml::from_str(text).expect("deserialises")
    };
    let bad_url = parse("url = \"http://127.0.0.1:4222\"");
    assert!(NatsSinkFactory::validate("n", &bad_url).is_err());
    let bad_prefix = parse("url = \"nats://127.0.0.1:1\"\nsubject_prefix = \"a.*\"");
    assert!(NatsSinkFactory::validate("n", &bad_prefix).is_err());
    // A closed port is not a configuration error: validate does no I/O.
    let closed = parse("url = \"nats://127.0.0.1:1\"");
    assert!(NatsSinkFactory::validate("n", &closed).is_ok());
}
