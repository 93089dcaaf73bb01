//! The durable local spool: notifications a sink could not confirm in time
//! wait here, on disk, until the sink takes them. Nothing accepted is lost:
//! an append returns only after its transaction is fsynced, and an entry is
//! removed only after the sink confirmed it.
//!
//! Storage is redb (an embedded, crash-safe B-tree): one table per sink,
//! keyed by a sequence number, so each sink's backlog reads in arrival order.
//! The file says its format (`file.rs`), each record says its own
//! (`record.rs`), and a record that cannot be read is moved to a quarantine
//! table instead of blocking its sink (`quarantine.rs`). After an I/O error
//! (a full disk) the file is reopened by itself (`store.rs`).

mod entry;
mod error;
mod file;
mod quarantine;
mod record;
mod store;

pub use entry::{QuarantinedEntry, SpoolEntry};
pub use error::SpoolError;
pub use file::check_path;
pub use record::Unreadable;
pub use store::{Scanned, Spool};

#[cfg(test)]
pub(crate) mod test_support {
    use gate_core::{Envelope, Notification};

    pub(crate) fn envelope(delivery: &str) -> Envelope {
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
                raw_content: gate_core::RawContent::from_string("{\"x\": [1, 2]}".into())
                    .expect("json"),
                kind: "push".into(),
                text: "t".into(),
                link: String::new(),
            },
        }
    }
}
