//! Operator commands beside `serve`: `simulate` (run a door on a payload
//! file), `tail` (watch the notifications exchange), `spool` (list,
//! replay or drop waiting events) and `config import` (the original
//! service's configuration).

mod credentials;
pub mod deliveries;
pub mod github;
pub mod import;
mod recent;
pub mod show;
pub mod simulate;
pub mod spool;
pub mod stdout;
pub mod tail;
mod time;
