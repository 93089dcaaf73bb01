//! The accept loop of `gate-server serve`: HTTP/1.1 and HTTP/2 connections
//! to a [`Gate`] served by hyper, with a graceful shutdown that lets
//! in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::connection::{Activity, AddressSlots, Deadlines, Lingering, Tracked};
use crate::gate::Gate;
use crate::service::GatewayService;
use crate::shared::SharedGateway;

/// How long a shutdown waits for in-flight requests before giving up.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serve `gate` on `listener` until `shutdown` completes, then stop
/// accepting and let in-flight requests finish (up to [`DRAIN_TIMEOUT`]).
/// The gate keeps running: call [`Gate::shutdown`] next, which waits for
/// the deliveries whose senders hung up, stops redelivery and closes the
/// sinks and the spool.
pub async fn serve(gate: &Gate, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let shared: SharedGateway = gate.shared();
    let settings = shared.current().server().clone();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(settings.header_read_timeout_ms));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(HTTP2_MAX_STREAMS);
    let graceful = GracefulShutdown::new();
    // Past the limit, clients wait in the listen backlog instead of
    // exhausting memory or file descriptors.
    let connections = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let per_address = Arc::new(AddressSlots::default());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Usually out of file descriptors: pause instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (cap, deadlines) = {
                    let current = shared.current();
                    let server = current.server();
                    (server.max_connections_per_address, Deadlines::of(server))
                };
                let Some(slot) = per_address.take(peer.ip(), cap) else {
                    // Closed at once: cheaper than anything else we could do.
                    tracing::debug!(%peer, cap, "connection refused: too many from this address");
                    continue;
                };
                // Answers are small and the sender waits for each one: never
                // hold a segment back for Nagle's algorithm.
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, %peer, "cannot set TCP_NODELAY");
                }
                let service = GatewayService::new(shared.clone(), Some(peer.ip()));
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _held = (permit, slot);
                    serve_connection(stream, peer, service, &builder, watcher, deadlines).await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("draining in-flight requests");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests still running after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
    tracing::info!("connections drained");
}

/// Streams served at once on one HTTP/2 connection (hyper's default is
/// 200); each may hold a body, so fewer is safer, and 100 is what RFC 9113
/// asks servers to allow at least.
const HTTP2_MAX_STREAMS: u32 = 100;

/// One connection, within its deadlines: its first byte (waited for here,
/// before hyper looks for the HTTP/2 preface), its first headers, and its
/// idleness. A connection past a deadline is closed; one with a request in
/// progress is never cut by them (the body and delivery have their own).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    service: GatewayService,
    builder: &Builder<TokioExecutor>,
    watcher: Watcher,
    deadlines: Deadlines,
) {
    let mut first = [0u8; 1];
    match tokio::time::timeout(deadlines.first_byte, stream.peek(&mut first)).await {
        Ok(Ok(read)) if read > 0 => {}
        Ok(Ok(_) | Err(_)) => return,
        Err(_) => {
            tracing::debug!(%peer, "connection closed: no first byte in time");
            return;
        }
    }
    let activity = Activity::new(Instant::now() + deadlines.headers, deadlines.idle);
    let service = Tracked::new(service, Arc::clone(&activity));
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(Lingering::new(stream)), service)
        .into_owned();
    tokio::select! {
        ended = watcher.watch(connection) => {
            if let Err(error) = ended {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        }
        () = activity.expired() => {
            tracing::debug!(%peer, "connection closed: no request in time");
        }
    }
}

/// Completes on SIGTERM or ctrl-c.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("ctrl-c received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
