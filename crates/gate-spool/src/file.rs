//! What may be at the spool's path, and the format stamp inside the file.
//!
//! redb itself takes an empty file for a new database and would initialise
//! it: a spool truncated to zero bytes (its events gone) would then look
//! like an empty spool. A spool file is never empty, so an empty file, a
//! file that is not a redb database, and a redb database of another program
//! are refused with the reason, and left untouched.

use std::io::Read;
use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, TableDefinition, TableHandle};

use crate::store::TABLE_PREFIX;
use crate::SpoolError;

/// The file format this version writes and the newest it reads. Format 1:
/// a `gate-spool/meta` table with this stamp; records in `spool/<sink>`
/// tables, each in a format of `record.rs`; `gate-spool/quarantine`.
/// Files of gate-server 0.1 have no stamp and only `spool/` tables: they are
/// stamped when opened.
pub(crate) const FORMAT: u64 = 1;
const META: TableDefinition<&str, u64> = TableDefinition::new("gate-spool/meta");
const FORMAT_KEY: &str = "format";
/// redb's file header starts with these bytes.
const REDB_MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
/// redb caches pages up to this; its default (1 GiB) made the gateway's
/// memory grow with the backlog. Appends and redelivery touch the two ends
/// of each sink's table (keys are arrival order), a few pages each, so a
/// small cache serves them; 16 MiB left the 100 000-event bench just over
/// its 64 MiB target.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// Open the spool at `path`, creating it (and its directory) when nothing
/// is there.
pub(crate) fn open_or_create(path: &Path) -> Result<Database, SpoolError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(path),
        _ => open_existing(path),
    }
}

fn builder() -> redb::Builder {
    let mut builder = Database::builder();
    builder.set_cache_size(CACHE_BYTES);
    builder
}

fn open_error(path: &Path, reason: impl ToString) -> SpoolError {
    SpoolError::Open {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn refused(path: &Path, reason: &str) -> SpoolError {
    SpoolError::Refused {
        path: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

fn create(path: &Path) -> Result<Database, SpoolError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| open_error(path, e))?;
    }
    // create_new: never initialise a file that someone else just made.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| open_error(path, e))?;
    let db = builder().create(path).map_err(|e| open_error(path, e))?;
    stamp(&db)?;
    Ok(db)
}

/// Open a spool file that must already be there (also used to reopen it
/// after an I/O error).
pub(crate) fn open_existing(path: &Path) -> Result<Database, SpoolError> {
    check_existing(path)?;
    let db = builder().open(path).map_err(|e| open_error(path, e))?;
    check_format(&db, path)?;
    Ok(db)
}

/// Whether the spool at `path` could be opened, as far as can be told
/// without opening it (which would lock the file): nothing there yet is
/// fine (it will be created); an empty or foreign file is refused. For
/// `config check`: reads the first bytes, writes nothing.
pub fn check_path(path: &Path) -> Result<(), SpoolError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        _ => check_existing(path),
    }
}

fn check_existing(path: &Path) -> Result<(), SpoolError> {
    let meta = std::fs::metadata(path).map_err(|e| open_error(path, e))?;
    if !meta.is_file() {
        return Err(refused(path, "it is not a regular file"));
    }
    if meta.len() == 0 {
        return Err(refused(
            path,
            "the file is empty (0 bytes); a spool file never is, even with no event waiting, \
             so it was truncated or replaced and the events it held are gone. \
             Move it away (or delete it) to start with an empty spool",
        ));
    }
    if !starts_with_redb_header(path).map_err(|e| open_error(path, e))? {
        return Err(refused(
            path,
            "it is not a spool file (it does not start with the spool database's header); \
             it was left untouched: point [spool] path elsewhere or move the file away",
        ));
    }
    Ok(())
}

fn starts_with_redb_header(path: &Path) -> std::io::Result<bool> {
    let mut head = [0; REDB_MAGIC.len()];
    let mut file = std::fs::File::open(path)?;
    match file.read_exact(&mut head) {
        Ok(()) => Ok(head == REDB_MAGIC),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

fn check_format(db: &Database, path: &Path) -> Result<(), SpoolError> {
    let refused = |reason: String| refused(path, &reason);
    let txn = db.begin_read()?;
    match txn.open_table(META) {
        Ok(meta) => match meta.get(FORMAT_KEY)?.map(|v| v.value()) {
            Some(format) if format <= FORMAT => Ok(()),
            Some(format) => Err(refused(format!(
                "it was written by a newer gate-server (spool format {format}; this one reads up to {FORMAT}): \
                 run that version until the spool is empty"
            ))),
            None => Err(refused("its format stamp is missing".into())),
        },
        Err(redb::TableError::TableDoesNotExist(_)) => {
            let foreign: Vec<String> = txn
                .list_tables()?
                .map(|t| t.name().to_owned())
                .filter(|name| !name.starts_with(TABLE_PREFIX))
                .collect();
            if !foreign.is_empty() {
                return Err(refused(format!(
                    "it is a database of another program (tables: {}); it was left untouched",
                    foreign.join(", ")
                )));
            }
            drop(txn);
            // A spool of gate-server 0.1: same tables, no stamp yet.
            stamp(db)
        }
        Err(e) => Err(e.into()),
    }
}

fn stamp(db: &Database) -> Result<(), SpoolError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    txn.open_table(META)?.insert(FORMAT_KEY, FORMAT).map(drop)?;
    txn.commit()?;
    Ok(())
}
