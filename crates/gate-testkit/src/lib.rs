//! Helpers for tests and load runs that need real infrastructure: private
//! RabbitMQ nodes (plain or TLS) that can be stopped and started without
//! touching the shared broker other tests use, and made-up certificates.

pub mod broker;
pub mod pki;
