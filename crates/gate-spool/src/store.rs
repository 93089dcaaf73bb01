use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use gate_core::Envelope;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};

use crate::entry::Stored;
use crate::{SpoolEntry, SpoolError};

const TABLE_PREFIX: &str = "spool/";

fn table(name: &str) -> TableDefinition<'_, u64, &'static [u8]> {
    TableDefinition::new(name)
}

/// The spool file. Methods block (they may fsync): call them from
/// `spawn_blocking` in async code.
pub struct Spool {
    db: Database,
    path: String,
    max_entries: u64,
    next_id: AtomicU64,
    depth: AtomicU64,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("path", &self.path)
            .field("depth", &self.depth())
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Open (or create) the spool file. A second process cannot open the
    /// same file while this one holds it.
    pub fn open(path: &Path, max_entries: u64) -> Result<Self, SpoolError> {
        let open_error = |reason: String| SpoolError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(e.to_string()))?;
        }
        let db = Database::create(path).map_err(|e| open_error(e.to_string()))?;
        let spool = Self {
            db,
            path: path.display().to_string(),
            max_entries,
            next_id: AtomicU64::new(0),
            depth: AtomicU64::new(0),
        };
        let (last_id, depth) = spool.scan_counts()?;
        spool.next_id.store(last_id + 1, Ordering::SeqCst);
        spool.depth.store(depth, Ordering::SeqCst);
        Ok(spool)
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Entries waiting, all sinks together.
    pub fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }

    /// Keep a notification for `sink`; returns once it is on disk.
    pub fn append(&self, sink: &str, envelope: &Envelope, reason: &str) -> Result<u64, SpoolError> {
        if self.depth() >= self.max_entries {
            return Err(SpoolError::Full {
                limit: self.max_entries,
            });
        }
        let stored = Stored {
            envelope: envelope.clone(),
            spooled_at: unix_now(),
            attempts: 0,
            last_error: reason.to_owned(),
        };
        let bytes = serde_json::to_vec(&stored).map_err(|e| SpoolError::Storage(e.to_string()))?;
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let name = table_name(sink);
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let mut table = txn.open_table(table(&name))?;
            table.insert(id, bytes.as_slice())?;
        }
        txn.commit()?;
        self.depth.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// The oldest `limit` entries of a sink, in arrival order.
    pub fn oldest(&self, sink: &str, limit: usize) -> Result<Vec<SpoolEntry>, SpoolError> {
        let name = table_name(sink);
        let txn = self.db.begin_read()?;
        let table = match txn.open_table(table(&name)) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut entries = Vec::new();
        for item in table.iter()?.take(limit) {
            let (id, bytes) = item?;
            entries.push(decode(sink, id.value(), bytes.value())?);
        }
        Ok(entries)
    }

    /// Every entry, by sink then arrival.
    pub fn list(&self) -> Result<Vec<SpoolEntry>, SpoolError> {
        let mut all = Vec::new();
        for sink in self.sinks()? {
            all.extend(self.oldest(&sink, usize::MAX)?);
        }
        all.sort_by_key(|e| e.id);
        Ok(all)
    }

    /// Sinks that have entries waiting.
    pub fn sinks(&self) -> Result<Vec<String>, SpoolError> {
        Ok(self.depth_by_sink()?.into_keys().collect())
    }

    pub fn depth_by_sink(&self) -> Result<BTreeMap<String, u64>, SpoolError> {
        let txn = self.db.begin_read()?;
        let mut depths = BTreeMap::new();
        for handle in txn.list_tables()? {
            let Some(sink) = handle.name().strip_prefix(TABLE_PREFIX) else {
                continue;
            };
            let table = txn.open_table(table(handle.name()))?;
            let len = table.len()?;
            if len > 0 {
                depths.insert(sink.to_owned(), len);
            }
        }
        Ok(depths)
    }

    /// Forget delivered entries (one fsynced transaction for all of them).
    pub fn remove(&self, sink: &str, ids: &[u64]) -> Result<usize, SpoolError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let name = table_name(sink);
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        let mut removed = 0;
        {
            let mut table = txn.open_table(table(&name))?;
            for id in ids {
                if table.remove(id)?.is_some() {
                    removed += 1;
                }
            }
        }
        txn.commit()?;
        self.depth.fetch_sub(removed as u64, Ordering::Relaxed);
        Ok(removed)
    }

    /// Remove one entry whatever its sink (the operator's `spool drop`).
    pub fn drop_entry(&self, id: u64) -> Result<bool, SpoolError> {
        for sink in self.sinks()? {
            if self.remove(&sink, &[id])? == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Count a failed attempt. Not fsynced: losing a counter in a crash
    /// loses nothing that matters, and this runs on every retry.
    pub fn record_failure(&self, sink: &str, id: u64, error: &str) -> Result<(), SpoolError> {
        let name = table_name(sink);
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::None)?;
        {
            let mut table = txn.open_table(table(&name))?;
            let current = table.get(id)?.map(|v| v.value().to_vec());
            if let Some(bytes) = current {
                let mut stored: Stored =
                    serde_json::from_slice(&bytes).map_err(|e| SpoolError::Corrupt {
                        sink: sink.to_owned(),
                        id,
                        reason: e.to_string(),
                    })?;
                stored.attempts = stored.attempts.saturating_add(1);
                stored.last_error = error.to_owned();
                let bytes =
                    serde_json::to_vec(&stored).map_err(|e| SpoolError::Storage(e.to_string()))?;
                table.insert(id, bytes.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Whether a write can be committed now (for `/ready`).
    pub fn check_writable(&self) -> Result<(), SpoolError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::None)?;
        txn.commit()?;
        Ok(())
    }

    fn scan_counts(&self) -> Result<(u64, u64), SpoolError> {
        let txn = self.db.begin_read()?;
        let mut last = 0;
        let mut depth = 0;
        for handle in txn.list_tables()? {
            if !handle.name().starts_with(TABLE_PREFIX) {
                continue;
            }
            let table = txn.open_table(table(handle.name()))?;
            depth += table.len()?;
            let newest = table.last()?.map(|(id, _)| id.value());
            last = last.max(newest.unwrap_or(0));
        }
        Ok((last, depth))
    }
}

fn table_name(sink: &str) -> String {
    format!("{TABLE_PREFIX}{sink}")
}

fn decode(sink: &str, id: u64, bytes: &[u8]) -> Result<SpoolEntry, SpoolError> {
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| SpoolError::Corrupt {
        sink: sink.to_owned(),
        id,
        reason: e.to_string(),
    })?;
    Ok(SpoolEntry {
        id,
        sink: sink.to_owned(),
        envelope: stored.envelope,
        spooled_at: stored.spooled_at,
        attempts: stored.attempts,
        last_error: stored.last_error,
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gate_core::Notification;

    fn envelope(delivery: &str) -> Envelope {
        Envelope {
            delivery: delivery.into(),
            source: "GitHub".into(),
            door: "acme".into(),
            event: "push".into(),
            received_at: 1_700_000_000,
            notification: Notification {
                service: "GitHub".into(),
                project: "acme".into(),
                group: "ci".into(),
                raw_content: serde_json::value::RawValue::from_string("{\"x\": [1, 2]}".into())
                    .expect("json"),
                kind: "push".into(),
                text: "t".into(),
                link: String::new(),
            },
        }
    }

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
        let deliveries: Vec<_> = rabbit
            .iter()
            .map(|e| e.envelope.delivery.as_str())
            .collect();
        assert_eq!(deliveries, ["a", "c", "d"]);
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
}
