//! Conduit calls: `POST <base>/api/<method>` with the form fields
//! `params=<json>` (arguments plus `__conduit__.token`), `output=json` and
//! `__conduit__=1`, as Arcanist sends them.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use gate_core::Secret;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::http::{Client, HttpError};
use crate::ConduitError;

/// Per call, unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A Conduit endpoint with its API token.
#[derive(Clone)]
pub struct Conduit {
    base: String,
    token: Secret,
    client: Client,
    timeout: Duration,
}

impl fmt::Debug for Conduit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conduit")
            .field("base", &self.base)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Conduit's answer envelope; `result` is kept raw and parsed into the
/// caller's type only when there is no error.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_info: Option<String>,
}

impl Conduit {
    /// `base` is the instance URL (`https://phabricator.example.com`), with
    /// or without a trailing slash.
    pub fn new(
        base: &str,
        token: Secret,
        client: Client,
        timeout: Duration,
    ) -> Result<Self, ConduitError> {
        let base = base.trim_end_matches('/');
        let valid = base.parse::<http::Uri>().ok().is_some_and(|uri| {
            matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
        });
        if !valid {
            // Never quote credentials written in the URL.
            let shown = if base.contains('@') {
                "(not shown: it holds credentials)".to_owned()
            } else {
                base.to_owned()
            };
            return Err(ConduitError::InvalidUrl(shown));
        }
        Ok(Self {
            base: base.to_owned(),
            token,
            client,
            timeout,
        })
    }

    /// The instance URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Call `method` with `params` (a JSON object, or `Value::Null` for
    /// none) and parse `result` into `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<T, ConduitError> {
        let body = self.call_raw(method, params).await?;
        let answer: Answer<'_> =
            serde_json::from_slice(&body).map_err(|e| ConduitError::BadJson(e.to_string()))?;
        if let Some(code) = answer.error_code {
            return Err(ConduitError::Api {
                code,
                info: answer.error_info.unwrap_or_default(),
            });
        }
        let result = answer.result.map_or("null", RawValue::get);
        serde_json::from_str(result).map_err(|e| ConduitError::BadJson(e.to_string()))
    }

    async fn call_raw(&self, method: &str, params: Value) -> Result<Bytes, ConduitError> {
        let request = self.request(method, params)?;
        let response = self.client.send(request, self.timeout).await?;
        if !response.status.is_success() {
            return Err(ConduitError::Status(response.status.as_u16()));
        }
        Ok(response.body)
    }

    fn request(&self, method: &str, params: Value) -> Result<http::Request<Bytes>, ConduitError> {
        let mut params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let token = String::from_utf8_lossy(self.token.expose()).into_owned();
        params.insert(
            "__conduit__".into(),
            Value::Object(Map::from_iter([("token".to_owned(), Value::String(token))])),
        );
        let params = Value::Object(params).to_string();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("params", &params)
            .append_pair("output", "json")
            .append_pair("__conduit__", "1")
            .finish();
        http::Request::post(format!("{}/api/{method}", self.base))
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::USER_AGENT,
                concat!("notifications-center/", env!("CARGO_PKG_VERSION")),
            )
            .body(Bytes::from(body))
            .map_err(|e| ConduitError::from(HttpError::InvalidRequest(e.to_string())))
    }
}
