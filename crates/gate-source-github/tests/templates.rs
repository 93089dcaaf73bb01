//! Door text templates: rendering, validation at `open_door`.

mod common;

use common::{headers, open, payload, send, source, SECRET};

async fn text_of(door_toml: &str, event: &str, body: &str) -> (String, String) {
    let source = source();
    let door = open(source.as_ref(), door_toml).expect("door opens");
    let h = headers(event, "application/json", SECRET, body.as_bytes());
    let received = send(source.as_ref(), &door, &h, body.as_bytes())
        .await
        .expect("accepted");
    let n = &received.notifications[0];
    (n.text.clone(), n.group.clone())
}

fn door_with(templates: &str) -> String {
    format!("secrets = [{SECRET:?}]\n[templates]\n{templates}")
}

#[tokio::test]
async fn templates_replace_the_text_of_their_event_only() {
    let door = door_with(
        r##"push = "[{repository}] {sender} pushed {count} to {branch}{tag} ({sha}): {message} {{{event}}}"
issues = "#{number} {title} is {state} ({action} by {sender}) {url}""##,
    );
    let (text, _) = text_of(&door, "push", &payload("push-three-commits")).await;
    assert_eq!(
        text,
        "[acme/widgets] octocat pushed 3 to main (862a51f): Release the colour picker to everyone: \
         remove the feature flag and the old pick… {push}"
    );
    let (text, _) = text_of(&door, "push", &payload("push-tag")).await;
    assert_eq!(
        text,
        "[acme/widgets] octocat pushed 0 to v1.4.0 (8e1ec21): Prepare 1.4.0 {push}"
    );
    let (text, _) = text_of(&door, "issues", &payload("issues-opened")).await;
    assert_eq!(
        text,
        "#12 Widgets explode when spun counter-clockwise is open (opened by octocat) \
         https://github.com/acme/widgets/issues/12"
    );
    // No template for pull_request: the built-in text.
    let (text, _) = text_of(&door, "pull_request", &payload("pull-request-merged")).await;
    assert_eq!(
        text,
        "octocat merged pull request #42 in acme/widgets: Add the colour picker"
    );
}

#[tokio::test]
async fn the_default_template_covers_events_without_a_renderer() {
    let door = door_with(r#"default = "{event}/{action} on {repository} by {sender}""#);
    let gizmo = r#"{"action":"created","repository":{"full_name":"acme/widgets"},"sender":{"login":"octocat"}}"#;
    let (text, _) = text_of(&door, "gizmo", gizmo).await;
    assert_eq!(text, "gizmo/created on acme/widgets by octocat");
    // Every documented event has its own text, which `default` leaves alone.
    let (text, _) = text_of(&door, "deployment_status", &payload("deployment-status")).await;
    assert_eq!(
        text,
        "deployment of main to production in acme/widgets succeeded"
    );
    let (text, _) = text_of(&door, "star", &payload("star-created")).await;
    assert_eq!(text, "hubot starred acme/widgets");
}

#[tokio::test]
async fn events_read_by_path_offer_their_title_and_templates_stay_one_line() {
    let door = door_with(
        "deployment_status = \"{title}: {action}\\n{sender}\"\n\
         default = \"{sender}\\r\\n{event}\"",
    );
    let (text, _) = text_of(&door, "deployment_status", &payload("deployment-status")).await;
    assert_eq!(text, "production: created github-actions[bot]");
    let (text, _) = text_of(&door, "gizmo", "{}").await;
    assert_eq!(text, "someone gizmo");
    // A template repeating long values is capped like a built-in text.
    let door = door_with(&format!("issues = \"{}\"", "{title} ".repeat(10)));
    let (text, _) = text_of(&door, "issues", &payload("issues-opened")).await;
    assert_eq!(text.chars().count(), 300, "{text}");
    assert!(text.ends_with('…') && text.starts_with("Widgets explode"));
}

#[tokio::test]
async fn group_keywords_see_the_templated_text() {
    // Rules come before [templates]: a table after it would land inside it.
    let door = format!(
        "secrets = [{SECRET:?}]\n[[groups]]\ngroup = \"releases\"\nkeywords = [\"ship it\"]\n\
         [templates]\nrelease = \"ship it: {{tag}} ({{title}})\""
    );
    let (text, group) = text_of(&door, "release", &payload("release-published")).await;
    assert_eq!(text, "ship it: v1.4.0 (Colourful)");
    assert_eq!(group, "releases");
}

#[test]
fn bad_templates_are_refused_when_the_door_opens() {
    let source = source();
    let cases = [
        (
            r#"push = "{sender} {password}""#,
            "templates.push: unknown placeholder {password} (allowed: sender, repository, event, \
             action, url, ref, branch, tag, count, message, sha)",
        ),
        (
            r#"issues = "{count} issues""#,
            "templates.issues: unknown placeholder {count}",
        ),
        (
            r#"push = "{sender pushed""#,
            "templates.push: unclosed '{' at byte 0",
        ),
        (
            r#"push = "a } b""#,
            "templates.push: unmatched '}' at byte 2",
        ),
        (r#"push = """#, "templates.push: template is empty"),
        (
            r#"pushes = "{sender}""#,
            "templates.pushes: no such event (templates exist for: ping, push,",
        ),
    ];
    for (templates, expected) in cases {
        let err = open(source.as_ref(), &door_with(templates)).unwrap_err();
        assert!(
            err.message.starts_with(expected),
            "{templates}: {}",
            err.message
        );
    }
}
