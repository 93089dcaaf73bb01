use std::collections::BTreeMap;
use std::fmt;

use crate::source::{chain, clean_toml_error, Erased};
use crate::{BuiltSink, ConfigError, DynSource, SinkFactory, Source, ValidatedSink};

/// A source kind as linked into the binary. Made by [`register_source!`].
#[derive(Debug)]
pub struct SourceRegistration {
    kind: &'static str,
    make: fn() -> Box<dyn DynSource>,
}

impl SourceRegistration {
    /// The registration of source `S` (what [`register_source!`] submits).
    pub const fn of<S: Source>() -> Self {
        Self {
            kind: S::KIND,
            make: make_source::<S>,
        }
    }

    /// The source's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

fn make_source<S: Source>() -> Box<dyn DynSource> {
    erase(S::default())
}

/// A source as the registry holds it; also how tests open doors of a source
/// without a server.
pub fn erase<S: Source>(source: S) -> Box<dyn DynSource> {
    Box::new(Erased(source))
}

/// A sink kind as linked into the binary. Made by [`register_sink!`].
#[derive(Debug)]
pub struct SinkRegistration {
    kind: &'static str,
    build: fn(&str, toml::Table, &str) -> Result<BuiltSink, ConfigError>,
    validate: fn(&str, toml::Table, &str) -> Result<ValidatedSink, ConfigError>,
}

impl SinkRegistration {
    /// The registration of sink factory `F` (what [`register_sink!`] submits).
    pub const fn of<F: SinkFactory>() -> Self {
        Self {
            kind: F::KIND,
            build: build_sink::<F>,
            validate: validate_sink::<F>,
        }
    }

    /// The sink's kind.
    pub fn kind(&self) -> &'static str {
        self.kind
    }
}

/// The settings, validated, and their description (secrets as `"set"`).
fn sink_config<F: SinkFactory>(
    name: &str,
    table: toml::Table,
    location: &str,
) -> Result<(F::Config, serde_json::Value), ConfigError> {
    let config: F::Config = toml::Value::Table(table)
        .try_into()
        .map_err(|e| ConfigError::new(location, clean_toml_error(&e)))?;
    F::validate(name, &config).map_err(|error| ConfigError::new(location, chain(&error)))?;
    let described = serde_json::to_value(&config)
        .map_err(|e| ConfigError::new(location, format!("cannot describe sink: {e}")))?;
    Ok((config, described))
}

fn validate_sink<F: SinkFactory>(
    name: &str,
    table: toml::Table,
    location: &str,
) -> Result<ValidatedSink, ConfigError> {
    let (_, described) = sink_config::<F>(name, table, location)?;
    Ok(ValidatedSink {
        name: name.to_owned(),
        kind: F::KIND,
        described,
    })
}

fn build_sink<F: SinkFactory>(
    name: &str,
    table: toml::Table,
    location: &str,
) -> Result<BuiltSink, ConfigError> {
    let (config, described) = sink_config::<F>(name, table, location)?;
    let sink = F::build(name, config).map_err(|error| ConfigError::new(location, chain(&error)))?;
    Ok(BuiltSink {
        name: name.to_owned(),
        kind: F::KIND,
        described,
        sink,
    })
}

inventory::collect!(SourceRegistration);
inventory::collect!(SinkRegistration);

/// Register a [`Source`] so that a binary linking this crate serves it.
///
/// ```ignore
/// gate_core::register_source!(MySource);
/// ```
#[macro_export]
macro_rules! register_source {
    ($source:ty) => {
        $crate::__private::inventory::submit! {
            $crate::SourceRegistration::of::<$source>()
        }
    };
}

/// Register a [`SinkFactory`] so that a binary linking this crate can use it.
#[macro_export]
macro_rules! register_sink {
    ($factory:ty) => {
        $crate::__private::inventory::submit! {
            $crate::SinkRegistration::of::<$factory>()
        }
    };
}

/// Why the set of linked plugins cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No source crate is linked.
    #[error("no source is registered: the binary must link at least one source crate (`use gate_source_github as _;`)")]
    NoSource,
    /// No sink crate is linked.
    #[error("no sink is registered: the binary must link at least one sink crate (`use gate_sink_file as _;`)")]
    NoSink,
    /// Two sources have this kind.
    #[error("source kind {0:?} is registered twice")]
    DuplicateSource(&'static str),
    /// Two sinks have this kind.
    #[error("sink kind {0:?} is registered twice")]
    DuplicateSink(&'static str),
}

/// The plugins available to a gateway, by kind name.
pub struct Registry {
    sources: BTreeMap<&'static str, Box<dyn DynSource>>,
    sinks: BTreeMap<&'static str, &'static SinkRegistration>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("sources", &self.source_kinds())
            .field("sinks", &self.sink_kinds())
            .finish()
    }
}

impl Registry {
    /// Every plugin linked into this binary. Fails on an empty registry or a
    /// kind registered twice, which would otherwise make routing ambiguous.
    pub fn from_inventory() -> Result<Self, RegistryError> {
        Self::from_registrations(
            inventory::iter::<SourceRegistration>,
            inventory::iter::<SinkRegistration>,
        )
    }

    /// A registry from an explicit list, for embedders that want to choose.
    pub fn from_registrations<'a>(
        sources: impl IntoIterator<Item = &'a SourceRegistration>,
        sinks: impl IntoIterator<Item = &'static SinkRegistration>,
    ) -> Result<Self, RegistryError> {
        let mut source_map = BTreeMap::new();
        for registration in sources {
            let source = (registration.make)();
            if source_map.insert(registration.kind, source).is_some() {
                return Err(RegistryError::DuplicateSource(registration.kind));
            }
        }
        let mut sink_map = BTreeMap::new();
        for registration in sinks {
            if sink_map.insert(registration.kind, registration).is_some() {
                return Err(RegistryError::DuplicateSink(registration.kind));
            }
        }
        if source_map.is_empty() {
            return Err(RegistryError::NoSource);
        }
        if sink_map.is_empty() {
            return Err(RegistryError::NoSink);
        }
        Ok(Self {
            sources: source_map,
            sinks: sink_map,
        })
    }

    /// Registered source kinds, sorted.
    pub fn source_kinds(&self) -> Vec<&'static str> {
        self.sources.keys().copied().collect()
    }

    /// Registered sink kinds, sorted.
    pub fn sink_kinds(&self) -> Vec<&'static str> {
        self.sinks.keys().copied().collect()
    }

    /// The source of `kind`, if linked.
    pub fn source(&self, kind: &str) -> Option<&dyn DynSource> {
        self.sources.get(kind).map(|s| s.as_ref())
    }

    /// Build a sink instance of a registered kind (validated first).
    pub fn build_sink(
        &self,
        kind: &str,
        name: &str,
        table: toml::Table,
        location: &str,
    ) -> Result<BuiltSink, ConfigError> {
        (self.sink_registration(kind, location)?.build)(name, table, location)
    }

    /// Check a sink's settings as [`Registry::build_sink`] would, without
    /// building it: no connection, no file (`config check`, `config show`).
    pub fn validate_sink(
        &self,
        kind: &str,
        name: &str,
        table: toml::Table,
        location: &str,
    ) -> Result<ValidatedSink, ConfigError> {
        (self.sink_registration(kind, location)?.validate)(name, table, location)
    }

    fn sink_registration(
        &self,
        kind: &str,
        location: &str,
    ) -> Result<&'static SinkRegistration, ConfigError> {
        self.sinks.get(kind).copied().ok_or_else(|| {
            ConfigError::new(
                location,
                format!(
                    "unknown sink kind {kind:?} (known: {})",
                    self.sink_kinds().join(", ")
                ),
            )
        })
    }
}
