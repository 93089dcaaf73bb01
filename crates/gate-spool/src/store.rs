use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gate_core::Envelope;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};

use crate::entry::Stored;
use crate::record::{self, Unreadable};
use crate::{file, quarantine, QuarantinedEntry, SpoolEntry, SpoolError};

pub(crate) const TABLE_PREFIX: &str = "spool/";
/// After an I/O error, reopening the file is tried at most this often, so
/// a disk that stays full does not turn every request into a repair.
const REOPEN_INTERVAL: Duration = Duration::from_secs(1);
/// A drained spool file larger than this is compacted, so the space a
/// backlog took goes back to the disk.
const COMPACT_ABOVE: u64 = 4 * 1024 * 1024;

fn table(name: &str) -> TableDefinition<'_, u64, &'static [u8]> {
    TableDefinition::new(name)
}

/// A record of a sink's backlog as read: the entry, or why it cannot be.
pub type Scanned = (u64, Result<SpoolEntry, Unreadable>);

/// The spool file. Methods block (they may fsync): call them from
/// `spawn_blocking` in async code.
pub struct Spool {
    /// `None` only while reopening after an I/O error fails.
    db: RwLock<Option<Database>>,
    /// Set by an I/O error: redb refuses every later call on that handle,
    /// so the next call reopens the file.
    broken: AtomicBool,
    last_reopen_failure: Mutex<Option<(Instant, String)>>,
    path: PathBuf,
    shown: String,
    max_entries: u64,
    next_id: AtomicU64,
    depth: AtomicU64,
    quarantined: AtomicU64,
    /// Entries their sink confirmed whose removal has not committed yet (a
    /// full disk): never handed out again, removed as soon as a commit
    /// goes through.
    confirmed: Mutex<BTreeMap<String, BTreeSet<u64>>>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("path", &self.shown)
            .field("depth", &self.depth())
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Open (or create) the spool file. A second process cannot open the
    /// same file while this one holds it. An empty or foreign file is
    /// refused ([`SpoolError::Refused`]), never overwritten.
    pub fn open(path: &Path, max_entries: u64) -> Result<Self, SpoolError> {
        let db = file::open_or_create(path)?;
        let counts = Counts::read(&db)?;
        Ok(Self {
            db: RwLock::new(Some(db)),
            broken: AtomicBool::new(false),
            last_reopen_failure: Mutex::new(None),
            path: path.to_owned(),
            shown: path.display().to_string(),
            max_entries,
            next_id: AtomicU64::new(counts.last_id + 1),
            depth: AtomicU64::new(counts.depth),
            quarantined: AtomicU64::new(counts.quarantined),
            confirmed: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn path(&self) -> &str {
        &self.shown
    }

    /// Entries in the file, all sinks together (confirmed ones whose
    /// removal is still pending included).
    pub fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }

    /// Records set aside as unreadable.
    pub fn quarantined(&self) -> u64 {
        self.quarantined.load(Ordering::Relaxed)
    }

    /// Confirmed entries still in the file because their removal failed.
    pub fn pending_removal(&self) -> usize {
        lock(&self.confirmed).values().map(BTreeSet::len).sum()
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
        let bytes = record::encode(&stored).map_err(SpoolError::Storage)?;
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let name = table_name(sink);
        self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::Immediate)?;
            txn.open_table(table(&name))?
                .insert(id, bytes.as_slice())
                .map(drop)?;
            txn.commit()?;
            Ok(())
        })?;
        self.depth.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// The oldest `limit` readable entries of a sink, in arrival order,
    /// leaving out those already confirmed. A record that cannot be read is
    /// moved to the quarantine on the way (see [`Spool::quarantine_list`]).
    pub fn oldest(&self, sink: &str, limit: usize) -> Result<Vec<SpoolEntry>, SpoolError> {
        let skip = lock(&self.confirmed).get(sink).cloned().unwrap_or_default();
        let name = table_name(sink);
        let mut entries = Vec::new();
        let mut unreadable = Vec::new();
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let table = match txn.open_table(table(&name)) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            for item in table.iter()? {
                if entries.len() >= limit {
                    break;
                }
                let (id, bytes) = item?;
                let id = id.value();
                if skip.contains(&id) {
                    continue;
                }
                match record::decode(bytes.value()) {
                    Ok(stored) => entries.push(entry(sink, id, stored)),
                    Err(why) => unreadable.push((id, why, bytes.value().to_vec())),
                }
            }
            Ok(())
        })?;
        if !unreadable.is_empty() {
            self.set_aside(sink, &unreadable);
        }
        Ok(entries)
    }

    /// Up to `limit` records of a sink after id `after`, readable or not,
    /// changing nothing (for listing).
    pub fn scan(
        &self,
        sink: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Scanned>, SpoolError> {
        let name = table_name(sink);
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let table = match txn.open_table(table(&name)) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let start = after.map_or(0, |a| a.saturating_add(1));
            let mut found = Vec::new();
            for item in table.range(start..)?.take(limit) {
                let (id, bytes) = item?;
                let id = id.value();
                found.push((
                    id,
                    record::decode(bytes.value()).map(|stored| entry(sink, id, stored)),
                ));
            }
            Ok(found)
        })
    }

    /// Every readable entry, by sink then arrival. Loads them all: for
    /// tests and small spools; page with [`Spool::scan`] otherwise.
    pub fn list(&self) -> Result<Vec<SpoolEntry>, SpoolError> {
        let mut all = Vec::new();
        for sink in self.sinks()? {
            let mut after = None;
            loop {
                let page = self.scan(&sink, after, 256)?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                all.extend(page.into_iter().filter_map(|(_, e)| e.ok()));
            }
        }
        all.sort_by_key(|e| e.id);
        Ok(all)
    }

    /// The records set aside as unreadable, oldest first.
    pub fn quarantine_list(&self) -> Result<Vec<QuarantinedEntry>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let table = match txn.open_table(quarantine::TABLE) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            };
            let mut all = Vec::new();
            for item in table.iter()? {
                let (id, value) = item?;
                all.push(quarantine::decode(id.value(), value.value()));
            }
            Ok(all)
        })
    }

    /// Sinks that have entries waiting.
    pub fn sinks(&self) -> Result<Vec<String>, SpoolError> {
        Ok(self.depth_by_sink()?.into_keys().collect())
    }

    pub fn depth_by_sink(&self) -> Result<BTreeMap<String, u64>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read()?;
            let mut depths = BTreeMap::new();
            for handle in txn.list_tables()? {
                let Some(sink) = handle.name().strip_prefix(TABLE_PREFIX) else {
                    continue;
                };
                let len = txn.open_table(table(handle.name()))?.len()?;
                if len > 0 {
                    depths.insert(sink.to_owned(), len);
                }
            }
            Ok(depths)
        })
    }

    /// The sink confirmed these entries: they are never handed out again by
    /// [`Spool::oldest`], even if removing them fails now (a full disk);
    /// such removals are retried by every later `confirm` and by
    /// [`Spool::remove_confirmed`].
    pub fn confirm(&self, sink: &str, ids: &[u64]) -> Result<usize, SpoolError> {
        let pending: Vec<u64> = {
            let mut confirmed = lock(&self.confirmed);
            let set = confirmed.entry(sink.to_owned()).or_default();
            set.extend(ids);
            set.iter().copied().collect()
        };
        self.remove(sink, &pending)
    }

    /// Retry the removals that failed before; the number removed.
    pub fn remove_confirmed(&self) -> Result<usize, SpoolError> {
        let pending: Vec<(String, Vec<u64>)> = lock(&self.confirmed)
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(sink, ids)| (sink.clone(), ids.iter().copied().collect()))
            .collect();
        let mut removed = 0;
        for (sink, ids) in pending {
            removed += self.remove(&sink, &ids)?;
        }
        Ok(removed)
    }

    /// Forget delivered entries (one fsynced transaction for all of them).
    pub fn remove(&self, sink: &str, ids: &[u64]) -> Result<usize, SpoolError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let name = table_name(sink);
        let removed = self.with_db(|db| {
            let mut txn = db.begin_write()?;
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
            Ok(removed)
        })?;
        if let Some(set) = lock(&self.confirmed).get_mut(sink) {
            for id in ids {
                set.remove(id);
            }
        }
        let before = self.depth.fetch_sub(removed as u64, Ordering::Relaxed);
        if before == removed as u64 {
            self.compact_if_large();
        }
        Ok(removed)
    }

    /// Remove one entry whatever its sink, or a quarantined record (the
    /// operator's `spool drop`).
    pub fn drop_entry(&self, id: u64) -> Result<bool, SpoolError> {
        for sink in self.sinks()? {
            if self.remove(&sink, &[id])? == 1 {
                return Ok(true);
            }
        }
        let dropped = self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::Immediate)?;
            let dropped = match txn.open_table(quarantine::TABLE) {
                Ok(mut table) => table.remove(id)?.is_some(),
                Err(e) => return Err(e.into()),
            };
            txn.commit()?;
            Ok(dropped)
        })?;
        if dropped {
            self.quarantined.fetch_sub(1, Ordering::Relaxed);
        }
        Ok(dropped)
    }

    /// Count a failed attempt. Not fsynced: losing a counter in a crash
    /// loses nothing that matters, and this runs on every retry.
    pub fn record_failure(&self, sink: &str, id: u64, error: &str) -> Result<(), SpoolError> {
        let name = table_name(sink);
        self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::None)?;
            {
                let mut table = txn.open_table(table(&name))?;
                let current = table.get(id)?.map(|v| v.value().to_vec());
                // An unreadable record is left for the quarantine.
                if let Some(Ok(mut stored)) = current.map(|bytes| record::decode(&bytes)) {
                    stored.attempts = stored.attempts.saturating_add(1);
                    error.clone_into(&mut stored.last_error);
                    let bytes = record::encode(&stored).map_err(SpoolError::Storage)?;
                    table.insert(id, bytes.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        })
    }

    /// Close the file now, releasing it for another process, even while
    /// other holders of this value remain: every later call fails with
    /// [`SpoolError::Unavailable`] (the gateway answers 503, nothing is
    /// lost). Waits for a call in progress to finish first.
    pub fn close(&self) {
        let mut db = write(&self.db);
        drop(db.take());
        // No reopen: `with_db` reopens only a broken handle.
        self.broken.store(false, Ordering::Release);
    }

    /// Whether a write can be committed now (for `/ready`).
    pub fn check_writable(&self) -> Result<(), SpoolError> {
        self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::None)?;
            txn.commit()?;
            Ok(())
        })
    }

    /// Move unreadable records to the quarantine, in one transaction. If
    /// that fails they stay where they are, skipped by every read, and the
    /// move is tried again on the next read.
    fn set_aside(&self, sink: &str, unreadable: &[(u64, Unreadable, Vec<u8>)]) {
        let name = table_name(sink);
        let now = unix_now();
        let moved = self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_durability(Durability::Immediate)?;
            {
                let mut kept = txn.open_table(quarantine::TABLE)?;
                let mut backlog = txn.open_table(table(&name))?;
                for (id, why, bytes) in unreadable {
                    let value = quarantine::encode(sink, &why.to_string(), now, bytes);
                    kept.insert(*id, value.as_slice())?;
                    backlog.remove(*id)?;
                }
            }
            txn.commit()?;
            Ok(())
        });
        for (id, why, bytes) in unreadable {
            tracing::error!(
                sink,
                id,
                reason = %why,
                bytes = bytes.len(),
                moved = moved.is_ok(),
                "unreadable spool record set aside in the quarantine (see `gate-server spool list`)"
            );
        }
        match moved {
            Ok(()) => {
                let count = unreadable.len() as u64;
                self.quarantined.fetch_add(count, Ordering::Relaxed);
                self.depth.fetch_sub(count, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(sink, reason = %e, "cannot move unreadable records to the quarantine; skipping them")
            }
        }
    }

    /// Give back the disk space of a drained backlog. Best effort: a spool
    /// that cannot be compacted now is only larger than it needs to be.
    fn compact_if_large(&self) {
        let large = std::fs::metadata(&self.path).is_ok_and(|m| m.len() > COMPACT_ABOVE);
        if !large || self.broken.load(Ordering::Acquire) {
            return;
        }
        let mut db = write(&self.db);
        let Some(db) = db.as_mut() else { return };
        // Entries appended meanwhile are fine: compaction keeps them.
        match db.compact() {
            Ok(_) => tracing::info!(path = %self.shown, "drained spool file compacted"),
            Err(e) => {
                let e = SpoolError::from(redb::Error::from(e));
                if e.needs_reopen() {
                    self.broken.store(true, Ordering::Release);
                }
                tracing::warn!(reason = %e, "cannot compact the drained spool file");
            }
        }
    }

    /// Run `work` on the open file; after an I/O error, reopen it first.
    fn with_db<T>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, SpoolError>,
    ) -> Result<T, SpoolError> {
        if self.broken.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let db = read(&self.db);
        let Some(handle) = db.as_ref() else {
            return Err(SpoolError::Unavailable("the spool file is closed".into()));
        };
        let result = work(handle);
        if let Err(e) = &result {
            if e.needs_reopen() && !self.broken.swap(true, Ordering::AcqRel) {
                tracing::error!(path = %self.shown, reason = %e, "spool file i/o failed; it will be reopened");
            }
        }
        result
    }

    /// redb refuses every call on a handle after an I/O error: drop it
    /// (closing the file) and open the file again, which repairs it if the
    /// failed commit left it unclean.
    fn reopen(&self) -> Result<(), SpoolError> {
        let mut failure = lock(&self.last_reopen_failure);
        if let Some((at, reason)) = failure.as_ref() {
            if at.elapsed() < REOPEN_INTERVAL {
                return Err(SpoolError::Unavailable(reason.clone()));
            }
        }
        if !self.broken.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut db = write(&self.db);
        drop(db.take());
        let reopened = file::open_existing(&self.path).and_then(|new| {
            let counts = Counts::read(&new)?;
            Ok((new, counts))
        });
        match reopened {
            Ok((new, counts)) => {
                self.next_id.fetch_max(counts.last_id + 1, Ordering::SeqCst);
                self.depth.store(counts.depth, Ordering::Relaxed);
                self.quarantined
                    .store(counts.quarantined, Ordering::Relaxed);
                *db = Some(new);
                *failure = None;
                self.broken.store(false, Ordering::Release);
                tracing::info!(path = %self.shown, "spool file reopened after an i/o error");
                Ok(())
            }
            Err(e) => {
                let reason = e.to_string();
                *failure = Some((Instant::now(), reason.clone()));
                Err(SpoolError::Unavailable(reason))
            }
        }
    }
}

/// What is in the file, counted when it is opened.
struct Counts {
    last_id: u64,
    depth: u64,
    quarantined: u64,
}

impl Counts {
    fn read(db: &Database) -> Result<Self, SpoolError> {
        let txn = db.begin_read()?;
        let mut counts = Counts {
            last_id: 0,
            depth: 0,
            quarantined: 0,
        };
        for handle in txn.list_tables()? {
            let name = handle.name();
            let is_quarantine = name == quarantine::TABLE.name();
            if !name.starts_with(TABLE_PREFIX) && !is_quarantine {
                continue;
            }
            let table = txn.open_table(table(name))?;
            let len = table.len()?;
            if is_quarantine {
                counts.quarantined = len;
            } else {
                counts.depth += len;
            }
            let newest = table.last()?.map(|(id, _)| id.value());
            counts.last_id = counts.last_id.max(newest.unwrap_or(0));
        }
        Ok(counts)
    }
}

fn entry(sink: &str, id: u64, stored: Stored) -> SpoolEntry {
    SpoolEntry {
        id,
        sink: sink.to_owned(),
        envelope: stored.envelope,
        spooled_at: stored.spooled_at,
        attempts: stored.attempts,
        last_error: stored.last_error,
    }
}

fn table_name(sink: &str) -> String {
    format!("{TABLE_PREFIX}{sink}")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A poisoned lock only means another thread panicked while holding it;
/// the values inside stay consistent (sets of ids, a handle).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
