//! Jenkins: token right/wrong/absent, presented (variant bits 0-1) in
//! `X-Gate-Token`, as a bearer token, in the query, or as Basic credentials
//! (which must not count); some jobs only report failures.
#![no_main]

use std::sync::OnceLock;

use gate_fuzz::gate::{headers_for, set};
use gate_fuzz::{check_outcome, Auth, Expect, Gate, Input};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-jenkins-token-0123456789";

const DOOR: &str = r#"
token = "fuzz-jenkins-token-0123456789"
only_failures = ["nightly-*", "platform/*-pr"]
[[groups]]
group = "release"
repositories = ["*-release"]
"#;

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate::new(gate_core::erase(gate_source_jenkins::Jenkins), DOOR))
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let mut headers = headers_for(&input);
    let token = match input.auth {
        Auth::Right => Some(TOKEN),
        Auth::Wrong => Some("fuzz-jenkins-token-012345678"),
        Auth::Absent => None,
    };
    let mut query = None;
    let mut basic = false;
    if let Some(token) = token {
        match input.variant & 0b11 {
            0 => set(&mut headers, "x-gate-token", token.as_bytes()),
            1 => set(
                &mut headers,
                "authorization",
                format!("Bearer {token}").as_bytes(),
            ),
            2 => query = Some(format!("token={token}")),
            _ => {
                basic = true;
                set(
                    &mut headers,
                    "authorization",
                    format!("Basic {token}").as_bytes(),
                );
            }
        }
    }
    let outcome = gate().receive(&headers, input.body, query.as_deref(), None);
    let expect = Expect {
        // Basic credentials are no token: such a request must be refused.
        auth: if basic { Auth::Absent } else { input.auth },
        raw_is_object: true,
    };
    if let Some(notifications) = check_outcome(outcome, expect) {
        assert!(notifications.len() <= 1);
        for notification in &notifications {
            assert_eq!(
                notification.raw_content.get().as_bytes(),
                input.body.trim_ascii()
            );
        }
    }
});
