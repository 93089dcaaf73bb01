#![allow(dead_code)]

use gate_core::{Envelope, Notification};

pub fn envelope(delivery: &str) -> Envelope {
    envelope_with_body(delivery, "{\"x\": [1, 2]}")
}

pub fn envelope_with_body(delivery: &str, raw: &str) -> Envelope {
    Envelope {
        delivery: delivery.into(),
        source: "GitHub".into(),
        door: "acme".into(),
        event: "push".into(),
        received_at: 1_700_000_000,
        notification: Notification {
            service: "GitHub".into(),
            project: "acme".into(),
            group: "ci".into(),
            raw_content: gate_core::RawContent::from_string(raw.into()).expect("json"),
            kind: "push".into(),
            text: "t".into(),
            link: String::new(),
        },
    }
}

pub fn deliveries(entries: &[gate_spool::SpoolEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.envelope.delivery.clone())
        .collect()
}
