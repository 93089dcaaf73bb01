//! Helpers for tests and load runs that need real infrastructure: private
//! RabbitMQ nodes (plain or TLS) that can be stopped and started without
//! touching the shared broker other tests use, a cluster of them, made-up
//! certificates, a small disk that fills up for real, and the counting
//! that load runs share (a queue bound before the load, ids on it).

pub mod broker;
pub mod cluster;
pub mod disk;
pub mod load;
pub mod pki;
