//! The durable local spool: notifications a sink could not confirm in time
//! wait here, on disk, until the sink takes them. Nothing accepted is lost:
//! an append returns only after its transaction is fsynced, and an entry is
//! removed only after the sink confirmed it.
//!
//! Storage is redb (an embedded, crash-safe B-tree): one table per sink,
//! keyed by a sequence number, so each sink's backlog reads in arrival order.

mod entry;
mod error;
mod store;

pub use entry::SpoolEntry;
pub use error::SpoolError;
pub use store::Spool;
