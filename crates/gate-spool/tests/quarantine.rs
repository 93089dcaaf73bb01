//! A record damaged on disk (bytes flipped in the file, the spool closed)
//! is set aside in the quarantine: kept, counted, listed, droppable, and
//! never in the way of the rest of its sink's backlog.

mod common;

use common::{deliveries, envelope};
use gate_spool::Spool;

/// Flip every occurrence of `marker` in the file (redb may also keep an
/// older copy of the page in free space); returns how many were found.
fn damage(path: &std::path::Path, marker: &[u8]) -> usize {
    let mut bytes = std::fs::read(path).expect("read spool file");
    let mut found = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..].windows(marker.len()).position(|w| w == marker) {
        let start = at + offset;
        for byte in &mut bytes[start..start + marker.len()] {
            *byte ^= 0x55;
        }
        found += 1;
        at = start + marker.len();
    }
    std::fs::write(path, bytes).expect("write spool file");
    found
}

#[test]
fn a_record_damaged_on_disk_is_quarantined_and_the_backlog_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spool.redb");
    // lz4 keeps a string seen once as literal bytes: the marker is in the file.
    let marker = "QZXJ-damaged-record-KWVQ";
    let damaged_id = {
        let spool = Spool::open(&path, 100).expect("open");
        spool
            .append("rabbit", &envelope("first"), "down")
            .expect("append");
        let id = spool
            .append("rabbit", &envelope(marker), "down")
            .expect("append");
        spool
            .append("rabbit", &envelope("third"), "down")
            .expect("append");
        spool
            .append("other", &envelope("elsewhere"), "down")
            .expect("append");
        id
    };
    assert!(
        damage(&path, marker.as_bytes()) >= 1,
        "marker not found in the file"
    );

    let spool = Spool::open(&path, 100).expect("a damaged record does not stop the open");
    assert_eq!(spool.quarantined(), 0, "records are checked when read");
    let listed = spool.scan("rabbit", None, 10).expect("scan");
    assert_eq!(listed.len(), 3);
    assert!(
        listed[1].1.is_err(),
        "the damaged record shows as unreadable"
    );

    let entries = spool.oldest("rabbit", 10).expect("the rest is readable");
    assert_eq!(deliveries(&entries), ["first", "third"]);
    assert_eq!(spool.quarantined(), 1);
    assert_eq!(spool.depth(), 3, "the damaged record left the backlog");
    let kept = spool.quarantine_list().expect("quarantine");
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].id, kept[0].sink.as_str()), (damaged_id, "rabbit"));
    assert!(
        kept[0].reason.contains("checksum mismatch"),
        "{}",
        kept[0].reason
    );
    assert!(kept[0].bytes.len() > 20, "the record's bytes are kept");
    assert_eq!(
        deliveries(&spool.oldest("other", 10).expect("read")),
        ["elsewhere"]
    );
    drop(spool);

    let spool = Spool::open(&path, 100).expect("reopen");
    assert_eq!(spool.quarantined(), 1, "the quarantine survives a restart");
    let next = spool
        .append("rabbit", &envelope("fourth"), "down")
        .expect("append");
    assert!(next > damaged_id + 2, "ids are not reused: {next}");
    assert!(spool.drop_entry(damaged_id).expect("drop"));
    assert_eq!(spool.quarantined(), 0);
    assert!(spool.quarantine_list().expect("quarantine").is_empty());
}
