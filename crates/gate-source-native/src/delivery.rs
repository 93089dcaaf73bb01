//! The client's delivery id, used by the gate to drop duplicates.

use gate_core::{Rejection, Request};

pub const DELIVERY_HEADER: &str = "x-gate-delivery";

/// Long enough for UUIDs and composite ids, short enough for logs and
/// message ids.
pub const MAX_DELIVERY_CHARS: usize = 200;

/// `Ok(None)` when absent: without an `Idempotency-Key` either, the
/// notification is published every time.
pub fn delivery_id(request: &Request<'_>) -> Result<Option<String>, Rejection> {
    if !request.headers.contains_key(DELIVERY_HEADER) {
        return Ok(None);
    }
    let value = request
        .header(DELIVERY_HEADER)
        .map(str::trim)
        .ok_or_else(|| Rejection::Malformed("X-Gate-Delivery must be visible ASCII".into()))?;
    if value.is_empty() {
        return Err(Rejection::Malformed("X-Gate-Delivery is empty".into()));
    }
    if value.len() > MAX_DELIVERY_CHARS {
        return Err(Rejection::Malformed(format!(
            "X-Gate-Delivery is longer than {MAX_DELIVERY_CHARS} characters"
        )));
    }
    Ok(Some(value.to_owned()))
}
