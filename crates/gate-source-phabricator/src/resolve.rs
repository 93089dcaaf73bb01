//! What Conduit knows about an object: its name and link (`phid.query`) and
//! its projects (the application's `*.search` with the projects attachment,
//! then `project.search`). Projects are cached; when Conduit fails, the last
//! known answer is used, and without one the object has no projects.

use std::time::Duration;

use gate_conduit::cache::{Cached, TtlCache};
use gate_conduit::{Conduit, ConduitError};
use serde::Deserialize;
use serde_json::{json, Value};

/// Objects whose projects are remembered at once.
const CACHE_CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct Resolver {
    conduit: Conduit,
    projects: TtlCache<String, Vec<String>>,
}

/// An object as `phid.query` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ObjectInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "fullName")]
    pub full_name: String,
    #[serde(default)]
    pub uri: String,
}

// Owned: Conduit results are small and parsed once.
#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct SearchResult<T> {
    #[serde(default)]
    data: Vec<T>,
}

#[derive(Deserialize)]
struct WithProjects {
    #[serde(default)]
    attachments: Attachments,
}

#[derive(Deserialize, Default)]
struct Attachments {
    #[serde(default)]
    projects: ProjectsAttachment,
}

#[derive(Deserialize, Default)]
struct ProjectsAttachment {
    #[serde(default, rename = "projectPHIDs")]
    project_phids: Vec<String>,
}

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    fields: ProjectFields,
}

#[derive(Deserialize, Default)]
struct ProjectFields {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    slug: Option<String>,
}

/// The search method that can attach projects to objects of a PHID type.
fn search_method(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "TASK" => "maniphest.search",
        "DREV" => "differential.revision.search",
        "CMIT" => "diffusion.commit.search",
        "REPO" => "diffusion.repository.search",
        "WIKI" => "phriction.document.search",
        "PSTE" => "paste.search",
        _ => return None,
    })
}

impl Resolver {
    pub fn new(conduit: Conduit, ttl: Duration) -> Self {
        Self {
            conduit,
            projects: TtlCache::new(ttl, CACHE_CAPACITY),
        }
    }

    /// Name, full name and URI; `None` when Conduit fails or does not know
    /// the object (the caller falls back to the PHID).
    pub async fn object(&self, phid: &str) -> Option<ObjectInfo> {
        let answer: Result<Value, _> = self
            .conduit
            .call("phid.query", json!({"phids": [phid]}))
            .await;
        match answer {
            // An empty result is `[]` (PHP's empty array), so look up by key.
            Ok(result) => result
                .get(phid)
                .and_then(|info| ObjectInfo::deserialize(info).ok()),
            Err(error) => {
                tracing::warn!(%error, phid, "phid.query failed");
                None
            }
        }
    }

    /// Names (then slugs) of the object's projects.
    pub async fn projects(&self, phid: &str, kind: &str) -> Vec<String> {
        let stale = match self.projects.get(&phid.to_owned()) {
            Cached::Fresh(names) => return names,
            Cached::Stale(names) => Some(names),
            Cached::Missing => None,
        };
        match self.fetch_projects(phid, kind).await {
            Ok(names) => {
                self.projects.insert(phid.to_owned(), names.clone());
                names
            }
            Err(error) => {
                tracing::warn!(%error, phid, "cannot resolve projects, using last known");
                stale.unwrap_or_default()
            }
        }
    }

    async fn fetch_projects(&self, phid: &str, kind: &str) -> Result<Vec<String>, ConduitError> {
        let project_phids = if kind == "PROJ" {
            vec![phid.to_owned()]
        } else if let Some(method) = search_method(kind) {
            let found: SearchResult<WithProjects> = self
                .conduit
                .call(
                    method,
                    json!({"constraints": {"phids": [phid]}, "attachments": {"projects": true}}),
                )
                .await?;
            found
                .data
                .into_iter()
                .flat_map(|object| object.attachments.projects.project_phids)
                .collect()
        } else {
            Vec::new()
        };
        if project_phids.is_empty() {
            return Ok(Vec::new());
        }
        let projects: SearchResult<Project> = self
            .conduit
            .call(
                "project.search",
                json!({"constraints": {"phids": project_phids}}),
            )
            .await?;
        let mut names = Vec::new();
        let mut slugs = Vec::new();
        for project in projects.data {
            names.extend(project.fields.name);
            slugs.extend(project.fields.slug);
        }
        for slug in slugs {
            if !names.contains(&slug) {
                names.push(slug);
            }
        }
        Ok(names)
    }
}
