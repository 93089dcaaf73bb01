/// Why the spool could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool is full ({limit} entries); refusing new events rather than dropping any")]
    Full { limit: u64 },
    #[error("spool storage error: {0}")]
    Storage(String),
    #[error("spool entry {id} of sink {sink} is unreadable: {reason}")]
    Corrupt {
        sink: String,
        id: u64,
        reason: String,
    },
    #[error("cannot open the spool at {path}: {reason}")]
    Open { path: String, reason: String },
}

impl<E: Into<redb::Error>> From<E> for SpoolError {
    fn from(error: E) -> Self {
        SpoolError::Storage(error.into().to_string())
    }
}
