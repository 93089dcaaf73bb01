use gate_core::Envelope;
use serde::{Deserialize, Serialize};

/// One notification waiting for one sink.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpoolEntry {
    /// Arrival order across the whole spool; unique.
    pub id: u64,
    pub sink: String,
    pub envelope: Envelope,
    /// Unix seconds when it was spooled.
    pub spooled_at: u64,
    /// Delivery attempts made from the spool so far.
    pub attempts: u32,
    /// Why the last attempt (or the live delivery) failed.
    pub last_error: String,
}

/// A record that could not be read, set aside so that the rest of its
/// sink's backlog goes on. Its bytes are kept in the spool file as they
/// were, for an operator to look at (`spool list`) or drop (`spool drop`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedEntry {
    /// The id it had in its sink's backlog.
    pub id: u64,
    pub sink: String,
    /// Why it could not be read.
    pub reason: String,
    /// Unix seconds when it was set aside.
    pub quarantined_at: u64,
    /// The record's bytes, unchanged.
    pub bytes: Vec<u8>,
}

/// What is stored under the id; the sink is the table.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub envelope: Envelope,
    pub spooled_at: u64,
    pub attempts: u32,
    pub last_error: String,
}
