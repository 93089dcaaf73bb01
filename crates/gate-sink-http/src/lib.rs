//! Generic signed HTTP forward sink.
