//! Helpers for tests and load runs that need real infrastructure: a private
//! RabbitMQ node that can be stopped and started without touching the
//! shared broker other tests use, and a small disk that fills up for real.

pub mod broker;
pub mod disk;
