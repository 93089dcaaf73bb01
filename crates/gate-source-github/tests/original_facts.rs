//! Every fact the original PHP service's texts carried is still in ours
//! (issue 12: richer is welcome, lossy is not). Each case names the sample,
//! the facts its text must contain and the link the original gave.

mod common;

use common::{accepted, payload};

struct Case {
    event: &'static str,
    sample: &'static str,
    facts: &'static [&'static str],
    link: &'static str,
}

const CASES: &[Case] = &[
    // `{full_name} has been forked to {forkee}`, link the fork.
    Case {
        event: "fork",
        sample: "fork",
        facts: &["acme/widgets", "hubot/widgets"],
        link: "https://github.com/hubot/widgets",
    },
    // `New tag on {full_name}: {ref}`, link `/releases/tag/{ref}`.
    Case {
        event: "create",
        sample: "create-tag",
        facts: &["tag", "acme/widgets", "v1.4.0"],
        link: "https://github.com/acme/widgets/releases/tag/v1.4.0",
    },
    // `Removed tag on …`, link `/tags`; branches: `/branches`.
    Case {
        event: "delete",
        sample: "delete-tag",
        facts: &["tag", "acme/widgets"],
        link: "https://github.com/acme/widgets/tags",
    },
    Case {
        event: "delete",
        sample: "delete-branch",
        facts: &["branch", "acme/widgets"],
        link: "https://github.com/acme/widgets/branches",
    },
    // `{committer} committed {title} (authored by {author})`.
    Case {
        event: "push",
        sample: "push-one-commit-authored-by-other",
        facts: &["Fix rounding of widget prices", "(authored by hubot)"],
        link: "https://github.com/acme/widgets/commit/fe05bcdcdc4928012781a5f1a2a77cbb5398e106",
    },
    // `New repository {full_name} (fork) — {description}`.
    Case {
        event: "repository",
        sample: "repository-created-fork",
        facts: &[
            "created",
            "acme/widgets-fork",
            " (fork)",
            "Widgets for every occasion",
        ],
        link: "https://github.com/acme/widgets-fork",
    },
    Case {
        event: "repository",
        sample: "repository-publicized",
        facts: &["acme/widgets", "public", "Widgets for every occasion"],
        link: "https://github.com/acme/widgets",
    },
    // `{full_name} default branch is now '{new}' instead of '{old}'.`
    Case {
        event: "repository",
        sample: "repository-edited-default-branch",
        facts: &["acme/widgets", "default branch", "master", "main"],
        link: "https://github.com/acme/widgets",
    },
    // `{sender} starred {full_name}`, link the user.
    Case {
        event: "watch",
        sample: "watch-started",
        facts: &["hubot", "starred", "acme/widgets"],
        link: "https://github.com/hubot",
    },
    // `{login} added a comment to issue #{n} — {title}: {body}`.
    Case {
        event: "issue_comment",
        sample: "issue-comment-created",
        facts: &[
            "hubot",
            "issue #12",
            "Widgets explode when spun counter-clockwise",
            "I can reproduce this",
        ],
        link: "https://github.com/acme/widgets/issues/12#issuecomment-1577001001",
    },
    Case {
        event: "issue_comment",
        sample: "issue-comment-deleted",
        facts: &[
            "deleted",
            "issue #12",
            "Widgets explode when spun counter-clockwise",
        ],
        link: "https://github.com/acme/widgets/issues/12#issuecomment-1577001003",
    },
    // `« {zen} » — GitHub Webhooks ping zen aphorism.`
    Case {
        event: "ping",
        sample: "ping",
        facts: &["Design for failure."],
        // The original linked nothing; the hook's settings say more.
        link: "https://github.com/acme/widgets/settings/hooks/483920145",
    },
    // `Status of {sha}: {context} — {description} — {state}`.
    Case {
        event: "status",
        sample: "status-failure",
        facts: &["862a51f", "ci/jenkins", "Build #1234 failed: 3 tests broke", "failed"],
        link: "https://jenkins.acme.example/job/widgets/1234/",
    },
    // `{sender} has assigned the pull request #{n} — {title} to {assignee}`.
    Case {
        event: "pull_request",
        sample: "pull-request-merged",
        facts: &["#42", "Add the colour picker"],
        link: "https://github.com/acme/widgets/pull/42",
    },
    // `{login} added a comment to {sha}: {body}`.
    Case {
        event: "commit_comment",
        sample: "commit-comment",
        facts: &["hubot", "862a51f", "Should this be `u16`?"],
        link: "https://github.com/acme/widgets/commit/862a51f8b6294a4b0729a7c5c929bfd67068d962#commitcomment-160000001",
    },
];

#[tokio::test]
async fn every_fact_of_the_original_texts_is_kept() {
    let mut failures = Vec::new();
    for case in CASES {
        let body = payload(case.sample);
        let received = accepted(case.event, "application/json", body.as_bytes()).await;
        let n = &received.notifications[0];
        for fact in case.facts {
            if !n.text.contains(fact) {
                failures.push(format!("{}: {fact:?} missing in {:?}", case.sample, n.text));
            }
        }
        if n.link != case.link {
            failures.push(format!(
                "{}: link {} instead of {}",
                case.sample, n.link, case.link
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
