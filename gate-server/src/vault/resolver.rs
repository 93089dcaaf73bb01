//! The host side of `gate_core::SecretResolver`: how `vault:` references
//! that plugins meet while they are validated or built (in files of their
//! own, or in secret settings of the TOML file) are answered. A loaded
//! [`Config`](crate::Config) carries its [`SecretValues`]; `Gateway` runs
//! plugins inside their scope.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use gate_core::{ConfigError, Secret, SecretError, SecretResolver};

use super::reference::{Reference, PREFIX};

/// What answers `vault:` references for one loaded configuration.
#[derive(Clone, Default)]
pub struct SecretValues(Mode);

#[derive(Clone, Default)]
enum Mode {
    /// Loaded without the vault loader: `vault:` is refused, as before.
    #[default]
    None,
    /// `config check`: forms checked, nothing read.
    Checking(Arc<Checking>),
    /// Read from the vault when the configuration was loaded.
    Read(Arc<Read>),
}

impl fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Mode::None => f.write_str("SecretValues(none)"),
            Mode::Checking(_) => f.write_str("SecretValues(checking)"),
            Mode::Read(read) => write!(f, "SecretValues(read {})", read.values.len()),
        }
    }
}

impl SecretValues {
    /// Check references without reading them. `vault` is whether the
    /// `[vault]` settings could reach a vault (reported only when some
    /// reference needs one); `known` the references found in the TOML file.
    pub(crate) fn checking<'a>(
        known: impl IntoIterator<Item = &'a Reference>,
        vault: Result<(), String>,
    ) -> Self {
        Self(Mode::Checking(Arc::new(Checking {
            met: Mutex::new(known.into_iter().cloned().collect()),
            vault,
        })))
    }

    /// Answer from values read at load (`Err` holds why one could not be).
    pub(crate) fn read(values: HashMap<Reference, Result<String, String>>) -> Self {
        Self(Mode::Read(Arc::new(Read { values })))
    }

    /// Whether the values were read at load (by `load_with_secrets`).
    pub(crate) fn is_read(&self) -> bool {
        matches!(self.0, Mode::Read(_))
    }

    /// Run `f` (plugin validation or building) with these answers.
    pub fn scope<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.0 {
            Mode::None => f(),
            Mode::Checking(checking) => {
                gate_core::with_secret_resolver(Arc::clone(checking) as Arc<dyn SecretResolver>, f)
            }
            Mode::Read(read) => {
                gate_core::with_secret_resolver(Arc::clone(read) as Arc<dyn SecretResolver>, f)
            }
        }
    }

    /// The references met so far while checking.
    pub(crate) fn met(&self) -> BTreeSet<Reference> {
        match &self.0 {
            Mode::Checking(checking) => checking.met.lock().map(|m| m.clone()).unwrap_or_default(),
            _ => BTreeSet::new(),
        }
    }

    /// While checking: the `[vault]` problem, if any reference needs a vault.
    pub fn problems(&self) -> Vec<ConfigError> {
        let Mode::Checking(checking) = &self.0 else {
            return Vec::new();
        };
        let met = self.met();
        match (&checking.vault, met.iter().next()) {
            (Err(problem), Some(first)) => vec![ConfigError::new(
                "vault",
                format!(
                    "{} reference(s) to read (first vault:{first}): {problem}",
                    met.len()
                ),
            )],
            _ => Vec::new(),
        }
    }
}

struct Checking {
    met: Mutex<BTreeSet<Reference>>,
    vault: Result<(), String>,
}

impl SecretResolver for Checking {
    fn resolve(&self, reference: &str) -> Result<Secret, SecretError> {
        let parsed = parse(reference)?;
        if let Ok(mut met) = self.met.lock() {
            met.insert(parsed);
        }
        Ok(Secret::pending())
    }
}

struct Read {
    values: HashMap<Reference, Result<String, String>>,
}

impl SecretResolver for Read {
    fn resolve(&self, reference: &str) -> Result<Secret, SecretError> {
        let unreadable = |reason: &str| SecretError::Unreadable {
            reference: reference.to_owned(),
            reason: reason.to_owned(),
        };
        match self.values.get(&parse(reference)?) {
            // Used as read: a value is never taken for a reference again.
            Some(Ok(value)) => Secret::new(value.as_bytes()),
            Some(Err(reason)) => Err(unreadable(reason)),
            None => Err(unreadable("not read when the configuration was loaded")),
        }
    }
}

fn parse(reference: &str) -> Result<Reference, SecretError> {
    let spec = reference.strip_prefix(PREFIX).unwrap_or(reference);
    Reference::parse(spec).map_err(|reason| SecretError::InvalidReference {
        reference: reference.to_owned(),
        reason: format!("{reason} (expected vault:MOUNT/PATH#KEY)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checking_records_well_formed_references_and_reads_nothing() {
        let values = SecretValues::checking([], Err("no vault configured".into()));
        assert!(values.problems().is_empty(), "no reference, no problem");
        let secret = values
            .scope(|| Secret::resolve("vault:secret/gate/hub#source"))
            .expect("well formed");
        assert!(secret.is_pending());
        let err = values
            .scope(|| Secret::resolve("vault:secret/gate/hub"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid reference \"vault:secret/gate/hub\": missing #KEY (expected vault:MOUNT/PATH#KEY)"
        );
        assert_eq!(
            values.problems()[0].to_string(),
            "vault: 1 reference(s) to read (first vault:secret/gate/hub#source): no vault configured"
        );
    }

    #[test]
    fn read_values_answer_and_failures_name_the_reference_only() {
        let hub = Reference::parse("secret/gate/hub#source").expect("valid");
        let gone = Reference::parse("secret/gate/hub#gone").expect("valid");
        let values = SecretValues::read(HashMap::from([
            (hub, Ok("the-value".to_owned())),
            (gone, Err("no key \"gone\" in secret/gate/hub".to_owned())),
        ]));
        values.scope(|| {
            let read = Secret::resolve("vault:secret/gate/hub#source").expect("read");
            assert_eq!(read.expose(), b"the-value");
            assert_eq!(
                Secret::resolve("vault:secret/gate/hub#gone")
                    .unwrap_err()
                    .to_string(),
                "cannot read vault:secret/gate/hub#gone: no key \"gone\" in secret/gate/hub"
            );
            assert!(Secret::resolve("vault:secret/other#k").is_err());
        });
    }
}
