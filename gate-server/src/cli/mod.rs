//! Operator commands beside `serve`: `simulate` (run a door on a payload
//! file), `tail` (watch the notifications exchange) and `spool` (list,
//! replay or drop waiting events).

mod credentials;
pub mod deliveries;
mod recent;
pub mod show;
pub mod simulate;
pub mod spool;
pub mod stdout;
pub mod tail;
mod time;
