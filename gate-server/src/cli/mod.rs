//! Operator commands beside `serve`: `simulate` (run a door on a payload
//! file) and `tail` (watch the notifications exchange).

mod credentials;
pub mod simulate;
pub mod tail;
mod time;
