//! Finding the Diffusion repositories that mirror a set of URIs, and asking
//! them to fetch.

use gate_conduit::cache::{Cached, TtlCache};
use gate_conduit::{Conduit, ConduitError};
use serde::Deserialize;
use serde_json::json;

// Owned: Conduit results are parsed after the envelope, from a short-lived
// buffer; a search answer is a few small records.
#[derive(Deserialize)]
struct SearchResult {
    #[serde(default)]
    data: Vec<Found>,
}

#[derive(Deserialize)]
struct Found {
    phid: String,
    #[serde(default)]
    fields: Fields,
}

#[derive(Deserialize, Default)]
struct Fields {
    #[serde(default)]
    status: Option<String>,
}

/// Mirrors of a repository, by the sorted list of its URIs.
pub type MirrorCache = TtlCache<Vec<String>, Vec<String>>;

/// PHIDs of the active Diffusion repositories having any of `uris`
/// (Diffusion normalises URIs, so `.git` suffixes and schemes may differ).
pub async fn mirrors(
    conduit: &Conduit,
    cache: &MirrorCache,
    uris: &[String],
) -> Result<Vec<String>, ConduitError> {
    let key = uris.to_vec();
    if let Cached::Fresh(phids) = cache.get(&key) {
        return Ok(phids);
    }
    let result: SearchResult = conduit
        .call(
            "diffusion.repository.search",
            json!({"constraints": {"uris": uris}}),
        )
        .await?;
    let phids: Vec<String> = result
        .data
        .into_iter()
        .filter(|repo| repo.fields.status.as_deref() != Some("inactive"))
        .map(|repo| repo.phid)
        .collect();
    cache.insert(key, phids.clone());
    Ok(phids)
}

pub async fn look_soon(conduit: &Conduit, phids: &[String]) -> Result<(), ConduitError> {
    conduit
        .call::<serde_json::Value>("diffusion.looksoon", json!({"repositories": phids}))
        .await
        .map(drop)
}
