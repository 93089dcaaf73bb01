//! Golden tests: every `payloads/native/<case>.json` goes through a door
//! and the outcome is compared with `<case>.expected.json` (harness:
//! `gate_core::golden`). `GATE_BLESS=1 cargo test -p gate-source-native
//! --test golden` rewrites the expected files for review in the diff.

use std::path::Path;

use gate_core::golden::GoldenSuite;
use gate_source_native::Native;

const TOKEN: &str = "golden-door-token-0123456789";

#[tokio::test]
async fn payloads_match_their_expected_outcome() {
    GoldenSuite {
        source: gate_core::erase(Native),
        door: toml::from_str(&format!(
            r#"
        tokens = ["{TOKEN}"]
        secrets = ["golden-hmac-key"]
        default_group = "never-used"
        [[groups]]
        group = "never-used-either"
        keywords = ["deploy"]
        "#
        ))
        .expect("door toml"),
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../payloads/native"),
        min_cases: 4,
        default_headers: vec![
            ("content-type", "application/json".to_owned()),
            ("authorization", format!("Bearer {TOKEN}")),
        ],
        default_query: None,
        signed: false,
    }
    .check()
    .await;
}
