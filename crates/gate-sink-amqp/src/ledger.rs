//! Which publish a `basic.return` belongs to, exactly, on one channel.
//!
//! The broker sends a message's `basic.return` before its `basic.ack`, but
//! lapin hands each return to whichever confirm of the channel completes
//! next (a multiple ack completes its confirms in any order), so a return
//! often reaches another publish's confirm. The ledger therefore:
//! - numbers publishes in the order their frames are queued, which is the
//!   order of the broker's delivery tags (the first poll of `basic_publish`
//!   runs under the ledger's lock);
//! - collects every confirm of the channel in one driver task and files each
//!   returned message under its own exchange, routing key and message id;
//! - settles publishes in that order: once every publish up to M is
//!   confirmed, M's return (if any) has been handed to some confirm among
//!   them, and all of those were collected, so M's verdict is exact.
//!
//! Publishes stay pipelined on one channel, so they reach the broker in the
//! order they were started (the spool's redelivery relies on that).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use lapin::message::BasicReturnMessage;
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel, Confirmation, PublisherConfirm};
use tokio::sync::{mpsc, oneshot};

/// What the broker said about one publish.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Routed to at least one queue (the catch-all included).
    Confirmed,
    /// No queue took it; the broker returned it whole.
    Returned(Box<BasicReturnMessage>),
    Nacked,
    /// The channel is not in confirm mode.
    Unconfirmed,
    /// The channel failed before the broker answered.
    Failed(lapin::Error),
}

/// A message's identity as it comes back in a return.
type Key = (String, String, String);

fn key(exchange: &str, routing_key: &str, properties: &BasicProperties) -> Key {
    (
        exchange.to_owned(),
        crate::message::short_string(routing_key)
            .as_str()
            .to_owned(),
        properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default(),
    )
}

/// The confirms of one confirm-mode channel.
pub(crate) struct Ledger {
    channel: Channel,
    inner: Mutex<Inner>,
}

type Confirming = Pin<Box<dyn Future<Output = lapin::Result<PublisherConfirm>> + Send>>;

enum Stage {
    /// Frames queued, `basic_publish` not finished: its confirm may already
    /// be complete inside it.
    Publishing,
    Waiting(PublisherConfirm),
    Resolved {
        /// Boxed: a confirmation is large and most slots never hold one.
        answer: Box<lapin::Result<Confirmation>>,
        /// Publishes numbered below this had started when this one was
        /// seen confirmed: one of them may hold its return.
        barrier: u64,
    },
}

struct Slot {
    key: Key,
    stage: Stage,
    reply: Option<oneshot::Sender<Verdict>>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    open: BTreeMap<u64, Slot>,
    returns: HashMap<Key, VecDeque<BasicReturnMessage>>,
    driver: Option<Waker>,
}

/// A publish in flight: its verdict arrives on `verdict`.
pub(crate) struct Ticket {
    pub(crate) seq: u64,
    pub(crate) verdict: oneshot::Receiver<Verdict>,
}

impl Ledger {
    /// The ledger of `channel` (in confirm mode) and its driver task.
    /// Returned messages nobody published on this channel (none expected)
    /// go to `orphans`, so they are still kept.
    pub(crate) fn start(
        channel: Channel,
        orphans: mpsc::UnboundedSender<BasicReturnMessage>,
    ) -> Arc<Self> {
        let ledger = Arc::new(Self {
            channel,
            inner: Mutex::new(Inner::default()),
        });
        tokio::spawn(drive(Arc::clone(&ledger), orphans));
        ledger
    }

    pub(crate) fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Publish `mandatory`; the verdict comes on the ticket. The frames are
    /// sent by a task of its own: a request that gives up must not drop a
    /// confirm that may carry another message's return.
    pub(crate) fn publish(
        self: &Arc<Self>,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Result<Ticket, lapin::Error> {
        let (reply, verdict) = oneshot::channel();
        let key = key(exchange, routing_key, &properties);
        let channel = self.channel.clone();
        let exchange = exchange.into();
        let routing_key = crate::message::short_string(routing_key);
        let payload = payload.to_vec();
        let mut publishing: Confirming = Box::pin(async move {
            channel
                .basic_publish(
                    exchange,
                    routing_key,
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &payload,
                    properties,
                )
                .await
        });
        // The first poll numbers the publish and queues its frames, under
        // the lock, so numbers follow the broker's delivery tags.
        let mut inner = self.lock();
        let seq = inner.next;
        inner.next += 1;
        let waker = std::task::Waker::noop();
        let first = publishing
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker));
        if let Poll::Ready(Err(error)) = first {
            return Err(error);
        }
        inner.open.insert(
            seq,
            Slot {
                key,
                stage: Stage::Publishing,
                reply: Some(reply),
            },
        );
        drop(inner);
        match first {
            Poll::Ready(framed) => self.framed(seq, framed),
            Poll::Pending => {
                let ledger = Arc::clone(self);
                tokio::spawn(async move {
                    let framed = publishing.await;
                    ledger.framed(seq, framed);
                });
            }
        }
        Ok(Ticket { seq, verdict })
    }

    /// The frames of `seq` are sent (or could not be).
    fn framed(&self, seq: u64, framed: lapin::Result<PublisherConfirm>) {
        let mut inner = self.lock();
        let barrier = inner.next;
        if let Some(slot) = inner.open.get_mut(&seq) {
            slot.stage = match framed {
                Ok(confirm) => Stage::Waiting(confirm),
                Err(error) => Stage::Resolved {
                    answer: Box::new(Err(error)),
                    barrier,
                },
            };
        }
        wake(&mut inner);
    }

    /// Settle `seq` now if the broker already answered it, without waiting
    /// for the publishes before it (one whose confirm is stuck, e.g. on a
    /// quorum queue without its majority). Its return, if one was already
    /// collected, still counts.
    pub(crate) fn settle_now(&self, seq: u64) {
        let mut inner = self.lock();
        let ready = matches!(
            inner.open.get(&seq).map(|s| &s.stage),
            Some(Stage::Resolved { .. })
        );
        if ready {
            if let Some(slot) = inner.open.remove(&seq) {
                settle(&mut inner, slot);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Ledger {
    /// Let the driver see that it is gone and end.
    fn drop(&mut self) {
        wake(&mut self.lock());
    }
}

fn wake(inner: &mut Inner) {
    if let Some(driver) = inner.driver.take() {
        driver.wake();
    }
}

/// Poll every confirm of the channel, file returned messages, settle in
/// order. Ends when the ledger is dropped (its connection replaced and no
/// request waiting on it).
async fn drive(ledger: Arc<Ledger>, orphans: mpsc::UnboundedSender<BasicReturnMessage>) {
    let weak = Arc::downgrade(&ledger);
    drop(ledger);
    std::future::poll_fn(move |cx| {
        let Some(ledger) = weak.upgrade() else {
            return Poll::Ready(());
        };
        let mut inner = ledger.lock();
        inner.driver = Some(cx.waker().clone());
        let barrier = inner.next;
        let mut returned = Vec::new();
        for slot in inner.open.values_mut() {
            let Stage::Waiting(confirm) = &mut slot.stage else {
                continue;
            };
            let Poll::Ready(answer) = Pin::new(confirm).poll(cx) else {
                continue;
            };
            let answer = answer.map(|confirmation| match confirmation {
                Confirmation::Ack(Some(message)) => {
                    returned.push(message);
                    Confirmation::Ack(None)
                }
                Confirmation::Nack(Some(message)) => {
                    returned.push(message);
                    Confirmation::Nack(None)
                }
                other => other,
            });
            slot.stage = Stage::Resolved {
                answer: Box::new(answer),
                barrier,
            };
        }
        for message in returned {
            let key = key(
                message.delivery.exchange.as_str(),
                message.delivery.routing_key.as_str(),
                &message.delivery.properties,
            );
            if inner.open.values().any(|slot| slot.key == key) {
                inner.returns.entry(key).or_default().push_back(message);
            } else {
                let _ = orphans.send(message);
            }
        }
        while let Some(entry) = inner.open.first_entry() {
            let Stage::Resolved { barrier, .. } = &entry.get().stage else {
                break;
            };
            let barrier = *barrier;
            // A publish numbered below the barrier and still sending its
            // frames may have been confirmed with this one's return.
            let pending = inner
                .open
                .range(..barrier)
                .any(|(_, slot)| matches!(slot.stage, Stage::Publishing));
            if pending {
                break;
            }
            let Some((_, slot)) = inner.open.pop_first() else {
                break;
            };
            settle(&mut inner, slot);
        }
        Poll::Pending
    })
    .await;
}

fn settle(inner: &mut Inner, mut slot: Slot) {
    let Stage::Resolved { answer, .. } = std::mem::replace(&mut slot.stage, Stage::Publishing)
    else {
        return;
    };
    let returned = inner
        .returns
        .get_mut(&slot.key)
        .and_then(VecDeque::pop_front);
    if inner.returns.get(&slot.key).is_some_and(VecDeque::is_empty) {
        inner.returns.remove(&slot.key);
    }
    let verdict = match (*answer, returned) {
        (Ok(Confirmation::Ack(_)), Some(message)) => Verdict::Returned(Box::new(message)),
        (Ok(Confirmation::Ack(_)), None) => Verdict::Confirmed,
        (Ok(Confirmation::Nack(_)), _) => Verdict::Nacked,
        (Ok(Confirmation::NotRequested), _) => Verdict::Unconfirmed,
        (Err(error), _) => Verdict::Failed(error),
    };
    if let Some(reply) = slot.reply.take() {
        let _ = reply.send(verdict);
    }
}
