//! The registry links plugins by kind and refuses ambiguous or empty sets.

use std::sync::Arc;

use async_trait::async_trait;
use gate_core::{
    Action, Envelope, Notification, Received, Registry, RegistryError, Rejection, Request, Sink,
    SinkFactory, SinkRegistration, Source, SourceRegistration,
};

#[derive(Default)]
struct Echo;

#[gate_core::async_trait]
impl Source for Echo {
    const KIND: &'static str = "Echo";
    type DoorConfig = EchoDoor;
    type Door = EchoDoor;

    fn open_door(&self, _name: &str, config: EchoDoor) -> Result<EchoDoor, gate_core::PluginError> {
        if config.token.is_none() {
            return Err("token is required".into());
        }
        Ok(config)
    }

    async fn receive(
        &self,
        request: &Request<'_>,
        door: &gate_core::Door<'_, EchoDoor>,
    ) -> Result<Received, Rejection> {
        let token = door.settings.token.as_ref().expect("checked at open");
        if !token.matches(request.header("x-token").unwrap_or_default().as_bytes()) {
            return Err(Rejection::BadSignature);
        }
        let text = String::from_utf8(request.body.to_vec())
            .map_err(|_| Rejection::Malformed("body is not utf-8".into()))?;
        let group = door
            .mapping
            .group_for(&gate_core::Subject {
                repositories: &[],
                text: &text,
                administrative: false,
            })
            .to_owned();
        Ok(Received {
            delivery: None,
            event: "echo".into(),
            notifications: vec![Notification {
                service: "Echo".into(),
                project: door.name.into(),
                group,
                raw_content: gate_core::RawContent::from_string(
                    serde_json::to_string(&text).expect("string"),
                )
                .expect("strict json"),
                kind: "echo".into(),
                text,
                link: String::new(),
            }],
        })
    }
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct EchoDoor {
    token: Option<gate_core::Secret>,
}

#[derive(Debug)]
struct Nowhere;

#[async_trait]
impl Sink for Nowhere {
    async fn deliver(&self, envelope: &Envelope) -> Action {
        Action::skipped("nowhere", "nowhere", envelope.delivery.clone())
    }
}

impl SinkFactory for Nowhere {
    const KIND: &'static str = "nowhere";
    type Config = toml::Table;

    fn build(_name: &str, _config: toml::Table) -> Result<Arc<dyn Sink>, gate_core::PluginError> {
        Ok(Arc::new(Nowhere))
    }
}

static ECHO: SourceRegistration = SourceRegistration::of::<Echo>();
static ECHO_AGAIN: SourceRegistration = SourceRegistration::of::<Echo>();
static NOWHERE: SinkRegistration = SinkRegistration::of::<Nowhere>();
static NOWHERE_AGAIN: SinkRegistration = SinkRegistration::of::<Nowhere>();

#[test]
fn lists_kinds_and_builds_sinks() {
    let registry = Registry::from_registrations([&ECHO], [&NOWHERE]).expect("valid");
    assert_eq!(registry.source_kinds(), ["Echo"]);
    assert_eq!(registry.sink_kinds(), ["nowhere"]);
    assert!(
        registry.source("echo").is_none(),
        "kinds are case-sensitive"
    );
    let sink = registry
        .build_sink("nowhere", "n1", toml::Table::new(), "sinks.n1")
        .expect("builds");
    assert_eq!((sink.name.as_str(), sink.kind), ("n1", "nowhere"));
    let err = registry
        .build_sink("kafka", "k", toml::Table::new(), "sinks.k")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "sinks.k: unknown sink kind \"kafka\" (known: nowhere)"
    );
}

#[test]
fn duplicates_and_empty_sets_are_refused() {
    let err = Registry::from_registrations([&ECHO, &ECHO_AGAIN], [&NOWHERE]).unwrap_err();
    assert_eq!(err, RegistryError::DuplicateSource("Echo"));
    let err = Registry::from_registrations([&ECHO], [&NOWHERE, &NOWHERE_AGAIN]).unwrap_err();
    assert_eq!(err, RegistryError::DuplicateSink("nowhere"));
    let err = Registry::from_registrations([], [&NOWHERE]).unwrap_err();
    assert_eq!(err, RegistryError::NoSource);
    let err = Registry::from_registrations([&ECHO], []).unwrap_err();
    assert_eq!(err, RegistryError::NoSink);
}

#[tokio::test]
async fn doors_are_validated_and_described_without_secrets() {
    let source = gate_core::erase(Echo);
    let table: toml::Table = toml::from_str(
        "token = \"hunter2\"\ndefault_group = \"ops\"\n[[groups]]\ngroup = \"loud\"\nkeywords = [\"alarm\"]",
    )
    .expect("toml");
    let door = source
        .open_door("acme", table, "sources.Echo.doors.acme")
        .expect("opens");
    assert_eq!(door.described["token"], "set");
    assert_eq!(door.described["default_group"], "ops");
    assert!(!door.described.to_string().contains("hunter2"));

    let mut headers = http::HeaderMap::new();
    headers.insert("x-token", "hunter2".parse().expect("header"));
    let request = Request {
        headers: &headers,
        body: b"ALARM!",
        query: None,
        peer: None,
    };
    let received = source.receive(&request, &door).await.expect("accepted");
    assert_eq!(received.notifications[0].group, "loud");
    assert_eq!(received.notifications[0].project, "acme");

    let request = Request {
        body: b"calm",
        ..request
    };
    assert_eq!(
        source
            .receive(&request, &door)
            .await
            .expect("accepted")
            .notifications[0]
            .group,
        "ops"
    );

    let empty = http::HeaderMap::new();
    let unsigned = Request {
        headers: &empty,
        ..request
    };
    assert_eq!(
        source.receive(&unsigned, &door).await.unwrap_err(),
        Rejection::BadSignature
    );

    let err = source
        .open_door("bad", toml::Table::new(), "sources.Echo.doors.bad")
        .unwrap_err();
    assert_eq!(err.to_string(), "sources.Echo.doors.bad: token is required");
    let typo: toml::Table = toml::from_str("tokn = \"x\"").expect("toml");
    let err = source
        .open_door("typo", typo, "sources.Echo.doors.typo")
        .unwrap_err();
    assert!(err.message.contains("tokn"), "{err}");
}

/// A sink that refuses `size = 0` in `validate` and counts its builds.
#[derive(Debug)]
struct Counted;

static COUNTED_BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[async_trait]
impl Sink for Counted {
    async fn deliver(&self, envelope: &Envelope) -> Action {
        Action::skipped("counted", "counted", envelope.delivery.clone())
    }
}

#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct CountedConfig {
    size: u32,
}

impl SinkFactory for Counted {
    const KIND: &'static str = "counted";
    type Config = CountedConfig;

    fn validate(_name: &str, config: &CountedConfig) -> Result<(), gate_core::PluginError> {
        if config.size == 0 {
            return Err("size must be positive".into());
        }
        Ok(())
    }

    fn build(_name: &str, _config: CountedConfig) -> Result<Arc<dyn Sink>, gate_core::PluginError> {
        COUNTED_BUILDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(Arc::new(Counted))
    }
}

static COUNTED: SinkRegistration = SinkRegistration::of::<Counted>();

#[test]
fn validating_a_sink_never_builds_it_and_building_validates_first() {
    use std::sync::atomic::Ordering;
    let registry = Registry::from_registrations([&ECHO], [&COUNTED]).expect("valid");
    let table = |size: i64| toml::Table::from_iter([("size".to_owned(), toml::Value::from(size))]);
    let validated = registry
        .validate_sink("counted", "c", table(3), "sinks.c")
        .expect("valid settings");
    assert_eq!((validated.name.as_str(), validated.kind), ("c", "counted"));
    assert_eq!(validated.described["size"], 3);
    let refused = registry
        .validate_sink("counted", "c", table(0), "sinks.c")
        .unwrap_err();
    assert_eq!(refused.to_string(), "sinks.c: size must be positive");
    assert_eq!(
        COUNTED_BUILDS.load(Ordering::SeqCst),
        0,
        "validation built nothing"
    );

    let refused = registry
        .build_sink("counted", "c", table(0), "sinks.c")
        .unwrap_err();
    assert_eq!(refused.to_string(), "sinks.c: size must be positive");
    assert_eq!(
        COUNTED_BUILDS.load(Ordering::SeqCst),
        0,
        "refused before building"
    );
    registry
        .build_sink("counted", "c", table(3), "sinks.c")
        .expect("builds");
    assert_eq!(COUNTED_BUILDS.load(Ordering::SeqCst), 1);
    assert!(registry
        .validate_sink("kafka", "k", toml::Table::new(), "sinks.k")
        .is_err());
}
