//! A really full disk under the spool (a small tmpfs filled with a ballast
//! file, see gate_testkit::disk): appends fail while it is full, removals
//! of confirmed entries may fail too, and once the ballast is deleted the
//! same `Spool` works again by itself, with nothing accepted lost and
//! nothing confirmed handed out again.

mod common;

use std::time::{Duration, Instant};

use common::{deliveries, envelope_with_body};
use gate_spool::{Spool, SpoolError};
use gate_testkit::disk::SmallDisk;

fn push_body() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../payloads/github/push-three-commits.json"
    );
    std::fs::read_to_string(path).expect("payload")
}

#[test]
fn the_spool_recovers_by_itself_when_space_returns() {
    let disk = SmallDisk::mount(3 * 1024 * 1024);
    let path = disk.path().join("spool.redb");
    let body = push_body();
    let spool = Spool::open(&path, 1_000_000).expect("open");
    let mut accepted = Vec::new();
    for i in 0..5 {
        let delivery = format!("before-{i}");
        spool
            .append("rabbit", &envelope_with_body(&delivery, &body), "down")
            .expect("append while there is space");
        accepted.push(delivery);
    }

    assert!(disk.fill() > 0);
    // What redb still has free inside its file takes a few more; then the
    // disk says no.
    let mut refusal = None;
    for i in 0..2_000 {
        let delivery = format!("while-full-{i}");
        match spool.append("rabbit", &envelope_with_body(&delivery, &body), "down") {
            Ok(_) => accepted.push(delivery),
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    let refusal = refusal.expect("a full disk refuses appends");
    assert!(matches!(refusal, SpoolError::Io(_)), "{refusal}");
    let again = spool
        .append("rabbit", &envelope_with_body("still-full", &body), "down")
        .unwrap_err();
    assert!(
        matches!(again, SpoolError::Io(_) | SpoolError::Unavailable(_)),
        "{again}"
    );

    // The sink confirms the first two while the disk is full: whether or
    // not their removal commits, they are never handed out again.
    let first_two: Vec<u64> = spool
        .oldest("rabbit", 2)
        .expect("reads work on a full disk")
        .iter()
        .map(|e| e.id)
        .collect();
    let confirmed = spool.confirm("rabbit", &first_two);
    assert!(
        matches!(confirmed, Err(SpoolError::Io(_))),
        "the removal should not fit on the full disk: {confirmed:?}"
    );
    assert_eq!(spool.pending_removal(), 2);
    let waiting = spool
        .oldest("rabbit", usize::MAX)
        .expect("reads work on a full disk");
    assert!(
        waiting.iter().all(|e| !first_two.contains(&e.id)),
        "confirmed entries came back"
    );

    disk.free();
    let started = Instant::now();
    let after = loop {
        match spool.append("rabbit", &envelope_with_body("after", &body), "down") {
            Ok(id) => break id,
            Err(e) if started.elapsed() < Duration::from_secs(5) => {
                eprintln!("not yet: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("the spool did not recover once space returned: {e}"),
        }
    };
    accepted.push("after".into());
    spool
        .remove_confirmed()
        .expect("pending removals go through");
    assert_eq!(spool.pending_removal(), 0);
    assert!(after > first_two[1]);

    let expected: Vec<String> = accepted[2..].to_vec();
    let waiting = spool.oldest("rabbit", usize::MAX).expect("read");
    assert_eq!(deliveries(&waiting), expected);
    assert_eq!(spool.depth(), expected.len() as u64);
    drop(spool);

    let reopened = Spool::open(&path, 1_000_000).expect("reopen");
    assert_eq!(
        deliveries(&reopened.oldest("rabbit", usize::MAX).expect("read")),
        expected,
        "nothing accepted was lost, nothing confirmed came back"
    );
}
