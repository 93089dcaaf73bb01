//! GitHub: event header from the tag, signature right/wrong/absent (SHA-256,
//! or the legacy SHA-1 with variant bit 0), delivery id dropped with bit 1.
#![no_main]

use std::sync::OnceLock;

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_fuzz::gate::{headers_for, set};
use gate_fuzz::{check_outcome, Auth, Expect, Gate, Input};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-github-secret";

const DOOR: &str = r#"
secrets = ["fuzz-github-old-secret", "fuzz-github-secret"]
allow_sha1 = true
admin_group = "admin"
[templates]
push = "{sender} pushed {count} to {branch} in {repository}"
default = "{event} by {sender} on {repository}: {url}"
[[groups]]
group = "web"
repositories = ["widgets*", "acme/site"]
keywords = ["deploy"]
"#;

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate::new(gate_core::erase(gate_source_github::GitHub), DOOR))
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let mut headers = headers_for(&input);
    set(&mut headers, "x-github-event", input.tag);
    if !input.bit(1) {
        set(
            &mut headers,
            "x-github-delivery",
            b"72d3162e-cc78-11e3-81ab-4c9367dc0958",
        );
    }
    let (algorithm, header, prefix) = if input.bit(0) {
        (HmacAlgorithm::Sha1, "x-hub-signature", "sha1=")
    } else {
        (HmacAlgorithm::Sha256, "x-hub-signature-256", "sha256=")
    };
    let key: &[u8] = match input.auth {
        Auth::Right => SECRET.as_bytes(),
        Auth::Wrong | Auth::Absent => b"not-the-secret",
    };
    if input.auth != Auth::Absent {
        let signature = format!("{prefix}{}", sign_hmac_hex(algorithm, key, input.body));
        set(&mut headers, header, signature.as_bytes());
    }
    let outcome = gate().receive(&headers, input.body, None, None);
    let expect = Expect {
        auth: input.auth,
        raw_is_object: true,
    };
    if let Some(notifications) = check_outcome(outcome, expect) {
        assert_eq!(notifications.len(), 1);
        assert_eq!(notifications[0].service, "GitHub");
        assert_eq!(notifications[0].project, "acme");
        assert_eq!(
            Some(notifications[0].kind.as_str()),
            input.tag_text().map(str::trim)
        );
    }
});
