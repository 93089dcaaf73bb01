//! Golden tests: every `payloads/jenkins/<case>.json` goes through a door
//! and the outcome is compared with `<case>.expected.json` (harness:
//! `gate_core::golden`). `GATE_BLESS=1 cargo test -p gate-source-jenkins
//! --test golden` rewrites the expected files for review in the diff.

use std::path::Path;

use gate_core::golden::GoldenSuite;
use gate_source_jenkins::Jenkins;

const TOKEN: &str = "golden-door-token-0123456789";

#[tokio::test]
async fn payloads_match_their_expected_outcome() {
    GoldenSuite {
        source: gate_core::erase(Jenkins),
        door: toml::from_str(&format!(
            r#"
        token = "{TOKEN}"
        only_failures = ["nightly-*"]
        [[groups]]
        group = "release"
        repositories = ["*-release"]
        [[groups]]
        group = "platform"
        repositories = ["platform/*"]
        "#
        ))
        .expect("door toml"),
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../payloads/jenkins"),
        min_cases: 4,
        default_headers: vec![("content-type", "application/json".to_owned())],
        default_query: Some(format!("token={TOKEN}")),
        signed: false,
    }
    .check()
    .await;
}
