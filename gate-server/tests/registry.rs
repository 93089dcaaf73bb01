//! The plugins linked into gate-server, exactly: a crate listed in
//! Cargo.toml but not named in `plugins.rs` would be silently missing.

#[test]
fn registered_kinds_are_exactly_the_built_in_plugins() {
    let registry = gate_server::registry().expect("a valid registry");
    assert_eq!(
        registry.source_kinds(),
        [
            "DockerHub",
            "GitHub",
            "Jenkins",
            "Notification",
            "Phabricator"
        ]
    );
    assert_eq!(
        registry.sink_kinds(),
        ["amqp", "dockerhub", "file", "http", "phabricator"]
    );
}
