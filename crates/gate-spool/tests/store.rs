//! The spool's everyday behaviour on a real file: order, limits, removal,
//! failure counts, and a file held by another process.

mod common;

use std::collections::BTreeMap;

use common::{deliveries, envelope};
use gate_spool::{Spool, SpoolError};

#[test]
fn entries_come_back_in_arrival_order_per_sink_and_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spool.redb");
    {
        let spool = Spool::open(&path, 100).expect("open");
        for (sink, id) in [
            ("rabbit", "a"),
            ("http", "b"),
            ("rabbit", "c"),
            ("rabbit", "d"),
        ] {
            spool
                .append(sink, &envelope(id), "broker down")
                .expect("append");
        }
        assert_eq!(spool.depth(), 4);
    }
    let spool = Spool::open(&path, 100).expect("reopen");
    assert_eq!(spool.depth(), 4);
    let rabbit = spool.oldest("rabbit", 10).expect("read");
    assert_eq!(deliveries(&rabbit), ["a", "c", "d"]);
    assert_eq!(rabbit[0].last_error, "broker down");
    assert_eq!(
        rabbit[0].envelope.notification.raw_content.get(),
        "{\"x\": [1, 2]}"
    );
    assert_eq!(spool.oldest("rabbit", 2).expect("read").len(), 2);
    assert!(spool.oldest("unknown", 2).expect("read").is_empty());

    let ids: Vec<u64> = rabbit.iter().take(2).map(|e| e.id).collect();
    assert_eq!(spool.remove("rabbit", &ids).expect("remove"), 2);
    assert_eq!(spool.depth(), 2);
    let next = spool.append("rabbit", &envelope("e"), "x").expect("append");
    assert!(next > rabbit[2].id, "ids keep growing after a reopen");
    let left: Vec<_> = spool
        .list()
        .expect("list")
        .into_iter()
        .map(|e| e.envelope.delivery)
        .collect();
    assert_eq!(left, ["b", "d", "e"]);
    assert_eq!(
        spool.depth_by_sink().expect("depths"),
        BTreeMap::from([("http".to_owned(), 1), ("rabbit".to_owned(), 2)])
    );
}

#[test]
fn confirmed_entries_are_never_handed_out_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = Spool::open(&dir.path().join("s.redb"), 100).expect("open");
    for d in ["a", "b", "c", "d"] {
        spool.append("s", &envelope(d), "down").expect("append");
    }
    let batch = spool.oldest("s", 2).expect("read");
    assert_eq!(deliveries(&batch), ["a", "b"]);
    let ids: Vec<u64> = batch.iter().map(|e| e.id).collect();
    assert_eq!(spool.confirm("s", &ids).expect("confirm"), 2);
    assert_eq!(spool.pending_removal(), 0);
    assert_eq!(
        deliveries(&spool.oldest("s", 10).expect("read")),
        ["c", "d"]
    );
    assert_eq!(spool.depth(), 2);
}

#[test]
fn scan_pages_through_a_backlog_without_changing_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = Spool::open(&dir.path().join("s.redb"), 100).expect("open");
    let ids: Vec<u64> = (0..5)
        .map(|i| {
            spool
                .append("s", &envelope(&format!("e{i}")), "down")
                .expect("append")
        })
        .collect();
    let first = spool.scan("s", None, 2).expect("scan");
    assert_eq!(
        first.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        ids[..2]
    );
    let rest = spool.scan("s", Some(ids[1]), 10).expect("scan");
    assert_eq!(rest.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids[2..]);
    assert!(rest.iter().all(|(_, e)| e.is_ok()));
    assert_eq!(spool.depth(), 5);
}

#[test]
fn full_spool_refuses_instead_of_dropping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = Spool::open(&dir.path().join("s.redb"), 2).expect("open");
    spool.append("s", &envelope("1"), "x").expect("first");
    spool.append("s", &envelope("2"), "x").expect("second");
    let err = spool.append("s", &envelope("3"), "x").unwrap_err();
    assert!(matches!(err, SpoolError::Full { limit: 2 }), "{err}");
    assert_eq!(spool.depth(), 2);
}

#[test]
fn failures_are_counted_and_drop_removes_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = Spool::open(&dir.path().join("s.redb"), 10).expect("open");
    let id = spool.append("s", &envelope("1"), "first").expect("append");
    spool.record_failure("s", id, "still down").expect("count");
    spool
        .record_failure("s", id, "still down 2")
        .expect("count");
    let entry = &spool.oldest("s", 1).expect("read")[0];
    assert_eq!(
        (entry.attempts, entry.last_error.as_str()),
        (2, "still down 2")
    );
    assert!(spool.drop_entry(id).expect("drop"));
    assert!(!spool.drop_entry(id).expect("drop again"));
    assert_eq!(spool.depth(), 0);
    spool.check_writable().expect("writable");
}

#[test]
fn a_second_open_of_the_same_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let _first = Spool::open(&path, 10).expect("open");
    let err = Spool::open(&path, 10).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot open the spool at"),
        "{err}"
    );
}

#[test]
fn close_releases_the_file_while_the_value_is_still_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let first = Spool::open(&path, 10).expect("open");
    first
        .append("rabbit", &envelope("a"), "down")
        .expect("append");
    assert!(Spool::open(&path, 10).is_err(), "held");
    first.close();
    let err = first
        .append("rabbit", &envelope("b"), "down")
        .expect_err("closed");
    assert!(matches!(err, SpoolError::Unavailable(_)), "{err}");
    let second = Spool::open(&path, 10).expect("released by close");
    assert_eq!(
        deliveries(&second.oldest("rabbit", 10).expect("read")),
        ["a"]
    );
}
