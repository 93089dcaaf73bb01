//! What may be found at the spool's path: an empty file, a file of another
//! program, a redb database of another program, a spool of the previous
//! version (no format stamp, JSON records), a spool of a newer version.
//! Each is made for real on disk, then opened.

mod common;

use std::path::Path;

use common::{deliveries, envelope};
use gate_spool::{Spool, SpoolError};
use redb::{Database, ReadableDatabase, TableDefinition};

fn refused(path: &Path) -> String {
    match Spool::open(path, 100) {
        Err(e @ SpoolError::Refused { .. }) => e.to_string(),
        Err(other) => panic!("expected a refusal, got {other}"),
        Ok(_) => panic!("{} was accepted as a spool", path.display()),
    }
}

#[test]
fn a_zero_length_file_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spool.redb");
    std::fs::write(&path, b"").expect("truncated spool");
    let message = refused(&path);
    assert!(message.contains("the file is empty (0 bytes)"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(std::fs::metadata(&path).expect("still there").len(), 0);
}

#[test]
fn a_foreign_file_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("spool.redb");
    let text = b"[server]\nlisten = \"0.0.0.0:8080\"\n";
    std::fs::write(&path, text).expect("foreign file");
    let message = refused(&path);
    assert!(message.contains("it is not a spool file"), "{message}");
    assert_eq!(std::fs::read(&path).expect("read"), text);

    // Shorter than any header.
    std::fs::write(&path, b"r").expect("tiny file");
    assert!(refused(&path).contains("it is not a spool file"));

    let dir_path = dir.path().join("a-directory");
    std::fs::create_dir(&dir_path).expect("dir");
    assert!(refused(&dir_path).contains("not a regular file"));
}

#[test]
fn a_redb_database_of_another_program_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other.redb");
    {
        let db = Database::create(&path).expect("redb");
        let txn = db.begin_write().expect("txn");
        txn.open_table(TableDefinition::<&str, u64>::new("users"))
            .expect("table")
            .insert("alice", 1)
            .expect("insert");
        txn.commit().expect("commit");
    }
    let message = refused(&path);
    assert!(
        message.contains("another program (tables: users)"),
        "{message}"
    );
}

#[test]
fn a_spool_of_the_previous_version_is_read_and_stamped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.redb");
    {
        // What gate-server 0.1 wrote: JSON records, no format stamp.
        let db = Database::create(&path).expect("redb");
        let txn = db.begin_write().expect("txn");
        {
            let mut table = txn
                .open_table(TableDefinition::<u64, &[u8]>::new("spool/rabbit"))
                .expect("table");
            for (id, delivery) in [(1_u64, "old-1"), (2, "old-2")] {
                let record = serde_json::json!({
                    "envelope": envelope(delivery),
                    "spooled_at": 1_700_000_000,
                    "attempts": 3,
                    "last_error": "broker down",
                });
                let bytes = serde_json::to_vec(&record).expect("json");
                table.insert(id, bytes.as_slice()).expect("insert");
            }
        }
        txn.commit().expect("commit");
    }
    {
        let spool = Spool::open(&path, 100).expect("old spool opens");
        assert_eq!(spool.depth(), 2);
        let id = spool
            .append("rabbit", &envelope("new-3"), "down")
            .expect("append");
        assert_eq!(id, 3, "ids go on after the old ones");
        let entries = spool.oldest("rabbit", 10).expect("read");
        assert_eq!(deliveries(&entries), ["old-1", "old-2", "new-3"]);
        assert_eq!(entries[0].attempts, 3);
    }
    let db = Database::open(&path).expect("redb");
    let txn = db.begin_read().expect("txn");
    let meta = txn
        .open_table(TableDefinition::<&str, u64>::new("gate-spool/meta"))
        .expect("stamped");
    assert_eq!(meta.get("format").expect("get").map(|v| v.value()), Some(1));
}

#[test]
fn a_spool_of_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("new.redb");
    drop(Spool::open(&path, 100).expect("create"));
    {
        let db = Database::open(&path).expect("redb");
        let txn = db.begin_write().expect("txn");
        txn.open_table(TableDefinition::<&str, u64>::new("gate-spool/meta"))
            .expect("meta")
            .insert("format", 2)
            .expect("insert");
        txn.commit().expect("commit");
    }
    let message = refused(&path);
    assert!(
        message.contains("written by a newer gate-server (spool format 2"),
        "{message}"
    );
}

#[test]
fn a_new_spool_is_created_with_its_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("deep/er/spool.redb");
    let spool = Spool::open(&path, 10).expect("create");
    assert_eq!(spool.depth(), 0);
    drop(spool);
    assert!(std::fs::metadata(&path).expect("file").len() > 0);
    Spool::open(&path, 10).expect("reopen");
}
