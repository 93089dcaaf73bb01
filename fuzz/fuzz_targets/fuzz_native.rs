//! Native notifications: HMAC signature (or a bearer token with variant bit
//! 0) right/wrong/absent; the tag is the `X-Gate-Delivery` id.
#![no_main]

use std::sync::OnceLock;

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_fuzz::gate::{headers_for, set};
use gate_fuzz::{check_outcome, Auth, Expect, Gate, Input};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const KEY: &str = "fuzz-native-key";
const TOKEN: &str = "fuzz-native-token-0123456789";

const DOOR: &str = r#"
secrets = ["fuzz-native-key"]
tokens = ["fuzz-native-token-0123456789"]
"#;

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate::new(gate_core::erase(gate_source_native::Native), DOOR))
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let mut headers = headers_for(&input);
    if !input.tag.is_empty() {
        set(&mut headers, "x-gate-delivery", input.tag);
    }
    let right = input.auth == Auth::Right;
    if input.auth != Auth::Absent {
        if input.bit(0) {
            let token = if right {
                TOKEN
            } else {
                "fuzz-native-token-0123456780"
            };
            set(
                &mut headers,
                "authorization",
                format!("Bearer {token}").as_bytes(),
            );
        } else {
            let key = if right { KEY } else { "fuzz-native-key-2" };
            let signature = sign_hmac_hex(HmacAlgorithm::Sha256, key.as_bytes(), input.body);
            set(
                &mut headers,
                "x-gate-signature",
                format!("sha256={signature}").as_bytes(),
            );
        }
    }
    let outcome = gate().receive(&headers, input.body, None, None);
    let expect = Expect {
        auth: input.auth,
        // rawContent may be any JSON value the client sent.
        raw_is_object: false,
    };
    let Some(received) = check_outcome(outcome, expect) else {
        return;
    };
    let body: Value = serde_json::from_slice(input.body).expect("accepted body is JSON");
    assert!(body.is_object(), "accepted a non-object body: {body}");
    assert_eq!(received.len(), 1);
    let notification = &received[0];
    for (key, value) in [
        ("service", &notification.service),
        ("group", &notification.group),
        ("type", &notification.kind),
    ] {
        assert!(!value.trim().is_empty(), "empty {key}");
        assert_eq!(body[key].as_str(), Some(value.as_str()));
    }
    assert!(!notification.project.trim().is_empty());
});
