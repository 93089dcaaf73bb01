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

/// What is stored under the id; the sink is the table.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Stored {
    pub envelope: Envelope,
    pub spooled_at: u64,
    pub attempts: u32,
    pub last_error: String,
}
