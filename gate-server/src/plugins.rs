//! The plugins linked into gate-server. A crate that is only listed in
//! Cargo.toml is not linked, and its `inventory` registration would be
//! silently missing: each must be named here.

use gate_sink_amqp as _;
use gate_sink_file as _;
use gate_source_github as _;
