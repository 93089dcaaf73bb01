//! Recovery of GitHub webhook deliveries that failed while the gateway was
//! down or refused them: GitHub records such deliveries and never retries
//! them, but its REST API lists the deliveries of an organisation or
//! repository hook and redelivers one on request. This crate lists them
//! (cursor pagination), picks the events that never got a 2xx, and asks for
//! their redelivery, authenticated with a token or as a GitHub App, waiting
//! out rate limits instead of failing.

mod api;
mod auth;
mod config;
mod delivery;
mod duration;
mod error;
mod link;
mod rate_limit;
mod recover;
mod select;

pub use api::{GitHubApi, API_VERSION, PER_PAGE};
pub use auth::{app_jwt, AccessToken, Credentials};
pub use config::{AppConfig, Hook, HookConfig, HookLocation, RecoveryConfig};
pub use delivery::Delivery;
pub use duration::parse_duration;
pub use error::RecoveryError;
pub use rate_limit::wait_before_retry;
pub use recover::{recover, Report};
pub use select::{plan, Plan};
