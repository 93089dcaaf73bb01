use gate_core::Envelope;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::BasicProperties;

/// AMQP short strings (routing keys, message ids) are at most 255 bytes; cut
/// longer values on a character boundary rather than failing the publish.
pub fn short_string(value: &str) -> ShortString {
    let mut end = value.len().min(255);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    ShortString::from(&value[..end])
}

/// Persistent JSON message, identified by the delivery id so that consumers
/// can deduplicate, with the request's source, door and event as headers.
pub fn properties_for(envelope: &Envelope) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (key, value) in [
        ("source", &envelope.source),
        ("door", &envelope.door),
        ("event", &envelope.event),
    ] {
        headers.insert(
            key.into(),
            AMQPValue::LongString(LongString::from(value.as_bytes().to_vec())),
        );
    }
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into())
        .with_message_id(short_string(&envelope.delivery))
        .with_timestamp(envelope.received_at)
        .with_app_id("notifications-center".into())
        .with_headers(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_cut_on_char_boundaries() {
        let long = "é".repeat(200);
        let cut = short_string(&long);
        assert_eq!(cut.as_str().len(), 254);
        assert_eq!(short_string("abc").as_str(), "abc");
    }
}
