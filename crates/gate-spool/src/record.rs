//! How one spooled event is stored: a format byte, then the bytes of that
//! format. Every record says its own format, so a spool written by an older
//! gate-server is read by a newer one, and a record that cannot be read is
//! known as such (checksum, unknown format) instead of being misread.
//!
//! - format 1 (written now): `[1][crc32 of the rest, LE][lz4 block]`; the
//!   block (its length first) holds the JSON of [`Stored`]. Webhook JSON
//!   compresses 3-6x, which is what keeps the file near or below the size of
//!   the events it holds.
//! - legacy (files of gate-server 0.1, before formats): the JSON of
//!   [`Stored`] itself, which starts with `{`.

use crate::entry::Stored;

const FORMAT_1: u8 = 1;
const LEGACY_JSON: u8 = b'{';
const HEADER: usize = 1 + 4;

/// Why a record cannot be read; kept with the record in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("empty record")]
    Empty,
    #[error("unknown record format {0} (written by another program, or damaged)")]
    UnknownFormat(u8),
    #[error("record truncated ({0} bytes)")]
    Truncated(usize),
    #[error("checksum mismatch (the record was damaged on disk)")]
    Checksum,
    #[error("cannot decompress: {0}")]
    Compression(String),
    #[error("cannot decode: {0}")]
    Decode(String),
}

pub(crate) fn encode(stored: &Stored) -> Result<Vec<u8>, String> {
    let json = serde_json::to_vec(stored).map_err(|e| e.to_string())?;
    let compressed = lz4_flex::block::compress_prepend_size(&json);
    let mut record = Vec::with_capacity(HEADER + compressed.len());
    record.push(FORMAT_1);
    record.extend_from_slice(&crc32fast::hash(&compressed).to_le_bytes());
    record.extend_from_slice(&compressed);
    Ok(record)
}

pub(crate) fn decode(record: &[u8]) -> Result<Stored, Unreadable> {
    match record.first() {
        None => Err(Unreadable::Empty),
        Some(&FORMAT_1) => {
            let (header, body) = record
                .split_at_checked(HEADER)
                .ok_or(Unreadable::Truncated(record.len()))?;
            let mut crc = [0; 4];
            crc.copy_from_slice(&header[1..]);
            if crc32fast::hash(body) != u32::from_le_bytes(crc) {
                return Err(Unreadable::Checksum);
            }
            let json = lz4_flex::block::decompress_size_prepended(body)
                .map_err(|e| Unreadable::Compression(e.to_string()))?;
            serde_json::from_slice(&json).map_err(|e| Unreadable::Decode(e.to_string()))
        }
        Some(&LEGACY_JSON) => {
            serde_json::from_slice(record).map_err(|e| Unreadable::Decode(e.to_string()))
        }
        Some(&other) => Err(Unreadable::UnknownFormat(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::envelope;

    fn stored() -> Stored {
        Stored {
            envelope: envelope("d-1"),
            spooled_at: 1_700_000_000,
            attempts: 2,
            last_error: "broker down".into(),
        }
    }

    #[test]
    fn format_1_round_trips_and_keeps_raw_content_byte_for_byte() {
        let record = encode(&stored()).expect("encode");
        assert_eq!(record[0], FORMAT_1);
        let back = decode(&record).expect("decode");
        assert_eq!(back.envelope.delivery, "d-1");
        assert_eq!(back.attempts, 2);
        assert_eq!(
            back.envelope.notification.raw_content.get(),
            stored().envelope.notification.raw_content.get()
        );
    }

    #[test]
    fn legacy_json_records_are_still_read() {
        let legacy = serde_json::to_vec(&stored()).expect("json");
        assert_eq!(decode(&legacy).expect("decode").last_error, "broker down");
    }

    #[test]
    fn every_damaged_byte_is_detected_never_misread() {
        let record = encode(&stored()).expect("encode");
        for at in 0..record.len() {
            let mut damaged = record.clone();
            damaged[at] ^= 0x20;
            assert!(decode(&damaged).is_err(), "flip at {at} went unnoticed");
        }
        assert_eq!(decode(&[]).unwrap_err(), Unreadable::Empty);
        assert_eq!(decode(&[7, 1]).unwrap_err(), Unreadable::UnknownFormat(7));
        assert_eq!(decode(&[1, 0, 0]).unwrap_err(), Unreadable::Truncated(3));
        assert!(matches!(
            decode(&record[..record.len() - 1]).unwrap_err(),
            Unreadable::Checksum
        ));
    }
}
