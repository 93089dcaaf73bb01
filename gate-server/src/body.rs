//! Reading a request body within the configured limit.

use bytes::{Bytes, BytesMut};
use http::{header, HeaderMap};
use http_body_util::BodyExt;

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
    let mut declared = None;
    if let Some(value) = headers.get(header::CONTENT_LENGTH) {
        let length: u64 = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or(BodyError::BadLength)?;
        if length > limit {
            return Err(BodyError::DeclaredTooLarge {
                declared: length,
                limit,
            });
        }
        declared = Some(length);
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = std::pin::pin!(body);
    let mut collected = Collected::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.into().to_string()))?;
        if let Ok(data) = frame.into_data() {
            if collected.len().saturating_add(data.len()) > cap {
                return Err(BodyError::TooLarge { limit });
            }
            collected.push(data, declared);
        }
    }
    Ok(collected.into_bytes())
}

/// The body so far. One piece is kept as received (no copy, the usual case
/// for small bodies); from the second on, the pieces go into one buffer of
/// the declared length, so the body is copied once and never held twice
/// (collecting the pieces, then joining them, held it twice).
#[derive(Debug, Default)]
enum Collected {
    #[default]
    Empty,
    One(Bytes),
    Joined(BytesMut),
}

impl Collected {
    fn len(&self) -> usize {
        match self {
            Collected::Empty => 0,
            Collected::One(bytes) => bytes.len(),
            Collected::Joined(buffer) => buffer.len(),
        }
    }

    fn push(&mut self, data: Bytes, declared: Option<u64>) {
        if data.is_empty() {
            return;
        }
        *self = match std::mem::take(self) {
            Collected::Empty => Collected::One(data),
            Collected::One(first) => {
                let wanted = first.len() + data.len();
                // The declared length was checked against the limit; the
                // allocation is reserved, not touched, until bytes arrive.
                let capacity = declared
                    .and_then(|d| usize::try_from(d).ok())
                    .map_or(wanted, |d| d.max(wanted));
                let mut buffer = BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&data);
                Collected::Joined(buffer)
            }
            Collected::Joined(mut buffer) => {
                buffer.extend_from_slice(&data);
                Collected::Joined(buffer)
            }
        };
    }

    fn into_bytes(self) -> Bytes {
        match self {
            Collected::Empty => Bytes::new(),
            Collected::One(bytes) => bytes,
            Collected::Joined(buffer) => buffer.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::StreamBody;
    use hyper::body::Frame;

    use super::*;

    fn pieces(parts: &[&'static [u8]]) -> impl hyper::body::Body<Data = Bytes, Error = Infallible> {
        let frames: Vec<Result<Frame<Bytes>, Infallible>> = parts
            .iter()
            .map(|p| Ok(Frame::data(Bytes::from_static(p))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames))
    }

    fn declaring(length: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, length.into());
        headers
    }

    #[tokio::test]
    async fn pieces_are_joined_in_order_with_or_without_a_declared_length() {
        let parts: &[&'static [u8]] = &[b"{\"a\":", b"", b"[1,2", b"]}"];
        let joined = read_limited(&declaring(12), pieces(parts), 100).await;
        assert_eq!(joined.expect("read").as_ref(), b"{\"a\":[1,2]}");
        let chunked = read_limited(&HeaderMap::new(), pieces(parts), 100).await;
        assert_eq!(chunked.expect("read").as_ref(), b"{\"a\":[1,2]}");
        let one = read_limited(&HeaderMap::new(), pieces(&[b"{}"]), 100).await;
        assert_eq!(one.expect("read").as_ref(), b"{}");
        let none = read_limited(&HeaderMap::new(), pieces(&[]), 100).await;
        assert!(none.expect("read").is_empty());
    }

    #[tokio::test]
    async fn limits_hold_for_declared_and_undeclared_lengths() {
        let over = read_limited(&declaring(101), pieces(&[b"x"]), 100).await;
        assert!(matches!(
            over,
            Err(BodyError::DeclaredTooLarge {
                declared: 101,
                limit: 100
            })
        ));
        // Chunked: the pieces add up over the limit.
        let parts: &[&'static [u8]] = &[&[b'x'; 60], &[b'y'; 41]];
        let over = read_limited(&HeaderMap::new(), pieces(parts), 100).await;
        assert!(
            matches!(over, Err(BodyError::TooLarge { limit: 100 })),
            "{over:?}"
        );
        let exact = read_limited(&HeaderMap::new(), pieces(&[&[b'x'; 60], &[b'y'; 40]]), 100).await;
        assert_eq!(exact.expect("read").len(), 100);
    }
}
