//! Which of the sink's messages the alternate exchange kept.
//!
//! With an alternate exchange the broker routes a message no queue wants to
//! the catch-all in the publish itself and says nothing to the publisher
//! (no `basic.return`: it was routed). So each connection binds a queue of
//! its own (exclusive, bounded, never refusing) to the catch-all exchange
//! too: every message the catch-all takes is also put there. The broker
//! confirms a message only once every queue it was routed to has it, so
//! after a confirm the notice is in that queue or already on its way to us.
//! The sink consumes the queue; after a confirm, one `basic.get` on the same
//! channel is the barrier: the queue answers it (empty) only after sending
//! every notice it held, and on one channel the broker keeps that order, so
//! once the answer is in, every notice before it is in the consumer's
//! buffer. One barrier answers every confirm received before it began, so
//! under load its round trip is shared.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;

use futures_util::future::{FutureExt, Shared};
use futures_util::Stream;
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, Consumer};

/// Enough for the messages no queue wants between two emptyings; past it
/// the oldest notice is dropped (never the publish refused: the default
/// overflow is drop-head).
const NOTICE_QUEUE_LENGTH: i64 = 100_000;

/// The exchange a message was published to, and its message id.
type Key = (String, String);

pub(crate) struct Notices {
    channel: Channel,
    queue: String,
    catch_all_exchange: String,
    /// Messages in flight, and whether a notice for them was seen.
    watched: Mutex<HashMap<Key, Watch>>,
    /// Confirms received so far (numbers them).
    confirms: AtomicU64,
    /// The consumer of the notice queue (held only while its buffer is
    /// read, never across an await).
    consumer: Mutex<Consumer>,
    /// The latest barrier, and the confirms it covers: those numbered up to
    /// this when it began. Barriers overlap (their `basic.get`s pipeline on
    /// the channel), so a confirm waits one round trip, not two.
    latest: Mutex<Option<(u64, Barrier)>>,
}

type Barrier = Shared<Pin<Box<dyn Future<Output = Result<(), String>> + Send>>>;

#[derive(Default)]
struct Watch {
    publishes: u32,
    seen: u32,
}

impl Notices {
    /// Declare this connection's notice queue, bound to the catch-all
    /// exchange (declared before).
    pub(crate) async fn declare(
        connection: &Connection,
        catch_all_exchange: String,
        name: &str,
    ) -> Result<Arc<Self>, String> {
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| e.to_string())?;
        declare(&channel, name, &catch_all_exchange).await?;
        let consumer = channel
            .basic_consume(
                name.into(),
                "gate-notices".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    exclusive: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("cannot consume the notice queue {name:?}: {e}"))?;
        Ok(Arc::new(Self {
            channel,
            queue: name.to_owned(),
            catch_all_exchange,
            watched: Mutex::new(HashMap::new()),
            confirms: AtomicU64::new(0),
            consumer: Mutex::new(consumer),
            latest: Mutex::new(None),
        }))
    }

    /// Declare and bind again (idempotent): restores the binding when the
    /// catch-all exchange was deleted and declared again.
    pub(crate) async fn bind(&self) -> Result<(), String> {
        declare(&self.channel, &self.queue, &self.catch_all_exchange).await
    }

    /// Watch for a message about to be published to `exchange`; the guard
    /// stops watching when dropped.
    pub(crate) fn watch(self: &Arc<Self>, exchange: &str, message_id: &str) -> Watched {
        let key = (exchange.to_owned(), message_id.to_owned());
        self.lock().entry(key.clone()).or_default().publishes += 1;
        Watched {
            notices: Arc::clone(self),
            key,
        }
    }

    /// After the broker confirmed the watched message: whether the catch-all
    /// took it. Err when the notice queue cannot be read (then nobody
    /// knows; the message is in a queue either way).
    pub(crate) async fn kept(self: &Arc<Self>, watched: &Watched) -> Result<bool, String> {
        let mine = self.confirms.fetch_add(1, Ordering::SeqCst) + 1;
        let barrier = {
            let mut latest = self
                .latest
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match &*latest {
                Some((covers, barrier)) if *covers >= mine => barrier.clone(),
                _ => {
                    // Its `basic.get` goes out when first polled, below:
                    // after every confirm counted so far.
                    let covers = self.confirms.load(Ordering::SeqCst);
                    let notices = Arc::clone(self);
                    let started: Pin<Box<dyn Future<Output = _> + Send>> =
                        Box::pin(async move { notices.barrier().await });
                    let barrier = started.shared();
                    *latest = Some((covers, barrier.clone()));
                    barrier
                }
            }
        };
        barrier.await?;
        let mut watched_now = self.lock();
        let Some(watch) = watched_now.get_mut(&watched.key) else {
            return Ok(false);
        };
        if watch.seen == 0 {
            return Ok(false);
        }
        watch.seen -= 1;
        Ok(true)
    }

    /// One `basic.get` on the consuming channel, then every notice the
    /// consumer holds; counts those of watched messages.
    async fn barrier(&self) -> Result<(), String> {
        let got = self
            .channel
            .basic_get(self.queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .map_err(|e| format!("cannot read the notice queue {:?}: {e}", self.queue))?;
        if let Some(got) = got {
            self.note(&got.delivery);
        }
        // Whatever arrived before the answer is buffered: take it all.
        self.take_buffered().await
    }

    /// Read what the consumer holds (other publishers' notices too, so the
    /// buffer does not grow while no confirm needs a barrier).
    pub(crate) async fn read_idle(&self) -> Result<(), String> {
        self.take_buffered().await
    }

    /// Every notice the consumer holds, without waiting for more.
    async fn take_buffered(&self) -> Result<(), String> {
        std::future::poll_fn(|cx| loop {
            let next = Pin::new(
                &mut *self
                    .consumer
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            )
            .poll_next(cx);
            match next {
                Poll::Ready(Some(Ok(delivery))) => self.note(&delivery),
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(format!(
                        "cannot read the notice queue {:?}: {e}",
                        self.queue
                    )))
                }
                Poll::Ready(None) => {
                    return Poll::Ready(Err(format!(
                        "the notice queue {:?} is no longer consumed",
                        self.queue
                    )))
                }
                Poll::Pending => return Poll::Ready(Ok(())),
            }
        })
        .await
    }

    fn note(&self, delivery: &Delivery) {
        let id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        if let Some(watch) = self.lock().get_mut(&(origin(delivery), id)) {
            watch.seen += 1;
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Watch>> {
        self.watched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where a message in the catch-all was going: the exchange it was
/// published to (kept by the alternate exchange), or, when the sink put it
/// there itself after a return, the header naming it.
fn origin(delivery: &Delivery) -> String {
    let header = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("x-gate-exchange").cloned());
    match header {
        Some(AMQPValue::LongString(name)) => String::from_utf8_lossy(name.as_bytes()).into_owned(),
        _ => delivery.exchange.as_str().to_owned(),
    }
}

/// A message being watched for; unwatched on drop.
pub(crate) struct Watched {
    notices: Arc<Notices>,
    key: Key,
}

impl Drop for Watched {
    fn drop(&mut self) {
        let mut watched = self.notices.lock();
        if let Some(watch) = watched.get_mut(&self.key) {
            watch.publishes -= 1;
            if watch.publishes == 0 {
                watched.remove(&self.key);
            }
        }
    }
}

/// The notice queue: exclusive to the connection, bounded, and when full it
/// drops its oldest notice rather than refuse a publish (the default
/// overflow); bound to the catch-all exchange.
async fn declare(channel: &Channel, queue: &str, catch_all_exchange: &str) -> Result<(), String> {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-max-length".into(),
        AMQPValue::LongLongInt(NOTICE_QUEUE_LENGTH),
    );
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .map_err(|e| format!("cannot declare the notice queue {queue:?}: {e}"))?;
    channel
        .queue_bind(
            queue.into(),
            catch_all_exchange.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("cannot bind the notice queue {queue:?}: {e}"))
}
