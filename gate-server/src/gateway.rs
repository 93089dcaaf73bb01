//! The gateway built from a configuration: doors opened by their sources,
//! sinks built by their plugins, all validated before the first request.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gate_core::{BuiltSink, ConfigError, DynSource, OpenDoor, Registry, ValidatedSink};
use http::StatusCode;
use serde_json::json;

use crate::compat::{self, CompatConfig};
use crate::config::{Config, DedupConfig, ServerConfig, SpoolConfig};
use crate::deliveries::DeliveriesConfig;
use crate::github_recovery::Recovery;
use crate::rate_limit::{RateLimit, RateLimitConfig};
use crate::state::GateState;

/// Every problem found in a configuration, so that `config check` reports
/// them all at once rather than one per run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// A door and where its notifications go (`S`: the sinks as built, or
/// only as validated by `config check`).
#[derive(Debug)]
pub struct DoorEntry<S = BuiltSink> {
    pub door: OpenDoor,
    pub sinks: Vec<S>,
    pub rate_limit: Option<RateLimit>,
    /// The largest body this door reads: its own `max_body_bytes`, else
    /// the server's.
    pub max_body_bytes: u64,
    /// The door takes requests with no credential (an `insecure_*` switch).
    pub anonymous: bool,
    /// `insecure_allow_remote = true`: an anonymous door that also serves
    /// peers other than loopback.
    pub allow_remote: bool,
    /// The answer's status when an event waits in the spool (200 or 202).
    pub spooled_status: StatusCode,
}

impl DoorEntry {
    /// An anonymous door serves only loopback peers unless it says
    /// otherwise; an unknown peer is not known to be loopback.
    pub fn admits_peer(&self, peer: Option<std::net::IpAddr>) -> bool {
        !self.anonymous
            || self.allow_remote
            || peer.is_some_and(|ip| ip.to_canonical().is_loopback())
    }
}

/// The name of the door that serves every door name not configured.
pub const WILDCARD_DOOR: &str = "*";

/// How a request's door name found its door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorMatch {
    /// A door of that name is configured.
    Named,
    /// The source's wildcard door (`*`) serves it.
    Wildcard,
}

/// Everything a configuration describes, before it becomes a gateway.
struct Assembled<S> {
    doors: BTreeMap<String, BTreeMap<String, DoorEntry<S>>>,
    sinks: BTreeMap<String, S>,
    github_recovery: Recovery,
    /// `Source/door` of the original `/config` report's services, in order.
    services: Vec<(String, String)>,
    warnings: Vec<String>,
}

/// A valid configuration, checked but not built (`config check` and
/// `config show`).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub doors: usize,
    pub sinks: usize,
    /// What works but should not stay so: every `insecure_*` switch, and
    /// doors needing no credential on a non-loopback listen address
    /// ([`Gateway::warnings`]).
    pub warnings: Vec<String>,
    /// `sources` and `sinks` as `/config` shows them, secrets as `"set"`.
    pub described: serde_json::Value,
}

/// What a description needs of a sink, built or only validated.
trait SinkView {
    fn name(&self) -> &str;
    fn kind(&self) -> &'static str;
    fn described(&self) -> &serde_json::Value;
}

impl SinkView for BuiltSink {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn described(&self) -> &serde_json::Value {
        &self.described
    }
}

impl SinkView for ValidatedSink {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn described(&self) -> &serde_json::Value {
        &self.described
    }
}

/// The configured gateway: what the HTTP service and the CLI work on.
pub struct Gateway {
    registry: Arc<Registry>,
    server: ServerConfig,
    doors: BTreeMap<String, BTreeMap<String, DoorEntry>>,
    sinks: BTreeMap<String, BuiltSink>,
    /// `[spool]` and `[dedup]` as configured: read by the redelivery loop
    /// and by a reload, which applies what can change live.
    spool: SpoolConfig,
    dedup: DedupConfig,
    /// Held by each delivery running on this gateway's sinks (they outlive
    /// their requests), so that a reload closes the sinks only after them.
    delivery_leases: Arc<()>,
    state: Arc<GateState>,
    compat: CompatConfig,
    /// `Source/door` of the original `/config` report's services, in order.
    services: Vec<(String, String)>,
    warnings: Vec<String>,
    deliveries: DeliveriesConfig,
    github_recovery: Arc<Recovery>,
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("sources", &self.doors.keys().collect::<Vec<_>>())
            .field("sinks", &self.sinks.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Validate and build everything. Runs inside the Tokio runtime, since
    /// sinks may start background tasks (the AMQP sink connects eagerly).
    ///
    /// The gateway has no spool (a sink failure is answered 503) until
    /// [`Gateway::with_state`] gives it one.
    pub fn build(mut config: Config, registry: Arc<Registry>) -> Result<Self, ConfigErrors> {
        let state = Arc::new(GateState::in_memory(&config));
        let Assembled {
            doors,
            sinks,
            github_recovery,
            services,
            warnings,
        } = assemble(
            &mut config,
            &registry,
            |registry, kind, name, table, location| {
                registry.build_sink(kind, name, table, location)
            },
        )?;
        Ok(Self {
            registry,
            deliveries: config.deliveries,
            server: config.server,
            doors,
            sinks,
            spool: config.spool,
            dedup: config.dedup,
            delivery_leases: Arc::new(()),
            state,
            github_recovery: Arc::new(github_recovery),
            compat: config.compat,
            services,
            warnings,
        })
    }

    /// Everything [`Gateway::build`] checks, without building: no sink is
    /// started (no connection, no file created), no spool opened.
    pub fn validate(mut config: Config, registry: &Registry) -> Result<Checked, ConfigErrors> {
        validated(&mut config, registry)
    }

    /// [`Gateway::validate`], and that the spool file can be created or
    /// written (`config check`). Every problem is reported.
    pub fn check(mut config: Config, registry: &Registry) -> Result<Checked, ConfigErrors> {
        let checked = validated(&mut config, registry);
        let mut errors = match &checked {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.clone(),
        };
        if config.spool.enabled {
            if let Err(message) = gate_sink_file::check_creatable(&config.spool.path) {
                errors.push(ConfigError::new("spool.path", message));
            } else if let Err(refused) = gate_spool::check_path(&config.spool.path) {
                // An empty or foreign file there would stop `serve`.
                errors.push(ConfigError::new("spool.path", refused.to_string()));
            }
        }
        match checked {
            Ok(checked) if errors.is_empty() => Ok(checked),
            _ => Err(ConfigErrors(errors)),
        }
    }
}

/// Doors opened and sinks only validated; the spool is not looked at.
fn validated(config: &mut Config, registry: &Registry) -> Result<Checked, ConfigErrors> {
    let Assembled {
        doors,
        sinks,
        warnings,
        ..
    } = assemble(config, registry, |registry, kind, name, table, location| {
        registry.validate_sink(kind, name, table, location)
    })?;
    Ok(Checked {
        doors: doors.values().map(BTreeMap::len).sum(),
        sinks: sinks.len(),
        warnings: combined_warnings(&warnings, insecure_doors(config.server.listen, &doors)),
        described: json!({
            "sources": described_sources(&doors),
            "sinks": described_sinks(&sinks),
        }),
    })
}

/// Each source's doors with their settings and sink names.
fn described_sources<S: SinkView>(
    doors: &BTreeMap<String, BTreeMap<String, DoorEntry<S>>>,
) -> serde_json::Map<String, serde_json::Value> {
    doors
        .iter()
        .map(|(kind, doors)| {
            let doors: serde_json::Map<_, _> = doors
                .iter()
                .map(|(name, entry)| {
                    let mut described = entry.door.described.clone();
                    if let Some(object) = described.as_object_mut() {
                        let names: Vec<_> =
                            entry.sinks.iter().map(|s| s.name().to_owned()).collect();
                        object.insert("sinks".into(), json!(names));
                    }
                    (name.clone(), described)
                })
                .collect();
            (kind.clone(), json!({ "doors": doors }))
        })
        .collect()
}

/// Each sink's settings with its kind.
fn described_sinks<S: SinkView>(
    sinks: &BTreeMap<String, S>,
) -> serde_json::Map<String, serde_json::Value> {
    sinks
        .iter()
        .map(|(name, sink)| {
            let mut described = sink.described().clone();
            if let Some(object) = described.as_object_mut() {
                object.insert("kind".into(), json!(sink.kind()));
            }
            (name.clone(), described)
        })
        .collect()
}

/// Open every door and make every sink with `make_sink` (built or only
/// validated), collecting every problem.
fn assemble<S: MadeSink>(
    config: &mut Config,
    registry: &Registry,
    mut make_sink: impl FnMut(&Registry, &str, &str, toml::Table, &str) -> Result<S, ConfigError>,
) -> Result<Assembled<S>, ConfigErrors> {
    {
        // Declared, not opened: a door with a bad setting gets no second error.
        let github_doors = crate::github_recovery::github_door_names(config);
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let server_spooled_status =
            match compat::spooled_status(config.compat.spooled_status, "compat.spooled_status") {
                Ok(status) => status,
                Err(e) => {
                    errors.push(e);
                    StatusCode::ACCEPTED
                }
            };
        let mut sinks = BTreeMap::new();
        // Declared sinks whose settings failed: doors naming them get no
        // second, misleading "unknown sink" error.
        let broken_sinks: BTreeSet<String> = config.sinks.keys().cloned().collect();
        let mut companions: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, mut table) in std::mem::take(&mut config.sinks) {
            let location = format!("sinks.{name}");
            let kind = match table.remove("kind") {
                Some(toml::Value::String(kind)) => kind,
                Some(_) => {
                    errors.push(ConfigError::new(&location, "kind must be a string"));
                    continue;
                }
                None => {
                    errors.push(ConfigError::new(
                        &location,
                        format!(
                            "missing kind (one of: {})",
                            registry.sink_kinds().join(", ")
                        ),
                    ));
                    continue;
                }
            };
            match make_sink(registry, &kind, &name, table, &location) {
                Ok(sink) => {
                    for (companion_name, companion) in sink.companions(&name) {
                        if broken_sinks.contains(&companion_name) {
                            errors.push(ConfigError::new(
                                &location,
                                format!("its stream {companion_name:?} has the name of another sink: rename one"),
                            ));
                            continue;
                        }
                        companions
                            .entry(name.clone())
                            .or_default()
                            .push(companion_name.clone());
                        sinks.insert(companion_name, companion);
                    }
                    sinks.insert(name, sink);
                }
                Err(e) => errors.push(e),
            }
        }

        let broken_sinks: BTreeSet<&String> = broken_sinks
            .iter()
            .filter(|name| !sinks.contains_key(*name))
            .collect();
        let mut doors = BTreeMap::new();
        for (written_kind, section) in std::mem::take(&mut config.sources) {
            // An environment override can only write a source it adds in
            // lower case (GATE__SOURCES__GITHUB__... makes `github`).
            let kind = registry
                .source_kinds()
                .into_iter()
                .find(|known| known.eq_ignore_ascii_case(&written_kind))
                .map_or(written_kind, str::to_owned);
            let location = format!("sources.{kind}");
            if doors.contains_key(&kind) {
                errors.push(ConfigError::new(
                    &location,
                    "declared twice (the names differ only in case)",
                ));
                continue;
            }
            let Some(source) = registry.source(&kind) else {
                errors.push(ConfigError::new(
                    &location,
                    format!(
                        "unknown source (registered: {})",
                        registry.source_kinds().join(", ")
                    ),
                ));
                continue;
            };
            let mut opened = BTreeMap::new();
            for (door_name, mut table) in section.doors {
                let location = format!("{location}.doors.{door_name}");
                if let Err(message) = check_door_name(&door_name) {
                    errors.push(ConfigError::new(&location, message));
                    continue;
                }
                let sink_names = match table.remove("sinks") {
                    Some(value) => match value.try_into::<Vec<String>>() {
                        Ok(names) => names,
                        Err(_) => {
                            errors.push(ConfigError::new(
                                &location,
                                "sinks must be a list of sink names",
                            ));
                            continue;
                        }
                    },
                    None if !section.sinks.is_empty() => section.sinks.clone(),
                    None => config.server.default_sinks.clone(),
                };
                let rate_limit = match table.remove("rate_limit").map(|v| {
                    v.try_into::<RateLimitConfig>()
                        .map_err(|e| {
                            format!("rate_limit: {}", gate_core::without_values(e.message()))
                        })
                        .and_then(RateLimit::new)
                }) {
                    None => None,
                    Some(Ok(limit)) => Some(limit),
                    Some(Err(message)) => {
                        errors.push(ConfigError::new(&location, message));
                        continue;
                    }
                };
                let limits = match DoorLimits::take(&mut table, &config.server) {
                    Ok(limits) => limits,
                    Err(message) => {
                        errors.push(ConfigError::new(&location, message));
                        continue;
                    }
                };
                let spooled_status = match table.remove("spooled_status") {
                    None => server_spooled_status,
                    Some(value) => match value
                        .as_integer()
                        .and_then(|v| u16::try_from(v).ok())
                        .map(|v| compat::spooled_status(v, &location))
                    {
                        Some(Ok(status)) => status,
                        Some(Err(e)) => {
                            errors.push(e);
                            continue;
                        }
                        None => {
                            errors.push(ConfigError::new(
                                &location,
                                "spooled_status must be 200 or 202",
                            ));
                            continue;
                        }
                    },
                };
                // The door's own settings are still checked below.
                let wanted: Vec<String> = sink_names
                    .iter()
                    .filter(|name| !broken_sinks.contains(name))
                    .cloned()
                    .collect();
                let door_sinks = match resolve_sinks(&wanted, &sinks, &companions, &location) {
                    Ok(found) => found,
                    Err(_) if wanted.is_empty() && !sink_names.is_empty() => Vec::new(),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                match source.open_door(&door_name, table, &location) {
                    Ok(door)
                        if !known_groups_hold(
                            &config.server.known_groups,
                            &door,
                            &location,
                            &mut errors,
                        ) => {}
                    Ok(door) => {
                        let anonymous = source.accepts_anonymous(&door);
                        warnings.extend(insecure_switches(&door.described).map(|switch| {
                            format!(
                                "{location}: {switch} = true: anyone who can reach this door \
                                 can post notifications"
                            )
                        }));
                        opened.insert(
                            door_name,
                            DoorEntry {
                                door,
                                sinks: door_sinks,
                                rate_limit,
                                max_body_bytes: limits.max_body_bytes,
                                anonymous,
                                allow_remote: limits.allow_remote,
                                spooled_status,
                            },
                        );
                    }
                    Err(e) => errors.push(e),
                }
            }
            doors.insert(kind, opened);
        }
        if let Err(message) = config.dedup.checked_redis_url() {
            errors.push(ConfigError::new("dedup", message));
        }
        if config.dedup.store == crate::config::DedupStore::Redis
            && config.dedup.claim_ttl_ms <= config.server.delivery_deadline_ms
        {
            errors.push(ConfigError::new(
                "dedup.claim_ttl_ms",
                format!(
                    "must be longer than server.delivery_deadline_ms ({} ms): a claim expiring \
                     mid-delivery would let another gateway publish the event too",
                    config.server.delivery_deadline_ms
                ),
            ));
        }
        let github_recovery = Recovery::open(
            std::mem::take(&mut config.github_recovery),
            github_doors.iter().map(String::as_str),
            &mut errors,
        );
        errors.extend(check_server(&config.server, &doors));
        let named: Vec<(String, String)> = doors
            .iter()
            .flat_map(
                |(kind, doors): (&String, &BTreeMap<String, DoorEntry<S>>)| {
                    doors
                        .keys()
                        .filter(|name| name.as_str() != WILDCARD_DOOR)
                        .map(move |name| (kind.clone(), name.clone()))
                },
            )
            .collect();
        let services = compat::services(
            &config.compat.config_services,
            &named,
            "compat.config_services",
        )
        .unwrap_or_else(|e| {
            errors.extend(e);
            Vec::new()
        });
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        Ok(Assembled {
            doors,
            sinks,
            github_recovery,
            services,
            warnings,
        })
    }
}

impl Gateway {
    /// Use `state` (spool, delivery-id memory): the one opened at start,
    /// or the previous gateway's on a reload.
    pub fn with_state(mut self, state: Arc<GateState>) -> Self {
        self.state = state;
        self
    }

    pub fn state(&self) -> &Arc<GateState> {
        &self.state
    }

    pub fn sink(&self, name: &str) -> Option<&BuiltSink> {
        self.sinks.get(name)
    }

    pub fn server(&self) -> &ServerConfig {
        &self.server
    }

    pub fn spool_settings(&self) -> &SpoolConfig {
        &self.spool
    }

    pub fn dedup_settings(&self) -> &DedupConfig {
        &self.dedup
    }

    /// The first wait before retrying a failed sink, and the cap of its
    /// doubling.
    pub fn retry_timings(&self) -> (Duration, Duration) {
        let initial = self.spool.retry_initial_ms.max(1);
        let max = self.spool.retry_max_ms.max(initial);
        (Duration::from_millis(initial), Duration::from_millis(max))
    }

    /// A token a delivery holds while it uses this gateway's sinks.
    pub(crate) fn delivery_lease(&self) -> Arc<()> {
        Arc::clone(&self.delivery_leases)
    }

    /// Whether a request or a delivery still uses this gateway.
    pub(crate) fn in_use(self: &Arc<Self>) -> bool {
        Arc::strong_count(self) > 1 || Arc::strong_count(&self.delivery_leases) > 1
    }

    /// A reload keeps the settings that only a restart can change, so that
    /// what this gateway reports is what runs.
    pub(crate) fn keep_running_settings(&mut self, running: &Gateway) {
        self.server.listen = running.server.listen;
        self.server.max_connections = running.server.max_connections;
        self.server.header_read_timeout_ms = running.server.header_read_timeout_ms;
        self.spool.enabled = running.spool.enabled;
        self.spool.path.clone_from(&running.spool.path);
        self.spool.max_entries = running.spool.max_entries;
    }

    /// `[deliveries]`: what the recent-deliveries history keeps and who reads it.
    pub fn deliveries(&self) -> &DeliveriesConfig {
        &self.deliveries
    }

    /// `[github_recovery]`: the doors' hooks and the periodic mode.
    pub fn github_recovery(&self) -> &Arc<Recovery> {
        &self.github_recovery
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, shared: a reload builds the next gateway from it.
    pub(crate) fn registry_handle(&self) -> Arc<Registry> {
        Arc::clone(&self.registry)
    }

    /// The source of a kind, only when it is configured.
    pub fn source(&self, kind: &str) -> Option<&dyn DynSource> {
        self.doors.get(kind)?;
        self.registry.source(kind)
    }

    pub fn door(&self, kind: &str, door: &str) -> Option<&DoorEntry> {
        self.doors.get(kind)?.get(door)
    }

    /// The door that serves a request's door name: its own, else the
    /// source's wildcard door.
    pub fn door_for(&self, kind: &str, door: &str) -> Option<(&DoorEntry, DoorMatch)> {
        let doors = self.doors.get(kind)?;
        match doors.get(door) {
            Some(entry) if door != WILDCARD_DOOR => Some((entry, DoorMatch::Named)),
            _ => doors
                .get(WILDCARD_DOOR)
                .map(|entry| (entry, DoorMatch::Wildcard)),
        }
    }

    pub fn compat(&self) -> &CompatConfig {
        &self.compat
    }

    /// What works but should not stay so, one line each: every `insecure_*`
    /// switch, and doors that take requests with no credential while the
    /// server listens beyond loopback. `config check` prints them and
    /// `serve` logs them at start and on reload.
    pub fn warnings(&self) -> Vec<String> {
        combined_warnings(
            &self.warnings,
            insecure_doors(self.server.listen, &self.doors),
        )
    }

    /// `GET /config` in the original service's schema (see `compat.rs`).
    pub fn describe_original(&self) -> serde_json::Value {
        let mut gates: Vec<&str> = compat::ORIGINAL_GATES
            .iter()
            .copied()
            .filter(|kind| self.doors.contains_key(*kind))
            .collect();
        gates.extend(
            self.doors
                .keys()
                .map(String::as_str)
                .filter(|kind| !compat::ORIGINAL_GATES.contains(kind)),
        );
        let services: Vec<compat::Service> = self
            .services
            .iter()
            .map(|(kind, door)| compat::Service {
                gate: kind.clone(),
                door: door.clone(),
                instance: self
                    .door(kind, door)
                    .and_then(|entry| entry.door.described.get("conduit_url"))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect();
        compat::original_report(&gates, self.server.expose_config, &services)
    }

    pub fn sinks(&self) -> impl Iterator<Item = &BuiltSink> {
        self.sinks.values()
    }

    pub fn door_count(&self) -> usize {
        self.doors.values().map(BTreeMap::len).sum()
    }

    /// The configuration report of `GET /config` and `config show`: every
    /// value a plugin exposes, with secrets shown only as `"set"`/`"unset"`.
    pub fn describe(&self) -> serde_json::Value {
        let sources = described_sources(&self.doors);
        let sinks = described_sinks(&self.sinks);
        json!({
            "server": {
                "listen": self.server.listen.to_string(),
                "max_body_bytes": self.server.max_body_bytes,
                "header_read_timeout_ms": self.server.header_read_timeout_ms,
                "default_sinks": self.server.default_sinks,
            },
            "sources": sources,
            "sinks": sinks,
            "spool": self.state.spool.as_ref().map(|s| json!({ "path": s.path(), "depth": s.depth() })),
            "features": {
                "sources": self.registry.source_kinds(),
                "sinks": self.registry.sink_kinds(),
            },
        })
    }

    /// Flush and close every sink (end of a graceful shutdown).
    pub async fn close(&self) {
        for sink in self.sinks.values() {
            sink.sink.close().await;
        }
    }
}

/// One line per door: its `insecure_*` switches, joined with what the
/// listen address makes of an anonymous door when both concern it.
fn combined_warnings(switches: &[String], remote: Vec<String>) -> Vec<String> {
    let door_of = |line: &str| line.split(": ").next().unwrap_or_default().to_owned();
    let mut lines: Vec<String> = switches.to_vec();
    for line in remote {
        let door = door_of(&line);
        match lines.iter_mut().find(|kept| door_of(kept) == door) {
            Some(kept) => {
                kept.push_str("; ");
                kept.push_str(line[door.len()..].trim_start_matches(": "));
            }
            None => lines.push(line),
        }
    }
    lines
}

/// One line per door needing no credential when `listen` is not loopback.
fn insecure_doors<S>(
    listen: std::net::SocketAddr,
    doors: &BTreeMap<String, BTreeMap<String, DoorEntry<S>>>,
) -> Vec<String> {
    let listen = listen.ip();
    if listen.to_canonical().is_loopback() {
        return Vec::new();
    }
    doors
        .iter()
        .flat_map(|(kind, doors)| doors.iter().map(move |(name, entry)| (kind, name, entry)))
        .filter(|(_, _, entry)| entry.anonymous)
        .map(|(kind, name, entry)| {
            let location = format!("sources.{kind}.doors.{name}");
            if entry.allow_remote {
                format!(
                    "{location}: accepts requests with no credential from ANY address (insecure_allow_remote = true) while listening on {listen}"
                )
            } else {
                format!(
                    "{location}: accepts requests with no credential; listening on {listen}, it answers 403 to every peer but loopback"
                )
            }
        })
        .collect()
}

/// What `assemble` makes of a sink: built, or only validated.
trait MadeSink: Clone {
    /// The sink's companion streams as sinks of their own, named
    /// `<name>.<suffix>` (the AMQP raw stream).
    fn companions(&self, _name: &str) -> Vec<(String, Self)> {
        Vec::new()
    }
}

impl MadeSink for ValidatedSink {}

impl MadeSink for BuiltSink {
    fn companions(&self, name: &str) -> Vec<(String, Self)> {
        self.sink
            .companions()
            .into_iter()
            .map(|(suffix, sink)| {
                let companion = format!("{name}.{suffix}");
                let built = BuiltSink {
                    name: companion.clone(),
                    kind: self.kind,
                    described: json!({ "stream_of": name, "stream": suffix }),
                    sink,
                };
                (companion, built)
            })
            .collect()
    }
}

/// The door's sinks, each followed by its companion streams (listed once).
fn resolve_sinks<S: Clone>(
    names: &[String],
    sinks: &BTreeMap<String, S>,
    companions: &BTreeMap<String, Vec<String>>,
    location: &str,
) -> Result<Vec<S>, ConfigError> {
    if names.is_empty() {
        return Err(ConfigError::new(
            location,
            "no sinks: set sinks on the door, on its source, or server.default_sinks",
        ));
    }
    let mut seen: Vec<&String> = Vec::new();
    let mut resolved: Vec<S> = Vec::new();
    for name in names {
        if !sinks.contains_key(name) {
            return Err(ConfigError::new(
                location,
                format!("unknown sink {name:?} (not under [sinks])"),
            ));
        }
        let streams = companions.get(name).into_iter().flatten();
        for stream in std::iter::once(name).chain(streams) {
            if let (false, Some(sink)) = (seen.contains(&stream), sinks.get(stream)) {
                seen.push(stream);
                resolved.push(sink.clone());
            }
        }
    }
    Ok(resolved)
}

/// With `server.known_groups` set, every group a door can route to must be
/// in it; each stray group is reported. Returns whether the door passes.
fn known_groups_hold(
    known: &[String],
    door: &OpenDoor,
    location: &str,
    errors: &mut Vec<ConfigError>,
) -> bool {
    if known.is_empty() {
        return true;
    }
    let before = errors.len();
    for group in door.mapping.groups() {
        if !known.iter().any(|k| k == group) {
            errors.push(ConfigError::new(
                location,
                format!(
                    "unknown group {group:?} (server.known_groups: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    errors.len() == before
}

/// A door is one URL path segment; keep it to characters that need no
/// escaping so the configured name and the URL always agree.
fn check_door_name(name: &str) -> Result<(), String> {
    if name == WILDCARD_DOOR {
        return Ok(());
    }
    if name.is_empty() {
        return Err("door name is empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "door name {name:?} contains {bad:?}; use letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

/// The door keys the gateway reads itself, beside the source's own.
struct DoorLimits {
    max_body_bytes: u64,
    allow_remote: bool,
}

impl DoorLimits {
    fn take(table: &mut toml::Table, server: &ServerConfig) -> Result<Self, String> {
        let max_body_bytes = match table.remove("max_body_bytes") {
            None => server.max_body_bytes,
            Some(toml::Value::Integer(bytes)) if bytes > 0 => bytes.unsigned_abs(),
            Some(_) => return Err("max_body_bytes must be a positive number of bytes".into()),
        };
        let allow_remote = match table.remove("insecure_allow_remote") {
            None => false,
            Some(toml::Value::Boolean(allow)) => allow,
            Some(_) => return Err("insecure_allow_remote must be true or false".into()),
        };
        Ok(Self {
            max_body_bytes,
            allow_remote,
        })
    }
}

/// Limits that must agree with each other: a door whose largest body does
/// not fit in the budget could never be served.
fn check_server<S>(
    server: &ServerConfig,
    doors: &BTreeMap<String, BTreeMap<String, DoorEntry<S>>>,
) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let budget = server.max_body_bytes_in_flight;
    if server.max_body_bytes > budget {
        errors.push(ConfigError::new(
            "server.max_body_bytes_in_flight",
            format!(
                "{budget} is below server.max_body_bytes ({})",
                server.max_body_bytes
            ),
        ));
    }
    for (kind, doors) in doors {
        for (name, entry) in doors {
            if entry.max_body_bytes > budget {
                errors.push(ConfigError::new(
                    format!("sources.{kind}.doors.{name}"),
                    format!(
                        "max_body_bytes ({}) is above server.max_body_bytes_in_flight ({budget})",
                        entry.max_body_bytes
                    ),
                ));
            }
        }
    }
    for (key, value) in [
        ("first_byte_timeout_ms", server.first_byte_timeout_ms),
        ("header_read_timeout_ms", server.header_read_timeout_ms),
        ("idle_timeout_ms", server.idle_timeout_ms),
        ("body_read_timeout_ms", server.body_read_timeout_ms),
    ] {
        if value == 0 {
            errors.push(ConfigError::new(
                format!("server.{key}"),
                "must be greater than 0",
            ));
        }
    }
    errors
}

/// The `insecure_*` switches a door has turned on, from its description.
fn insecure_switches(described: &serde_json::Value) -> impl Iterator<Item = &str> {
    described
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, value)| key.starts_with("insecure_") && value.as_bool() == Some(true))
        .map(|(key, _)| key.as_str())
}
