//! Docker Hub: token right/wrong/absent in the query (or the `X-Gate-Token`
//! header with variant bit 1), behind an IP allow-list. With variant bit 0
//! the peer is a trusted proxy and the tag is its `X-Forwarded-For`.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use gate_fuzz::gate::{headers_for, set};
use gate_fuzz::{check_outcome, Auth, Expect, Gate, Input};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "fuzz-dockerhub-token-0123456789";

const DOOR: &str = r#"
token = "fuzz-dockerhub-token-0123456789"
allow_ips = ["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"]
trusted_proxies = ["127.0.0.1"]
[[groups]]
group = "base"
repositories = ["base-*"]
"#;

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(|| Gate::new(gate_core::erase(gate_source_dockerhub::DockerHub), DOOR))
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let mut headers = headers_for(&input);
    let peer = if input.bit(0) {
        set(&mut headers, "x-forwarded-for", input.tag);
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))
    };
    let token = match input.auth {
        Auth::Right => Some(TOKEN),
        Auth::Wrong => Some("fuzz-dockerhub-token-0123456780"),
        Auth::Absent => None,
    };
    let query = match token {
        Some(token) if input.bit(1) => {
            set(&mut headers, "x-gate-token", token.as_bytes());
            None
        }
        Some(token) => Some(format!("token={token}")),
        None => None,
    };
    let outcome = gate().receive(&headers, input.body, query.as_deref(), Some(peer));
    let expect = Expect {
        auth: input.auth,
        raw_is_object: true,
    };
    if let Some(notifications) = check_outcome(outcome, expect) {
        assert_eq!(notifications.len(), 1);
        assert_eq!(notifications[0].kind, "push");
        // Byte for byte, less the blanks around the JSON value.
        assert_eq!(
            notifications[0].raw_content.get().as_bytes(),
            input.body.trim_ascii()
        );
    }
});
