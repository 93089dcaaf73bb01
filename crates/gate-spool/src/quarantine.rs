//! Records that cannot be read are moved, bytes unchanged, to one table of
//! their own, keyed by the id they had: out of the way of their sink's
//! backlog, still in the file for an operator.
//!
//! A value is `[length of the header, u32 LE][header JSON][the record]`.

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use crate::QuarantinedEntry;

pub(crate) const TABLE: TableDefinition<u64, &[u8]> = TableDefinition::new("gate-spool/quarantine");

#[derive(Serialize, Deserialize)]
struct Header {
    sink: String,
    reason: String,
    quarantined_at: u64,
}

pub(crate) fn encode(sink: &str, reason: &str, quarantined_at: u64, record: &[u8]) -> Vec<u8> {
    let header = Header {
        sink: sink.to_owned(),
        reason: reason.to_owned(),
        quarantined_at,
    };
    // Serialising a struct of strings and a number cannot fail.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let length = u32::try_from(header.len()).unwrap_or(u32::MAX);
    let mut value = Vec::with_capacity(4 + header.len() + record.len());
    value.extend_from_slice(&length.to_le_bytes());
    value.extend_from_slice(&header);
    value.extend_from_slice(record);
    value
}

/// Never fails: what cannot be parsed is shown as such, with all the bytes.
pub(crate) fn decode(id: u64, value: &[u8]) -> QuarantinedEntry {
    let parsed = value.split_first_chunk::<4>().and_then(|(length, rest)| {
        let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
        let (header, record) = rest.split_at_checked(length)?;
        let header: Header = serde_json::from_slice(header).ok()?;
        Some((header, record))
    });
    match parsed {
        Some((header, record)) => QuarantinedEntry {
            id,
            sink: header.sink,
            reason: header.reason,
            quarantined_at: header.quarantined_at,
            bytes: record.to_vec(),
        },
        None => QuarantinedEntry {
            id,
            sink: String::new(),
            reason: "quarantine header unreadable".into(),
            quarantined_at: 0,
            bytes: value.to_vec(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_record_bytes_and_why() {
        let value = encode("rabbit", "checksum mismatch", 42, b"\x01garbage");
        let entry = decode(7, &value);
        assert_eq!(
            entry,
            QuarantinedEntry {
                id: 7,
                sink: "rabbit".into(),
                reason: "checksum mismatch".into(),
                quarantined_at: 42,
                bytes: b"\x01garbage".to_vec(),
            }
        );
        assert_eq!(decode(8, b"xy").bytes, b"xy");
    }
}
