//! GitHub webhooks source.
