//! One accepted connection's deadlines, and the cap on connections per
//! client address: a client that connects and says nothing (or sends its
//! headers a byte at a time, or only the HTTP/2 preface) holds a slot for a
//! bounded time, and one address cannot take every slot.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncRead as _;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::ServerConfig;

/// The deadlines of a connection, from the configuration current when it
/// was accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    /// From accept to the first byte (before HTTP/1 or HTTP/2 is known).
    pub first_byte: Duration,
    /// From the first byte to the first request's complete headers.
    pub headers: Duration,
    /// With no request in progress, after the last one ended.
    pub idle: Duration,
}

impl Deadlines {
    pub fn of(server: &ServerConfig) -> Self {
        Self {
            first_byte: Duration::from_millis(server.first_byte_timeout_ms),
            headers: Duration::from_millis(server.header_read_timeout_ms),
            idle: Duration::from_millis(server.idle_timeout_ms),
        }
    }
}

/// Requests in progress on one connection, and when it must close if it
/// has none. Only requests move the deadline: bytes that make no request
/// (HTTP/2 pings, headers sent a byte at a time) do not.
#[derive(Debug)]
pub(crate) struct Activity {
    state: Mutex<ActivityState>,
    changed: Notify,
    idle: Duration,
}

#[derive(Debug)]
struct ActivityState {
    active: usize,
    deadline: Instant,
}

impl Activity {
    /// The first request's headers are due by `first_deadline`.
    pub fn new(first_deadline: Instant, idle: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(ActivityState {
                active: 0,
                deadline: first_deadline,
            }),
            changed: Notify::new(),
            idle,
        })
    }

    /// Mark a request in progress until the guard is dropped.
    pub fn begin(self: &Arc<Self>) -> ActiveRequest {
        self.lock().active += 1;
        self.changed.notify_one();
        ActiveRequest(Arc::clone(self))
    }

    /// Completes once the connection has had no request in progress until
    /// its deadline.
    pub async fn expired(&self) {
        loop {
            // Registered before reading the state, so no change is missed.
            let changed = self.changed.notified();
            let deadline = {
                let state = self.lock();
                (state.active == 0).then_some(state.deadline)
            };
            match deadline {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request in progress; its end starts the idle deadline.
#[derive(Debug)]
pub(crate) struct ActiveRequest(Arc<Activity>);

impl Drop for ActiveRequest {
    fn drop(&mut self) {
        let activity = &self.0;
        {
            let mut state = activity.lock();
            state.active -= 1;
            if state.active == 0 {
                state.deadline = Instant::now() + activity.idle;
            }
        }
        activity.changed.notify_one();
    }
}

/// A hyper service whose requests count as the connection's activity while
/// they run (until the response head is ready).
#[derive(Debug, Clone)]
pub(crate) struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, request: R) -> Self::Future {
        let active = self.activity.begin();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answered = answer.await;
            drop(active);
            answered
        })
    }
}

/// Connections held per client address. IPv6 addresses count per /64, the
/// block a single client usually has; IPv4-mapped addresses as IPv4.
#[derive(Debug, Default)]
pub(crate) struct AddressSlots {
    held: Mutex<HashMap<IpAddr, usize>>,
}

impl AddressSlots {
    /// A slot for `ip`, unless it already holds `cap` (0: no cap).
    pub fn take(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<AddressSlot> {
        let key = client_key(ip);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(key).or_insert(0);
        if cap != 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            slots: Arc::clone(self),
            key,
        })
    }

    #[cfg(test)]
    fn held(&self, ip: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&client_key(ip)).copied().unwrap_or(0)
    }
}

fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// One connection of an address; released when dropped.
#[derive(Debug)]
pub(crate) struct AddressSlot {
    slots: Arc<AddressSlots>,
    key: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut held = self
            .slots
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_cap_and_gets_slots_back() {
        let slots = Arc::new(AddressSlots::default());
        let a: IpAddr = "203.0.113.7".parse().expect("ip");
        let b: IpAddr = "203.0.113.8".parse().expect("ip");
        let first = slots.take(a, 2).expect("first");
        let _second = slots.take(a, 2).expect("second");
        assert!(slots.take(a, 2).is_none());
        assert!(
            slots.take(b, 2).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert_eq!(slots.held(a), 1);
        assert!(slots.take(a, 2).is_some());
        assert!(slots.take(a, 0).is_some(), "0 means no cap");
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let slots = Arc::new(AddressSlots::default());
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let _held = slots.take(one, 1).expect("first");
        assert!(slots.take(other, 1).is_none(), "same /64");
        let v4: IpAddr = "198.51.100.1".parse().expect("ip");
        let mapped: IpAddr = "::ffff:198.51.100.1".parse().expect("ip");
        let _v4 = slots.take(v4, 1).expect("v4");
        assert!(slots.take(mapped, 1).is_none(), "mapped is the same client");
    }

    #[tokio::test]
    async fn only_requests_move_the_deadline() {
        let activity = Activity::new(
            Instant::now() + Duration::from_millis(50),
            Duration::from_millis(300),
        );
        let request = activity.begin();
        // In progress: never expires, however long past the first deadline.
        let waited = tokio::time::timeout(Duration::from_millis(400), activity.expired()).await;
        assert!(waited.is_err());
        drop(request);
        let started = Instant::now();
        activity.expired().await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
    }
}

/// How long, and how many bytes, a closing connection keeps reading what
/// the client still sends.
const LINGER: Duration = Duration::from_secs(10);
const LINGER_BYTES: u64 = 32 * 1024 * 1024;

/// A client's stream with a lingering close. A request refused before its
/// body is read is answered at once, then the connection closes with the
/// body's bytes still arriving; closing a socket with unread data makes the
/// kernel send a reset, which can destroy the answer before the client
/// reads it. So on shutdown the write side is closed first (the client sees
/// the whole answer, then end of stream) and what the client still sends is
/// read and discarded, a buffer at a time, until it closes too, for at most
/// [`LINGER`] and [`LINGER_BYTES`].
#[derive(Debug)]
pub(crate) struct Lingering {
    stream: tokio::net::TcpStream,
    linger: Option<Linger>,
}

#[derive(Debug)]
struct Linger {
    deadline: Pin<Box<tokio::time::Sleep>>,
    left: u64,
}

impl Lingering {
    pub fn new(stream: tokio::net::TcpStream) -> Self {
        Self {
            stream,
            linger: None,
        }
    }
}

impl tokio::io::AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = &mut *self;
        if this.linger.is_none() {
            std::task::ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            this.linger = Some(Linger {
                deadline: Box::pin(tokio::time::sleep(LINGER)),
                left: LINGER_BYTES,
            });
        }
        let Some(linger) = this.linger.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let mut discard = [0u8; 8192];
        loop {
            if linger.left == 0 || linger.deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut buf = tokio::io::ReadBuf::new(&mut discard);
            match Pin::new(&mut this.stream).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    linger.left = linger.left.saturating_sub(buf.filled().len() as u64);
                }
                // End of stream or an error: the client is gone.
                Poll::Ready(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}
