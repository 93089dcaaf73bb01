//! The one-line text of a push notification.

use crate::payload::Push;

/// `octocat pushed acme/widgets:1.2.0 to Docker Hub`; the tag and pusher are
/// left out gracefully when Docker Hub does not send them.
pub fn push_text(push: &Push<'_>) -> String {
    let pusher = push
        .push_data
        .pusher
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or("someone");
    let repository = &push.repository.repo_name;
    match push.push_data.tag.as_deref().filter(|t| !t.is_empty()) {
        Some(tag) => format!("{pusher} pushed {repository}:{tag} to Docker Hub"),
        None => format!("{pusher} pushed {repository} to Docker Hub"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::parse;

    #[test]
    fn names_pusher_repository_and_tag() {
        let push = parse(
            r#"{"push_data":{"pusher":"octocat","tag":"1.2.0"},"repository":{"repo_name":"acme/widgets"}}"#,
        )
        .expect("valid");
        assert_eq!(
            push_text(&push),
            "octocat pushed acme/widgets:1.2.0 to Docker Hub"
        );
    }

    #[test]
    fn missing_pusher_and_tag_still_read_well() {
        let push = parse(
            r#"{"push_data":{"pusher":"","tag":null},"repository":{"repo_name":"acme/widgets"}}"#,
        )
        .expect("valid");
        assert_eq!(
            push_text(&push),
            "someone pushed acme/widgets to Docker Hub"
        );
    }
}
