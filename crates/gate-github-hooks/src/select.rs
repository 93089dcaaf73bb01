//! Which deliveries to ask GitHub to redeliver: one per event (guid) that
//! has no 2xx delivery at all (a 2xx means the gateway confirmed or spooled
//! it), the event's latest delivery, oldest event first.

use std::collections::BTreeMap;

use crate::delivery::Delivery;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// To redeliver, oldest event first.
    pub redeliver: Vec<Delivery>,
    /// Events that failed `max_attempts` times or more: left alone.
    pub given_up: Vec<Delivery>,
}

pub fn plan(deliveries: &[Delivery], max_attempts: usize) -> Plan {
    let mut by_guid: BTreeMap<&str, Vec<&Delivery>> = BTreeMap::new();
    for delivery in deliveries {
        by_guid.entry(&delivery.guid).or_default().push(delivery);
    }
    let mut failed: Vec<(i64, u64, &Delivery, usize)> = by_guid
        .values()
        .filter(|attempts| !attempts.iter().any(|d| d.succeeded()))
        .filter_map(|attempts| {
            let first = attempts.iter().min_by_key(|d| (order(d), d.id))?;
            let latest = attempts.iter().max_by_key(|d| (order(d), d.id))?;
            Some((order(first), first.id, *latest, attempts.len()))
        })
        .collect();
    failed.sort_by_key(|(at, id, _, _)| (*at, *id));
    let mut plan = Plan::default();
    for (_, _, latest, attempts) in failed {
        if attempts >= max_attempts.max(1) {
            plan.given_up.push(latest.clone());
        } else {
            plan.redeliver.push(latest.clone());
        }
    }
    plan
}

/// Unparseable dates sort last (treated as the most recent).
fn order(delivery: &Delivery) -> i64 {
    delivery.delivered_unix().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: u64, guid: &str, at: &str, code: u16) -> Delivery {
        Delivery {
            id,
            guid: guid.into(),
            delivered_at: format!("2026-12-01T{at}Z"),
            redelivery: false,
            status: String::new(),
            status_code: Some(code),
            event: "push".into(),
            action: None,
        }
    }

    #[test]
    fn one_latest_delivery_per_failed_event_oldest_first() {
        let listed = [
            d(9, "c", "10:09:00", 502),
            d(8, "a", "10:08:00", 0),
            d(7, "b", "10:07:00", 202),
            d(6, "b", "10:06:00", 503),
            d(5, "c", "10:05:00", 0),
            d(4, "a", "10:04:00", 503),
            d(3, "d", "10:03:00", 200),
        ];
        let plan = plan(&listed, 5);
        let ids: Vec<u64> = plan.redeliver.iter().map(|d| d.id).collect();
        // a began at 10:04, c at 10:05: a first; b and d succeeded.
        assert_eq!(ids, [8, 9]);
        assert!(plan.given_up.is_empty());
    }

    #[test]
    fn a_success_before_a_failure_still_counts_as_delivered() {
        let listed = [d(2, "a", "10:02:00", 500), d(1, "a", "10:01:00", 200)];
        assert_eq!(plan(&listed, 5), Plan::default());
    }

    #[test]
    fn events_failing_too_often_are_given_up() {
        let listed = [
            d(3, "a", "10:03:00", 400),
            d(2, "a", "10:02:00", 400),
            d(1, "b", "10:01:00", 0),
        ];
        let plan = plan(&listed, 2);
        assert_eq!(plan.redeliver.iter().map(|d| d.id).collect::<Vec<_>>(), [1]);
        assert_eq!(plan.given_up.iter().map(|d| d.id).collect::<Vec<_>>(), [3]);
    }
}
