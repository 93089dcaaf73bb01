//! Docker Hub webhooks source.
