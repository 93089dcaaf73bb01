//! Golden tests: every `payloads/<case>.json` is sent, signed by the source's
//! own `Source::sign`, with the
//! headers named in `<case>.expected.json` (event and delivery id), and must
//! give the rest of that file: the notifications (an empty list for a
//! filtered event). The harness is gate-core's (feature `testing`), the same
//! one the built-in sources use. `GATE_BLESS=1` rewrites the expected files.

mod common;

use std::path::Path;

use gate_core::golden::GoldenSuite;

#[tokio::test]
async fn every_payload_gives_its_expected_notifications() {
    GoldenSuite {
        source: common::source(),
        door: toml::from_str(common::DOOR).expect("door toml"),
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("payloads"),
        min_cases: 4,
        default_headers: vec![("content-type", "application/json".to_owned())],
        default_query: None,
        signed: true,
    }
    .check()
    .await;
}
