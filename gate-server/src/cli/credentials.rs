//! The credentials a door expects for a body, as its own source declares
//! them (`Source::sign`): `simulate` and `deliveries replay` sign a request
//! to any linked source, built-in or third-party, without knowing it.

use gate_core::{Credential, DynSource, OpenDoor, Place, Registry};

/// Door keys the gateway reads itself; the source must not see them.
const GATEWAY_KEYS: [&str; 5] = [
    "sinks",
    "rate_limit",
    "spooled_status",
    "max_body_bytes",
    "insecure_allow_remote",
];

/// The door's table as its source reads it.
pub fn source_table(mut table: toml::Table) -> toml::Table {
    for key in GATEWAY_KEYS {
        table.remove(key);
    }
    table
}

/// The linked source of `kind`, or an error listing the linked ones.
pub fn source<'r>(registry: &'r Registry, kind: &str) -> Result<&'r dyn DynSource, String> {
    registry.source(kind).ok_or_else(|| {
        format!(
            "source {kind} is not linked into this build (linked: {})",
            registry.source_kinds().join(", ")
        )
    })
}

/// Open door `name` of `kind` from its configured table and sign `body`
/// for it.
pub fn for_door(
    registry: &Registry,
    kind: &str,
    name: &str,
    table: toml::Table,
    body: &[u8],
) -> Result<Vec<Credential>, String> {
    let source = source(registry, kind)?;
    let location = format!("sources.{kind}.doors.{name}");
    let door: OpenDoor = source
        .open_door(name, source_table(table), &location)
        .map_err(|e| e.to_string())?;
    Ok(source.sign(&door, body))
}

/// `query` with the query-parameter credentials appended.
pub fn with_query(query: Option<&str>, credentials: &[Credential]) -> Option<String> {
    let mut pairs = form_urlencoded::Serializer::new(query.unwrap_or_default().to_owned());
    let mut added = false;
    for credential in credentials.iter().filter(|c| c.place == Place::Query) {
        pairs.append_pair(&credential.name, &credential.value);
        added = true;
    }
    if added {
        Some(pairs.finish())
    } else {
        query.map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_credentials_are_appended_headers_are_not() {
        let credentials = [
            Credential::token_query("token", "a b&c"),
            Credential::signature_header("X-Sig", "abc"),
        ];
        assert_eq!(
            with_query(Some("x=1"), &credentials).as_deref(),
            Some("x=1&token=a+b%26c")
        );
        assert_eq!(
            with_query(None, &credentials).as_deref(),
            Some("token=a+b%26c")
        );
        assert_eq!(
            with_query(Some("x=1"), &credentials[1..]).as_deref(),
            Some("x=1")
        );
    }

    #[test]
    fn gateway_keys_are_not_the_sources() {
        let table: toml::Table =
            toml::from_str("secrets = [\"k\"]\nsinks = [\"a\"]\nmax_body_bytes = 10")
                .expect("toml");
        let table = source_table(table);
        assert_eq!(table.keys().collect::<Vec<_>>(), ["secrets"]);
    }
}
