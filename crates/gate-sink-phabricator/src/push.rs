//! The repository URLs of a GitHub push payload.

use std::borrow::Cow;

use serde::Deserialize;

#[derive(Deserialize)]
struct Push<'a> {
    #[serde(borrow)]
    repository: Option<Repository<'a>>,
}

#[derive(Deserialize)]
struct Repository<'a> {
    #[serde(borrow)]
    full_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    clone_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ssh_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    html_url: Option<Cow<'a, str>>,
    #[serde(borrow)]
    git_url: Option<Cow<'a, str>>,
}

/// The pushed repository: a name for messages and every URL form GitHub
/// gives, since a mirror may have been set up with any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRepository {
    pub name: String,
    /// Sorted, without duplicates or empty values.
    pub uris: Vec<String>,
}

pub fn pushed_repository(raw: &str) -> Result<PushedRepository, String> {
    let push: Push<'_> =
        serde_json::from_str(raw).map_err(|e| format!("push payload is not readable: {e}"))?;
    let repository = push
        .repository
        .ok_or_else(|| "push payload has no repository".to_owned())?;
    let mut uris: Vec<String> = [
        &repository.clone_url,
        &repository.ssh_url,
        &repository.html_url,
        &repository.git_url,
    ]
    .into_iter()
    .flatten()
    .filter(|uri| !uri.trim().is_empty())
    .map(|uri| uri.trim().to_owned())
    .collect();
    uris.sort();
    uris.dedup();
    if uris.is_empty() {
        return Err("push payload has no repository url".into());
    }
    let name = repository.full_name.map_or_else(
        || uris.first().cloned().unwrap_or_default(),
        Cow::into_owned,
    );
    Ok(PushedRepository { name, uris })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_all_url_forms() {
        let raw = r#"{"ref":"refs/heads/main","repository":{"full_name":"acme/widgets",
            "clone_url":"https://github.com/acme/widgets.git","ssh_url":"git@github.com:acme/widgets.git",
            "html_url":"https://github.com/acme/widgets","git_url":"git://github.com/acme/widgets.git"}}"#;
        let repo = pushed_repository(raw).expect("repository");
        assert_eq!(repo.name, "acme/widgets");
        assert_eq!(
            repo.uris,
            [
                "git://github.com/acme/widgets.git",
                "git@github.com:acme/widgets.git",
                "https://github.com/acme/widgets",
                "https://github.com/acme/widgets.git",
            ]
        );
    }

    #[test]
    fn payloads_without_urls_are_errors() {
        assert!(pushed_repository("{}").is_err());
        assert!(pushed_repository(r#"{"repository":{"full_name":"a/b","html_url":""}}"#).is_err());
        assert!(pushed_repository("[1]").is_err());
    }
}
