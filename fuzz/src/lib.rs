//! Harness shared by the fuzz targets: turn fuzz bytes into a request for a
//! door with known credentials, run the source, and check the properties
//! every source must keep whatever it is sent.

pub mod check;
pub mod gate;
pub mod input;

pub use check::{check_outcome, Expect};
pub use gate::Gate;
pub use input::{Auth, Input};
