//! GitHub's REST API for hook deliveries, over the project's shared HTTP
//! client: every call carries GitHub's recommended headers, waits out rate
//! limits (up to a bound) and retries a couple of transient failures.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use gate_conduit::http::{Client, Response};
use http::{HeaderValue, Method, StatusCode, Uri};

use crate::auth::{app_jwt, AccessToken, Credentials};
use crate::config::Hook;
use crate::delivery::Delivery;
use crate::error::RecoveryError;
use crate::link::next_page;
use crate::rate_limit::{wait_after_success, wait_before_retry};

/// The REST API version this client was written against.
pub const API_VERSION: &str = "2022-11-28";
/// GitHub's largest page of deliveries.
pub const PER_PAGE: u32 = 100;

const TIMEOUT: Duration = Duration::from_secs(30);
/// Rate-limit waits for one call before giving up.
const MAX_RATE_LIMIT_WAITS: u32 = 5;
/// Retries of a call that did not reach GitHub or got a 5xx.
const MAX_TRANSIENT_RETRIES: u32 = 2;
/// A bound on pagination, should an answer link pages in a circle.
const MAX_PAGES: usize = 1_000;

#[derive(Debug)]
pub struct GitHubApi {
    client: Client,
    base: String,
    origin: (Option<String>, Option<String>),
    max_wait: Duration,
    /// Set when an answer spent the last request of the window.
    not_before: Mutex<Option<Instant>>,
}

impl GitHubApi {
    /// A client for `api_url` (`https://api.github.com`, or a GitHub
    /// Enterprise Server's `https://HOST/api/v3`). A rate limit longer than
    /// 15 minutes fails the call rather than blocking.
    pub fn new(api_url: &str) -> Result<Self, RecoveryError> {
        let base = api_url.trim_end_matches('/').to_owned();
        let uri: Uri = base
            .parse()
            .map_err(|_| RecoveryError::Config(format!("api_url {api_url:?} is not a URL")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.authority().is_none() {
            return Err(RecoveryError::Config(format!(
                "api_url {api_url:?} must be an http(s) URL"
            )));
        }
        Ok(Self {
            client: Client::shared()?,
            origin: origin(&uri),
            base,
            max_wait: Duration::from_secs(15 * 60),
            not_before: Mutex::new(None),
        })
    }

    /// The longest rate-limit wait accepted before failing.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// A token for the hook's API calls: the configured one, or a fresh
    /// installation token of the app (valid one hour, one per pass).
    pub async fn access(&self, credentials: &Credentials) -> Result<AccessToken, RecoveryError> {
        match credentials {
            Credentials::Token(secret) => {
                let token = std::str::from_utf8(secret.expose())
                    .map_err(|_| RecoveryError::Config("the token is not UTF-8".into()))?;
                Ok(AccessToken::new(token.trim().to_owned()))
            }
            Credentials::App {
                id,
                installation_id,
                key,
            } => {
                let jwt = AccessToken::new(app_jwt(id, key, unix_now_ms() as u64 / 1_000)?);
                let url = format!(
                    "{}/app/installations/{installation_id}/access_tokens",
                    self.base
                );
                let what = "the installation token request";
                let answer = self.call(Method::POST, &url, jwt.header()?, what).await?;
                #[derive(serde::Deserialize)]
                struct Granted {
                    token: String,
                }
                let granted: Granted =
                    serde_json::from_slice(&answer.body).map_err(|e| RecoveryError::Answer {
                        what: what.into(),
                        reason: e.to_string(),
                    })?;
                Ok(AccessToken::new(granted.token))
            }
        }
    }

    /// Every delivery of the hook from `since_unix` on, newest first as
    /// GitHub lists them; pages are followed until one reaches older
    /// deliveries or there is no next page.
    pub async fn deliveries_since(
        &self,
        hook: &Hook,
        token: &AccessToken,
        since_unix: i64,
    ) -> Result<Vec<Delivery>, RecoveryError> {
        let what = "the deliveries list";
        let mut url = format!(
            "{}{}/deliveries?per_page={PER_PAGE}",
            self.base,
            hook.path()
        );
        let mut visited = HashSet::new();
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            if !visited.insert(url.clone()) {
                break;
            }
            let answer = self.call(Method::GET, &url, token.header()?, what).await?;
            let page: Vec<Delivery> =
                serde_json::from_slice(&answer.body).map_err(|e| RecoveryError::Answer {
                    what: what.into(),
                    reason: e.to_string(),
                })?;
            let reached_older = page
                .iter()
                .any(|d| d.delivered_unix().is_some_and(|at| at < since_unix));
            all.extend(
                page.into_iter()
                    .filter(|d| d.delivered_unix().is_none_or(|at| at >= since_unix)),
            );
            if reached_older {
                break;
            }
            match next_page(&answer.headers) {
                Some(next) => {
                    self.check_origin(&next)?;
                    url = next;
                }
                None => break,
            }
        }
        Ok(all)
    }

    /// Ask GitHub to deliver `delivery_id` again (it answers 202).
    pub async fn redeliver(
        &self,
        hook: &Hook,
        token: &AccessToken,
        delivery_id: u64,
    ) -> Result<(), RecoveryError> {
        let url = format!(
            "{}{}/deliveries/{delivery_id}/attempts",
            self.base,
            hook.path()
        );
        let what = format!("the redelivery of {delivery_id}");
        self.call(Method::POST, &url, token.header()?, &what)
            .await
            .map(drop)
    }

    /// Credentials go only where the configured API lives.
    fn check_origin(&self, url: &str) -> Result<(), RecoveryError> {
        let same = url
            .parse::<Uri>()
            .is_ok_and(|uri| origin(&uri) == self.origin);
        if same {
            Ok(())
        } else {
            Err(RecoveryError::ForeignPage(url.to_owned()))
        }
    }

    async fn call(
        &self,
        method: Method,
        url: &str,
        authorization: HeaderValue,
        what: &str,
    ) -> Result<Response, RecoveryError> {
        let mut rate_limit_waits = 0;
        let mut transient_retries = 0;
        loop {
            self.wait_for_window().await?;
            let request = http::Request::builder()
                .method(method.clone())
                .uri(url)
                .header(http::header::ACCEPT, "application/vnd.github+json")
                .header("x-github-api-version", API_VERSION)
                .header(
                    http::header::USER_AGENT,
                    concat!("notifications-center/", env!("CARGO_PKG_VERSION")),
                )
                .header(http::header::AUTHORIZATION, authorization.clone())
                .body(Bytes::new())
                .map_err(|e| RecoveryError::Config(format!("cannot build the request: {e}")))?;
            let answer = match self.client.send(request, TIMEOUT).await {
                Ok(answer) => answer,
                Err(e) if e.is_transient() && transient_retries < MAX_TRANSIENT_RETRIES => {
                    transient_retries += 1;
                    tracing::warn!(what, error = %e, "github api unreachable, retrying");
                    tokio::time::sleep(Duration::from_secs(u64::from(transient_retries))).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(wait) = wait_before_retry(answer.status, &answer.headers, unix_now_ms()) {
                if wait > self.max_wait {
                    return Err(RecoveryError::RateLimited {
                        wait,
                        limit: self.max_wait,
                    });
                }
                if rate_limit_waits < MAX_RATE_LIMIT_WAITS {
                    rate_limit_waits += 1;
                    tracing::warn!(
                        what,
                        wait_ms = wait.as_millis() as u64,
                        "github rate limit reached, waiting"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if answer.status.is_server_error() && transient_retries < MAX_TRANSIENT_RETRIES {
                transient_retries += 1;
                tracing::warn!(
                    what,
                    status = answer.status.as_u16(),
                    "github api error, retrying"
                );
                tokio::time::sleep(Duration::from_secs(u64::from(transient_retries))).await;
                continue;
            }
            if let Some(wait) = wait_after_success(&answer.headers, unix_now_ms()) {
                if let Ok(mut next) = self.not_before.lock() {
                    *next = Some(Instant::now() + wait);
                }
            }
            if !answer.status.is_success() {
                return Err(RecoveryError::Api {
                    what: what.to_owned(),
                    status: answer.status.as_u16(),
                    message: github_message(answer.status, &answer.body),
                });
            }
            return Ok(answer);
        }
    }

    /// Sleep until the window an earlier answer exhausted has reset.
    async fn wait_for_window(&self) -> Result<(), RecoveryError> {
        let until = self.not_before.lock().ok().and_then(|mut n| n.take());
        if let Some(until) = until {
            let wait = until.saturating_duration_since(Instant::now());
            if wait > self.max_wait {
                return Err(RecoveryError::RateLimited {
                    wait,
                    limit: self.max_wait,
                });
            }
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "github rate limit window spent, waiting for its reset"
            );
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }
}

fn origin(uri: &Uri) -> (Option<String>, Option<String>) {
    (
        uri.scheme_str().map(str::to_ascii_lowercase),
        uri.authority().map(|a| a.as_str().to_ascii_lowercase()),
    )
}

/// GitHub's `message` field, shortened; never the request.
fn github_message(status: StatusCode, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Error {
        message: String,
    }
    match serde_json::from_slice::<Error>(body) {
        Ok(error) => error.message.chars().take(200).collect(),
        Err(_) => status
            .canonical_reason()
            .unwrap_or("no explanation")
            .to_owned(),
    }
}

fn unix_now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}
