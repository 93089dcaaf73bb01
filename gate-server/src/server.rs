//! The accept loop: HTTP/1.1 and HTTP/2 connections served by hyper, with a
//! graceful shutdown that lets in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::redeliver;
use crate::service::GatewayService;
use crate::shared::SharedGateway;

/// How long a shutdown waits for in-flight requests before giving up.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serve until `shutdown` completes, then stop accepting, let in-flight
/// requests finish (up to [`DRAIN_TIMEOUT`]), stop redelivering and close
/// the sinks. Spooled events are redelivered in the background meanwhile.
pub async fn serve(
    gateway: impl Into<SharedGateway>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    let shared: SharedGateway = gateway.into();
    let settings = shared.current().server().clone();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(settings.header_read_timeout_ms));
    let graceful = GracefulShutdown::new();
    // Past the limit, clients wait in the listen backlog instead of
    // exhausting memory or file descriptors.
    let connections = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let (stop_redelivery, redelivery_stopped) = tokio::sync::oneshot::channel::<()>();
    let redelivery = tokio::spawn(redeliver::run(shared.clone(), async {
        let _ = redelivery_stopped.await;
    }));
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
                // Answers are small and the sender waits for each one: never
                // hold a segment back for Nagle's algorithm.
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, %peer, "cannot set TCP_NODELAY");
                }
                let service = GatewayService::new(shared.clone(), Some(peer.ip()));
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                    drop(permit);
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
    // Deliveries whose senders hung up are not connections: wait for them
    // too, or they would be cut before reaching a sink or the spool.
    shared
        .current()
        .state()
        .finish_deliveries(DRAIN_TIMEOUT)
        .await;
    let _ = stop_redelivery.send(());
    let _ = redelivery.await;
    shared.current().close().await;
    tracing::info!("stopped");
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
