//! Reading a request body within the door's limit and the global budget of
//! body bytes in flight.

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap};
use http_body_util::BodyExt;

use crate::budget::{BodyBudget, Reservation};

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body of {declared} bytes is over the limit of {limit} bytes")]
    DeclaredTooLarge { declared: u64, limit: u64 },
    #[error("body is over the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("invalid Content-Length header")]
    BadLength,
    #[error("the gateway is holding as many request bodies as it may; retry shortly")]
    OverBudget,
    #[error("cannot read the body: {0}")]
    Read(String),
}

/// A body about to be read: its declared length checked against `limit`
/// and its bytes reserved in the budget, both before reading anything.
#[derive(Debug)]
pub struct Admitted {
    declared: Option<u64>,
    limit: u64,
    reservation: Reservation,
}

/// Refuse on the declared length, then reserve it in the budget (a body
/// with no declared length reserves as it arrives).
pub fn admit(
    headers: &HeaderMap,
    limit: u64,
    budget: &Arc<BodyBudget>,
    budget_limit: u64,
) -> Result<Admitted, BodyError> {
    let declared = match headers.get(header::CONTENT_LENGTH) {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or(BodyError::BadLength)?,
        ),
        None => None,
    };
    if let Some(declared) = declared.filter(|declared| *declared > limit) {
        return Err(BodyError::DeclaredTooLarge { declared, limit });
    }
    let reservation = budget
        .reserve(declared.unwrap_or(0), budget_limit)
        .ok_or(BodyError::OverBudget)?;
    Ok(Admitted {
        declared,
        limit,
        reservation,
    })
}

impl Admitted {
    /// Read the body into one buffer: of its declared size, allocated once,
    /// or grown (and reserved) as it arrives. The reservation comes back
    /// with the bytes, to be held while they are in use.
    pub async fn read<B>(self, body: B) -> Result<(Bytes, Reservation), BodyError>
    where
        B: hyper::body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Admitted {
            declared,
            limit,
            mut reservation,
        } = self;
        let initial = declared.unwrap_or(0);
        let mut buffer: Vec<u8> = Vec::with_capacity(usize::try_from(initial).unwrap_or(0));
        let mut body = std::pin::pin!(body);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Read(e.into().to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let needed = (buffer.len() + data.len()) as u64;
            if needed > limit {
                return Err(BodyError::TooLarge { limit });
            }
            if needed > buffer.capacity() as u64 {
                // Doubling as `Vec` would, but within the limit and with
                // every byte of capacity reserved.
                let capacity = needed.max((buffer.capacity() as u64 * 2).min(limit));
                if capacity > reservation.bytes()
                    && !reservation.grow(capacity - reservation.bytes())
                {
                    return Err(BodyError::OverBudget);
                }
                buffer
                    .reserve_exact(usize::try_from(capacity).unwrap_or(usize::MAX) - buffer.len());
            }
            buffer.extend_from_slice(&data);
        }
        Ok((Bytes::from(buffer), reservation))
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

    async fn read_limited(
        headers: &HeaderMap,
        body: impl hyper::body::Body<Data = Bytes, Error = Infallible>,
        limit: u64,
    ) -> Result<Bytes, BodyError> {
        let budget = Arc::new(BodyBudget::default());
        let (bytes, reservation) = admit(headers, limit, &budget, limit)?.read(body).await?;
        assert!(reservation.bytes() >= bytes.len() as u64);
        assert!(budget.in_use() <= limit);
        Ok(bytes)
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
