//! Local JSON-lines file/log sink.
