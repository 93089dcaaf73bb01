//! What the senders saw against what the quorum queue holds, counted by
//! delivery id: lost, copies (each explained by its kind), redeliveries and
//! how each was answered, and how the load spread over the gateways.

use std::collections::BTreeMap;
use std::fmt;

use crate::send::{Attempt, Reply};

/// One delivery id, everything sent for it.
#[derive(Debug)]
pub struct Record {
    pub id: String,
    /// The first delivery and the sender's retries of it, until accepted.
    pub first: Vec<Attempt>,
    /// The same delivery sent again once accepted (as GitHub redelivers),
    /// each to another gateway than the one that accepted it.
    pub redeliveries: Vec<Vec<Attempt>>,
}

impl Record {
    /// The attempt that was accepted, if any.
    pub fn accepted(&self) -> Option<Attempt> {
        self.first.iter().copied().find(|a| a.answer.accepted())
    }

    /// Why this id may be on the queue twice: a publish whose confirm was
    /// lost in flight, then published again. None when nothing allows it.
    fn copy_kind(&self) -> Option<CopyKind> {
        let before: Vec<Reply> = self
            .first
            .iter()
            .take_while(|a| !a.answer.accepted())
            .map(|a| a.answer)
            .collect();
        if self.accepted().is_some_and(|a| a.answer == Reply::Spooled) {
            Some(CopyKind::Spooled)
        } else if before.contains(&Reply::NoAnswer) {
            Some(CopyKind::NoAnswer)
        } else if before.iter().any(|a| matches!(a, Reply::Refused(_))) {
            Some(CopyKind::Failed)
        } else {
            None
        }
    }
}

/// The kinds of copy a confirm lost in flight can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CopyKind {
    /// Answered 202: the publish's confirm did not come (the node stopped),
    /// the gateway spooled the event and published it again from its spool.
    Spooled,
    /// A gateway took the delivery and gave no answer (killed with SIGKILL):
    /// it had published it, but its confirm or its record died with it; the
    /// sender's retry published it again once the dead claim lapsed.
    NoAnswer,
    /// Answered 503 (nothing kept) after a publish whose confirm was lost;
    /// the retry published it again.
    Failed,
}

#[derive(Debug, Default)]
pub struct Tally {
    pub ids: usize,
    pub requests: usize,
    pub answered: usize,
    pub accepted: usize,
    pub spooled: usize,
    pub never_accepted: Vec<String>,
    /// Ids whose first attempt failed or got no answer, so the sender
    /// retried them on another gateway.
    pub retried: usize,
    /// ... of which the retry published (Delivered or Spooled) ...
    pub retries_published: usize,
    /// ... or found the id already taken (Duplicate).
    pub retries_duplicate: usize,
    /// Answers 503 `in_progress`: the claim of a killed gateway, until it lapsed.
    pub in_progress: usize,
    pub redelivered_ids: usize,
    pub redeliveries: usize,
    pub redeliveries_duplicate: usize,
    /// Redeliveries with any other answer than `duplicate` (or no answer
    /// from a dead gateway before one): must be none.
    pub redeliveries_wrong: Vec<(String, Vec<Attempt>)>,
    /// Redelivered ids on the queue more than once without a lost confirm.
    pub redelivered_copied: Vec<(String, usize)>,
    pub accepted_by: Vec<usize>,
    pub duplicates_by: Vec<usize>,
    pub distinct_in_queue: usize,
    pub messages_in_queue: usize,
    pub lost: Vec<String>,
    pub copies: BTreeMap<CopyKind, usize>,
    pub unexplained: Vec<(String, usize, Vec<Attempt>)>,
    /// Ids on the queue that no sender sent.
    pub strangers: Vec<String>,
}

impl Tally {
    pub fn new(records: &[Record], counts: &BTreeMap<String, usize>, gateways: usize) -> Self {
        let mut t = Tally {
            ids: records.len(),
            accepted_by: vec![0; gateways],
            duplicates_by: vec![0; gateways],
            distinct_in_queue: counts.len(),
            messages_in_queue: counts.values().sum(),
            ..Tally::default()
        };
        for record in records {
            t.add(record, counts.get(&record.id).copied().unwrap_or(0));
        }
        let sent: std::collections::HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        t.strangers = counts
            .keys()
            .filter(|id| !sent.contains(id.as_str()))
            .cloned()
            .collect();
        t
    }

    fn add(&mut self, record: &Record, count: usize) {
        let all = record
            .first
            .iter()
            .chain(record.redeliveries.iter().flatten());
        for attempt in all {
            self.requests += 1;
            if attempt.answer != Reply::NoAnswer {
                self.answered += 1;
            }
            match attempt.answer {
                Reply::Duplicate => self.duplicates_by[attempt.gateway] += 1,
                Reply::InProgress => self.in_progress += 1,
                _ => {}
            }
        }
        let Some(accepted) = record.accepted() else {
            self.never_accepted.push(record.id.clone());
            return;
        };
        self.accepted += 1;
        self.accepted_by[accepted.gateway] += 1;
        if accepted.answer == Reply::Spooled {
            self.spooled += 1;
        }
        if record.first.len() > 1 {
            self.retried += 1;
            match accepted.answer {
                Reply::Duplicate => self.retries_duplicate += 1,
                _ => self.retries_published += 1,
            }
        }
        let kind = record.copy_kind();
        match count {
            0 => self.lost.push(record.id.clone()),
            1 => {}
            2 if kind.is_some() => {
                *self.copies.entry(kind.expect("checked")).or_insert(0) += 1;
            }
            n => self
                .unexplained
                .push((record.id.clone(), n, record.first.clone())),
        }
        if !record.redeliveries.is_empty() {
            self.redelivered_ids += 1;
            if count > 1 && kind.is_none() {
                self.redelivered_copied.push((record.id.clone(), count));
            }
        }
        for redelivery in &record.redeliveries {
            self.redeliveries += 1;
            // A dead gateway may not answer; every answer must be duplicate.
            let answers_right = redelivery
                .iter()
                .all(|a| matches!(a.answer, Reply::Duplicate | Reply::NoAnswer));
            let ended_duplicate = redelivery
                .last()
                .is_some_and(|a| a.answer == Reply::Duplicate);
            let to_another = redelivery.iter().all(|a| a.gateway != accepted.gateway);
            if answers_right && ended_duplicate && to_another {
                self.redeliveries_duplicate += 1;
            } else {
                self.redeliveries_wrong
                    .push((record.id.clone(), redelivery.clone()));
            }
        }
    }

    pub fn copies_total(&self) -> usize {
        self.copies.values().sum::<usize>() + self.unexplained.len()
    }

    /// Every promise of the proof; panics naming what broke.
    pub fn check(&self) {
        assert!(
            self.never_accepted.is_empty(),
            "never accepted: {:?}",
            self.never_accepted
        );
        assert!(self.lost.is_empty(), "lost: {:?}", self.lost);
        assert!(
            self.unexplained.is_empty(),
            "copies without a lost confirm: {:?}",
            self.unexplained
        );
        assert!(
            self.strangers.is_empty(),
            "unknown ids: {:?}",
            self.strangers
        );
        assert!(
            self.redeliveries_wrong.is_empty(),
            "redeliveries not answered duplicate: {:?}",
            self.redeliveries_wrong
        );
        assert!(
            self.redelivered_copied.is_empty(),
            "redelivered ids published twice: {:?}",
            self.redelivered_copied
        );
        assert!(
            self.retried > 0,
            "the killed gateway should have made senders retry"
        );
        assert!(self.redeliveries > 0, "no redelivery was sent");
        // The load is spread: every gateway took its share of first
        // deliveries (the killed one is down for a third of the run) and
        // answered redeliveries of events other gateways accepted.
        for (g, n) in self.accepted_by.iter().enumerate() {
            assert!(
                *n * 10 >= self.accepted,
                "gateway {g} accepted only {n} of {}",
                self.accepted
            );
        }
        for (g, n) in self.duplicates_by.iter().enumerate() {
            assert!(*n > 0, "gateway {g} answered no redelivery");
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ids sent {}, requests {} (answered {}), accepted {} (202 spooled {}), never accepted {}; \
             retried after a failure or no answer {} (the retry published {}, found it taken {}; answers in_progress {}); \
             redeliveries {} of {} ids, answered duplicate {}, otherwise {}; \
             accepted by gateway {:?}, duplicates answered by gateway {:?}; \
             quorum queue: {} messages, {} distinct ids; lost {}; copies {} (spooled {}, no answer {}, failed {}, unexplained {})",
            self.ids,
            self.requests,
            self.answered,
            self.accepted,
            self.spooled,
            self.never_accepted.len(),
            self.retried,
            self.retries_published,
            self.retries_duplicate,
            self.in_progress,
            self.redeliveries,
            self.redelivered_ids,
            self.redeliveries_duplicate,
            self.redeliveries_wrong.len(),
            self.accepted_by,
            self.duplicates_by,
            self.messages_in_queue,
            self.distinct_in_queue,
            self.lost.len(),
            self.copies_total(),
            self.copies.get(&CopyKind::Spooled).unwrap_or(&0),
            self.copies.get(&CopyKind::NoAnswer).unwrap_or(&0),
            self.copies.get(&CopyKind::Failed).unwrap_or(&0),
            self.unexplained.len(),
        )
    }
}
