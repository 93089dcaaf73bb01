//! Phabricator: Herald JSON (HMAC with the hook key) and feed.http-hooks
//! forms (token in the query, or `X-Gate-Token` with variant bit 0), both
//! credentials right/wrong/absent at once; no Conduit, so nothing awaits.
#![no_main]

use std::sync::OnceLock;

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_fuzz::gate::{headers_for, set};
use gate_fuzz::{check_outcome, Auth, Expect, Gate, Input};
use libfuzzer_sys::fuzz_target;

const HOOK_KEY: &str = "fuzz-phabricator-hook-key";
const TOKEN: &str = "fuzz-phabricator-feed-token";

const DOOR: &str = r#"
hook_key = "fuzz-phabricator-hook-key"
accept_feed_hooks = true
token = "fuzz-phabricator-feed-token"
[[groups]]
group = "ops"
keywords = ["outage"]
"#;

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| {
        Gate::new(
            gate_core::erase(gate_source_phabricator::PhabricatorSource),
            DOOR,
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let mut headers = headers_for(&input);
    let (key, token) = match input.auth {
        Auth::Right => (Some(HOOK_KEY), Some(TOKEN)),
        Auth::Wrong => (Some("not-the-hook-key"), Some("not-the-feed-token")),
        Auth::Absent => (None, None),
    };
    if let Some(key) = key {
        let signature = sign_hmac_hex(HmacAlgorithm::Sha256, key.as_bytes(), input.body);
        set(
            &mut headers,
            "x-phabricator-webhook-signature",
            signature.as_bytes(),
        );
    }
    let query = match token {
        Some(token) if input.bit(0) => {
            set(&mut headers, "x-gate-token", token.as_bytes());
            None
        }
        Some(token) => Some(format!("token={token}")),
        None => None,
    };
    let outcome = gate().receive(&headers, input.body, query.as_deref(), None);
    let expect = Expect {
        auth: input.auth,
        raw_is_object: true,
    };
    if let Some(notifications) = check_outcome(outcome, expect) {
        assert_eq!(notifications.len(), 1);
        assert!(!notifications[0].kind.is_empty());
        assert_eq!(notifications[0].link, "");
    }
});
