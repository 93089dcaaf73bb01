use serde::{Deserialize, Serialize};

use crate::RawContent;

/// The message every sink receives. The seven keys are a contract with
/// consumers (chat bots, dashboards), so they are always present.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    /// The service the event comes from, e.g. `GitHub`.
    pub service: String,
    /// The project (the door, unless the payload says better).
    pub project: String,
    /// The group, from the door's rules (or the payload, for native).
    pub group: String,
    /// The source payload, kept as the exact JSON text received: re-serialising
    /// it would cost time and could reorder or reformat what consumers parse.
    /// Only made through the strict check ([`RawContent::parse`]).
    #[serde(rename = "rawContent")]
    pub raw_content: RawContent,
    /// The event type, e.g. `push` (`type` in JSON).
    #[serde(rename = "type")]
    pub kind: String,
    /// One readable line.
    pub text: String,
    /// The best link, or `""`.
    pub link: String,
}

impl Notification {
    /// `<project>.<group>.<service>.<type>`, lower-cased. Project, group
    /// and service are sanitised so that a value cannot add or widen routing
    /// segments; the type keeps its dots (`completed.success`), as consumers
    /// of the original service bind `*.*.jenkins.completed.*`.
    pub fn routing_key(&self) -> String {
        let segments = [&self.project, &self.group, &self.service];
        // One allocation (every request makes a key per sink).
        let mut key = String::with_capacity(
            segments.iter().map(|s| s.len() + 1).sum::<usize>() + self.kind.len(),
        );
        for segment in segments {
            push_routing_segment(&mut key, segment);
            key.push('.');
        }
        push_routing_type(&mut key, &self.kind);
        key
    }
}

/// The type part of a routing key: like [`routing_segment`] but dots stay,
/// so a dotted type spans several segments. Empty parts become `_` so that
/// no segment is empty.
fn push_routing_type(key: &mut String, value: &str) {
    for (index, part) in value.split('.').enumerate() {
        if index > 0 {
            key.push('.');
        }
        push_routing_segment(key, part);
    }
}

/// One lower-cased routing-key segment: `.`, `*`, `#` and whitespace become
/// `_` because they are the AMQP topic syntax; an empty value becomes `_` so
/// that the key always has its four segments.
pub fn routing_segment(value: &str) -> String {
    let mut segment = String::with_capacity(value.len());
    push_routing_segment(&mut segment, value);
    segment
}

fn push_routing_segment(key: &mut String, value: &str) {
    if value.is_empty() {
        key.push('_');
        return;
    }
    key.extend(value.chars().flat_map(char::to_lowercase).map(|c| match c {
        '.' | '*' | '#' => '_',
        c if c.is_whitespace() || c.is_control() => '_',
        c => c,
    }));
}

/// A notification with what sinks need to know about the request that made
/// it. Owned and serialisable so that it can be stored and delivered later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    /// The event's id, unique per source and door (`<Source>/<door>/<id>`,
    /// see `Received::delivery`); the AMQP `message_id`.
    pub delivery: String,
    /// Registered source kind, e.g. `GitHub`.
    pub source: String,
    /// The door name of the URL.
    pub door: String,
    /// The source's event name, e.g. `push`.
    pub event: String,
    /// Unix seconds when the gate received the request.
    pub received_at: u64,
    /// The notification itself.
    pub notification: Notification,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(project: &str, group: &str, kind: &str) -> Notification {
        Notification {
            service: "GitHub".into(),
            project: project.into(),
            group: group.into(),
            raw_content: RawContent::parse("{}").expect("valid json"),
            kind: kind.into(),
            text: String::new(),
            link: String::new(),
        }
    }

    #[test]
    fn routing_key_is_lower_case_and_four_segments() {
        let n = sample("Acme", "CI", "push");
        assert_eq!(n.routing_key(), "acme.ci.github.push");
    }

    #[test]
    fn topic_syntax_inside_a_value_cannot_break_routing() {
        let n = sample("a.b", "*", "completed#");
        assert_eq!(n.routing_key(), "a_b._.github.completed_");
        assert_eq!(n.routing_key().split('.').count(), 4);
    }

    #[test]
    fn dots_inside_the_type_stay_as_segments() {
        assert_eq!(
            sample("Acme", "ci", "completed.SUCCESS").routing_key(),
            "acme.ci.github.completed.success"
        );
        assert_eq!(
            sample("a", "g", "x..*").routing_key(),
            "a.g.github.x._._",
            "no empty segment, no wildcard"
        );
        assert_eq!(sample("a", "g", "").routing_key(), "a.g.github._");
    }

    #[test]
    fn empty_segment_keeps_its_place() {
        assert_eq!(sample("", "g", "t").routing_key(), "_.g.github.t");
    }

    #[test]
    fn serialises_the_seven_keys() {
        let value = serde_json::to_value(sample("p", "g", "push")).expect("serialise");
        let mut keys: Vec<_> = value.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "group",
                "link",
                "project",
                "rawContent",
                "service",
                "text",
                "type"
            ]
        );
    }
}
