//! Which of the sink's messages the alternate exchange kept.
//!
//! With an alternate exchange the broker routes a message no queue wants to
//! the catch-all in the publish itself and says nothing to the publisher
//! (no `basic.return`: it was routed). So each connection binds a queue of
//! its own (exclusive, bounded, never refusing) to the catch-all exchange
//! too: every message the catch-all takes is also put there. The broker
//! confirms a message only once every queue it was routed to has it, so
//! after a confirm, emptying that notice queue finds the message if the
//! catch-all kept it. One emptying answers every confirm received before it
//! began, so under load the cost is shared.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use lapin::options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection};

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
    /// Every confirm numbered up to this was followed by an emptying.
    emptied: tokio::sync::Mutex<u64>,
}

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
        let notices = Self {
            channel,
            queue: name.to_owned(),
            catch_all_exchange,
            watched: Mutex::new(HashMap::new()),
            confirms: AtomicU64::new(0),
            emptied: tokio::sync::Mutex::new(0),
        };
        notices.bind().await?;
        Ok(Arc::new(notices))
    }

    /// Declare and bind again (idempotent): restores the binding when the
    /// catch-all exchange was deleted and declared again.
    pub(crate) async fn bind(&self) -> Result<(), String> {
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(NOTICE_QUEUE_LENGTH),
        );
        self.channel
            .queue_declare(
                self.queue.as_str().into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                arguments,
            )
            .await
            .map_err(|e| format!("cannot declare the notice queue {:?}: {e}", self.queue))?;
        self.channel
            .queue_bind(
                self.queue.as_str().into(),
                self.catch_all_exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("cannot bind the notice queue {:?}: {e}", self.queue))
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
    pub(crate) async fn kept(&self, watched: &Watched) -> Result<bool, String> {
        let mine = self.confirms.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut emptied = self.emptied.lock().await;
            if *emptied < mine {
                let start = self.confirms.load(Ordering::SeqCst);
                self.empty().await?;
                *emptied = start;
            }
        }
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

    /// Take every notice waiting; count those of watched messages.
    async fn empty(&self) -> Result<(), String> {
        loop {
            let got = self
                .channel
                .basic_get(self.queue.as_str().into(), BasicGetOptions { no_ack: true })
                .await
                .map_err(|e| format!("cannot read the notice queue {:?}: {e}", self.queue))?;
            let Some(got) = got else {
                return Ok(());
            };
            let delivery = &got.delivery;
            let exchange = origin(delivery);
            let id = delivery
                .properties
                .message_id()
                .as_ref()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default();
            if let Some(watch) = self.lock().get_mut(&(exchange, id)) {
                watch.seen += 1;
            }
            if got.message_count == 0 {
                return Ok(());
            }
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
fn origin(delivery: &lapin::message::Delivery) -> String {
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
