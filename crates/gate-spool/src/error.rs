/// Why the spool could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool is full ({limit} entries); refusing new events rather than dropping any")]
    Full { limit: u64 },
    #[error("spool storage error: {0}")]
    Storage(String),
    /// The file could not be written or read (a full disk, an I/O error);
    /// the spool reopens the file by itself on a later call.
    #[error("spool file i/o failed: {0}")]
    Io(String),
    /// A previous I/O error closed the file and reopening it failed so far
    /// (retried at most once a second).
    #[error("spool file unavailable since an i/o error, reopening failed: {0}")]
    Unavailable(String),
    #[error("spool entry {id} of sink {sink} is unreadable: {reason}")]
    Corrupt {
        sink: String,
        id: u64,
        reason: String,
    },
    #[error("cannot open the spool at {path}: {reason}")]
    Open { path: String, reason: String },
    /// The path holds something that is not a spool this version can use:
    /// never overwritten, never taken for an empty spool.
    #[error("refusing to use {path} as the spool: {reason}")]
    Refused { path: String, reason: String },
}

impl SpoolError {
    /// Whether the error leaves redb's handle unusable until it is reopened.
    pub(crate) fn needs_reopen(&self) -> bool {
        matches!(self, SpoolError::Io(_))
    }
}

impl<E: Into<redb::Error>> From<E> for SpoolError {
    fn from(error: E) -> Self {
        match error.into() {
            redb::Error::Io(e) => SpoolError::Io(e.to_string()),
            e @ (redb::Error::PreviousIo | redb::Error::DatabaseClosed) => {
                SpoolError::Io(e.to_string())
            }
            e => SpoolError::Storage(e.to_string()),
        }
    }
}
