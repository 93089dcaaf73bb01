//! The plugins linked into gate-server. A crate that is only listed in
//! Cargo.toml is not linked, and its `inventory` registration would be
//! silently missing: each must be named here.

use gate_sink_amqp as _;
use gate_sink_dockerhub as _;
use gate_sink_file as _;
use gate_sink_http as _;
use gate_sink_phabricator as _;
use gate_source_dockerhub as _;
use gate_source_github as _;
use gate_source_jenkins as _;
use gate_source_native as _;
use gate_source_phabricator as _;
