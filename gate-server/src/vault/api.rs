//! The few Vault/OpenBao HTTP API calls the gate makes, over the shared
//! client of `gate_conduit::http`.

use std::time::Duration;

use bytes::Bytes;
use gate_conduit::http::Client;
use gate_core::Secret;
use http::{HeaderValue, Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::settings::Resolved;

/// A token and how long it lives.
#[derive(Debug, Clone)]
pub struct Lease {
    pub token: Secret,
    /// Zero for tokens that never expire (root tokens).
    pub ttl: Duration,
    pub renewable: bool,
}

/// Why a KV read failed, before it is given the reference's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    Other(String),
}

#[derive(Debug, Clone)]
pub struct VaultApi {
    client: Client,
    address: String,
    namespace: Option<String>,
    timeout: Duration,
}

#[derive(Deserialize)]
struct AuthAnswer {
    auth: AuthBlock,
}

#[derive(Deserialize)]
struct AuthBlock {
    client_token: String,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct LookupAnswer {
    data: LookupData,
}

#[derive(Deserialize)]
struct LookupData {
    #[serde(default)]
    ttl: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct KvAnswer {
    data: KvData,
}

#[derive(Deserialize)]
struct KvData {
    /// `null` when the latest version was deleted.
    data: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct ErrorsAnswer {
    #[serde(default)]
    errors: Vec<String>,
}

impl VaultApi {
    pub fn new(settings: &Resolved) -> Result<Self, String> {
        Ok(Self {
            client: Client::shared().map_err(|e| e.to_string())?,
            address: settings.address.clone(),
            namespace: settings.namespace.clone(),
            timeout: settings.timeout,
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// `POST auth/<mount>/login` with the AppRole ids.
    pub async fn login_approle(
        &self,
        mount: &str,
        role_id: &str,
        secret_id: &Secret,
    ) -> Result<Lease, String> {
        let body = json!({
            "role_id": role_id,
            "secret_id": String::from_utf8_lossy(secret_id.expose()),
        });
        let (status, answer) = self
            .call(
                Method::POST,
                &format!("auth/{mount}/login"),
                None,
                Some(body),
            )
            .await?;
        if status != StatusCode::OK {
            return Err(describe_failure(status, &answer));
        }
        auth_lease(&answer)
    }

    /// `GET auth/token/lookup-self`: the TTL left and whether it renews.
    pub async fn lookup_self(&self, token: &Secret) -> Result<Lease, String> {
        let (status, answer) = self
            .call(Method::GET, "auth/token/lookup-self", Some(token), None)
            .await?;
        if status != StatusCode::OK {
            return Err(describe_failure(status, &answer));
        }
        let parsed: LookupAnswer = serde_json::from_slice(&answer)
            .map_err(|e| format!("unexpected lookup-self answer: {e}"))?;
        Ok(Lease {
            token: token.clone(),
            ttl: Duration::from_secs(parsed.data.ttl),
            renewable: parsed.data.renewable,
        })
    }

    /// `POST auth/token/renew-self`: extend the token by its own TTL.
    pub async fn renew_self(&self, token: &Secret) -> Result<Lease, String> {
        let (status, answer) = self
            .call(
                Method::POST,
                "auth/token/renew-self",
                Some(token),
                Some(json!({})),
            )
            .await?;
        if status != StatusCode::OK {
            return Err(describe_failure(status, &answer));
        }
        let mut lease = auth_lease(&answer)?;
        // The answer repeats the token; keep the one we hold.
        lease.token = token.clone();
        Ok(lease)
    }

    /// `GET <mount>/data/<path>`: every key of the latest version.
    pub async fn read_kv(
        &self,
        token: &Secret,
        mount: &str,
        path: &str,
    ) -> Result<Map<String, Value>, ReadError> {
        let (status, answer) = self
            .call(
                Method::GET,
                &format!("{mount}/data/{path}"),
                Some(token),
                None,
            )
            .await
            .map_err(ReadError::Other)?;
        match status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(ReadError::NotFound),
            other => return Err(ReadError::Other(describe_failure(other, &answer))),
        }
        let parsed: KvAnswer = serde_json::from_slice(&answer).map_err(|e| {
            ReadError::Other(format!(
                "not a KV version 2 secret (is {mount}/ a kv-v2 mount?): {e}"
            ))
        })?;
        parsed.data.data.ok_or(ReadError::NotFound)
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&Secret>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Bytes), String> {
        let url = format!("{}/v1/{path}", self.address);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("accept", "application/json");
        if let Some(token) = token {
            let value = HeaderValue::from_bytes(token.expose())
                .map_err(|_| "the token contains characters not allowed in a header".to_owned())?;
            builder = builder.header("x-vault-token", value);
        }
        if let Some(namespace) = &self.namespace {
            builder = builder.header("x-vault-namespace", namespace.as_str());
        }
        let body = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = builder
            .body(body)
            .map_err(|e| format!("invalid request to {url}: {e}"))?;
        let response = self
            .client
            .send(request, self.timeout)
            .await
            .map_err(|e| format!("{}: {e}", self.address))?;
        Ok((response.status, response.body))
    }
}

fn auth_lease(answer: &[u8]) -> Result<Lease, String> {
    let parsed: AuthAnswer =
        serde_json::from_slice(answer).map_err(|e| format!("unexpected auth answer: {e}"))?;
    let token = Secret::resolve(&parsed.auth.client_token)
        .map_err(|_| "the vault returned an empty token".to_owned())?;
    Ok(Lease {
        token,
        ttl: Duration::from_secs(parsed.auth.lease_duration),
        renewable: parsed.auth.renewable,
    })
}

/// `403 Forbidden: permission denied`, with the vault's own error messages
/// (they describe the request, never a secret), cut to a sane length.
fn describe_failure(status: StatusCode, answer: &[u8]) -> String {
    // Vault's messages may span lines ("1 error occurred:\n\t* ..."): one line here.
    let errors = serde_json::from_slice::<ErrorsAnswer>(answer)
        .map(|a| a.errors.join("; "))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut message = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("error")
    );
    if !errors.is_empty() {
        message.push_str(": ");
        message.extend(errors.chars().take(300));
    }
    message
}
