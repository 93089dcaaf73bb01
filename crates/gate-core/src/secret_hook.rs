//! The host's hook for secret references gate-core cannot read itself
//! (`vault:...`). A plugin resolves every credential with
//! [`Secret::resolve`] (or by deserialising a [`Secret`]), whether it comes
//! from the TOML configuration or from a file of its own; while the host
//! validates or builds plugins inside [`with_secret_resolver`], references of
//! a host scheme go to the host's resolver. Plugins never talk to a vault,
//! and a third-party plugin gets the same references as a built-in one.
//!
//! The resolver is scoped to the current thread because validation and
//! building are synchronous calls of the host (`SinkFactory::validate`,
//! `build`, door opening): nothing of a plugin's signatures has to change,
//! and serde's `Deserialize for Secret` reaches it too.

use std::cell::RefCell;
use std::sync::Arc;

use crate::{Secret, SecretError};

/// Reference schemes the host resolves (gate-core reads `env:` and `file:`).
const HOST_SCHEMES: &[&str] = &["vault:"];

/// How a host answers references of its schemes.
pub trait SecretResolver: Send + Sync {
    /// `reference` is the whole configured text (`vault:secret/gate/hub#source`).
    /// Return the value ([`Secret::new`]); while only checking, a
    /// [`Secret::pending`] once its form is valid; or an error naming the
    /// reference, never a value.
    fn resolve(&self, reference: &str) -> Result<Secret, SecretError>;
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<dyn SecretResolver>>> = const { RefCell::new(None) };
}

/// The scheme of `spec` if the host resolves it.
pub(crate) fn host_scheme(spec: &str) -> Option<&'static str> {
    HOST_SCHEMES.iter().copied().find(|s| spec.starts_with(s))
}

/// The current resolver's answer; `None` outside any [`with_secret_resolver`].
pub(crate) fn resolve(spec: &str) -> Option<Result<Secret, SecretError>> {
    let resolver = CURRENT.with(|current| current.borrow().clone())?;
    Some(resolver.resolve(spec))
}

/// Restores the previous resolver when the scope ends, panics included.
struct Restore(Option<Arc<dyn SecretResolver>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

/// Run `f` with `resolver` answering host references on this thread (the
/// host wraps plugin validation and building in it).
pub fn with_secret_resolver<T>(resolver: Arc<dyn SecretResolver>, f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|current| current.borrow_mut().replace(resolver));
    let _restore = Restore(previous);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers `vault:ok` with a value, `vault:later` as pending.
    struct Fixed;

    impl SecretResolver for Fixed {
        fn resolve(&self, reference: &str) -> Result<Secret, SecretError> {
            match reference {
                "vault:ok" => Secret::new("from-the-host"),
                "vault:later" => Ok(Secret::pending()),
                other => Err(SecretError::Unreadable {
                    reference: other.into(),
                    reason: "no such key".into(),
                }),
            }
        }
    }

    #[test]
    fn host_references_go_to_the_scoped_resolver_only() {
        assert_eq!(
            Secret::resolve("vault:ok"),
            Err(SecretError::UnsupportedScheme("vault:".into()))
        );
        with_secret_resolver(Arc::new(Fixed), || {
            assert_eq!(
                Secret::resolve("vault:ok").expect("read").expose(),
                b"from-the-host"
            );
            let pending = Secret::resolve("vault:later").expect("checked");
            assert!(pending.is_pending() && !pending.matches(b""));
            assert_eq!(
                Secret::resolve("vault:x").unwrap_err().to_string(),
                "cannot read vault:x: no such key"
            );
            // Inline values are not the host's business.
            assert!(!Secret::resolve("inline").expect("inline").is_pending());
        });
        assert!(Secret::resolve("vault:ok").is_err(), "the scope ended");
    }

    #[test]
    fn a_panic_inside_the_scope_still_restores_the_previous_resolver() {
        let caught = std::panic::catch_unwind(|| {
            with_secret_resolver(Arc::new(Fixed), || panic!("plugin bug"))
        });
        assert!(caught.is_err());
        assert!(Secret::resolve("vault:ok").is_err());
    }
}
