//! gate-server with one more source and one more sink: the whole difference
//! from the stock binary is the two `use` lines below, which link the Gitea
//! source and the NATS sink so that their `register_source!` and
//! `register_sink!` reach the registry. Everything else (configuration,
//! validation, the HTTP surface, reload, graceful shutdown) is the
//! gate-server library's `launch` module.
//!
//! ```text
//! cargo run -p gate-example-custom-server -- examples/custom-server/gate.toml
//! ```

use gate_example_gitea_source as _;
use gate_example_nats_sink as _;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("GATE_CONFIG"))
        .map(PathBuf::from);
    gate_server::launch::main(config)
}

#[cfg(test)]
mod tests;
