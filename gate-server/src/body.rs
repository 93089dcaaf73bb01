//! Reading a request body within the configured limit.

use bytes::Bytes;
use http::{header, HeaderMap};
use http_body_util::{BodyExt, LengthLimitError, Limited};

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body of {declared} bytes is over the limit of {limit} bytes")]
    DeclaredTooLarge { declared: u64, limit: u64 },
    #[error("body is over the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("invalid Content-Length header")]
    BadLength,
    #[error("cannot read the body: {0}")]
    Read(String),
}

/// Refuse on the declared length before reading anything, then read with a
/// cap in case the length was absent (chunked) or wrong.
pub async fn read_limited<B>(headers: &HeaderMap, body: B, limit: u64) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if let Some(value) = headers.get(header::CONTENT_LENGTH) {
        let declared: u64 = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or(BodyError::BadLength)?;
        if declared > limit {
            return Err(BodyError::DeclaredTooLarge { declared, limit });
        }
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, cap).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(BodyError::TooLarge { limit })
        }
        Err(e) => Err(BodyError::Read(e.to_string())),
    }
}
