//! The credentials a source expects, computed from the door's own settings
//! so that `simulate` needs no hand-made signature: the body is signed with
//! the door's first secret, or its first token is presented.

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::Secret;

/// A header to add, and whether its value may be shown (signatures may;
/// tokens are the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub header: &'static str,
    pub value: String,
    pub secret: bool,
}

/// Signatures or tokens for `kind`'s door `table` over `body`. Unknown kinds
/// get `X-Gate-Token` from a `token` key, the convention of token sources.
pub fn for_door(kind: &str, table: &toml::Table, body: &[u8]) -> Result<Vec<Credential>, String> {
    let mut found = Vec::new();
    match kind {
        "GitHub" => {
            if let Some(key) = first(table, "secrets")? {
                found.push(signature("X-Hub-Signature-256", "sha256=", &key, body));
            }
        }
        "Notification" => {
            if let Some(key) = first(table, "secrets")? {
                found.push(signature("X-Gate-Signature", "sha256=", &key, body));
            } else if let Some(token) = first(table, "tokens")? {
                found.push(token_header(
                    "Authorization",
                    &format!("Bearer {}", text(&token)),
                ));
            }
        }
        "Phabricator" => {
            // Herald hooks check the signature, feed hooks the token; each
            // kind of hook ignores the other header.
            if let Some(key) = single(table, "hook_key")? {
                found.push(signature("X-Phabricator-Webhook-Signature", "", &key, body));
            }
            if let Some(token) = single(table, "token")? {
                found.push(token_header("X-Gate-Token", &text(&token)));
            }
        }
        _ => {
            if let Some(token) = single(table, "token")? {
                found.push(token_header("X-Gate-Token", &text(&token)));
            }
        }
    }
    Ok(found)
}

fn signature(header: &'static str, prefix: &str, key: &Secret, body: &[u8]) -> Credential {
    Credential {
        header,
        value: format!(
            "{prefix}{}",
            sign_hmac_hex(HmacAlgorithm::Sha256, key.expose(), body)
        ),
        secret: false,
    }
}

fn token_header(header: &'static str, value: &str) -> Credential {
    Credential {
        header,
        value: value.to_owned(),
        secret: true,
    }
}

fn text(secret: &Secret) -> String {
    String::from_utf8_lossy(secret.expose()).into_owned()
}

/// The first entry of a list of secrets (`secrets = [...]`).
fn first(table: &toml::Table, key: &str) -> Result<Option<Secret>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::Array(items)) => match items.first() {
            None => Ok(None),
            Some(toml::Value::String(spec)) => resolve(key, spec).map(Some),
            Some(_) => Err(format!("{key}[0] is not a string")),
        },
        Some(_) => Err(format!("{key} is not a list")),
    }
}

/// A single secret (`token = "..."`).
fn single(table: &toml::Table, key: &str) -> Result<Option<Secret>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(spec)) => resolve(key, spec).map(Some),
        Some(_) => Err(format!("{key} is not a string")),
    }
}

fn resolve(key: &str, spec: &str) -> Result<Secret, String> {
    Secret::resolve(spec).map_err(|e| format!("{key}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).expect("toml")
    }

    #[test]
    fn github_signs_with_the_first_secret() {
        let found = for_door("GitHub", &table("secrets = [\"k1\", \"k2\"]"), b"{}").expect("ok");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].header, "X-Hub-Signature-256");
        assert_eq!(
            found[0].value,
            format!(
                "sha256={}",
                sign_hmac_hex(HmacAlgorithm::Sha256, b"k1", b"{}")
            )
        );
        assert!(!found[0].secret);
    }

    #[test]
    fn native_prefers_a_signature_and_falls_back_to_a_bearer_token() {
        let signed = for_door(
            "Notification",
            &table("secrets = [\"k\"]\ntokens = [\"t\"]"),
            b"x",
        )
        .expect("ok");
        assert_eq!(signed[0].header, "X-Gate-Signature");
        assert!(signed[0].value.starts_with("sha256="));
        let bearer = for_door("Notification", &table("tokens = [\"tok\"]"), b"x").expect("ok");
        assert_eq!(bearer[0].header, "Authorization");
        assert_eq!(bearer[0].value, "Bearer tok");
        assert!(bearer[0].secret);
    }

    #[test]
    fn phabricator_signs_without_prefix_and_token_sources_present_their_token() {
        let found = for_door("Phabricator", &table("hook_key = \"hk\""), b"{}").expect("ok");
        assert_eq!(found[0].header, "X-Phabricator-Webhook-Signature");
        assert_eq!(
            found[0].value,
            sign_hmac_hex(HmacAlgorithm::Sha256, b"hk", b"{}")
        );
        for kind in ["DockerHub", "Jenkins"] {
            let found = for_door(kind, &table("token = \"abc\""), b"{}").expect("ok");
            assert_eq!(found[0].header, "X-Gate-Token");
            assert_eq!(found[0].value, "abc");
        }
        assert!(
            for_door("GitHub", &table("insecure_no_signature = true"), b"{}")
                .expect("ok")
                .is_empty()
        );
    }

    #[test]
    fn unresolvable_secrets_are_errors_naming_the_key() {
        let err = for_door(
            "GitHub",
            &table("secrets = [\"env:GATE_TEST_SURELY_UNSET_SIM\"]"),
            b"{}",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "secrets: environment variable GATE_TEST_SURELY_UNSET_SIM is not set"
        );
    }
}
