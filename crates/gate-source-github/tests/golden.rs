//! Golden tests: every `payloads/github/<case>.json` is sent, signed, with
//! the headers named in `<case>.expected.json` (event and delivery id), and
//! must give the rest of that file (harness: `gate_core::golden`).
//! `GATE_BLESS=1 cargo test -p gate-source-github --test golden` rewrites the
//! expected files for review in the diff.

mod common;

use std::path::Path;

use gate_core::golden::GoldenSuite;

const DOOR: &str = r#"
secrets = ["It's a Secret to Everybody"]
admin_group = "admin"
[[groups]]
group = "infra"
repositories = ["infra-*"]
"#;

#[tokio::test]
async fn every_payload_gives_its_expected_notifications() {
    GoldenSuite {
        source: common::source(),
        door: toml::from_str(DOOR).expect("door toml"),
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../payloads/github"),
        min_cases: 40,
        default_headers: vec![
            ("content-type", "application/json".to_owned()),
            ("user-agent", "GitHub-Hookshot/044aadd".to_owned()),
        ],
        default_query: None,
        signed: true,
    }
    .check()
    .await;
}
